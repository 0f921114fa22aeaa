#pragma once
// Forecast accuracy measures. Pairs where either side is NaN are skipped;
// a measure with no valid pair is NaN. Pure functions, thread-safe.
#include <cstddef>
#include <cstdint>
#include <span>

namespace prescale::forecast {

/// Hyndman's MASE scale: the in-sample MAE of the seasonal naive forecast
/// y[t] - y[t - lag] over the training window (pairs with a NaN skipped).
/// NaN when no pair exists; 0 for a constant history.
[[nodiscard]] double seasonal_naive_scale(std::span<const double> training, std::size_t lag);

/// The lag used for the scale: the longest season that leaves at least one
/// full season of pairs in `training_size` samples, else 1 (naive).
/// `season_slots` is ordered shortest first, like SeasonLayout::slots.
[[nodiscard]] std::size_t mase_lag(std::span<const std::uint32_t> season_slots,
                                   std::size_t training_size);

/// Mean absolute error of the forecast divided by `scale`
/// (Hyndman & Koehler 2006). NaN when scale is NaN or 0 and the error is not.
[[nodiscard]] double mase(std::span<const double> actual, std::span<const double> predicted,
                          double scale);

/// Symmetric MAPE in percent, 0..200: mean of 200|a-f|/(|a|+|f|); a pair of
/// zeros counts as a perfect forecast.
[[nodiscard]] double smape(std::span<const double> actual, std::span<const double> predicted);

/// Share of actual values inside [lower, upper], 0..1.
[[nodiscard]] double interval_coverage(std::span<const double> actual,
                                       std::span<const double> lower,
                                       std::span<const double> upper);

}  // namespace prescale::forecast
