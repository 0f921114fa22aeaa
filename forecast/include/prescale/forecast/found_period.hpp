#pragma once
// A cycle found in the data beside the declared seasons. Load usually
// repeats with the wall clock (1d, 1w), but a cycle driven by something else
// (a batch job every 23 hours, a sampling clock that drifts) repeats with
// another length, and a model held to the declared season then forecasts
// the pattern at the wrong phase, further off every day. M4 Hourly has such
// series: their daily shape moves one hour a day.
//
// recent_period() looks for it in the recent history only (the cycle may
// have changed), by the autocorrelation of the first differences (a trend
// would hide the cycle in the levels) at lags around the declared season.
// FoundPeriod is a recipe that fits its base model on a plain modular
// layout of the period it finds in the history it is given; model selection
// offers it beside the declared seasons when the whole history shows such a
// period, and the backtest (each origin finding its own period from the
// data before it) decides.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

struct PeriodSearch {
  std::size_t cycles = 5;       ///< recent history searched, in declared seasons
  double lowest = 0.75;         ///< lags from lowest x declared ...
  double highest = 1.25;        ///< ... to highest x declared
  double min_advantage = 0.05;  ///< autocorrelation over the declared lag's, to differ
  /// The found lag's autocorrelation must reach this: a clear cycle, not
  /// the noise of bursty load (whose best lag wanders from day to day).
  double min_correlation = 0.5;
};

/// The lag near `declared` (PeriodSearch's range) at which the first
/// differences of the last `cycles` seasons of y correlate best, when it is
/// not `declared`, beats it by min_advantage and reaches min_correlation;
/// nullopt otherwise (or when
/// the history is too short or flat). NaN pairs are skipped. Pure function.
[[nodiscard]] std::optional<std::uint32_t> recent_period(std::span<const double> y,
                                                         std::uint32_t declared,
                                                         const PeriodSearch& search = {});

/// A base recipe fitted on the cycle found in its input: the period
/// recent_period() finds near the input layout's shortest season, or that
/// season itself when none differs. The fitted model owns its layout (plain
/// modular positions over the input layout's length, continued modularly
/// past it) and otherwise is the base's. Needs an input layout with a
/// season (invalid_input without). Immutable; fit() is thread-safe when the
/// base's is.
class FoundPeriod final : public Model {
 public:
  explicit FoundPeriod(std::shared_ptr<const Model> base, PeriodSearch search = {});
  /// "<base>@found-period"
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;
  [[nodiscard]] const Model& base() const { return *base_; }

 private:
  std::shared_ptr<const Model> base_;
  PeriodSearch search_;
};

}  // namespace prescale::forecast
