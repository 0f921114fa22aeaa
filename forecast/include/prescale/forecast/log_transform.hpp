#pragma once
// Variance stabilisation: a model fitted to log(y). Load that grows and
// shrinks by factors (a busy hour twice the quiet one, a burst ten times
// the floor) has errors proportional to its level; on the log scale they
// are even, the additive models' assumption, and the forecast cannot go
// below zero. Model selection offers log variants of the additive models
// when every observed sample is positive; the backtest, on the original
// scale, decides whether the transform helps (Box-Cox with lambda 0; Box &
// Cox 1964, as R's forecast chooses lambda = 0 for such series).
//
// Back-transform: the forecast is exp(m), the median of a log-normal error
// (not its mean): what MASE and sMAPE reward and what a quantile policy
// reads. The interval keeps the log-normal's skew: sigma (upper) and
// sigma_lower are the distances from exp(m) to exp(m +- z s) over z, for z
// of the 0.9 quantile; calibration from backtest errors
// (interval_calibration.hpp) then fits them to the served quantile.
#include <memory>
#include <string>

#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

/// The base recipe on log(y). Samples <= 0 are refused (invalid_input).
/// Immutable; fit() is thread-safe when the base's is.
class LogTransformed final : public Model {
 public:
  explicit LogTransformed(std::shared_ptr<const Model> base);
  /// "log(<base>)"; the fitted model's name is "log(<fitted base>)".
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;
  [[nodiscard]] const Model& base() const { return *base_; }

 private:
  std::shared_ptr<const Model> base_;
};

}  // namespace prescale::forecast
