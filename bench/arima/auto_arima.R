# R baseline for bench/arima/run: auto.arima with Fourier regressors on the
# same window as arima_bench, timed with system.time around the fit only.
# usage: Rscript auto_arima.R WINDOW_CSV TRAIN HORIZON K1 K2
# WINDOW_CSV is the gridded window arima_bench --window-out wrote (one
# "value" column, NA for gaps), so both sides fit exactly the same data.
suppressMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
csv <- args[1]; train <- as.integer(args[2]); horizon <- as.integer(args[3])
k <- as.integer(args[4:5])
y <- read.csv(csv)$value
stopifnot(length(y) == train + horizon)
x <- msts(head(y, train), seasonal.periods = c(288, 2016))
# fourier() cannot take K = 0; a season without terms is left out.
keep <- k > 0
xr <- fourier(msts(head(y, train), seasonal.periods = c(288, 2016)[keep]), K = k[keep])
xf <- fourier(msts(head(y, train), seasonal.periods = c(288, 2016)[keep]), K = k[keep], h = horizon)
timing <- system.time(fit <- auto.arima(x, xreg = xr, seasonal = FALSE))
fc <- forecast(fit, xreg = xf, level = 95)
actual <- tail(y, horizon)
train_y <- head(y, train)
naive_mae <- mean(abs(diff(train_y, lag = 288)), na.rm = TRUE)
mase <- mean(abs(actual - fc$mean), na.rm = TRUE) / naive_mae
coverage <- mean(actual >= fc$lower & actual <= fc$upper, na.rm = TRUE)
ord <- arimaorder(fit)
cat(sprintf('{"model":"regression with arima(%d,%d,%d) errors","fit_seconds":%.3f,"fit_cpu_seconds":%.3f,"mase":%.4f,"coverage95":%.3f,"aicc":%.2f}\n',
            ord[1], ord[2], ord[3], timing[["elapsed"]], timing[["user.self"]] + timing[["sys.self"]],
            mase, coverage, fit$aicc))
