#!/usr/bin/python3
"""M4 Hourly: prescale on the forecasting field's benchmark, scored as the
competition scored it (Makridakis, Spiliotis, Assimakopoulos, IJF 2020;
Mcompetitions/M4-methods, ML_benchmarks.py and the evaluation code).

Called by bench/m4/run; see there for usage. For each of the 414 hourly
series the 48 values after its training part are forecast and scored:

  sMAPE = 200/h * sum |y - f| / (|y| + |f|)
  MASE  = mean |y - f| / mean_{t>m} |x_t - x_{t-m}|   (x: training part, m = 24)
  OWA   = (sMAPE / sMAPE(Naive2) + MASE / MASE(Naive2)) / 2 over the means,
          Naive2 Hourly = 18.383 / 2.395 (the competition's published row)
  MSIS  = mean over h of (U - L + 2/a (L - y)[y < L] + 2/a (y - U)[y > U])
          divided by the MASE scale, a = 0.05 (the 95 % interval)

sMAPE, MASE and MSIS are averaged over series; coverage is the share of the
414 x 48 actual values inside [L, U].

Anchors (--anchors): R's forecast package (ets, auto.arima, thetaf, tbats;
anchors/forecast_package.R) and statsmodels' ETSModel (statsmodels-ets;
anchors/statsmodels_ets.py) on the same series, each method one process over
every series, like the batch. Two CPU figures per row: the whole process
(start-up, reading the CSV, fitting, writing) and the fit alone (fitting and
forecasting calls, process CPU clock: R's system.time, Python's
process_time, prescale's CLOCK_PROCESS_CPUTIME_ID). R's start-up with the
forecast package is printed once: a process per series would pay it each time.
"""
import argparse
import collections
import csv
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

SEASON = 24  # the competition's seasonal period for hourly data
HORIZON = 48
ALPHA = 0.05  # 95 % interval
NAIVE2 = {"smape": 18.383, "mase": 2.395}
# Published Hourly rows (sMAPE, MASE, OWA; MSIS where published), from the
# competition's results (IJF 2020, Table 4 and the interval results).
PUBLISHED = [
    ("seasonal naive (M4 benchmark)", 13.912, 1.193, 0.627, None),
    ("Naive2 (M4 benchmark)", 18.383, 2.395, 1.000, None),
    ("ARIMA (M4 benchmark, auto.arima)", None, None, None, 7.538),
    ("M4 winner, Smyl ES-RNN", 9.328, 0.893, 0.440, None),
    ("best Hourly entry", 8.913, 0.801, 0.410, 6.139),
]
# A made-up start (a Monday, midnight UTC): the data carries no timestamps.
START_UNIX = 1483920000  # 2017-01-09T00:00:00Z


# ---- Data

def read_m4(path):
    """{id: [values]} from an M4 CSV (first column the id, empty cells padding)."""
    series = collections.OrderedDict()
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)  # "V1", "V2", ...
        for row in reader:
            if row:
                series[row[0]] = [float(v) for v in row[1:] if v.strip() != ""]
    return series


# ---- Scores (pure functions, tested by test_m4.py)

def smape(actual, forecast):
    terms = [200.0 * abs(y - f) / (abs(y) + abs(f)) for y, f in zip(actual, forecast)
             if abs(y) + abs(f) > 0]
    return sum(terms) / len(actual)


def mase_scale(train, m=SEASON):
    """In-sample mean absolute error of the seasonal naive forecast (lag m)."""
    if len(train) <= m:
        m = 1
    diffs = [abs(train[t] - train[t - m]) for t in range(m, len(train))]
    return sum(diffs) / len(diffs)


def mase(actual, forecast, scale):
    return sum(abs(y - f) for y, f in zip(actual, forecast)) / len(actual) / scale


def msis(actual, lower, upper, scale, alpha=ALPHA):
    total = 0.0
    for y, lo, hi in zip(actual, lower, upper):
        total += hi - lo
        if y < lo:
            total += 2.0 / alpha * (lo - y)
        if y > hi:
            total += 2.0 / alpha * (y - hi)
    return total / len(actual) / scale


def owa(mean_smape, mean_mase, naive2=NAIVE2):
    return 0.5 * (mean_smape / naive2["smape"] + mean_mase / naive2["mase"])


def seasonal_naive(train, horizon=HORIZON, m=SEASON):
    """The competition's sNaive: each step repeats the same hour of the last day."""
    return [train[len(train) - m + (h % m)] for h in range(horizon)]


def score(train, test, result):
    """Per-series scores of one result {mean, lower, upper} (lower/upper may be absent)."""
    scale = mase_scale(train)
    out = {"smape": smape(test, result["mean"]), "mase": mase(test, result["mean"], scale)}
    if result.get("lower") is not None:
        out["msis"] = msis(test, result["lower"], result["upper"], scale)
        out["inside"] = sum(lo <= y <= hi for y, lo, hi in zip(test, result["lower"], result["upper"]))
    return out


def summarise(scores):
    """Means over series; coverage pooled over every forecast value."""
    n = len(scores)
    row = {k: sum(s[k] for s in scores) / n for k in ("smape", "mase")}
    row["owa"] = owa(row["smape"], row["mase"])
    if scores and all("msis" in s for s in scores):
        row["msis"] = sum(s["msis"] for s in scores) / n
        row["coverage"] = 100.0 * sum(s["inside"] for s in scores) / (n * HORIZON)
    return row


# ---- Running prescale

def write_series_csv(path, values, start=START_UNIX, step=3600):
    with open(path, "w") as f:
        f.write("timestamp,value\n")
        for i, v in enumerate(values):
            f.write(f"{start + i * step},{v!r}\n")


def child_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_flags(quantile):
    """What a user types for an hourly series: both seasons, 48 h ahead, one thread."""
    return ["--step", "1h", "--seasonality", "1d,1w", "--horizon", "48h", "--threads", "1",
            "--quantile", repr(quantile), "--model", "auto", "--format", "json"]


def run_cli(prescale, train, work, jobs, quantile, extra):
    """One `prescale forecast` process per series (the path a user takes)."""
    def one(item):
        name, values = item
        path = os.path.join(work, f"{name}.csv")
        write_series_csv(path, values)
        done = subprocess.run([prescale, "forecast", "--input", path] + cli_flags(quantile) + extra,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{name}: prescale forecast failed: {done.stderr.strip()}")
        report = json.loads(done.stdout)
        points = report["points"]
        return name, {"model": report["model"], "mean": [p["mean"] for p in points],
                      "lower": [p["lower"] for p in points], "upper": [p["upper"] for p in points]}

    before, wall = child_cpu_seconds(), time.monotonic()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(pool.map(one, train.items()))
    return results, child_cpu_seconds() - before, time.monotonic() - wall


def run_batch(batch, train_csv, work, quantile, count):
    """Every series in one process (prescale_bench_m4), one thread."""
    out = os.path.join(work, "batch.jsonl")
    before, wall = child_cpu_seconds(), time.monotonic()
    subprocess.run([batch, train_csv, "--quantile", repr(quantile), "--series", str(count),
                    "--output", out], check=True)
    cpu = child_cpu_seconds() - before
    results = {}
    with open(out) as f:
        for line in f:
            r = json.loads(line)
            results[r["id"]] = r
    return results, cpu, time.monotonic() - wall


# ---- Anchors

R_METHODS = ("ets", "auto.arima", "thetaf", "tbats")
ANCHORS = R_METHODS + ("statsmodels-ets",)
HERE = os.path.dirname(os.path.abspath(__file__))


def anchor_label(method):
    return "statsmodels ETSModel (A,Ad,A)" if method == "statsmodels-ets" else f"R forecast {method}"


def anchor_command(method, train_csv, out):
    if method == "statsmodels-ets":
        return ["/usr/bin/python3", os.path.join(HERE, "anchors", "statsmodels_ets.py"), train_csv, out]
    return ["Rscript", os.path.join(HERE, "anchors", "forecast_package.R"), method, train_csv, out]


def run_anchor(method, train_csv, work):
    """One process over every series of train_csv: {id: result}, whole-process CPU s, wall s."""
    out = os.path.join(work, f"anchor-{method}.tsv")
    before, wall = child_cpu_seconds(), time.monotonic()
    subprocess.run(anchor_command(method, train_csv, out), check=True)
    cpu = child_cpu_seconds() - before
    return read_anchor_tsv(out), cpu, time.monotonic() - wall


def read_anchor_tsv(path):
    """{id: {model, fit_cpu_seconds, mean, lower, upper}} from an anchor's output lines."""
    results = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            cells = line.rstrip("\n").split("\t")
            if len(cells) != 6:
                raise ValueError(f"{path}:{number}: {len(cells)} tab-separated cells, expected 6 "
                                 "(id, model, fit CPU s, means, lowers, uppers)")
            ident, model, fit_cpu, mean, lower, upper = cells
            results[ident] = {"model": model, "fit_cpu_seconds": float(fit_cpu),
                              "mean": [float(v) for v in mean.split(",")],
                              "lower": [float(v) for v in lower.split(",")],
                              "upper": [float(v) for v in upper.split(",")]}
    return results


def r_startup_cpu():
    """CPU seconds of an R process that only loads the forecast package."""
    before = child_cpu_seconds()
    subprocess.run(["Rscript", "-e", "suppressPackageStartupMessages(library(forecast))"], check=True)
    return child_cpu_seconds() - before


def write_subset_csv(source, path, keep):
    """The rows of an M4 CSV whose series ids are in keep, header included."""
    with open(source) as f, open(path, "w") as out:
        out.write(f.readline())
        for line in f:
            if line.split(",", 1)[0].strip('"') in keep:
                out.write(line)


# ---- Report

def model_family(name):
    """Counts by what was chosen: a combination counts as one kind."""
    if name.startswith("combination("):
        return "combination"
    for prefix in ("seasonal-naive", "holt-winters", "arima", "theta", "mstl"):
        if name.startswith(prefix):
            return prefix
    return name.split("(")[0]


def fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def print_table(rows):
    print("| method | sMAPE | MASE | OWA | MSIS | coverage % | CPU s, process | CPU s, fit |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        print(f"| {name} | {fmt(r.get('smape'))} | {fmt(r.get('mase'))} | {fmt(r.get('owa'))} | "
              f"{fmt(r.get('msis'))} | {fmt(r.get('coverage'), 1)} | {fmt(r.get('cpu'), 1)} | "
              f"{fmt(r.get('fit_cpu'), 1)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="folder with Hourly-train.csv, Hourly-test.csv")
    parser.add_argument("--prescale", help="prescale binary: the CLI path, one process per series")
    parser.add_argument("--batch", help="prescale_bench_m4 binary: every series in one process")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="CLI processes at once (CPU seconds do not depend on it)")
    parser.add_argument("--series", type=int, default=0, help="only the first N series (0 = all)")
    parser.add_argument("--every", type=int, default=1,
                        help="only every K-th series (H1, H1+K, ...): a fixed subset for slow anchors")
    parser.add_argument("--anchors", default="",
                        help=f"comma-separated anchors run on the same series: {', '.join(ANCHORS)}")
    parser.add_argument("--quantile", type=float, default=0.975,
                        help="upper quantile of the scored interval (0.975: the 95 %% interval)")
    parser.add_argument("--json", help="also write per-series results here")
    parser.add_argument("extra", nargs="*", help="more prescale forecast flags (after --)")
    args = parser.parse_args()

    anchors = [a for a in args.anchors.split(",") if a]
    for a in anchors:
        if a not in ANCHORS:
            parser.error(f"unknown anchor '{a}' (one of {', '.join(ANCHORS)})")
    if any(a in R_METHODS for a in anchors) and not shutil.which("Rscript"):
        parser.error("the R anchors need Rscript and r-cran-forecast (scripts/install-deps bench)")
    if "statsmodels-ets" in anchors and importlib.util.find_spec("statsmodels") is None:
        parser.error("the statsmodels anchor needs python3-statsmodels (scripts/install-deps bench)")
    train_csv = os.path.join(args.data, "Hourly-train.csv")
    train, test = read_m4(train_csv), read_m4(os.path.join(args.data, "Hourly-test.csv"))
    kept = list(train.items())[:args.series] if args.series else list(train.items())
    train = collections.OrderedDict(kept[::max(1, args.every)])
    rows = []
    naive = [score(train[k], test[k], {"mean": seasonal_naive(train[k])}) for k in train]
    rows.append(("seasonal naive (recomputed here)", summarise(naive)))
    runs = {}
    startup = None
    with tempfile.TemporaryDirectory(prefix="prescale-m4-") as work:
        subset_csv = train_csv
        if len(train) != len(read_m4(train_csv)):
            subset_csv = os.path.join(work, "Hourly-train-subset.csv")
            write_subset_csv(train_csv, subset_csv, set(train))
        if args.prescale:
            runs["prescale, CLI (one process per series)"] = run_cli(
                args.prescale, train, work, args.jobs, args.quantile, args.extra)
        if args.batch:
            runs["prescale, in-process batch"] = run_batch(args.batch, subset_csv, work,
                                                           args.quantile, len(train))
        for method in anchors:
            print(f"running {anchor_label(method)} on {len(train)} series ...", file=sys.stderr)
            runs[anchor_label(method)] = run_anchor(method, subset_csv, work)
        if any(a in R_METHODS for a in anchors):
            startup = r_startup_cpu()
    for label, (results, cpu, wall) in runs.items():
        scores = [score(train[k], test[k], results[k]) for k in train]
        row = summarise(scores)
        row["cpu"] = cpu
        if all("fit_cpu_seconds" in results[k] for k in train):
            row["fit_cpu"] = sum(results[k]["fit_cpu_seconds"] for k in train)
        rows.append((label, row))
    for name, s, m, o, interval in PUBLISHED:
        rows.append((name + " (published)", {"smape": s, "mase": m, "owa": o, "msis": interval}))
    subset = f", every {args.every}th series from H1" if args.every > 1 else ""
    print(f"M4 Hourly: {len(train)} series{subset}, horizon {HORIZON}, 95 % interval "
          f"(quantile {args.quantile}); published rows are over all 414\n")
    print_table(rows)
    for label, (results, cpu, wall) in runs.items():
        counts = collections.Counter(model_family(results[k]["model"]) for k in train)
        kinds = ", ".join(f"{k} {v}" for k, v in counts.most_common())
        print(f"\n{label}: {cpu:.1f} CPU s ({wall:.0f} s wall); chosen: {kinds}")
    if startup is not None:
        print(f"\nR start-up with the forecast package: {startup:.2f} CPU s per process "
              f"(a process per series would add {startup * len(train):.0f} s over {len(train)} series)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({label: {k: {**results[k], **score(train[k], test[k], results[k])}
                               for k in train} for label, (results, _, _) in runs.items()}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
