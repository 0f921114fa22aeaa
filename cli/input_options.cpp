#include "input_options.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "commands.hpp"
#include "prescale/autoscaler/event_history.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/config/calendars_yaml.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/file/csv_series.hpp"
#include "prescale/source/window_history.hpp"

namespace prescale::cli {

void add_input_options(CLI::App& command, InputOptions& options) {
  command
      .add_option("--input", options.input,
                  "CSV load history: lines 'timestamp,value' (header optional); timestamps\n"
                  "RFC 3339, 'YYYY-MM-DD HH:MM:SS' or Unix seconds")
      ->check(CLI::ExistingFile)
      ->excludes(add_prometheus_options(command, options.prometheus));
  command.add_option(
      "--input-timezone", options.input_timezone,
      "Zone of timestamps written without an offset (default UTC), e.g. America/New_York");
  command.add_option("--step", options.step,
                     "Grid step, e.g. 5m (default: the median spacing of the timestamps);\n"
                     "samples are averaged per step, missing steps are gaps");
  command
      .add_option("--timezone", options.timezone,
                  "Zone whose wall-clock time the seasons follow (DST-aware)")
      ->capture_default_str();
  command
      .add_option("--seasonality", options.seasonality,
                  "Seasonal periods, comma-separated durations, or 'none'")
      ->capture_default_str();
  command
      .add_option(
          "--calendar", options.calendars,
          "YAML file with a top-level 'calendars:' section (e.g. config/calendars/payments.yaml);\n"
          "its sessions and events become regressors of the Holt-Winters+calendar and ARIMA\n"
          "models (repeatable)")
      ->check(CLI::ExistingFile);
  auto* calendar_option = command.get_option("--calendar");
  command
      .add_option(
          "--calendar-use", options.calendar_use,
          "Calendars of --calendar to use, comma-separated, e.g. nyse,payroll (default: all)")
      ->needs(calendar_option);
}

void add_history_options(CLI::App& command, InputOptions& options) {
  auto* history = command.add_option(
      "--history", options.history,
      "Fit the newest part of the input only, e.g. 35d (a target's `history`); default: all");
  command
      .add_option("--event-history", options.event_history,
                  "With --calendar and --history: the events' older occurrences within this, e.g.\n"
                  "183d, as sparse windows of the input (each event window and the same local\n"
                  "hours a week before and after), as the daemon's `eventHistory` fetches them")
      ->needs(command.get_option("--calendar"))
      ->needs(history);
}

CalendarChoice load_calendar_choice(const InputOptions& options) {
  CalendarChoice choice;
  if (options.calendars.empty()) return choice;
  std::vector<calendar::CalendarDefinition> definitions;
  std::vector<std::string> defined_in;  // the file of each definition, for messages
  for (const std::string& file : options.calendars) {
    calendar::CalendarSet set;
    try {
      set = config::load_calendars_file(file);
    } catch (const config::CalendarsConfigError& error) {
      throw Failure("--calendar " + file + ": " + error.what());
    }
    for (const calendar::Calendar& one : set.calendars()) {
      for (std::size_t k = 0; k < definitions.size(); ++k) {
        if (definitions[k].name == one.name())
          throw Failure(fmt::format("--calendar: calendar '{}' is defined in both {} and {}",
                                    one.name(), defined_in[k], file));
      }
      definitions.push_back(one.definition());
      defined_in.push_back(file);
    }
  }
  auto built = calendar::CalendarSet::build(definitions);
  if (!built) throw Failure("--calendar: " + built.error().message);
  choice.set = std::make_shared<const calendar::CalendarSet>(std::move(*built));
  std::string_view rest = options.calendar_use;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string name(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (choice.set->find(name) == nullptr)
      throw Failure("--calendar-use: no calendar '" + name + "' in the --calendar files");
    if (std::find(choice.names.begin(), choice.names.end(), name) == choice.names.end())
      choice.names.push_back(name);
  }
  if (choice.names.empty())
    for (const calendar::Calendar& one : choice.set->calendars())
      choice.names.push_back(one.name());
  return choice;
}

forecast::Series load_series(const InputOptions& options, std::vector<std::string>* notes) {
  if (options.prometheus.requested()) {
    std::int64_t step = 60;  // Prometheus has no "detected" step: 1m unless --step says
    if (!options.step.empty()) {
      auto parsed = config::parse_duration_seconds(options.step);
      if (!parsed || *parsed <= 0) throw Failure("--step: expected a positive duration such as 1m");
      step = *parsed;
    }
    return load_prometheus_series(options.prometheus, step, notes);
  }
  if (options.input.empty())
    throw Failure("no history: give --input F.csv, or --prometheus URL --query PROMQL");
  file::CsvReadOptions read;
  if (!options.input_timezone.empty()) {
    auto zone = calendar::TimeZone::find(options.input_timezone);
    if (!zone) throw Failure("--input-timezone: " + zone.error().message);
    read.input_zone = *zone;
  }
  if (!options.step.empty()) {
    auto step = config::parse_duration_seconds(options.step);
    if (!step) throw Failure("--step: " + step.error().message);
    read.step_seconds = *step;
  }
  file::CsvReadReport report;
  auto series = file::read_csv_series(options.input, read, &report);
  if (!series) throw Failure(series.error().message);
  if (notes != nullptr) {
    const std::string step = config::format_duration(series->step_seconds);
    if (report.unsorted) notes->push_back("input rows were not in time order: sorted");
    if (report.duplicate_timestamps > 0) {
      notes->push_back(
          fmt::format("{} rows repeat a timestamp: averaged", report.duplicate_timestamps));
    }
    if (report.grid_realigned) {
      notes->push_back(
          fmt::format("irregular timestamps resampled to a {} grid (mean per step)", step));
    } else if (report.merged_samples > 0) {
      notes->push_back(
          fmt::format("{} samples averaged into shared {} steps", report.merged_samples, step));
    }
    if (report.empty_buckets > 0) {
      notes->push_back(fmt::format("{} of {} steps have no sample (gaps)", report.empty_buckets,
                                   series->size()));
    }
  }
  return std::move(*series);
}

FlagTarget target_from_flags(const InputOptions& options, std::int64_t step_seconds) {
  FlagTarget out;
  auto& target = out.target;
  target.step_seconds = step_seconds;
  auto zone = calendar::TimeZone::find(options.timezone);
  if (!zone) throw Failure("--timezone: " + zone.error().message);
  target.timezone = options.timezone;
  std::vector<std::int64_t> periods;
  if (options.seasonality != "none" && !options.seasonality.empty()) {
    std::string_view rest = options.seasonality;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      auto period = config::parse_duration_seconds(item);
      if (!period) throw Failure("--seasonality: " + period.error().message);
      if (*period % step_seconds != 0 || *period <= step_seconds) {
        throw Failure(fmt::format("--seasonality: {} is not a multiple (> 1) of the step {}",
                                  std::string(item), config::format_duration(step_seconds)));
      }
      periods.push_back(*period);
    }
  }
  std::sort(periods.begin(), periods.end());
  periods.erase(std::unique(periods.begin(), periods.end()), periods.end());
  target.seasonality_seconds = std::move(periods);
  CalendarChoice calendars = load_calendar_choice(options);
  target.calendars = std::move(calendars.names);
  out.calendars = std::move(calendars.set);
  return out;
}

std::int64_t duration_seconds(const std::string& option, const std::string& text) {
  auto seconds = config::parse_duration_seconds(text);
  if (!seconds) throw Failure(option + ": " + seconds.error().message);
  if (*seconds <= 0) throw Failure(option + ": must be positive");
  return *seconds;
}

std::size_t duration_in_steps(const std::string& option, const std::string& text,
                              std::int64_t step_seconds) {
  return static_cast<std::size_t>(ceil_div(duration_seconds(option, text), step_seconds));
}

namespace {

// A duration flag in seconds, or Failure naming it.
std::int64_t duration_flag(const std::string& option, const std::string& text) {
  auto seconds = config::parse_duration_seconds(text);
  if (!seconds || *seconds <= 0)
    throw Failure(fmt::format("{} '{}': {}", option, text,
                              seconds ? "must be positive" : seconds.error().message));
  return *seconds;
}

// --history: the newest steps of `series` within the duration.
forecast::Series newest_part(const forecast::Series& series, const std::string& text,
                             std::vector<std::string>& notes) {
  const std::int64_t seconds = duration_flag("--history", text);
  const std::int64_t step = series.step_seconds;
  const auto keep = static_cast<std::size_t>(std::max<std::int64_t>(1, seconds / step));
  if (keep >= series.size()) return series;
  forecast::Series out;
  out.step_seconds = step;
  out.start_unix = series.start_unix + static_cast<std::int64_t>(series.size() - keep) * step;
  out.values.assign(series.values.end() - static_cast<std::ptrdiff_t>(keep), series.values.end());
  notes.push_back(fmt::format("fitted on the newest {} of the input ({} of {} steps)", text, keep,
                              series.size()));
  return out;
}

// The input, read as a Source: the event history's windows come from it.
class SeriesSource final : public source::Source {
 public:
  explicit SeriesSource(const forecast::Series& series) : series_(series) {}
  [[nodiscard]] std::string describe() const override { return "the input"; }
  [[nodiscard]] Expected<forecast::Series> fetch(std::int64_t start_unix, std::int64_t end_unix,
                                                 std::int64_t step_seconds) override {
    forecast::Series out;
    out.start_unix = start_unix;
    out.step_seconds = step_seconds;
    for (std::int64_t t = start_unix; t < end_unix; t += step_seconds) {
      const bool held = t >= series_.start_unix && t < series_.end_unix() &&
                        (t - series_.start_unix) % series_.step_seconds == 0;
      out.values.push_back(held ? series_.values[static_cast<std::size_t>((t - series_.start_unix) /
                                                                          series_.step_seconds)]
                                : forecast::kMissing);
    }
    return out;
  }

 private:
  const forecast::Series& series_;
};

// --event-history: the older occurrences of the target's events, taken from
// `whole` before `fitted` starts, as the engine takes them from Prometheus
// (autoscaler/event_history.hpp, the same plan and assembly).
std::vector<forecast::PastEvent> older_events(const InputOptions& input, const FlagTarget& flags,
                                              const forecast::Series& whole,
                                              const forecast::Series& fitted,
                                              std::vector<std::string>& notes) {
  config::TargetConfig target = flags.target;
  target.history_seconds = duration_flag("--history", input.history);
  target.event_history_seconds = duration_flag("--event-history", input.event_history);
  if (!flags.calendars || !autoscaler::uses_event_history(target)) return {};
  const auto zone = calendar::TimeZone::find(target.timezone);
  const std::int64_t cutoff = fitted.end_unix();
  const auto plan = autoscaler::plan_event_history(
      *flags.calendars, target, zone ? *zone : calendar::TimeZone::utc(),
      cutoff - target.event_history_seconds, fitted.start_unix, 64);
  SeriesSource source(whole);
  source::WindowHistory windows(source, fitted.step_seconds);
  source::WindowLimits limits;
  limits.max_calls = 3 * 64;
  limits.max_points = 200'000;
  const auto cost = windows.fetch(plan.windows, limits);
  auto events = autoscaler::past_events(plan, windows, fitted.step_seconds);
  notes.push_back(fmt::format(
      "event history: {} older occurrences of {} planned within {} ({} windows, {} samples)",
      events.size(), plan.occurrences.size(), input.event_history, cost.calls, cost.points));
  return events;
}

}  // namespace

PreparedFit prepare_and_select(const InputOptions& input,
                               const forecast::SelectionOptions& selection_options,
                               const std::string& horizon, const std::string& lead_time) {
  PreparedFit prepared;
  prepared.series = load_series(input, &prepared.notes);
  const forecast::Series whole = input.event_history.empty() ? forecast::Series{} : prepared.series;
  if (!input.history.empty())
    prepared.series = newest_part(prepared.series, input.history, prepared.notes);
  const forecast::Series& series = prepared.series;
  prepared.horizon_steps = duration_in_steps("--horizon", horizon, series.step_seconds);
  FlagTarget flags = target_from_flags(input, series.step_seconds);
  if (!input.event_history.empty())
    prepared.past_events = older_events(input, flags, whole, series, prepared.notes);
  prepared.target = std::move(flags.target);
  prepared.target.model = selection_options.model;
  prepared.target.quantile = selection_options.quantile;
  prepared.target.backtest_origins = static_cast<std::int64_t>(selection_options.origins);
  prepared.target.keep_outliers = !selection_options.replace_outliers;
  // The engine's preparation (autoscaler/fit_frame.hpp): from the first sample with a value.
  auto history = autoscaler::prepare_history(prepared.target, series);
  if (!history) {
    throw Failure(fmt::format("{}: {}",
                              input.prometheus.requested() ? input.prometheus.query : input.input,
                              history.error().message));
  }
  if (const std::size_t skipped = series.size() - history->values.size(); skipped > 0) {
    prepared.notes.push_back(fmt::format(
        "the fit starts at the first sample with a value ({} leading steps without one)", skipped));
  }
  prepared.target = history->target;
  prepared.notes.insert(prepared.notes.end(), history->notes.begin(), history->notes.end());
  prepared.frame = std::make_unique<autoscaler::FitFrame>(
      prepared.target, *calendar::TimeZone::find(prepared.target.timezone), flags.calendars,
      history->start_unix, history->values.size() + prepared.horizon_steps);
  if (prepared.frame->regressors() != nullptr) {
    prepared.notes.push_back(fmt::format("calendar regressors: {} columns from {} file(s)",
                                         prepared.frame->regressor_names().size(),
                                         input.calendars.size()));
  }
  // The engine's selection for this target, plus what only a command sets.
  forecast::SelectionOptions options =
      autoscaler::selection_options(prepared.target, prepared.horizon_steps);
  options.event_origins = selection_options.event_origins;
  options.calibrate = selection_options.calibrate;
  options.threads = selection_options.threads;
  if (!lead_time.empty()) {
    // The window a target with this leadTime serves from, by the engine's rule.
    prepared.target.lead_time_seconds = duration_seconds("--lead-time", lead_time);
    const std::size_t steps = autoscaler::lead_window_steps(prepared.target);
    if (steps > prepared.horizon_steps)
      throw Failure(fmt::format(
          "--lead-time {}: its window is {} steps of {} s, longer than --horizon {} ({} steps)",
          lead_time, steps, series.step_seconds, horizon, prepared.horizon_steps));
    options.served = forecast::ServedWindow{steps, options.quantile};
    prepared.served = options.served;
  }
  const auto started = std::chrono::steady_clock::now();
  auto progress = [&](std::size_t done, std::size_t total, const std::string& model) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (elapsed > 1.0)
      std::fprintf(stderr, "backtest: %zu/%zu models done (%s), %.1f s\n", done, total,
                   model.c_str(), elapsed);
  };
  forecast::FitInput fit_input = prepared.frame->fit_input(history->values);
  fit_input.past_events = prepared.past_events;
  prepared.selection = forecast::select_and_fit(fit_input, options, progress);
  for (const std::string& note : prepared.selection.notes) prepared.notes.push_back(note);
  if (!prepared.selection.event_choice.empty())
    prepared.notes.push_back(prepared.selection.event_choice);
  if (prepared.selection.status != forecast::FitStatus::ok || !prepared.selection.fitted) {
    throw Failure(fmt::format("model {}: {} ({})", options.model, prepared.selection.reason,
                              forecast::to_string(prepared.selection.status)));
  }
  return prepared;
}

static std::string models_help() {
  std::string help = "Model: auto (best backtest MASE, never worse than seasonal naive) or one of:";
  for (const std::string& choice : forecast::model_choices()) {
    if (choice != "auto") help += "\n  " + choice;
  }
  return help;
}

void add_model_options(CLI::App& cmd, forecast::SelectionOptions& selection, std::string& horizon,
                       std::string& format) {
  cmd.add_option("--model", selection.model, models_help())->capture_default_str();
  cmd.add_option("--horizon", horizon,
                 "How far ahead, e.g. 1h, 30m, 1d (rounded up to whole steps). A target that\n"
                 "serves leadTime ahead forecasts leadTime plus one step (the step in progress):\n"
                 "--horizon 1h scores what it scores with leadTime 45m at 15-minute steps")
      ->capture_default_str();
  cmd.add_option("--quantile", selection.quantile,
                 "Interval: lower/upper are the (1-q) and q quantiles")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 0.9999));
  cmd.add_option("--origins", selection.origins, "Backtest origins used to choose the model")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  cmd.add_option("--event-origins", selection.event_origins,
                 "With --calendar: at most this many more origins placed before past calendar\n"
                 "events (payroll days, holidays), each refitting every model; 0 = none")
      ->capture_default_str()
      ->check(CLI::Range(0, 100))
      ->needs(cmd.get_option("--calendar"));
  // (--event-origins needs --calendar: add_input_options comes first.)
  // The daemon keeps 1 (its fit threads share the CPUs); a command has the machine.
  selection.threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
  cmd.add_option("--threads", selection.threads,
                 "Candidate models backtested at once (default: the CPUs, at most 8); the result\n"
                 "does not depend on it")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd.add_flag_callback(
      "--keep-outliers", [&selection] { selection.replace_outliers = false; },
      "Fit on the history as it is: do not replace one-off incidents (outages, unexplained\n"
      "spikes) by the seasonal baseline (what was replaced is said in the notes)");
  cmd.add_option("--format", format, "Output: json, csv or table")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "csv", "table"}));
}

}  // namespace prescale::cli
