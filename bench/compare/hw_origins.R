# R's HoltWinters() at rolling origins: Rscript hw_origins.R SERIES.csv SEASON H HISTORY OUT.csv O1 O2 ...
# For each origin o (0-based index of the first forecast step) fits
# HoltWinters(ts(y[max(0, o-HISTORY) .. o-1], frequency = SEASON)) (NaN gaps
# interpolated inside the window) and writes "origin,step,mean" rows.
suppressPackageStartupMessages(library(forecast))
args <- commandArgs(trailingOnly = TRUE)
y_all <- read.csv(args[1])$value
season <- as.integer(args[2]); h <- as.integer(args[3]); history <- as.integer(args[4])
out <- args[5]; origins <- as.integer(args[6:length(args)])
rows <- list()
for (o in origins) {
  y <- y_all[max(1, o - history + 1):o]
  if (anyNA(y)) y <- as.numeric(na.interp(ts(y, frequency = season)))
  fc <- tryCatch(as.numeric(forecast(HoltWinters(ts(y, frequency = season)), h = h)$mean),
                 error = function(e) rep(NA_real_, h))
  rows[[length(rows) + 1]] <- data.frame(origin = o, step = seq_len(h), mean = fc)
}
write.csv(do.call(rbind, rows), out, row.names = FALSE)
