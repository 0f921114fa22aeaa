# One rival fit: Rscript rivals.R METHOD TRAIN.csv HORIZON OUT.csv SEASON1 [SEASON2]
# Reads 'value' (NaN gaps interpolated), fits METHOD, forecasts HORIZON steps,
# writes one mean per line to OUT.csv and prints "fit_seconds <x>" (the
# elapsed time of the fitting call alone, system.time).
# HoltWinters() and its predict() are base R (stats): the forecast package,
# slow to load, is attached only when the method or NaN gaps need it, so R's
# whole-process time is not inflated for HoltWinters.
args <- commandArgs(trailingOnly = TRUE)
method <- args[1]; train <- args[2]; h <- as.integer(args[3]); out <- args[4]
s1 <- as.integer(args[5]); s2 <- if (length(args) >= 6) as.integer(args[6]) else NA
y <- read.csv(train)$value
if (method != "HoltWinters" || anyNA(y)) suppressPackageStartupMessages(library(forecast))
if (anyNA(y)) y <- as.numeric(na.interp(ts(y, frequency = s1)))
fc <- NULL
elapsed <- system.time({
  if (method == "HoltWinters") {
    fit <- HoltWinters(ts(y, frequency = s1))
  } else if (method == "dshw") {
    fit <- dshw(y, period1 = s1, period2 = s2, h = h)
  } else if (method == "tbats") {
    fit <- tbats(msts(y, seasonal.periods = c(s1, s2)), use.parallel = FALSE)
  } else {
    stop("unknown method ", method)
  }
})[["elapsed"]]
fc <- if (method == "dshw") fit$mean else if (method == "HoltWinters") predict(fit, n.ahead = h) else forecast(fit, h = h)$mean
writeLines(format(as.numeric(fc), digits = 17), out)
cat("fit_seconds", elapsed, "\n")
