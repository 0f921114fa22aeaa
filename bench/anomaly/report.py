#!/usr/bin/env python3
"""Prints bench/anomaly/run's tables from the score files in OUT_DIR."""
import datetime
import glob
import json
import os
import sys


def when(unix):
    return datetime.datetime.fromtimestamp(unix, datetime.timezone.utc).strftime("%Y-%m-%d %H:%MZ")


def main():
    out, seeds = sys.argv[1], sys.argv[2:]
    print("\n== generated: anomaly records outside incidents, incidents flagged within 5 minutes")
    print(f'{"seed":>4} {"weeks":>6} {"records":>8} {"false":>6} {"false/wk":>9} {"flagged<=5m":>12} '
          f'{"delays (min)":<28} {"spikes flagged":>14}')
    met = True
    for seed in seeds:
        path = os.path.join(out, f"seed{seed}.score.json")
        if not os.path.exists(path):
            print(f"{seed:>4} missing ({path})")
            met = False
            continue
        s = json.load(open(path))
        delays = ", ".join("-" if x["delay_minutes"] is None else f'{x["delay_minutes"]:g}'
                           for x in s["incidents"])
        ok = s["false_per_week"] <= 1 and s["flagged_within_5_minutes"] >= 3
        met = met and ok
        print(f'{seed:>4} {s["weeks"]:>6.1f} {s["records"]:>8} {s["false_records"]:>6} '
              f'{s["false_per_week"]:>9.2f} {s["flagged_within_5_minutes"]:>10}/{len(s["incidents"])} '
              f'{delays:<28} {s["random_spikes_flagged"]:>9}/{s["random_spikes"]}')
    print(f"target (<= 1 false record/week, >= 3 of 4 within 5 minutes, every seed): "
          f"{'MET' if met else 'MISSED'}")
    for seed in seeds:
        path = os.path.join(out, f"seed{seed}.score.json")
        if os.path.exists(path):
            s = json.load(open(path))
            for x in s["incidents"]:
                print(f'  seed {seed} incident {when(x["start"])} x{x["factor"]:.2f} '
                      f'{x["minutes"]} min: ' + ("missed" if x["delay_minutes"] is None
                                                 else f'flagged after {x["delay_minutes"]:g} min'))
            for r in s["false"]:
                print(f'  seed {seed} false {when(r["time_unix"])}: {r["reason"]}')
    nab = sorted(glob.glob(os.path.join(out, "nab-*.score.json")))
    if nab:
        print("\n== NAB: anomaly records outside NAB's anomaly windows per week, windows flagged")
        print(f'{"series":<38} {"weeks":>6} {"records":>8} {"false/wk":>9}  windows (start: flagged)')
        for path in nab:
            s = json.load(open(path))
            name = os.path.basename(path)[4:-len(".score.json")]
            flagged = " ".join(f'{k[:10]}:{"yes" if v else "no"}'
                               for k, v in s["windows_flagged"].items())
            print(f'{name:<38} {s["weeks"]:>6.1f} {s["records"]:>8} {s["other_per_week"]:>9.2f}  {flagged}')


if __name__ == "__main__":
    main()
