#pragma once
// Calendar effects as a regression beside a seasonal model:
//   y_t = seasonal model_t + x_t . beta
// where x_t is the row of calendar regressor columns (market open, payroll,
// holidays, ...; FitInput.regressors). beta is estimated once, before the
// seasonal model is fitted, by ridge regression of y on X within the slots of
// the longest season of the layout (Frisch-Waugh-Lovell: demeaning y and X
// per slot is the same as fitting one free value per slot jointly with
// beta), so beta holds what the calendar explains BEYOND the regular
// weekly pattern: the payroll surge on a Friday is measured against the
// other Fridays at the same local time, the holiday against the other
// Mondays. A column that is constant per slot (an event absent from the
// history, a session on every weekday) gets beta = 0 and the season keeps
// it. The seasonal model is then fitted on y - X.beta, so its states are not
// polluted by the events, and forecasts add X_future.beta back.
//
// Ridge: each column j is penalised by ridge * ||x~_j||^2 (scale free), plus
// a tiny absolute term that makes all-zero columns exactly zero. Sibling
// events that occur in the history are pooled (CalendarEffectsOptions::
// sibling_ridge): a shared column per suffix plus shrunken deviations.
#include <Eigen/Core>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

struct CalendarEffectsOptions {
  double ridge = 0.05;  ///< relative shrinkage of each coefficient (0.05 = about 5%)
  /// Coefficients whose column moves fewer than this many history samples
  /// away from its slot mean are not estimated (too little evidence).
  std::size_t min_support = 2;
  /// Use 0/1 columns only: a count column (business days to month end) is a
  /// trend within the month that a month or two of history cannot pin down.
  bool indicators_only = true;
  /// Columns on in more than this share of the history (business days) are
  /// left to the season: their effect depends on the time of day (a holiday
  /// night is an ordinary night), which one coefficient cannot say.
  double max_share = 0.5;
  /// Per-column ridge overriding `ridge` (empty: `ridge` for every column).
  std::vector<double> column_ridge;
  /// Columns never estimated (their coefficient is 0): an event another
  /// model draws (event_effects.hpp), so the regression keeps the sessions.
  std::vector<Eigen::Index> left_out;
  /// Partial pooling of sibling events (CalendarRegression): events of one
  /// calendar with the same columns (payroll-mid and payroll-end: .on and the
  /// same elapsed buckets) share a profile, each deviating from it under this
  /// relative ridge (10: deviations shrink by about 90%); 0 = no pooling. A
  /// payroll day is then forecast from every earlier payroll day, not only
  /// from those of its own rule.
  double sibling_ridge = 10.0;
};

/// Estimated effects. Value type.
struct CalendarEffects {
  Eigen::VectorXd beta;            ///< one per regressor column (0 for inactive ones)
  std::vector<double> effect;      ///< x_t . beta for every row of the regressor matrix
  std::size_t active_columns = 0;  ///< columns with a non-zero coefficient
  std::size_t slot_period = 0;     ///< slots of the season used for demeaning (0 = overall mean)
  /// unusual[t] (history rows only) is 1 where the calendar row differs from
  /// its slot's usual row by at least 0.5 in some column: an event or holiday
  /// that the slot does not usually have (used to exempt those rows from
  /// outlier detection).
  std::vector<std::uint8_t> unusual;
};

/// Estimates calendar effects of `regressors` (rows >= y.size()) on y; rows
/// where y is NaN or `ignore[t]` is set are left out. The layout may be null
/// (then demeaning is by the overall mean). Errors name the problem (row
/// count, non-finite regressors).
[[nodiscard]] Expected<CalendarEffects> estimate_calendar_effects(
    std::span<const double> y, const SeasonLayout* layout, const Eigen::MatrixXd& regressors,
    const CalendarEffectsOptions& options = {}, std::span<const std::uint8_t> ignore = {});

/// The same with explicit groups instead of the layout's longest season:
/// groups[t] < group_count is the group of sample t (empty: one group).
[[nodiscard]] Expected<CalendarEffects> estimate_calendar_effects_in_groups(
    std::span<const double> y, std::span<const std::uint32_t> groups, std::size_t group_count,
    const Eigen::MatrixXd& regressors, const CalendarEffectsOptions& options = {},
    std::span<const std::uint8_t> ignore = {});

/// Columns of `regressors` plus one shared column per group of sibling event
/// columns ("<c>.<e>.<suffix>" with the same <c> and <suffix>, at least two
/// events) of which one occurs in the first `history` rows (members not seen
/// yet then take the shared profile); `pooled[k]` lists the original columns
/// summed into shared column k.
struct PooledRegressors {
  Eigen::MatrixXd matrix;
  std::vector<std::vector<Eigen::Index>> pooled;
};
[[nodiscard]] PooledRegressors pool_sibling_events(const Eigen::MatrixXd& regressors,
                                                   const std::vector<std::string>& names,
                                                   std::size_t history);

/// The longest season of the layout with at least `min_cycles` cycles in the
/// first n samples; layout->periods() when none.
[[nodiscard]] std::size_t longest_period_with_cycles(const SeasonLayout* layout, std::size_t n,
                                                     std::size_t min_cycles);

/// A seasonal model with calendar regression. Immutable; fit() is
/// thread-safe when the base model's is. Fitting without regressors (or
/// with none that vary within the history's slots) fails with
/// invalid_input: without calendar information it is the base model again.
///
/// The fitted model's name is the base's plus "+calendar(k)" (k active
/// columns), e.g. "holt-winters(A,Ad,A;1440,10080)+calendar(23)"; its
/// parameters() are the base's plus "calendar.<column>" coefficients;
/// update(y) feeds y - x_t.beta to the base (O(1)); forecast adds x.beta
/// to the base's mean (sigma is the base's: beta is treated as known).
class CalendarRegression final : public Model {
 public:
  explicit CalendarRegression(std::shared_ptr<const Model> base,
                              CalendarEffectsOptions options = {});
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;
  [[nodiscard]] const Model& base() const { return *base_; }

 private:
  std::shared_ptr<const Model> base_;
  CalendarEffectsOptions options_;
};

}  // namespace prescale::forecast
