#pragma once
// Model choice per series by rolling-origin backtest (backtest.hpp), then a
// fit of the chosen recipe on the whole history.
//
// SelectionOptions::model:
//   auto                    every family; the best backtest score wins (MASE
//                           and sMAPE over seasonal naive's; the decision loss
//                           with rank_by_decision: below), but a model that
//                           does not beat seasonal naive is never chosen
//                           (seasonal naive is, and the reason says why);
//                           the means of the best 2 and 3 candidates compete
//                           too (combination.hpp, rows in `scores`): the
//                           better one is chosen unless the best single beats
//                           it by more than one standard error
//                           (within_one_standard_error)
//   seasonal-naive          that model
//   holt-winters            the best Holt-Winters variant by backtest MASE
//                           (each trend x season type with every season, and
//                           with the shortest season alone)
//   holt-winters:<variant>  one variant: a tag as in holt-winters(A,Ad,A)
//                           ("A,Ad,A") or <trend>-<season> words
//                           ("damped-additive", "none-multiplicative")
//   arima                   when the ARIMA family is built in
//   holt-winters+calendar   the additive Holt-Winters variants with calendar
//                           regression (calendar_effects.hpp); auto and
//                           holt-winters add them when regressors are given
// Forced models are backtested too (with seasonal naive beside them), so the
// caller can compare selected_mase with seasonal_naive_mase and fall back.
//
// Served window (SelectionOptions::served): a caller that serves the largest
// q-quantile over the first few lead steps (the daemon, simulate's replay,
// backtest --lead-time) says so, and each candidate's decision loss over
// seasonal naive's (decision_loss.hpp: the pinball loss at q of the served
// peak against the load's peak, a unit short weighing q / (1 - q) units
// idle) joins its MASE and sMAPE in `scores` and the reason. It ranks the
// candidates only with rank_by_decision, which nothing turns on: measured
// on the generated payments traces and NAB series, it chose models with
// narrower bands that ran short more often at the default setting, and no
// fewer replica-hours at the SLO (docs/targets.md).
//
// Cost: one fit per candidate at the first origin, updates through the
// origins, one refit of the winner on the whole history (see backtest.hpp).
// Multiplicative Holt-Winters is not tried on data with zeros or negatives
// (it would fall back to additive: the same fit twice).
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/decision_loss.hpp"
#include "prescale/forecast/interval_calibration.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

struct SelectionOptions {
  std::string model =
      "auto";  ///< auto | seasonal-naive | holt-winters | holt-winters:<variant> | arima
  std::size_t horizon = 12;  ///< backtest horizon, steps
  std::size_t origins = 8;
  /// Extra origins before past calendar events (BacktestOptions::event_origins; 0 = none).
  std::size_t event_origins = 3;
  double quantile = 0.9;
  /// Replace one-off incidents (outliers.hpp) before backtesting and fitting;
  /// what was found is said in Selection::notes.
  bool replace_outliers = true;
  /// Calibrate the fitted model's interval from its backtest errors
  /// (interval_calibration.hpp) at `quantile`; Selection::interval and
  /// notes say how, or why the model's sigma was kept.
  bool calibrate = true;
  /// What the caller serves from the forecast (the top of this file): set,
  /// each candidate's decision loss is measured and reported (scores, reason).
  std::optional<ServedWindow> served;
  /// Rank by the decision loss instead of MASE and sMAPE (needs `served`).
  /// Off everywhere: on the bench traces it chose cheaper models that ran
  /// short more often (docs/targets.md, "Check the forecast against history").
  bool rank_by_decision = false;
  /// Candidates backtested at once (BacktestOptions::threads).
  std::size_t threads = 1;
  /// Set by another thread to give up: select_and_fit returns
  /// FitStatus::cancelled after the model it is fitting (BacktestOptions::cancel).
  const std::atomic<bool>* cancel = nullptr;
};

struct BacktestScore {
  std::string model;
  double mase;
  double smape;
  double coverage;
  double fit_seconds_mean;
  /// Decision loss over seasonal naive's (1 = as good; NaN without a served window).
  double decision = std::numeric_limits<double>::quiet_NaN();
};

/// The outcome. Move-only (owns the fitted model).
struct Selection {
  FitStatus status = FitStatus::invalid_input;
  std::string model;   ///< fitted name of the chosen model ("" when nothing fitted)
  std::string reason;  ///< for a person: why this model, with the MASE figures
  std::unique_ptr<FittedModel> fitted;
  std::vector<BacktestScore> scores;    ///< every model backtested (NaN when its fit failed)
  double fit_seconds = 0;               ///< the final fit on the whole history
  std::optional<double> selected_mase;  ///< backtest MASE of the chosen model, if measured
  /// Decision loss of the chosen model over seasonal naive's, when a served
  /// window was declared and it could be measured.
  std::optional<double> selected_decision;
  double seasonal_naive_mase = 0;  ///< NaN when not measured
  std::size_t origins = 0;         ///< origins the backtest used
  std::size_t event_origins = 0;   ///< of which placed before past calendar events
  std::vector<std::string> notes;  ///< fallbacks said by fits and the selection
  /// Which model serves calendar event windows and why (event_choice.hpp);
  /// "" without event origins.
  std::string event_choice;
  /// The interval calibration `fitted` applies (empty: the model's own sigma).
  IntervalCalibration interval;
};

/// The recipes a SelectionOptions::model value names; an error lists the
/// accepted values. Adding a family is one entry in candidates.cpp.
[[nodiscard]] Expected<std::vector<std::unique_ptr<Model>>> candidate_models(
    std::string_view model);
/// Accepted model values, for --help and errors.
[[nodiscard]] std::vector<std::string> model_choices();

[[nodiscard]] Selection select_and_fit(const FitInput& input, const SelectionOptions& options);
/// As above, reporting backtest progress (for long CLI runs).
[[nodiscard]] Selection select_and_fit(const FitInput& input, const SelectionOptions& options,
                                       const BacktestProgress& progress);
/// Chooses among the given recipes instead of options.model's: with
/// options.model == "auto" the seasonal-naive rule applies (it is added as
/// the yardstick when absent), otherwise the best candidate wins.
[[nodiscard]] Selection select_and_fit(const FitInput& input, const SelectionOptions& options,
                                       std::vector<std::unique_ptr<Model>> candidates,
                                       const BacktestProgress& progress = {});

}  // namespace prescale::forecast
