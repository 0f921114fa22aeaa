#pragma once
// Prediction intervals calibrated from backtest errors. A model's sigma
// assumes its own error model (normal, constant variance); on real load the
// out-of-sample errors are often lighter or heavier tailed and skewed
// (surges), so a q0.9 band may cover 99% of the actuals and buy capacity for
// nothing, or 80% and miss surges.
//
// Method: every backtest error is standardised by the sigma the model gave
// it (z = error / sigma). For each lead step h, the z of the nearest lead
// steps are pooled until they hold at least `pool` errors (few origins per
// step would make a per-step quantile noise), and each tail gets its own
// scale on the model's sigma:
//   upper[h] = Q_p(z) / z_p        lower[h] = Q_(1-p)(z) / z_(1-p)
// so that mean + z_p * upper[h] * sigma[h] is the empirical p-quantile of
// the errors (bias included). A scale is never below `min_scale`: a calm
// backtest week must not make the band collapse. With fewer than
// `min_errors` errors the model's sigma is kept. select_and_fit calibrates
// from the errors on the history with one-off incidents replaced (as the
// model is fitted): with a few dozen errors, one outage in the backtest
// window would otherwise set the upper tail (nyc_taxi's January blizzard
// floored it at 0.5 and made the lower 7.5x).
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

struct CalibrationOptions {
  double quantile = 0.9;        ///< p: the upper tail matched at Q_p, the lower at Q_(1-p)
  std::size_t min_errors = 30;  ///< fewer usable errors: keep the model's sigma
  std::size_t pool = 40;        ///< errors pooled per lead step (nearest steps first)
  double min_scale = 0.5;       ///< floor of each tail's scale on the model's sigma
};

/// Per lead step scales on a model's sigma. Value type. Empty = not
/// calibrated (then `why` says why the model's sigma is kept).
struct IntervalCalibration {
  std::vector<double>
      upper;  ///< scale of the upper tail per lead step; the last serves longer leads
  std::vector<double> lower;  ///< same for the lower tail
  std::size_t errors = 0;     ///< usable backtest errors
  std::string why;            ///< for a person: what was done, from how many errors

  [[nodiscard]] bool calibrated() const { return !upper.empty(); }
  /// Rescales forecast.sigma (upper tail) and sets forecast.sigma_lower.
  void apply(Forecast& forecast) const;
};

/// Calibrates from one model's backtest errors (all origins, lead steps
/// 0 .. horizon-1). Errors with a non-finite or non-positive sigma are not
/// usable. Pure function.
[[nodiscard]] IntervalCalibration calibrate_intervals(std::span<const BacktestError> errors,
                                                      std::size_t horizon,
                                                      const CalibrationOptions& options = {});

/// `model` with every forecast rescaled by `calibration`; name, parameters,
/// update() and residual_variance() are the model's own. Returns `model`
/// itself when the calibration is empty.
[[nodiscard]] std::unique_ptr<FittedModel> with_calibrated_intervals(
    std::unique_ptr<FittedModel> model, IntervalCalibration calibration);

}  // namespace prescale::forecast
