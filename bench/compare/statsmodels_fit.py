#!/usr/bin/python3
"""One statsmodels fit: statsmodels_fit.py TRAIN.csv HORIZON OUT.csv SEASON.

ExponentialSmoothing (additive damped trend, additive seasonality of SEASON
steps; statsmodels has a single season), NaN gaps interpolated. Writes one
mean per line to OUT.csv and prints "fit_seconds <x>" for .fit() alone."""
import sys
import time
import warnings

import numpy as np
import pandas as pd
from statsmodels.tsa.holtwinters import ExponentialSmoothing

train, horizon, out, season = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
y = pd.read_csv(train)["value"].astype(float).interpolate(limit_direction="both").to_numpy()
warnings.simplefilter("ignore")
model = ExponentialSmoothing(y, trend="add", damped_trend=True, seasonal="add",
                             seasonal_periods=season, initialization_method="estimated")
started = time.perf_counter()
fit = model.fit()
elapsed = time.perf_counter() - started
np.savetxt(out, fit.forecast(horizon), fmt="%.17g")
print("fit_seconds", elapsed)
