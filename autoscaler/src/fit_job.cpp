#include "fit_job.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "prescale/autoscaler/event_history.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/config/duration.hpp"

namespace prescale::autoscaler {

void log_season_changes(const LogFunction& log, const std::string& target,
                        const std::vector<std::int64_t>& before, const FitOutcome& outcome) {
  if (!log) return;
  for (std::size_t k = 0; k < outcome.dropped_seasons.size(); ++k) {
    const auto period = outcome.dropped_seasons[k];
    if (std::find(before.begin(), before.end(), period) != before.end()) continue;
    log(LogRecord{LogLevel::info, "season dropped: too short a history", {}}
            .with("target", target)
            .with("season", config::format_duration(period))
            .with("note", outcome.season_notes.at(k)));
  }
  for (const auto period : before) {
    if (std::find(outcome.dropped_seasons.begin(), outcome.dropped_seasons.end(), period) !=
        outcome.dropped_seasons.end())
      continue;
    log(LogRecord{LogLevel::info, "season in use again: the history has grown", {}}
            .with("target", target)
            .with("season", config::format_duration(period)));
  }
}

namespace {

// Bounds of a target's event history (event_history.hpp): the newest
// occurrences within `eventHistory`, three queries each (the window and
// its baseline a week before and after), and the samples those ask for
// (5-hour windows at 1 minute: 900 a occurrence).
constexpr std::size_t kMaxEventOccurrences = 64;
constexpr std::size_t kMaxEventHistoryPoints = 200'000;

// The older occurrences of the target's events for this fit, whose data ends
// at its history's end: windows not held yet are fetched (bounded, stopped
// when the target is cancelled, logged with their cost); a failure logs and
// leaves the fit with what is held, the rest fetched at the next fit. Null
// when the target has none.
std::shared_ptr<const std::vector<forecast::PastEvent>> fetch_event_history(
    const FitJob& job, const LogFunction& log) {
  if (!job.event_history || !job.calendars) return nullptr;
  auto& fetch = *job.event_history;
  const auto& config = job.config;
  const std::int64_t step = config.step_seconds;
  const std::int64_t cutoff = job.history.end_unix();
  const std::int64_t regular_start = floor_to(cutoff - config.history_seconds, step);
  const auto plan =
      plan_event_history(*job.calendars, config, job.zone, cutoff - config.event_history_seconds,
                         regular_start, kMaxEventOccurrences);
  if (plan.occurrences.empty()) return nullptr;
  if (!fetch.windows) fetch.windows = std::make_unique<source::WindowHistory>(*fetch.source, step);
  source::WindowLimits limits;
  limits.max_calls = 3 * kMaxEventOccurrences;
  limits.max_points = kMaxEventHistoryPoints;
  const auto cost = fetch.windows->fetch(plan.windows, limits, job.cancel);
  auto events = std::make_shared<const std::vector<forecast::PastEvent>>(
      past_events(plan, *fetch.windows, step));
  if (!log || (job.cancel && job.cancel->load())) return events;
  if (!cost.error.empty() && cost.error != fetch.last_error) {
    log(LogRecord{LogLevel::warning, "event history fetch failed", {}}
            .with("target", config.metric)
            .with("error", cost.error)
            .with("occurrences", static_cast<std::int64_t>(events->size()))
            .with("note", "the fit uses the occurrences held; the rest is fetched at the next"));
  }
  fetch.last_error = cost.error;
  if (cost.calls > 0) {
    log(LogRecord{LogLevel::info, "event history", {}}
            .with("target", config.metric)
            .with("lookback", config::format_duration(config.event_history_seconds))
            .with("occurrences", static_cast<std::int64_t>(events->size()))
            .with("planned", static_cast<std::int64_t>(plan.occurrences.size()))
            .with("calls", static_cast<std::int64_t>(cost.calls))
            .with("points", static_cast<std::int64_t>(cost.points))
            .with("cached", static_cast<std::int64_t>(cost.cached))
            .with("deferred", static_cast<std::int64_t>(cost.deferred))
            .with("seconds", cost.seconds));
  }
  return events;
}

// Rows of a fit's frame for `count` samples: they reach the next scheduled
// refit's last lead window. The events this model will serve are then ahead
// of it at the fit, so the choice of who serves event windows (selection.cpp)
// is made for them, not only for the few steps after the cutoff: a scheduled
// fit hours before a payroll morning chose as if no event were coming.
std::size_t frame_rows(const config::TargetConfig& t, std::size_t count) {
  const auto until_refit = static_cast<std::size_t>(
      std::max<std::int64_t>(0, t.refit_interval_seconds / t.step_seconds));
  return count + until_refit + lead_window_steps(t) + kLayoutSlack;
}

FitOutcome run_fit(const FitJob& job) {
  FitOutcome outcome;
  outcome.now_unix = job.now_unix;
  // The preparation forecast and backtest run too (fit_frame.hpp).
  auto history = prepare_history(job.config, job.history);
  if (!history) {
    outcome.failure = history.error().message;
    outcome.too_short = true;
    return outcome;
  }
  outcome.prepared = true;
  outcome.dropped_seasons = history->dropped_seasons;
  outcome.season_notes = history->notes;
  const auto& t = history->target;
  const std::size_t count = history->values.size();
  auto state = std::make_unique<FitState>();
  const std::size_t window = lead_window_steps(t);
  state->frame = std::make_unique<FitFrame>(t, job.zone, job.calendars, history->start_unix,
                                            frame_rows(t, count));
  forecast::FitInput input = state->frame->fit_input(history->values);
  if (job.past_events) input.past_events = *job.past_events;
  forecast::SelectionOptions options = selection_options(t, window);
  options.cancel = job.cancel;
  // Each candidate's decision loss on what the target serves (the q-quantile's
  // peak over the lead window), for the reason and the decision record.
  options.served = forecast::ServedWindow{window, t.quantile};

  const auto started = std::chrono::steady_clock::now();
  auto selection = forecast::select_and_fit(input, options);
  state->fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (selection.status != forecast::FitStatus::ok || !selection.fitted) {
    outcome.too_short = selection.status == forecast::FitStatus::too_short;
    outcome.failure = selection.status == forecast::FitStatus::too_short
                          ? fmt::format("history too short: {}", selection.reason)
                          : fmt::format("fit failed ({}): {}",
                                        forecast::to_string(selection.status), selection.reason);
    return outcome;
  }
  if (selection.origins == 0 || !selection.selected_mase) {
    // Unproven: without one backtest origin nothing shows it beats seasonal naive.
    outcome.too_short = true;
    outcome.failure = fmt::format(
        "history too short: {} samples since the first value, a backtest needs two cycles of the "
        "shortest season plus the {}-step horizon",
        count, window);
    return outcome;
  }
  if (job.warm_up_anomaly)
    outcome.warm_up =
        WarmUpInput{t, history->start_unix, history->values, state->frame->rows(), options};
  state->model = std::move(selection.fitted);
  state->model_name = selection.model.empty() ? state->model->name() : selection.model;
  state->parameters = state->model->parameters();
  state->backtest_mase = selection.selected_mase;
  state->seasonal_naive_mase = selection.seasonal_naive_mase;
  state->fitted_at_unix = job.now_unix;
  state->reason = selection.reason;
  state->event_choice = selection.event_choice;
  if (selection.selected_decision)
    state->decision_loss = fmt::format(
        "decision loss {:.2f}x seasonal naive's (q{:g} of the {}-step lead window's peak)",
        *selection.selected_decision, options.served->quantile, options.served->steps);
  state->why = job.why;
  state->data_start_unix = state->frame->start_unix();
  state->data_end_unix = job.history.end_unix();
  const bool is_naive = state->model_name.rfind("seasonal-naive", 0) == 0;
  if (t.model != "auto" && !is_naive && selection.selected_mase &&
      std::isfinite(selection.seasonal_naive_mase) &&
      !(*selection.selected_mase < selection.seasonal_naive_mase)) {
    state->forced_loses = fmt::format(
        "model {} (forced by config) has backtest MASE {:.3f}, not better than seasonal "
        "naive's {:.3f}",
        state->model_name, *selection.selected_mase, selection.seasonal_naive_mase);
  }
  outcome.state = std::move(state);
  return outcome;
}

// The fit's log line: the model and why it ran, or why it failed.
void log_fit(const LogFunction& log, const FitJob& job, const FitOutcome& outcome) {
  if (!outcome.state && job.cancel && job.cancel->load()) {
    // The target was stopped or removed: nothing failed.
    log(LogRecord{LogLevel::info, "fit cancelled", {}}
            .with("target", job.config.metric)
            .with("why", job.why));
    return;
  }
  if (!outcome.state) {
    log(LogRecord{LogLevel::warning, "fit failed", {}}
            .with("target", job.config.metric)
            .with("error", outcome.failure)
            .with("why", job.why));
    return;
  }
  const auto& s = *outcome.state;
  LogRecord record{LogLevel::info, "refit", {}};
  record.with("target", job.config.metric)
      .with("model", s.model_name)
      .with("backtest_mase", s.backtest_mase ? *s.backtest_mase : std::nan(""))
      .with("seasonal_naive_mase", s.seasonal_naive_mase)
      .with("fit_seconds", s.fit_seconds)
      .with("samples", static_cast<std::int64_t>(job.history.size()))
      .with("data_end_unix", job.history.end_unix())
      .with("why", job.why);
  if (job.past_events)
    record.with("event_history_occurrences", static_cast<std::int64_t>(job.past_events->size()));
  for (const auto& [name, value] : s.parameters) record.with(name, value);
  log(record);
}

// learn_from_history; null when it fails (logged by it).
std::unique_ptr<AnomalyScorer> run_warm_up(const FitJob& job, const WarmUpInput& input,
                                           const LogFunction& log) {
  return learn_from_history(job.config, job.zone, job.calendars, input.target, input.start_unix,
                            input.values, input.rows, input.options, log);
}

// What the process before this one served at the decisions replayed from
// history, read back from Prometheus (slo.servedQuery), so the figures "as
// served" survive a restart. The value decision t served was the gauge's
// until the next decision replaced it: Prometheus' sample at t + step (the
// newest before it). A failure or a gap leaves those decisions unserved
// (NaN: they do not count), and says so.
void read_back_served(const FitJob& job, std::vector<PolicyReading>& readings,
                      const LogFunction& log) {
  if (!job.served_source || readings.empty()) return;
  auto& source = *job.served_source;
  const std::int64_t step = job.config.step_seconds;
  const std::int64_t start = floor_to(readings.front().time_unix, step) + step;
  const std::int64_t end = floor_to(readings.back().time_unix, step) + 2 * step;
  const auto started = std::chrono::steady_clock::now();
  auto served = source.fetch(start, end, step);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!served) {
    if (log && !(job.cancel && job.cancel->load()))
      log(LogRecord{LogLevel::warning, "slo: served values not read back", {}}
              .with("target", job.config.metric)
              .with("source", source.describe())
              .with("error", served.error().message)
              .with("note", "the decisions before this start count as never served"));
    return;
  }
  std::size_t found = 0;
  for (auto& reading : readings) {
    const std::int64_t at = floor_to(reading.time_unix, step) + step;
    const auto index = (at - served->start_unix) / step;
    if (!reading.servable || index < 0 || index >= static_cast<std::int64_t>(served->size()))
      continue;
    const double value = served->values[static_cast<std::size_t>(index)];
    if (!std::isfinite(value) || value < 0) continue;
    reading.served = value;
    ++found;
  }
  if (log)
    log(LogRecord{LogLevel::info, "slo: served values read back", {}}
            .with("target", job.config.metric)
            .with("decisions", static_cast<std::int64_t>(readings.size()))
            .with("found", static_cast<std::int64_t>(found))
            .with("seconds", seconds));
}

// The SLO tuning after a fit; a first fit first replays the decisions
// before it from history, so it tunes at once (logged with its cost), and
// reads back what those decisions served before this start.
void tune_for_slo(const FitJob& job, FitState& state, const LogFunction& log) {
  SeedReadings seed;
  if (job.seed_slo) {
    const auto started = std::chrono::steady_clock::now();
    seed = seed_readings(job.config, job.zone, job.calendars, job.history, job.cancel);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (log)
      log(LogRecord{LogLevel::info, "slo: decisions replayed from history", {}}
              .with("target", job.config.metric)
              .with("decisions", static_cast<std::int64_t>(seed.readings.size()))
              .with("seconds", seconds)
              .with("fits", static_cast<std::int64_t>(seed.fits))
              .with("note", seed.note));
    read_back_served(job, seed.readings, log);
  }
  state.slo = job.tune_slo(seed.readings);
  if (!seed.readings.empty()) {
    const std::string words = seed.summary(job.history.step_seconds);
    state.slo.note = state.slo.note.empty() ? words : state.slo.note + "; " + words;
  } else if (!seed.note.empty()) {
    state.slo.note = state.slo.note.empty() ? seed.note : state.slo.note + "; " + seed.note;
  }
  state.slo_seed = std::move(seed.readings);
}

}  // namespace

void launch_fit_job(std::shared_ptr<FitJob> job, std::shared_ptr<FitMailbox> mailbox,
                    LogFunction log, const FitLauncher& launch) {
  auto work = [job, mailbox, log, launch] {
    FitOutcome outcome;
    try {
      // Here, not on the tick: the target serves while Prometheus answers.
      if (job->event_history) job->past_events = fetch_event_history(*job, log);
      outcome = run_fit(*job);
      if (outcome.state && job->tune_slo) tune_for_slo(*job, *outcome.state, log);
    } catch (const std::exception& e) {
      // Out of memory, most likely: a failed fit, never a dead fit thread.
      outcome = FitOutcome{};
      outcome.now_unix = job->now_unix;
      outcome.failure = fmt::format("fit failed: {}", e.what());
    }
    if (log) log_fit(log, *job, outcome);
    std::optional<WarmUpInput> warm_up;
    if (outcome.state) warm_up.swap(outcome.warm_up);
    {
      std::lock_guard lock(mailbox->mutex);
      mailbox->done = std::move(outcome);
      mailbox->running = warm_up.has_value();  // no other fit until the warm-up is in
    }
    if (!warm_up) return;
    auto learn = [job, mailbox, log,
                  input = std::make_shared<const WarmUpInput>(std::move(*warm_up))] {
      auto warmed = run_warm_up(*job, *input, log);
      std::lock_guard lock(mailbox->mutex);
      mailbox->warmed = std::move(warmed);
      mailbox->running = false;
    };
    // A job of its own, queued behind the fits already waiting (other
    // targets' first forecasts come first); at once when fits run inline.
    if (launch) {
      launch(std::move(learn));
    } else {
      learn();
    }
  };
  if (launch) {
    launch(std::move(work));
  } else {
    work();
  }
}

}  // namespace prescale::autoscaler
