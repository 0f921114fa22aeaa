#pragma once
// Forecast combination: the mean or the median of a few fitted models. A
// combination of several good forecasts beats the best single one more
// often than not (Makridakis et al., M4 competition, 2020; Clemen 1989):
// their errors are not perfectly correlated, so combining cancels part of
// them, and the choice among near-equal candidates (which one wins the
// backtest is partly luck) stops mattering. The median also ignores a
// member that goes astray (a trend extrapolated too far), which a mean
// would follow halfway.
//
// select_and_fit (auto mode) takes the median of every candidate whose
// backtest score is close to the best one's (selection.hpp). A
// combination's backtest needs no fit of its own: at the same origin and
// lead step the actual is the same, so its error is the mean (median) of
// its members' errors, and it is scored from them exactly as backtest()
// scores a model (per-origin MASE with that origin's scale, event origins
// blended in by event_weight).
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

/// How members are combined, step by step (and their sigmas alike).
enum class Aggregate { mean, median };

/// "combination(a+b+c)" (mean) or "median(a+b+c)" from the members' names.
[[nodiscard]] std::string combination_name(std::span<const std::string> member_names,
                                           Aggregate aggregate = Aggregate::mean);

/// The combination of fitted models that have seen the same samples (same
/// next_index()). forecast(): the mean (median) of the members' means;
/// sigma the mean (median) of their sigmas (the standard deviation of a
/// mean of errors is at most the mean of theirs, reached when they are
/// perfectly correlated, as forecast errors on one series nearly are);
/// sigma_lower likewise when a member has one; spread the standard deviation
/// of the members' means (how far apart they are, which the interval
/// calibration reads). Not thread-safe, like every FittedModel: one owner
/// updates it; clone() copies every member.
class CombinedFitted final : public FittedModel {
 public:
  /// Members must be non-null and at the same next_index().
  explicit CombinedFitted(std::vector<std::unique_ptr<FittedModel>> members,
                          Aggregate aggregate = Aggregate::mean);

  [[nodiscard]] std::string name() const override;
  /// Each member's parameters, named "<member name>.<parameter>".
  [[nodiscard]] std::map<std::string, double> parameters() const override;
  [[nodiscard]] std::size_t next_index() const override;
  /// Feeds the sample to every member.
  void update(double y) override;
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override;
  /// The square of the mean of the members' residual standard deviations
  /// (consistent with forecast()'s sigma).
  [[nodiscard]] double residual_variance() const override;
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override;

  [[nodiscard]] std::size_t members() const { return members_.size(); }

 private:
  std::vector<std::unique_ptr<FittedModel>> members_;
  Aggregate aggregate_;
};

/// The recipe: fits every member on the same input and combines them; a
/// member's failure is the combination's. Holds the member recipes by
/// pointer: they must outlive it. `hints` (optional, parallel to members)
/// are each member's warm start (its backtest's first-origin parameters):
/// a fit whose input has a warm_start gives member i hints[i] instead (a
/// combination's own parameters name no member's); without one, none.
/// Immutable; fit() is thread-safe when the members' are.
class CombinedModel final : public Model {
 public:
  explicit CombinedModel(std::vector<const Model*> members,
                         std::vector<std::map<std::string, double>> hints = {},
                         Aggregate aggregate = Aggregate::mean);
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;

 private:
  std::vector<const Model*> members_;
  std::vector<std::map<std::string, double>> hints_;
  Aggregate aggregate_;
};

/// The backtest of the combination of report.models[members], from their
/// errors alone: each combined error is the mean (median) of the members'
/// errors at the same index and lead step (with the mean (median) of their
/// sigmas and the standard deviation of the errors as the spread), kept
/// only where every member has one; rolling-origin errors
/// past the horizon (BacktestOptions::error_horizon) are combined too, for
/// interval calibration, but never scored. MASE and sMAPE per origin, their
/// mean over the rolling origins blended with the mean over
/// report.event_origins by options.event_weight, coverage pooled at
/// options.quantile: as backtest() does for one model, so a combination of
/// one member scores as that member. fit_seconds_mean is the members' sum
/// (a fit of the combination fits them all); origin_parameters are the
/// members', named as CombinedFitted::parameters() names them. status is
/// not ok when `members` is empty or a member's is not. `y` is the history
/// the backtest ran on. Pure function.
[[nodiscard]] ModelBacktest combine_backtests(const BacktestReport& report,
                                              std::span<const std::size_t> members,
                                              std::span<const double> y,
                                              const BacktestOptions& options,
                                              Aggregate aggregate = Aggregate::mean);

}  // namespace prescale::forecast
