#pragma once
// The options every command that reads load history shares (--input, time
// zones, step, seasonality) and the one function that turns them into a
// Series: a new source (e.g. --prometheus) is one branch in load_series().
#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prescale/autoscaler/fit_frame.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/config/config.hpp"
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
  std::string history;                 ///< --history: fit the newest part only ("" = all of it)
  std::string event_history;           ///< --event-history: older event occurrences, sparse
};

/// Adds --input, --input-timezone, --step, --timezone, --seasonality,
/// --calendar, --calendar-use (which needs --calendar: an option that would
/// change nothing is refused, not ignored).
void add_input_options(CLI::App& command, InputOptions& options);

/// Adds --history (fit the newest part of the input, as a target's `history`)
/// and --event-history (with --calendar and --history: the older occurrences
/// of the calendars' events within it, taken from the input as the daemon
/// fetches them from Prometheus with `eventHistory`: each event's window and
/// the same local hours a week before and after). forecast and backtest.
void add_history_options(CLI::App& command, InputOptions& options);

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

/// The target the options describe, as `serve` reads one from YAML: the
/// series' step, --timezone, --seasonality (each period a multiple > 1 of
/// the step) and the calendars of --calendar/--calendar-use; the caller
/// sets what is its own (model, quantile, lead time...). Every command
/// that fits turns its flags into one (forecast, backtest, simulate).
/// Throws Failure naming the option.
struct FlagTarget {
  config::TargetConfig target;
  std::shared_ptr<const calendar::CalendarSet> calendars;  ///< null without --calendar
};
[[nodiscard]] FlagTarget target_from_flags(const InputOptions& options, std::int64_t step_seconds);

/// A positive duration flag in seconds; throws Failure naming the flag.
[[nodiscard]] std::int64_t duration_seconds(const std::string& option, const std::string& text);
/// A --horizon-like duration in whole steps (rounded up); throws Failure.
[[nodiscard]] std::size_t duration_in_steps(const std::string& option, const std::string& text,
                                            std::int64_t step_seconds);

/// Adds --model, --horizon, --quantile, --origins and --format (json|csv|table).
void add_model_options(CLI::App& command, forecast::SelectionOptions& selection,
                       std::string& horizon, std::string& format);

/// Everything a model choice needs, built from the input options: the
/// series, the target they describe, its fit frame (seasons and calendar
/// regressors over history + horizon: autoscaler/fit_frame.hpp, as the
/// engine builds it) and the selection run on them.
struct PreparedFit {
  forecast::Series series;
  config::TargetConfig target;
  std::size_t horizon_steps = 0;
  std::vector<std::string> notes;
  /// Held by pointer: the fitted model points into it.
  std::unique_ptr<autoscaler::FitFrame> frame;
  /// --event-history: the older occurrences the fit learnt from (FitInput::past_events).
  std::vector<forecast::PastEvent> past_events;
  forecast::Selection selection;
  /// The served window the models were ranked on (lead_time given), else unset.
  std::optional<forecast::ServedWindow> served;
};

/// Loads the history, turns the options into a target (target_from_flags),
/// prepares both as the engine does (autoscaler::prepare_history: from the
/// first sample with a value; a season the history does not hold one
/// cycle of is dropped, said in the notes), builds its fit frame and runs
/// the engine's selection on it
/// (autoscaler::selection_options, plus --threads and --event-origins); progress goes to stderr
/// when the backtest takes more than a second. A non-empty `lead_time`
/// declares the served window as a target with that leadTime serves it
/// (lead steps + 1 at --quantile): each candidate's decision loss is then
/// measured and reported (forecast/selection.hpp). Throws Failure.
[[nodiscard]] PreparedFit prepare_and_select(const InputOptions& input,
                                             const forecast::SelectionOptions& selection,
                                             const std::string& horizon,
                                             const std::string& lead_time = {});

}  // namespace prescale::cli
