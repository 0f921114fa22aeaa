#!/usr/bin/python3
"""statsmodels on M4 Hourly, one process for every series of an M4-format CSV:

    statsmodels_ets.py TRAIN.csv OUT.tsv

ETSModel (statsmodels.tsa.exponential_smoothing.ets) with additive errors,
an additive damped trend and an additive season of 24 hours, fitted by
maximum likelihood; 48 steps ahead with the analytic 95 % interval.
statsmodels has no automatic ETS selection and a single season, so this is
the one specification that covers hourly data with a trend. One line per
series, as forecast_package.R writes them:
    id <TAB> model <TAB> fit CPU s <TAB> means <TAB> lowers <TAB> uppers
"fit CPU s" is time.process_time() around fitting and forecasting alone."""
import csv
import sys
import time
import warnings

import pandas as pd
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

HORIZON = 48


def numbers(values):
    return ",".join(repr(float(v)) for v in values)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: statsmodels_ets.py TRAIN.csv OUT.tsv")
    warnings.simplefilter("ignore")  # convergence chatter, one per series
    with open(sys.argv[1], newline="") as f, open(sys.argv[2], "w") as out:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            values = [float(v) for v in row[1:] if v.strip() != ""]
            # statsmodels 0.13 needs an indexed series to build prediction intervals.
            y = pd.Series(values, index=pd.date_range("2017-01-09", periods=len(values), freq="H"))
            started = time.process_time()
            fit = ETSModel(y, error="add", trend="add", damped_trend=True, seasonal="add",
                           seasonal_periods=24).fit(disp=False)
            frame = fit.get_prediction(start=len(y), end=len(y) + HORIZON - 1).summary_frame(alpha=0.05)
            used = time.process_time() - started
            out.write("\t".join([row[0], "ETS(A,Ad,A)", repr(used), numbers(frame["mean"]),
                                 numbers(frame["pi_lower"]), numbers(frame["pi_upper"])]) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
