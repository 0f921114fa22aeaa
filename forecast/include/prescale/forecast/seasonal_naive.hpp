#pragma once
// Seasonal naive: the forecast for a time is the value last seen at the same
// local wall-clock slot of the longest season (same time last week), falling
// back to shorter seasons (same time yesterday) and then to the last value
// when that slot was never seen. The baseline every model must beat.
//
// State is the last value per slot of each period, so update() is O(1) and a
// DST day (slots skipped or visited twice, per the layout) needs no special
// case.
//
// Intervals: sigma_1 is the RMS of the in-sample one-step errors of this very
// forecast rule (the first sample of each slot has no error); for step h,
// sigma_h = sigma_1 * sqrt(k + 1) with k = floor((h - 1) / m) and m the
// slots of the longest season (Hyndman & Athanasopoulos, FPP3 5.5): within
// one season the h-step forecast reads the same stored value as the one-step
// one, so its error is the one-step error; each further season adds one.
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::forecast {

/// Immutable recipe; fit() is thread-safe.
class SeasonalNaive final : public Model {
 public:
  /// max_periods: use only the layout's first (shortest) periods, e.g. 1 =
  /// same time yesterday; the recipe is then "seasonal-naive:<max_periods>".
  explicit SeasonalNaive(std::size_t max_periods = kAllPeriods) : max_periods_(max_periods) {}
  [[nodiscard]] std::string name() const override {
    return max_periods_ == kAllPeriods ? "seasonal-naive"
                                       : "seasonal-naive:" + std::to_string(max_periods_);
  }
  /// too_short without one valid sample; invalid_input when the layout does
  /// not cover y. With no layout (or no period) it is the naive model.
  [[nodiscard]] FitResult fit(const FitInput& input) const override;
  [[nodiscard]] std::size_t max_periods() const { return max_periods_; }

  static constexpr std::size_t kAllPeriods = static_cast<std::size_t>(-1);

 private:
  std::size_t max_periods_;
};

}  // namespace prescale::forecast
