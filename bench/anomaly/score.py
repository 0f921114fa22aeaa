#!/usr/bin/env python3
"""Scores the anomaly records of one `prescale simulate --decisions` replay.

Generated traces (--truth, written by `prescale generate --truth`):
  - a record at time r is on an incident when start <= r <= end + 30 min
    (the recovery at the end is part of it), on one of the generator's small
    random spikes when start <= r <= end + 15 min, and false otherwise;
  - an incident is flagged within 5 minutes when a record falls in
    [start, start + 5 min]; its delay is the first record in its window minus
    its start (the sample at t is seen at t + step).
Real traces (--windows, NAB's labels/combined_windows.json for the file): a
record inside one of NAB's anomaly windows is on a labelled incident (the
window is flagged), the others are false and counted per week.

Prints one JSON object.
"""
import argparse
import datetime
import json
import sys
import zoneinfo


def parse_time(text, zone=datetime.timezone.utc):
    """RFC 3339, or a time without an offset in `zone`."""
    text = text.strip().replace("Z", "+00:00")
    if "T" not in text:
        text = text.replace(" ", "T")
    t = datetime.datetime.fromisoformat(text)
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone)
    return int(t.timestamp())


def read_records(path):
    records = []
    with open(path) as f:
        for line in f:
            if line.strip():
                records.append(json.loads(line))
    return records


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", required=True)
    parser.add_argument("--simulate-json", required=True, help="simulate --format json output")
    parser.add_argument("--truth", help="ground truth CSV of prescale generate --truth")
    parser.add_argument("--windows", help="nab_windows.json: NAB's windows per file")
    parser.add_argument("--file", help="the NAB file name whose windows to use")
    parser.add_argument("--zone", default="UTC",
                        help="zone of the windows' times (the file's --input-timezone)")
    args = parser.parse_args()

    sim = json.load(open(args.simulate_json))
    start = sim["start_unix"]
    end = start + sim["steps"] * sim["step_seconds"]
    weeks = (end - start) / (7 * 86400)
    records = read_records(args.decisions)
    anomalies = [r for r in records if r["kind"] == "anomaly" and start <= r["time_unix"] < end]
    out = {"weeks": round(weeks, 3), "records": len(anomalies),
           "step_seconds": sim["step_seconds"]}

    if args.truth:
        truth = []
        with open(args.truth) as f:
            next(f)
            for line in f:
                kind, a, b, factor = line.strip().split(",")
                truth.append((kind, parse_time(a), parse_time(b), float(factor)))
        incidents = [t for t in truth if t[0] in ("incident", "outage", "spike")
                     and start <= t[1] < end]
        spikes = [t for t in truth if t[0] == "random-spike" and start <= t[1] < end]
        false, on_spike = [], 0
        for r in anomalies:
            t = r["time_unix"]
            if any(i[1] <= t <= i[2] + 1800 for i in incidents):
                continue
            if any(s[1] <= t <= s[2] + 900 for s in spikes):
                on_spike += 1
                continue
            false.append(r)
        rows = []
        for i in incidents:
            hits = [r["time_unix"] for r in anomalies if i[1] <= r["time_unix"] <= i[2] + 1800]
            delay = (min(hits) - i[1]) / 60 if hits else None
            rows.append({"start": i[1], "minutes": (i[2] - i[1]) // 60, "factor": i[3],
                         "delay_minutes": delay})
        spikes_flagged = sum(1 for s in spikes
                             if any(s[1] <= r["time_unix"] <= s[2] + 900 for r in anomalies))
        out.update({
            "false_records": len(false),
            "false_per_week": round(len(false) / weeks, 2),
            "incidents": rows,
            "flagged_within_5_minutes": sum(1 for x in rows if x["delay_minutes"] is not None
                                            and x["delay_minutes"] <= 5),
            "random_spikes": len(spikes),
            "random_spikes_flagged": spikes_flagged,
            "records_on_random_spikes": on_spike,
            "false": [{"time_unix": r["time_unix"], "reason": r["reason"]} for r in false],
        })
    if args.windows:
        zone = zoneinfo.ZoneInfo(args.zone)
        windows = [(a, b, parse_time(a, zone), parse_time(b, zone))
                   for a, b in json.load(open(args.windows))["windows"][args.file]]
        flagged = {}
        other = []
        for r in anomalies:
            hit = [w for w in windows if w[2] <= r["time_unix"] <= w[3]]
            if hit:
                flagged[hit[0][0]] = True
            else:
                other.append(r)
        out.update({
            # Only windows that overlap the simulated stretch can be flagged.
            "windows_flagged": {w[0]: flagged.get(w[0], False) for w in windows
                                if w[3] >= start and w[2] < end},
            "other_records": len(other),
            "other_per_week": round(len(other) / weeks, 2),
            "other": [{"time_unix": r["time_unix"], "reason": r["reason"]} for r in other],
        })
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
