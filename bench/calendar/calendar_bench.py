"""Driver of bench/calendar/run: runs the prescale CLI, scores the output."""
import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

NY = ZoneInfo("America/New_York")


def child_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd, cpu=None):
    """stdout and wall seconds; appends the child's CPU seconds (user + sys,
    steadier than wall time on a shared machine) to `cpu` when given."""
    started, cpu_started = time.monotonic(), child_cpu()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    if cpu is not None:
        cpu.append(child_cpu() - cpu_started)
    return out.stdout, time.monotonic() - started


def read_csv(path):
    rows = []
    with open(path) as f:
        for r in csv.reader(f):
            if not r or r[0] == "timestamp":
                continue
            rows.append((r[0], float(r[1])))
    return rows


def parse_utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def write_csv(path, rows):
    with open(path, "w") as f:
        f.write("timestamp,value\n")
        for t, v in rows:
            f.write(f"{t},{v}\n")


def forecast(args, history, extra, cpu=None):
    out, seconds = run([args.prescale, "forecast", "--input", history, "--format", "json"] + extra, cpu)
    doc = json.loads(out)
    points = {parse_utc(p["timestamp"]): p["mean"] for p in doc["points"]}
    return doc, points, seconds


def generate(args, start, days, path):
    run([args.prescale, "generate", "--kind", "payments", "--start", start, "--days", str(days),
         "--step", "1m", "-o", path])
    return read_csv(path)


def split(rows, origin):
    history = [r for r in rows if parse_utc(r[0]) < origin]
    truth = {parse_utc(t): v for t, v in rows if parse_utc(t) >= origin}
    return history, truth


def calendar_args(args):
    return ["--timezone", "America/New_York", "--calendar",
            os.path.join(args.root, "config/calendars/payments.yaml")]


def market_open(args):
    rows = generate(args, "2026-02-08", 35, os.path.join(args.work, "dst.csv"))
    origin = datetime(2026, 3, 8, tzinfo=NY).astimezone(timezone.utc)
    history, truth = split(rows, origin)
    hist = os.path.join(args.work, "dst-history.csv")
    write_csv(hist, history)
    cpu_ours, cpu_plain = [], []
    ours_doc, ours, ours_s = forecast(args, hist, ["--model", "auto", "--horizon", "7d"] + calendar_args(args),
                                      cpu_ours)
    plain_doc, plain, plain_s = forecast(
        args, hist, ["--model", "auto", "--horizon", "7d", "--event-origins", "0"] + calendar_args(args), cpu_plain)
    _, naive, naive_s = forecast(args, hist, ["--model", "seasonal-naive", "--horizon", "7d"])
    errors = {"ours": [], "plain": [], "naive": []}
    for day in range(9, 14):
        start = datetime(2026, 3, day, 9, 30, tzinfo=NY).astimezone(timezone.utc)
        for m in range(60):
            t = start + timedelta(minutes=m)
            errors["ours"].append(abs(ours[t] - truth[t]))
            errors["plain"].append(abs(plain[t] - truth[t]))
            errors["naive"].append(abs(naive[t] - truth[t]))
    ours_mae = sum(errors["ours"]) / len(errors["ours"])
    plain_mae = sum(errors["plain"]) / len(errors["plain"])
    naive_mae = sum(errors["naive"]) / len(errors["naive"])
    print("## Market open after the DST change (2026-03-09..13, 09:30-10:30 New York)\n")
    print("| forecast | MAE req/s | wall s | CPU s |\n|---|---|---|---|")
    print(f"| auto + calendar, local time ({ours_doc.get('model', '?')}) | {ours_mae:.1f} | {ours_s:.1f} "
          f"| {cpu_ours[0]:.1f} |")
    print(f"| the same, --event-origins 0 ({plain_doc.get('model', '?')}) | {plain_mae:.1f} | {plain_s:.1f} "
          f"| {cpu_plain[0]:.1f} |")
    print(f"| seasonal naive, UTC | {naive_mae:.1f} | {naive_s:.1f} | |")
    print(f"\nerror ratio ours / seasonal naive: **{ours_mae / naive_mae:.3f}** (done-when: <= 0.5; "
          f"without event origins {plain_mae / naive_mae:.3f})\n")
    notes = ours_doc.get("notes", [])
    for n in notes:
        print(f"- note: {n}")
    print()


def payroll(args):
    rows = generate(args, "2026-01-19", 40, os.path.join(args.work, "payroll.csv"))
    origin = datetime(2026, 2, 27, tzinfo=NY).astimezone(timezone.utc)
    history, truth = split(rows, origin)
    hist = os.path.join(args.work, "payroll-history.csv")
    write_csv(hist, history)
    runs = []  # (label, doc, points, CPU seconds of each repetition)
    for label, extra in (("auto + calendar", calendar_args(args)),
                         ("auto + calendar, --event-origins 0", ["--event-origins", "0"] + calendar_args(args)),
                         ("auto, no calendar", ["--timezone", "America/New_York"])):
        cpu = []
        for _ in range(args.repeat if label.startswith("auto + calendar") else 1):
            doc, points, _ = forecast(args, hist, ["--model", "auto", "--horizon", "1d"] + extra, cpu)
        runs.append((label, doc, points, cpu))
    start = datetime(2026, 2, 27, 6, 0, tzinfo=NY).astimezone(timezone.utc)
    window = [start + timedelta(minutes=m) for m in range(300)]
    actual = max(truth[t] for t in window)
    print("## Payroll on the last business day (2026-02-27 06:00-11:00 New York)\n")
    print("| forecast | model | peak req/s | peak error | CPU s (median) |\n|---|---|---|---|---|")
    print(f"| actual | | {actual:.0f} | | |")
    for label, doc, points, cpu in runs:
        peak = max(points[t] for t in window)
        print(f"| {label} | {doc.get('model', '?')} | {peak:.0f} | {100 * abs(peak - actual) / actual:.1f}% "
              f"| {sorted(cpu)[len(cpu) // 2]:.1f} |")
    with_events, without = sorted(runs[0][3])[len(runs[0][3]) // 2], sorted(runs[1][3])[len(runs[1][3]) // 2]
    print(f"\ndone-when: peak error <= 15%. CPU time of `--model auto` with event origins / without: "
          f"**{with_events / without:.2f}** (median of {args.repeat} runs each)\n")
    for n in runs[0][1].get("notes", []):
        if n.startswith("model choice") or n.startswith("backtest:"):
            print(f"- note: {n}")
    print()


def nab(args):
    folder = os.path.join(args.data, "nab")
    if not os.path.isdir(folder):
        print(f"NAB: {folder} absent, skipped\n")
        return
    print("## NAB: last day held out, MAE on the raw data; selection backtest MASE\n")
    print("| series | auto | auto --keep-outliers | seasonal naive | auto/naive | auto's choice (selection backtest) | outliers |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".csv"):
            continue
        rows = [(t.replace(" ", "T") + ("Z" if not t.endswith("Z") else ""), v)
                for t, v in read_csv(os.path.join(folder, name))]
        step = (parse_utc(rows[1][0]) - parse_utc(rows[0][0])).total_seconds()
        held = int(86400 // step)
        hist = os.path.join(args.work, "nab-" + name)
        write_csv(hist, rows[:-held])
        truth = {parse_utc(t): v for t, v in rows[-held:]}
        results = {}
        docs = {}
        for label, extra in (("auto", []), ("keep", ["--keep-outliers"]), ("naive", ["--model", "seasonal-naive"])):
            try:
                doc, points, _ = forecast(args, hist, ["--horizon", "1d", "--origins", "4"] + extra)
            except subprocess.CalledProcessError as e:
                results[label] = float("nan")
                print(f"<!-- {name} {label}: {e.stderr.strip()} -->")
                continue
            docs[label] = doc
            errs = [abs(points[t] - v) for t, v in truth.items() if t in points]
            results[label] = sum(errs) / max(1, len(errs))
        doc = docs.get("auto", {})
        notes = doc.get("notes", [])
        outl = next((n[len("outliers: "):] for n in notes if n.startswith("outliers:")), "")
        choice = next((n[len("model choice: "):] for n in notes if n.startswith("model choice:")), "?")
        sel = choice.replace("|", "/")
        ratio = results["auto"] / results["naive"] if results.get("naive") else float("nan")
        print(f"| {name} | {results['auto']:.3g} | {results['keep']:.3g} | {results['naive']:.3g} | {ratio:.3f} | {sel} | {outl} |")
    print()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--prescale", required=True)
    p.add_argument("--root", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--part", default="all", choices=["all", "market-open", "payroll", "nab"])
    p.add_argument("--repeat", type=int, default=3, help="runs of each timed payroll forecast")
    a = p.parse_args()
    if a.part in ("all", "market-open"):
        market_open(a)
    if a.part in ("all", "payroll"):
        payroll(a)
    if a.part in ("all", "nab"):
        nab(a)


if __name__ == "__main__":
    sys.exit(main())
