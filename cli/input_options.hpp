#pragma once
// The options every command that reads load history shares (--input, time
// zones, step, seasonality) and the one function that turns them into a
// Series: a new source (e.g. --prometheus) is one branch in load_series().
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prescale/calendar/calendar.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/selection.hpp"
#include "prescale/forecast/series.hpp"
#include "prometheus_input.hpp"

namespace prescale::cli {

struct InputOptions {
  std::string input;                   ///< --input F.csv
  std::string input_timezone;          ///< --input-timezone: zone of offset-less timestamps
  std::string step;                    ///< --step: forced grid step ("" = detect)
  std::string timezone = "UTC";        ///< --timezone: where seasons are counted
  std::string seasonality = "1d,1w";   ///< --seasonality: periods, or "none"
  PrometheusInput prometheus;          ///< --prometheus URL --query PROMQL instead of --input
  std::vector<std::string> calendars;  ///< --calendar FILE.yaml (repeatable): calendar regressors
  std::string calendar_use;            ///< --calendar-use nyse,payroll: which calendars ("" = all)
};

/// Adds --input, --input-timezone, --step, --timezone, --seasonality,
/// --calendar, --calendar-use (which needs --calendar: an option that would
/// change nothing is refused, not ignored).
void add_input_options(CLI::App& command, InputOptions& options);

/// The calendars of --calendar/--calendar-use as one target sees them, the
/// same for forecast, backtest and simulate: every file's calendars in one
/// set (a name defined twice is an error) and the names in use (--calendar-use,
/// else all). Empty without --calendar. Throws Failure naming the file or name.
struct CalendarChoice {
  std::shared_ptr<const calendar::CalendarSet> set;  ///< null without --calendar
  std::vector<std::string> names;                    ///< calendars whose regressors are used
};
[[nodiscard]] CalendarChoice load_calendar_choice(const InputOptions& options);

/// The history the options name, on a regular grid. Throws Failure with a
/// message naming the bad input; appends what was done to it to `notes`.
[[nodiscard]] forecast::Series load_series(const InputOptions& options,
                                           std::vector<std::string>* notes = nullptr);

/// Seasonal positions in --timezone local time for the history and then
/// `horizon` more steps. Periods that are not a multiple of the step throw;
/// periods longer than half the history are dropped, said in `notes`.
struct Seasons {
  forecast::SeasonLayout layout;
  std::vector<std::int64_t> period_seconds;  ///< kept periods, shortest first
};
[[nodiscard]] Seasons build_seasons(const InputOptions& options, const forecast::Series& series,
                                    std::size_t horizon, std::vector<std::string>* notes = nullptr);

/// A --horizon-like duration in whole steps (rounded up); throws Failure.
[[nodiscard]] std::size_t duration_in_steps(const std::string& option, const std::string& text,
                                            std::int64_t step_seconds);

/// Adds --model, --horizon, --quantile, --origins and --format (json|csv|table).
void add_model_options(CLI::App& command, forecast::SelectionOptions& selection,
                       std::string& horizon, std::string& format);

/// Everything a model choice needs, built from the input options: the series,
/// its seasons over history + horizon, and the selection run on them.
struct PreparedFit {
  forecast::Series series;
  Seasons seasons;
  std::size_t horizon_steps = 0;
  std::vector<std::string> notes;
  /// Calendar regressors over history + horizon (null without --calendar);
  /// shared so the fitted model's pointer stays valid when this is moved.
  std::shared_ptr<const Eigen::MatrixXd> regressors;
  std::vector<std::string> regressor_names;
  forecast::Selection selection;
};

/// Loads, lays out seasons and runs select_and_fit; progress goes to stderr
/// when the backtest takes more than a second. Throws Failure.
[[nodiscard]] PreparedFit prepare_and_select(const InputOptions& input,
                                             const forecast::SelectionOptions& selection,
                                             const std::string& horizon);

}  // namespace prescale::cli
