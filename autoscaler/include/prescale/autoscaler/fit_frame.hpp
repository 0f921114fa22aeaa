#pragma once
// The preparation every fit runs, whichever command asks for it: the
// history it reads (prepare_history), what it reads beside the values by
// sample index (FitFrame: the season positions in the target's time zone,
// DST-aware, and the calendar regressor columns), and the selection
// (selection_options). The engine's targets (serve, demo, simulate's
// predictive replay) use it in target.cpp, forecast and backtest in
// cli/input_options.cpp, each from a config::TargetConfig.
#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prescale/calendar/calendar.hpp"
#include "prescale/calendar/regressors.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/selection.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::autoscaler {

/// A history as a fit reads it, and the target it can fit:
/// - from its first sample with a value: leading gaps (before the metric
///   existed, or a --start before it) carry nothing, and models that start
///   their state from the first cycle cannot use them;
/// - with the seasons that history holds a whole cycle of: a shorter one
///   has slots no sample was ever seen in, so it is dropped (said in
///   `notes`) and used again by a later fit once the history has grown.
///   With one to two cycles, each model applies its own rule.
struct PreparedHistory {
  config::TargetConfig target;     ///< the target the fit runs with: seasons it can estimate
  std::int64_t start_unix = 0;     ///< time of values.front()
  std::span<const double> values;  ///< points into the series it was prepared from
  std::vector<std::int64_t> dropped_seasons;  ///< seasons of the target left out, shortest first
  std::vector<std::string> notes;             ///< what was done to the target, for the reader
};

/// Prepares `series` for `target`'s fit: the one rule for every command
/// (forecast, backtest, and the engine's targets for serve, demo and
/// simulate). Error when no sample has a value.
[[nodiscard]] Expected<PreparedHistory> prepare_history(const config::TargetConfig& target,
                                                        const forecast::Series& series);

/// Season layout and regressors from `start_unix`, one row per sample,
/// extended as the model moves on. A fitted model points into it: not
/// copied or moved (hold it by pointer).
class FitFrame {
 public:
  /// Seasons: target.seasonality_seconds, shortest first (each a multiple of
  /// the step). Columns: those of the calendars target.calendars names, from
  /// `calendars` (null or no columns: no regressors; a calendar another one
  /// borrows business days from gives none of its own).
  FitFrame(const config::TargetConfig& target, calendar::TimeZone zone,
           std::shared_ptr<const calendar::CalendarSet> calendars, std::int64_t start_unix,
           std::size_t rows);
  FitFrame(const FitFrame&) = delete;
  FitFrame& operator=(const FitFrame&) = delete;

  /// Makes the layout and the regressors cover `rows` samples (never shrinks).
  void extend_to(std::size_t rows);

  [[nodiscard]] std::size_t rows() const { return rows_; }
  [[nodiscard]] std::int64_t start_unix() const { return start_unix_; }
  [[nodiscard]] std::int64_t step_seconds() const { return step_; }
  [[nodiscard]] const forecast::SeasonLayout& layout() const { return layout_; }
  /// Null without calendar columns.
  [[nodiscard]] const Eigen::MatrixXd* regressors() const { return regressors_.get(); }
  [[nodiscard]] const std::vector<std::string>& regressor_names() const { return names_; }
  /// The season periods in use, shortest first.
  [[nodiscard]] const std::vector<std::int64_t>& periods() const { return periods_; }

  /// A fit's input: `y` holds the values from start_unix (rows() >= y.size()).
  [[nodiscard]] forecast::FitInput fit_input(std::span<const double> y) const;

 private:
  calendar::TimeZone zone_;
  std::shared_ptr<const calendar::CalendarSet> calendars_;
  calendar::RegressorOptions regressor_options_;
  std::int64_t start_unix_ = 0;
  std::int64_t step_ = 60;
  std::size_t rows_ = 0;
  std::vector<std::int64_t> periods_;
  forecast::SeasonLayout layout_;
  std::unique_ptr<Eigen::MatrixXd> regressors_;
  std::vector<std::string> names_;
};

/// The selection a target's fit runs: its model, backtest origins,
/// quantile and outlier replacement, over `horizon` steps. Callers add what
/// is theirs alone (threads, event origins).
[[nodiscard]] forecast::SelectionOptions selection_options(const config::TargetConfig& target,
                                                           std::size_t horizon);

/// The forecast steps a target serves from at each decision: the step in
/// progress and the lead time's steps after it, lead_steps() + 1 (the policy
/// reads them, a refit is backtested that far ahead and scores the served
/// value over them; backtest --lead-time scores the same window).
[[nodiscard]] std::size_t lead_window_steps(const config::TargetConfig& target);

}  // namespace prescale::autoscaler
