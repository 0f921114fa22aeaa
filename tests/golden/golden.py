#!/usr/bin/env python3
"""Golden outputs: `prescale forecast`, `backtest` and `simulate` on fixed
traces, compared byte for byte with the files checked in beside this script.

A refactor that means no behaviour change must leave every file as it is.
When behaviour changes on purpose (a better model choice, a new note), run
`scripts/update-golden` and commit the new files with the change, saying in
the message what moved and why.

What is compared is each command's stdout (JSON) with the timing fields
blanked (fit_seconds, fit_seconds_mean and the "(N s CPU)" of simulate's
note): the rest does not depend on the machine's load or on --threads (the
backtest gives the same report for any thread count). Text and integers
must be the same; numbers with a fraction or an exponent agree to
FLOAT_RTOL relative. The CPU does move them that far: glibc's libm picks
its exp/log/pow/sin code at run time for the CPU it runs on, their last
bits differ, and an optimiser (ARIMA's) amplifies them to ~1e-6 of a
parameter (NAB elb's ar1 0.82266565 on one machine, 0.82266527 on
another), while the model chosen, the replicas and the minutes short stay
the same. A simulate case also writes its per-step timeline CSV (too
large to check in): the golden file holds, per column, the SHA-256 of its
text when it is text or whole numbers (times, replicas) and the sum of
the absolute values when it holds fractions (load, forecast, ready pods),
compared as above; the actual timeline is kept in the work folder when it
differs.

Suites:
  generated  a payments trace written by `prescale generate` (needs no data)
  shared     NAB traces from ../shared/data/nab (exit 77, skipped, when absent)

Usage: golden.py --prescale BIN --suite generated|shared [--data DIR]
                 [--work DIR] [--update]
"""
import argparse
import csv
import difflib
import hashlib
import math
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent
SKIP = 77  # ctest SKIP_RETURN_CODE

# Values that measure time, not behaviour.
TIMING = [
    (re.compile(r'("fit_seconds(?:_mean)?": )[-+0-9.eE]+'), r'\1"<timing>"'),
    (re.compile(r'\([0-9.]+ s CPU\)'), '(<timing> s CPU)'),
]

# Relative agreement of the numbers with a fraction (module docstring).
FLOAT_RTOL = 1e-4
FLOAT = re.compile(r"-?(?:\d+\.\d*(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)")

PAYMENTS_TRACE = "payments-21d-5m.csv"
NEW_YORK = ["--timezone", "America/New_York"]
PAYMENTS_CALENDAR = ["--calendar", str(SOURCE / "config/calendars/payments.yaml")]


def generated_cases(work, data):
    trace = str(work / PAYMENTS_TRACE)
    common = ["--input", trace] + NEW_YORK
    return [
        ("generate-payments", ["generate", "--kind", "payments", "--start", "2026-02-23",
                               "--days", "21", "--step", "5m", "--seed", "7",
                               "--output", trace], trace),
        ("forecast-payments", ["forecast"] + common + PAYMENTS_CALENDAR +
         ["--horizon", "2h", "--format", "json"], None),
        ("backtest-payments", ["backtest"] + common + PAYMENTS_CALENDAR +
         ["--horizon", "1h", "--format", "json"], None),
        ("simulate-payments", ["simulate"] + common + PAYMENTS_CALENDAR +
         ["--capacity-per-replica", "200", "--startup", "3m", "--format", "json",
          "--timeline", str(work / "simulate-payments.timeline.csv")],
         str(work / "simulate-payments.timeline.csv")),
    ]


def shared_cases(work, data):
    nab = data / "nab"
    cases = []
    # (name, file, input flags, simulate flags): the long traces refit less
    # often than the default 6 h, to keep the suite's CPU time in seconds.
    traces = [
        ("elb", "elb_request_count_8c0756.csv", [], ["--capacity-per-replica", "50"]),
        ("nyc-taxi", "nyc_taxi.csv", ["--input-timezone", "America/New_York"] + NEW_YORK,
         ["--capacity-per-replica", "2500", "--refit-interval", "1w"]),
        ("twitter-aapl", "Twitter_volume_AAPL.csv", ["--step", "5m"],
         ["--capacity-per-replica", "20", "--history", "2w", "--refit-interval", "2d"]),
    ]
    for name, file, flags, simulate_flags in traces:
        common = ["--input", str(nab / file)] + flags
        timeline = str(work / f"simulate-{name}.timeline.csv")
        cases += [
            (f"forecast-{name}", ["forecast"] + common + ["--horizon", "2h", "--format", "json"],
             None),
            (f"backtest-{name}", ["backtest"] + common + ["--horizon", "1h", "--format", "json"],
             None),
            (f"simulate-{name}", ["simulate"] + common +
             simulate_flags + ["--format", "json", "--timeline", timeline], timeline),
        ]
    return cases


def child_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timeline_fingerprint(path):
    """Per column of a timeline CSV: the SHA-256 of its text when it is text
    or whole numbers, else the sum of the absolute values of its numbers and
    how many cells are empty."""
    rows = list(csv.reader(path.read_text().splitlines()))
    header, body = rows[0], rows[1:]
    parts = []
    for k, name in enumerate(header):
        cells = [row[k] if k < len(row) else "" for row in body]
        numbers = []
        for cell in cells:
            try:
                numbers.append(float(cell) if cell else None)
            except ValueError:
                numbers = None
                break
        if numbers is None or all(v == int(v) for v in numbers
                                  if v is not None and math.isfinite(v)):
            digest = hashlib.sha256("\n".join(cells).encode()).hexdigest()[:16]
            parts.append(f"{name} sha256 {digest}")
            continue
        total = sum(abs(v) for v in numbers if v is not None and math.isfinite(v))
        empty = sum(1 for v in numbers if v is None or not math.isfinite(v))
        parts.append(f"{name} sum {total:.12e} empty {empty}")
    return f"{len(body)} rows;\n" + "\n".join("  " + p for p in parts)


def agree(expected, actual):
    """The texts are the same but for numbers with a fraction, which agree to
    FLOAT_RTOL relative."""
    if expected == actual:
        return True
    e_numbers, a_numbers = FLOAT.findall(expected), FLOAT.findall(actual)
    if FLOAT.split(expected) != FLOAT.split(actual) or len(e_numbers) != len(a_numbers):
        return False
    for e, a in zip(e_numbers, a_numbers):
        x, y = float(e), float(a)
        if abs(x - y) > max(1e-9, FLOAT_RTOL * max(abs(x), abs(y))):
            return False
    return True


def run_case(prescale, argv, artifact):
    done = subprocess.run([prescale] + argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode != 0:
        raise RuntimeError(f"prescale {' '.join(argv)} exited {done.returncode}:\n{done.stderr}")
    text = done.stdout
    for pattern, replacement in TIMING:
        text = pattern.sub(replacement, text)
    if artifact is not None:
        text += f"\n--- {Path(artifact).name}: {timeline_fingerprint(Path(artifact))}\n"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prescale", required=True)
    parser.add_argument("--suite", choices=["generated", "shared"], required=True)
    parser.add_argument("--data", default=os.environ.get("PRESCALE_SHARED_DATA",
                                                         str(SOURCE.parent / "shared" / "data")))
    parser.add_argument("--work", help="folder for traces and timelines (default: a temp dir)")
    parser.add_argument("--update", action="store_true",
                        help="write the actual outputs as the expected ones")
    args = parser.parse_args()

    data = Path(args.data)
    if args.suite == "shared" and not (data / "nab").is_dir():
        print(f"golden: skipped: {data / 'nab'} (real traces) is absent; "
              "set PRESCALE_SHARED_DATA to run this suite", file=sys.stderr)
        return SKIP
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="prescale-golden-"))
    work.mkdir(parents=True, exist_ok=True)
    expected_dir = HERE / args.suite
    cases = (generated_cases if args.suite == "generated" else shared_cases)(work, data)

    failures = []
    for name, argv, artifact in cases:
        cpu_before = child_cpu_seconds()
        actual = run_case(args.prescale, argv, artifact)
        cpu = f"{child_cpu_seconds() - cpu_before:.1f} s CPU"
        expected_file = expected_dir / f"{name}.txt"
        if args.update:
            expected_dir.mkdir(parents=True, exist_ok=True)
            # Numbers that moved within FLOAT_RTOL (another CPU) are left as they are.
            changed = not expected_file.exists() or not agree(expected_file.read_text(), actual)
            if changed:
                expected_file.write_text(actual)
            print(f"golden: {name}: {'updated' if changed else 'unchanged'} ({cpu})")
            continue
        if not expected_file.exists():
            failures.append(name)
            print(f"golden: {name}: no expected file {expected_file}")
            continue
        expected = expected_file.read_text()
        if agree(expected, actual):
            print(f"golden: {name}: same ({cpu})")
            continue
        failures.append(name)
        (work / f"{name}.actual.txt").write_text(actual)
        diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(),
                                         f"expected/{name}.txt", f"actual/{name}.txt",
                                         lineterm=""))
        print(f"golden: {name}: DIFFERS ({cpu}; prescale {' '.join(argv)})")
        print("\n".join(diff[:60]))
        if len(diff) > 60:
            print(f"... {len(diff) - 60} more diff lines; actual output in {work}")
    if failures:
        print(f"\ngolden: {len(failures)} of {len(cases)} outputs changed: {', '.join(failures)}.\n"
              "If the change is intended, run scripts/update-golden and commit the files "
              "with it; otherwise a refactor changed behaviour.")
        return 1
    if not args.update:
        print(f"golden: {len(cases)} outputs as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
