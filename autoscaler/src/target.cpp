#include "prescale/autoscaler/target.hpp"

#include "prescale/autoscaler/fit_frame.hpp"

#include <fmt/core.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

#include "prescale/calendar/regressors.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/forecast/selection.hpp"
#include "prescale/source/incremental_history.hpp"

namespace prescale::autoscaler {

namespace {

calendar::TimeZone zone_of(const config::TargetConfig& config) {
  auto zone = calendar::TimeZone::find(config.timezone);
  return zone ? *zone : calendar::TimeZone::utc();
}

// Layout and regressor rows kept ahead of the newest sample, so most ticks
// extend nothing.
constexpr std::size_t kLayoutSlack = 64;

// Newest steps fetched again on each refresh (scrapes land late); a fit
// leaves them out, so every replica fits on samples that no longer change.
constexpr std::int64_t kRefetchSteps = 2;

// FNV-1a: the same number in every process and build (std::hash is not).
std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// The samples [cutoff - window, cutoff) of `series` (NaN where it has none).
forecast::Series slice(const forecast::Series& series, std::int64_t cutoff, std::int64_t window) {
  forecast::Series out;
  out.step_seconds = series.step_seconds;
  const std::int64_t step = series.step_seconds;
  out.start_unix = floor_to(cutoff - window, step);
  const std::int64_t count = std::max<std::int64_t>(0, (cutoff - out.start_unix) / step);
  out.values.assign(static_cast<std::size_t>(count), forecast::kMissing);
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t t = out.start_unix + i * step;
    if (t < series.start_unix || t >= series.end_unix()) continue;
    out.values[static_cast<std::size_t>(i)] =
        series.values[static_cast<std::size_t>((t - series.start_unix) / step)];
  }
  return out;
}

}  // namespace

/// The model in use and everything it reads by index. Owned by one worker.
struct FitState {
  /// Seasons and regressors from the first sample fitted (index 0); the model points into it.
  std::unique_ptr<FitFrame> frame;
  std::unique_ptr<forecast::FittedModel> model;
  std::string model_name;
  std::map<std::string, double> parameters;
  std::optional<double> backtest_mase;
  double seasonal_naive_mase = 0;
  double fit_seconds = 0;
  std::int64_t fitted_at_unix = 0;
  std::string reason;                ///< the selection's explanation
  std::string event_choice;          ///< which model serves event windows, and why (may be empty)
  std::string forced_loses;          ///< non-empty: a forced model that loses to seasonal naive
  std::string why;                   ///< why this fit ran (decision records)
  std::int64_t data_start_unix = 0;  ///< the history it was fitted on [start, end)
  std::int64_t data_end_unix = 0;
  SloOutcome slo;  ///< with `slo:`: the setting tuned at this refit, or why none

  /// Time of the next sample the model expects.
  [[nodiscard]] std::int64_t next_unix() const {
    return frame->start_unix() + static_cast<std::int64_t>(model->next_index()) * step();
  }
  [[nodiscard]] std::int64_t step() const { return frame->step_seconds(); }
  /// Makes the frame cover `count` samples, with slack so most ticks extend nothing.
  void extend(std::size_t count) const {
    if (count > frame->rows()) frame->extend_to(count + kLayoutSlack);
  }
};

namespace {

struct FitJob {
  config::TargetConfig config;
  calendar::TimeZone zone;
  std::shared_ptr<const calendar::CalendarSet> calendars;
  forecast::Series history;  ///< ends at the fit's cutoff
  std::int64_t now_unix = 0;
  std::string why;
  std::function<SloOutcome()> tune_slo;  ///< with `slo:`: tunes on the decisions recorded
  bool warm_up_anomaly = false;  ///< the anomaly scales have not learned yet: learn from history
  /// Set when the target is stopped or removed: the fit gives up after the
  /// model it is fitting (nobody will read it; a stopping daemon need not wait).
  const std::atomic<bool>* cancel = nullptr;
};

/// What the anomaly warm-up reads from a fit: the target and history it was
/// fitted with (prepare_history; the values point into the job's history),
/// and how it chose its model.
struct WarmUpInput {
  config::TargetConfig target;
  std::int64_t start_unix = 0;
  std::span<const double> values;
  std::size_t rows = 0;
  forecast::SelectionOptions options;
};

struct FitOutcome {
  std::unique_ptr<FitState> state;
  std::string failure;     ///< why no model, when state is null
  bool too_short = false;  ///< the failure is a history too short to fit or prove a model
  std::int64_t now_unix = 0;
  bool prepared = false;                      ///< the history was prepared (it had a value)
  std::vector<std::int64_t> dropped_seasons;  ///< seasons too long for the history (fit_frame.hpp)
  std::vector<std::string> season_notes;      ///< why, one note per dropped season
  /// Asked for and a model fitted: what the anomaly warm-up needs. It runs
  /// after the fit is delivered, so the first forecast never waits for it.
  std::optional<WarmUpInput> warm_up;
};

// Logs the seasons a fit left out, or uses again, when they differ from
// the last fit's: once per change, not at every refit.
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
  const std::size_t window = static_cast<std::size_t>(t.lead_steps()) + 1;
  state->frame = std::make_unique<FitFrame>(t, job.zone, job.calendars, history->start_unix,
                                            count + window + kLayoutSlack);
  const forecast::FitInput input = state->frame->fit_input(history->values);
  forecast::SelectionOptions options = selection_options(t, window);
  options.cancel = job.cancel;

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
  for (const auto& [name, value] : s.parameters) record.with(name, value);
  log(record);
}

// learn_from_history; null when it fails (logged by it).
std::unique_ptr<AnomalyScorer> run_warm_up(const FitJob& job, const WarmUpInput& input,
                                           const LogFunction& log) {
  return learn_from_history(job.config, job.zone, job.calendars, input.target, input.start_unix,
                            input.values, input.rows, input.options, log);
}

}  // namespace

struct TargetWorker::Mailbox {
  std::mutex mutex;
  bool running = false;
  std::atomic<bool> cancelled{false};  ///< FitJob::cancel
  std::optional<FitOutcome> done;
  std::unique_ptr<AnomalyScorer> warmed;  ///< the anomaly warm-up, once done
};

Expected<std::shared_ptr<const calendar::CalendarSet>> calendars_for(
    const config::TargetConfig& target, const calendar::CalendarSet& all) {
  if (target.calendars.empty()) return std::shared_ptr<const calendar::CalendarSet>();
  std::vector<calendar::CalendarDefinition> definitions;
  std::set<std::string> taken;
  std::vector<std::string> pending = target.calendars;
  while (!pending.empty()) {
    const auto name = pending.back();
    pending.pop_back();
    if (!taken.insert(name).second) continue;
    const auto* found = all.find(name);
    if (!found)
      return make_error(fmt::format("target {}: unknown calendar '{}'", target.metric, name));
    definitions.push_back(found->definition());
    if (!found->definition().business_days_from.empty())
      pending.push_back(found->definition().business_days_from);
  }
  auto built = calendar::CalendarSet::build(std::move(definitions));
  if (!built) return built.error();
  return std::make_shared<const calendar::CalendarSet>(std::move(*built));
}

TargetWorker::TargetWorker(config::TargetConfig config, std::unique_ptr<source::Source> source,
                           std::shared_ptr<const calendar::CalendarSet> calendars, LogFunction log,
                           SloTuner slo_tuner)
    : config_(std::move(config)),
      zone_(zone_of(config_)),
      source_(std::move(source)),
      calendars_(std::move(calendars)),
      log_(std::move(log)),
      anomaly_(config_, zone_, calendars_),
      drift_(config_.step_seconds),
      decisions_(DecisionSettings{config_.decision_change_threshold}),
      slo_tuner_(std::move(slo_tuner)),
      mailbox_(std::make_shared<Mailbox>()) {
  if (config_.slo) recorder_ = std::make_unique<PolicyRecorder>(config_.slo->history_seconds);
}

TargetWorker::~TargetWorker() = default;

void TargetWorker::cancel() {
  cancelled_ = true;
  mailbox_->cancelled = true;
  source_->cancel();
}

void TargetWorker::fetch(std::int64_t end_unix) {
  // Reuse the incremental fetcher on our own series: load the window once,
  // then only the new tail (and re-read the last steps, which land late).
  source::HistoryOptions options;
  options.step_seconds = config_.step_seconds;
  // Beyond the history a fit reads (with `slo:`, the load its decisions
  // faced): a fit's cutoff trails the newest sample by up to one refit
  // interval and the settling steps.
  const auto kept =
      std::max(config_.history_seconds, config_.slo ? config_.slo->history_seconds : 0);
  options.window_seconds =
      kept + config_.refit_interval_seconds + (kRefetchSteps + 1) * config_.step_seconds;
  options.refetch_steps = kRefetchSteps;
  if (!incremental_) incremental_ = std::make_unique<source::IncrementalHistory>(*source_, options);
  // refresh(now) covers the step containing now; ours ends at end_unix (exclusive).
  const auto status = incremental_->refresh(end_unix - config_.step_seconds);
  if (!status) {
    if (fetch_error_ != status.error().message && log_) {
      log_(LogRecord{LogLevel::warning, "fetch failed", {}}
               .with("target", config_.metric)
               .with("source", source_->describe())
               .with("error", status.error().message));
    }
    fetch_error_ = status.error().message;
    return;
  }
  if (!fetch_error_.empty() && log_) {
    log_(LogRecord{LogLevel::info, "fetch recovered", {}}.with("target", config_.metric));
  }
  fetch_error_.clear();
  if (auto newest = incremental_->newest_sample_unix()) {
    last_valid_unix_ = *newest;
    const auto& s = incremental_->series();
    last_valid_value_ =
        s.values[static_cast<std::size_t>((*newest - s.start_unix) / s.step_seconds)];
  }
}

void TargetWorker::follow_samples() {
  if (!fit_ || !incremental_) return;
  const auto& s = incremental_->series();
  auto& state = *fit_;
  const std::size_t window = static_cast<std::size_t>(config_.lead_steps()) + 1;
  while (state.next_unix() < s.end_unix()) {
    const std::int64_t t = state.next_unix();
    const double y = t >= s.start_unix
                         ? s.values[static_cast<std::size_t>((t - s.start_unix) / s.step_seconds)]
                         : forecast::kMissing;
    state.extend(state.model->next_index() + window + 1);
    if (!std::isnan(y)) score_sample(t, y);
    state.model->update(y);
    // Per sample, not per tick: a replica that follows a day at once and one
    // that followed it tick by tick see drift at the same sample.
    drift_.check(state.model->residual_variance());
  }
}

void TargetWorker::score_sample(std::int64_t t, double y) {
  // A model already due for replacement (drift, a new normal) misses by its
  // own fault: following a long stretch at once (a replica's first fit on the
  // schedule's older data), it would teach the scales a volatility the load
  // does not have and hide the next incident.
  anomaly_.tracker().set_learning(!drift_.drifted());
  const auto scored = anomaly_.score(*fit_->model, t, y);
  if (!scored.scored) return;
  // A persistent anomaly is a new normal: refit now.
  if (scored.refit) {
    drift_.request_refit(fmt::format("persistent shift: an anomaly for {} steps",
                                     anomaly_.tracker().state().episode_steps));
  }
  // One-step error of the model in use: a sustained rise means the load
  // changed shape and the fitted parameters no longer describe it.
  drift_.add_error(std::abs(y - scored.one_step_mean));
}

std::int64_t TargetWorker::schedule_cutoff(std::int64_t end_unix, std::int64_t period) const {
  const std::int64_t step = config_.step_seconds;
  period = std::max(period, step);
  // Targets refit at their own phase of the period (the same in every
  // replica), so a thousand targets do not all refit on the hour.
  const auto phase = floor_to(
      static_cast<std::int64_t>(stable_hash(config_.namespace_name + "/" + config_.metric) %
                                static_cast<std::uint64_t>(period)),
      step);
  const std::int64_t settled = end_unix - kRefetchSteps * step;
  return floor_to(floor_to(settled - phase, period) + phase, step);
}

TargetWorker::RefitPlan TargetWorker::refit_due(std::int64_t now_unix) const {
  if (!incremental_ || !incremental_->has_data()) return {};
  const std::int64_t end = floor_to(now_unix, config_.step_seconds);
  const std::int64_t scheduled = schedule_cutoff(end, config_.refit_interval_seconds);
  if (!fit_) {
    // The first fit on the schedule's data, as the replicas running already
    // did; a failed one is retried every few steps (a short history grows).
    if (last_fit_attempt_unix_ == 0) return {"first fit", scheduled};
    const std::int64_t retry =
        std::clamp<std::int64_t>(config_.refit_interval_seconds / 6, config_.step_seconds, 600);
    const std::int64_t cutoff = schedule_cutoff(end, retry);
    if (cutoff > attempted_cutoff_unix_) return {"retry after: " + fit_failure_, cutoff};
    return {};
  }
  if (drift_.drifted()) return {drift_.reason(), end - kRefetchSteps * config_.step_seconds};
  if (scheduled > attempted_cutoff_unix_) return {"scheduled", scheduled};
  return {};
}

void TargetWorker::start_fit(std::int64_t now_unix, const RefitPlan& plan,
                             const FitLauncher& launch) {
  {
    std::lock_guard lock(mailbox_->mutex);
    if (mailbox_->running) return;
    mailbox_->running = true;
  }
  last_fit_attempt_unix_ = now_unix;
  attempted_cutoff_unix_ = plan.cutoff_unix;
  std::function<SloOutcome()> tune_slo;
  if (recorder_) {
    const auto& s = incremental_->series();
    tune_slo = [config = config_, tuner = slo_tuner_, now_unix,
                history = recorder_->history(config_.step_seconds, s.start_unix, s.values),
                in_force = fit_ ? fit_->slo.setting : std::nullopt] {
      return tune_at_refit(config, tuner, &history, now_unix, in_force);
    };
  }
  auto job = std::make_shared<FitJob>(
      FitJob{config_, zone_, calendars_,
             slice(incremental_->series(), plan.cutoff_unix, config_.history_seconds), now_unix,
             plan.why, std::move(tune_slo), !anomaly_warmed_, &mailbox_->cancelled});
  auto mailbox = mailbox_;
  auto log = log_;
  auto work = [job, mailbox, log, launch] {
    FitOutcome outcome;
    try {
      outcome = run_fit(*job);
      if (outcome.state && job->tune_slo) outcome.state->slo = job->tune_slo();
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

bool TargetWorker::adopt_fit() {
  std::optional<FitOutcome> outcome;
  std::unique_ptr<AnomalyScorer> warmed;
  {
    std::lock_guard lock(mailbox_->mutex);
    outcome.swap(mailbox_->done);
    warmed.swap(mailbox_->warmed);
  }
  // The warm-up's scales replace the few samples learned live since the fit.
  if (warmed && !anomaly_warmed_) {
    anomaly_.tracker().adopt_learning(warmed->tracker());
    anomaly_warmed_ = true;
  }
  if (!outcome) return false;
  if (outcome->prepared) {
    log_season_changes(log_, config_.metric, dropped_seasons_, *outcome);
    dropped_seasons_ = outcome->dropped_seasons;
  }
  if (outcome->state) {
    fit_ = std::move(outcome->state);
    fit_failure_.clear();
    fit_failure_too_short_ = false;
    drift_.reset();
    anomaly_.model_changed();
  } else {
    // A failed refit keeps the model in use, if any: it still forecasts.
    fit_failure_ = outcome->failure;
    fit_failure_too_short_ = outcome->too_short;
    ++fit_failures_;
  }
  return true;
}

bool TargetWorker::update_model(std::int64_t now_unix, const FitLauncher& launch) {
  bool adopted = adopt_fit();
  follow_samples();
  if (const auto plan = refit_due(now_unix); !plan.why.empty()) {
    start_fit(now_unix, plan, launch);
    if (!launch) {  // inline: the fit is done, use it at once
      adopted = adopt_fit() || adopted;
      follow_samples();
    }
  }
  return adopted;
}

TargetWorker::Fallback TargetWorker::fallback(std::int64_t now_unix) const {
  const std::int64_t step = config_.step_seconds;
  if (!last_valid_unix_)
    return {fetch_error_.empty() ? "no data yet" : "no data yet: " + fetch_error_, "no_data"};
  if (const std::int64_t age = data_age(now_unix); age > 3 * step) {
    return {fmt::format("data stale: newest sample is {}s old (more than 3 steps){}", age,
                        fetch_error_.empty() ? std::string() : ": " + fetch_error_),
            "data_stale"};
  }
  if (!fit_) {
    if (fit_failure_.empty()) return {"first fit in progress", "fit_pending"};
    return {fit_failure_, fit_failure_too_short_ ? "history_too_short" : "fit_failed"};
  }
  if (!fit_->forced_loses.empty()) return {fit_->forced_loses, "forced_model_loses"};
  return {};  // the model in use may serve
}

std::int64_t TargetWorker::data_age(std::int64_t now_unix) const {
  return last_valid_unix_ ? now_unix - (last_valid_unix_ + config_.step_seconds) : 0;
}

forecast::Forecast TargetWorker::lead_window_forecast(std::int64_t decision_unix,
                                                      const std::string& fallback) {
  forecast::Forecast window_forecast;
  if (!fit_ || !fallback.empty()) return window_forecast;
  const std::int64_t step = config_.step_seconds;
  const std::size_t window = static_cast<std::size_t>(config_.lead_steps()) + 1;
  // Steps from the model's next sample up to the decision time are forecast and dropped.
  const std::int64_t offset_steps =
      std::max<std::int64_t>(0, (decision_unix - fit_->next_unix()) / step);
  const std::size_t horizon = static_cast<std::size_t>(offset_steps) + window;
  fit_->extend(fit_->model->next_index() + horizon + 1);
  const auto full = fit_->model->forecast(horizon);
  if (full.size() == horizon) window_forecast = full.tail(static_cast<std::size_t>(offset_steps));
  return window_forecast;
}

void TargetWorker::log_fallback_change(const std::string& fallback) {
  if (fallback != logged_fallback_ && log_) {
    if (fallback.empty()) {
      log_(LogRecord{LogLevel::info, "forecasting", {}}
               .with("target", config_.metric)
               .with("model", fit_ ? fit_->model_name : std::string()));
    } else {
      log_(LogRecord{LogLevel::warning, "fallback: serving the observed value", {}}
               .with("target", config_.metric)
               .with("reason", fallback));
    }
  }
  logged_fallback_ = fallback;
}

double TargetWorker::quantile_in_force() const {
  return fit_ && fit_->slo.setting ? fit_->slo.setting->quantile : config_.quantile;
}

double TargetWorker::headroom_in_force() const {
  return fit_ && fit_->slo.setting ? fit_->slo.setting->headroom : 1.0;
}

std::string TargetWorker::slo_text() const {
  if (!config_.slo) return {};
  if (!fit_) return "SLO declared: tuning after the first fit and a day of decisions";
  return fit_->slo.text();
}

TargetStatus TargetWorker::make_status(std::int64_t now_unix, const Recommendation& rec,
                                       const Fallback& fallback) const {
  TargetStatus status;
  status.target = config_.metric;
  status.observed = std::isfinite(rec.observed) ? rec.observed : 0;
  status.forecast = std::isfinite(rec.forecast) ? rec.forecast : 0;
  status.served = rec.served;
  status.replicas = rec.replicas;
  status.data_age_seconds = data_age(now_unix);
  status.fallback_reason = rec.fallback_reason;
  // The policy may fall back on its own (a forecast that is not finite).
  status.fallback_kind = rec.fallback_reason.empty() ? std::string()
                         : fallback.reason.empty()   ? std::string("forecast_unusable")
                                                     : fallback.kind;
  status.has_forecast = rec.fallback_reason.empty();
  if (fit_) {
    status.model = fit_->model_name;
    status.parameters = fit_->parameters;
    status.fit_seconds = fit_->fit_seconds;
    status.backtest_mase = fit_->backtest_mase;
    status.last_fit_unix = fit_->fitted_at_unix;
    status.fit_data_end_unix = fit_->data_end_unix;
  }
  const auto& anomaly = anomaly_.tracker().state();
  status.anomaly_score = anomaly.evidence;
  status.anomaly = anomaly.anomaly;
  status.residual_z = anomaly.score;
  status.outside_interval = anomaly.outside;
  status.outside_steps = anomaly.outside_steps;
  status.quantile = quantile_in_force();
  status.headroom = headroom_in_force();
  status.slo = slo_text();
  status.step_seconds = config_.step_seconds;
  status.fit_failures = fit_failures_;
  if (anomaly.sample_unix > 0 && anomaly.one_step_sigma > 0) {
    // The prediction interval the sample was held to: [q_(1-p), q_p] of its one-step forecast.
    const double p = std::max(config_.quantile, 1 - config_.quantile);
    const double half_width =
        p > 0.5 && p < 1 ? forecast::normal_quantile(p) * anomaly.one_step_sigma : 0;
    status.interval_lower = anomaly.one_step_mean - half_width;
    status.interval_upper = anomaly.one_step_mean + half_width;
  }
  return status;
}

DecisionInputs TargetWorker::make_decision_inputs(std::int64_t now_unix,
                                                  const TargetReport& report) const {
  const auto& rec = report.recommendation;
  DecisionInputs decision;
  decision.now_unix = now_unix;
  decision.config = &config_;
  decision.calendars = calendars_.get();
  decision.zone = &zone_;
  decision.observed = rec.observed;
  decision.forecast = rec.forecast;
  decision.served = rec.served;
  decision.servable = rec.servable;
  decision.replicas = rec.replicas;
  decision.fallback_reason = rec.fallback_reason;
  decision.quantile = quantile_in_force();
  decision.headroom = rec.headroom;
  decision.slo = slo_text();
  decision.step_seconds = config_.step_seconds;
  const std::size_t window = static_cast<std::size_t>(config_.lead_steps()) + 1;
  if (rec.fallback_reason.empty())
    for (std::size_t h = 0; h < window && h < report.forecast_window.size(); ++h)
      decision.window_quantiles.push_back(report.forecast_window.quantile(h, *decision.quantile));
  if (fit_) {
    decision.model = fit_->model_name;
    decision.parameters = fit_->parameters;
    decision.backtest_mase = fit_->backtest_mase;
    decision.fitted_at_unix = fit_->fitted_at_unix;
    decision.data_start_unix = fit_->data_start_unix;
    decision.data_end_unix = fit_->data_end_unix;
    decision.fit_identity = fit_.get();  // a new fit is a new object while the old one is alive
    decision.fit_why = fit_->why;
    decision.event_choice = fit_->event_choice;
  }
  decision.anomaly = anomaly_.tracker().state();
  return decision;
}

std::vector<MetricValue> TargetWorker::make_metrics(std::int64_t now_unix,
                                                    const Recommendation& rec,
                                                    bool forecasting) const {
  std::vector<MetricValue> metrics;
  if (!rec.servable) return metrics;
  MetricValue value;
  value.metric = config_.metric;
  value.namespace_name = config_.namespace_name;
  value.labels = config_.labels;
  value.value = rec.served;
  value.timestamp_unix = now_unix;
  value.window_seconds = config_.step_seconds;
  value.target = config_.metric;
  metrics.push_back(value);
  if (rec.replicas) {
    value.metric = config_.replicas_metric();
    value.value = *rec.replicas;
    metrics.push_back(value);
  }
  if (config_.anomaly_external_metric) {
    value.metric = config_.anomaly_metric();
    value.value = served_anomaly_score(anomaly_.tracker().state(), forecasting);
    metrics.push_back(value);
  }
  return metrics;
}

// One step of a target: new samples in, then status -> decision inputs -> metrics out.
TargetReport TargetWorker::tick(std::int64_t now_unix, const FitLauncher& launch) {
  const std::int64_t end = floor_to(now_unix, config_.step_seconds);  // samples t < end are in
  if (cancelled_) return {};
  fetch(end);
  if (cancelled_) return {};  // removed meanwhile: no fit, no report

  TargetReport report;
  report.fit_adopted = update_model(now_unix, launch);
  const Fallback fallback = this->fallback(now_unix);
  // The forecast from the decision time t = end: steps [t, t + lead].
  report.forecast_window = lead_window_forecast(end, fallback.reason);

  PolicyInput input;
  input.observed = last_valid_unix_ ? last_valid_value_ : std::nan("");
  // An empty fallback reason means a model is in use and may serve (fallback()).
  input.forecast = fallback.reason.empty() ? &report.forecast_window : nullptr;
  input.window_steps = static_cast<std::size_t>(config_.lead_steps()) + 1;
  input.quantile = quantile_in_force();
  input.headroom = headroom_in_force();
  input.capacity_per_replica = config_.capacity_per_replica;
  input.min_replicas = config_.min_replicas;
  input.max_replicas = config_.max_replicas;
  input.fallback_reason = fallback.reason;
  report.recommendation = recommend(input);
  log_fallback_change(report.recommendation.fallback_reason);
  if (recorder_) {
    // What this decision read, for the next refit's SLO tuning.
    recorder_->add(PolicyReading{end, input.observed,
                                 input.forecast ? report.forecast_window : forecast::Forecast{},
                                 report.recommendation.servable});
  }

  report.status = make_status(now_unix, report.recommendation, fallback);
  report.decisions = decisions_.decide(make_decision_inputs(now_unix, report));
  report.metrics = make_metrics(now_unix, report.recommendation, report.status.has_forecast);
  return report;
}

}  // namespace prescale::autoscaler
