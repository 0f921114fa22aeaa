# R's forecast package on M4 Hourly, one process for every series of an
# M4-format CSV:
#   Rscript forecast_package.R METHOD TRAIN.csv OUT.tsv
# METHOD: ets, auto.arima, thetaf or tbats (seasons 24 and 168). Each series
# is a ts of frequency 24, as the competition's R benchmarks built it, and is
# forecast 48 steps ahead with the 95 % interval. One line per series:
#   id <TAB> model <TAB> fit CPU s <TAB> means <TAB> lowers <TAB> uppers
# (values comma-separated). "fit CPU s" is system.time's user + system time
# around the fitting and forecasting calls alone, the boundary prescale's
# batch harness times with the process CPU clock; reading the CSV and
# loading the package are left to the whole process's figure.
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 3) stop("usage: Rscript forecast_package.R METHOD TRAIN.csv OUT.tsv")
method <- args[1]; train <- args[2]; out <- args[3]
suppressPackageStartupMessages(library(forecast))
h <- 48L
rows <- read.csv(train, header = TRUE, stringsAsFactors = FALSE, na.strings = "")
fit_one <- function(y) {
  switch(method,
    ets = forecast(ets(y), h = h, level = 95),
    auto.arima = forecast(auto.arima(y), h = h, level = 95),
    thetaf = thetaf(y, h = h, level = 95),
    tbats = forecast(tbats(msts(as.numeric(y), seasonal.periods = c(24, 168)),
                           use.parallel = FALSE), h = h, level = 95),
    stop("unknown method ", method, " (ets, auto.arima, thetaf, tbats)"))
}
numbers <- function(x) paste(format(as.numeric(x), digits = 17, trim = TRUE), collapse = ",")
con <- file(out, "w")
for (i in seq_len(nrow(rows))) {
  values <- as.numeric(rows[i, -1])
  y <- ts(values[!is.na(values)], frequency = 24)
  fc <- NULL
  used <- system.time(fc <- fit_one(y))
  writeLines(paste(rows[i, 1], fc$method, used[["user.self"]] + used[["sys.self"]],
                   numbers(fc$mean), numbers(fc$lower[, 1]), numbers(fc$upper[, 1]), sep = "\t"), con)
  flush(con)
}
close(con)
