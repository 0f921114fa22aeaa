#pragma once
// Forecast combination: the equal-weight mean of a few fitted models. The
// mean of several good forecasts beats the best single one more often than
// not (Makridakis et al., M4 competition, 2020; Clemen 1989): their errors
// are not perfectly correlated, so averaging cancels part of them, and the
// choice among near-equal candidates (which one wins the backtest is partly
// luck) stops mattering.
//
// select_and_fit (auto mode only) tries the means of its best 2 and best 3
// non-naive candidates by backtest MASE. A combination's backtest needs no
// fit of its own: at the same origin and lead step the actual is the same,
// so its error is the mean of its members' errors, and it is scored from
// them exactly as backtest() scores a model (per-origin MASE with that
// origin's scale, event origins blended in by event_weight).
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

/// "combination(a+b+c)" from the members' names.
[[nodiscard]] std::string combination_name(std::span<const std::string> member_names);

/// The equal-weight mean of fitted models that have seen the same samples
/// (same next_index()). forecast(): mean of the members' means; sigma the
/// mean of their sigmas (the standard deviation of a mean of errors is at
/// most the mean of theirs, reached when they are perfectly correlated, as
/// forecast errors on one series nearly are); sigma_lower likewise when a
/// member has one. Not thread-safe, like every FittedModel: one owner
/// updates it; clone() copies every member.
class CombinedFitted final : public FittedModel {
 public:
  /// Members must be non-null and at the same next_index().
  explicit CombinedFitted(std::vector<std::unique_ptr<FittedModel>> members);

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
                         std::vector<std::map<std::string, double>> hints = {});
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;

 private:
  std::vector<const Model*> members_;
  std::vector<std::map<std::string, double>> hints_;
};

/// The backtest of the equal-weight mean of report.models[members], from
/// their errors alone: each combined error is the mean of the members'
/// errors at the same index and lead step (with the mean of their sigmas),
/// kept only where every member has one; rolling-origin errors past the
/// horizon (BacktestOptions::error_horizon) are combined too, for interval
/// calibration, but never scored. MASE and sMAPE per origin, their mean over
/// the rolling origins blended with the mean over report.event_origins by
/// options.event_weight, coverage pooled at options.quantile: as backtest()
/// does for one model, so a combination of one member scores as that
/// member. fit_seconds_mean is the members' sum (a fit of the combination
/// fits them all); origin_parameters are the members', named as
/// CombinedFitted::parameters() names them. status is not ok when `members` is empty or a member's
/// is not. `y` is the history the backtest ran on. Pure function.
[[nodiscard]] ModelBacktest combine_backtests(const BacktestReport& report,
                                              std::span<const std::size_t> members,
                                              std::span<const double> y,
                                              const BacktestOptions& options);

/// A combination select_and_fit may choose: recipe and backtest.
struct CombinationCandidate {
  std::unique_ptr<Model> recipe;
  ModelBacktest backtest;
};

/// The combinations of the best 2 .. max_members of `candidates` (indices
/// into report.models; those with a failed fit or a non-finite MASE left
/// out, and those that backtested under the same fitted name as a better
/// one: the same forecast) by backtest MASE, the 2-member one first; `recipes` is parallel to
/// report.models and must outlive the returned recipes. Fewer (or none)
/// when fewer candidates qualify.
[[nodiscard]] std::vector<CombinationCandidate> best_combinations(
    const BacktestReport& report, std::span<const std::size_t> candidates,
    std::span<const Model* const> recipes, std::span<const double> y,
    const BacktestOptions& options, std::size_t max_members = 3);

/// MASE of `model` at each rolling origin of `report` (report.origins,
/// scaled by report.origin_scales), from its errors over the first
/// `horizon` lead steps; NaN where it has none. The paired differences of
/// two models' values give the standard error of their MASE difference.
[[nodiscard]] std::vector<double> mase_by_origin(const ModelBacktest& model,
                                                 const BacktestReport& report, std::size_t horizon);

/// The one-standard-error rule (Breiman et al., 1984), turned towards
/// robustness: a combination is preferred to the best single model unless
/// the single one's backtest MASE is lower by more than one standard error
/// of the paired per-origin differences. The best of ~15 noisy backtest
/// scores flatters its model (the winner's curse), and a mean of good
/// candidates forecasts better than the pick more often than not (M4).
/// True when `combination` should be chosen over `single`; false without
/// two origins where both are scored.
[[nodiscard]] bool within_one_standard_error(const ModelBacktest& combination,
                                             const ModelBacktest& single,
                                             const BacktestReport& report, std::size_t horizon);

}  // namespace prescale::forecast
