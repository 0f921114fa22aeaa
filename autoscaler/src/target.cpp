#include "prescale/autoscaler/target.hpp"

#include "prescale/autoscaler/event_history.hpp"

#include <fmt/core.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string_view>

#include "fit_job.hpp"
#include "prescale/calendar/regressors.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/source/incremental_history.hpp"

namespace prescale::autoscaler {

namespace {

calendar::TimeZone zone_of(const config::TargetConfig& config) {
  auto zone = calendar::TimeZone::find(config.timezone);
  return zone ? *zone : calendar::TimeZone::utc();
}

// The most the observed rise carries the load over one lead window (EventRamp::rise).
constexpr double kMostCarried = 2.0;

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
                           SloTuner slo_tuner, std::unique_ptr<source::Source> event_source,
                           std::unique_ptr<source::Source> served_source)
    : config_(std::move(config)),
      zone_(zone_of(config_)),
      source_(std::move(source)),
      calendars_(std::move(calendars)),
      log_(std::move(log)),
      anomaly_(config_, zone_, calendars_),
      drift_(config_.step_seconds),
      decisions_(DecisionSettings{config_.decision_change_threshold}),
      slo_tuner_(std::move(slo_tuner)),
      mailbox_(std::make_shared<FitMailbox>()) {
  if (config_.slo) recorder_ = std::make_unique<PolicyRecorder>(config_.slo->history_seconds);
  if (event_source && calendars_ && uses_event_history(config_)) {
    event_history_ = std::make_shared<EventHistoryFetch>();
    event_history_->source = std::move(event_source);
  }
  served_source_ = std::move(served_source);  // made by the engine for slo.servedQuery only
}

TargetWorker::~TargetWorker() = default;

void TargetWorker::cancel() {
  cancelled_ = true;
  mailbox_->cancelled = true;
  source_->cancel();
  if (event_history_) event_history_->source->cancel();
  if (served_source_) served_source_->cancel();
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
  const std::size_t window = lead_window_steps(config_);
  auto value_at = [&s](std::int64_t t) {
    return t >= s.start_unix && t < s.end_unix()
               ? s.values[static_cast<std::size_t>((t - s.start_unix) / s.step_seconds)]
               : forecast::kMissing;
  };
  while (state.next_unix() < s.end_unix()) {
    const std::int64_t t = state.next_unix();
    const double y = value_at(t);
    state.extend(state.model->next_index() + window + 1);
    if (!std::isnan(y)) {
      const std::int64_t then = anomaly_.comparable_time(t);
      score_sample(t, y, then > 0 ? value_at(then) : forecast::kMissing);
    }
    state.model->update(y);
    // Per sample, not per tick: a replica that follows a day at once and one
    // that followed it tick by tick see drift at the same sample.
    drift_.check(state.model->residual_variance());
  }
}

void TargetWorker::score_sample(std::int64_t t, double y, double comparable) {
  // A model already due for replacement (drift, a new normal) misses by its
  // own fault: following a long stretch at once (a replica's first fit on the
  // schedule's older data), it would teach the scales a volatility the load
  // does not have and hide the next incident.
  anomaly_.tracker().set_learning(!drift_.drifted());
  const auto scored = anomaly_.score(*fit_->model, t, y, comparable);
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
  std::function<SloOutcome(const std::vector<PolicyReading>&)> tune_slo;
  if (recorder_) {
    // Copies, as the tick records on meanwhile: the recorder's shares its
    // full blocks of decisions (a pointer each, BlockDeque); the samples the
    // decisions' load is read from are 8 bytes a step.
    const auto& s = incremental_->series();
    tune_slo = [config = config_, tuner = slo_tuner_, now_unix, recorder = *recorder_,
                start = s.start_unix, values = s.values, calendars = calendars_,
                in_force = fit_ ? fit_->slo.setting
                                : std::nullopt](const std::vector<PolicyReading>& seed) mutable {
      recorder.seed(seed);
      auto history = recorder.history(config.step_seconds, start, values);
      history.calendars = calendars;
      return tune_at_refit(config, tuner, &history, now_unix, in_force);
    };
  }
  auto job = std::make_shared<FitJob>(
      FitJob{config_, zone_, calendars_,
             slice(incremental_->series(), plan.cutoff_unix, config_.history_seconds), now_unix,
             plan.why, std::move(tune_slo), recorder_ && !fit_, !anomaly_warmed_,
             &mailbox_->cancelled, nullptr, event_history_, served_source_});
  launch_fit_job(std::move(job), mailbox_, log_, launch);
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
    if (recorder_) recorder_->seed(fit_->slo_seed);
    fit_->slo_seed = {};
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
  const std::size_t window = lead_window_steps(config_);
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

EventRamp TargetWorker::event_ramp(std::int64_t decision_unix) {
  EventRamp out;
  if (!calendars_ || calendars_->empty()) return out;
  const std::int64_t lead = config_.lead_time_seconds;
  // The latest-starting event the lead window has reached and that is not over.
  std::optional<calendar::Occurrence> reached;
  for (auto& o : named_occurrences(*calendars_, config_, decision_unix, decision_unix + lead + 1))
    if (o.kind == calendar::Occurrence::Kind::event && o.start_unix <= decision_unix + lead &&
        (!reached || o.start_unix > reached->start_unix))
      reached = std::move(o);
  if (!reached) {
    event_hold_.reset();
    return out;
  }
  out.event = reached->qualified_name();
  out.description = reached->describe();
  if (!event_hold_ || event_hold_->event != out.event ||
      event_hold_->start_unix != reached->start_unix)
    event_hold_ = EventHold{out.event, reached->start_unix};
  auto& hold = *event_hold_;
  if (last_valid_unix_ && hold.level > 0 && last_valid_value_ >= hold.level) hold.lapsed = true;
  if (!hold.lapsed && hold.level > 0) out.hold = hold.level;
  if (reached->contains(decision_unix)) out.rise = observed_rise(decision_unix);
  return out;
}

double TargetWorker::observed_rise(std::int64_t decision_unix) const {
  if (!incremental_ || !last_valid_unix_ || !(last_valid_value_ > 0)) return std::nan("");
  const std::int64_t step = config_.step_seconds;
  const std::int64_t lead = config_.lead_time_seconds;
  const std::int64_t span = std::max<std::int64_t>(1, (lead + step / 2) / step) * step;
  const auto& s = incremental_->series();
  const std::int64_t then = last_valid_unix_ - span;
  if (then < s.start_unix || then >= s.end_unix()) return std::nan("");
  const double earlier = s.values[static_cast<std::size_t>((then - s.start_unix) / step)];
  if (!(earlier > 0)) return std::nan("");
  // From the newest sample to the end of the lead window, as the forecast spans it. At most a
  // doubling: a step (a month-end batch arriving within one or two samples) read as a rate
  // would otherwise be carried several-fold (x4.3, 49 replicas for a load of 1349 on a
  // generated month-end); the steepest payroll ramps we replay carry x1.85.
  const std::int64_t ahead = decision_unix + lead - last_valid_unix_;
  return std::min(kMostCarried, std::pow(last_valid_value_ / earlier,
                                         static_cast<double>(ahead) / static_cast<double>(span)));
}

void TargetWorker::note_event_served(std::int64_t decision_unix, const Recommendation& rec) {
  if (!event_hold_ || decision_unix > event_hold_->start_unix || !rec.fallback_reason.empty())
    return;
  const double value = rec.served / std::max(1.0, rec.headroom);
  if (std::isfinite(value)) event_hold_->level = std::max(event_hold_->level, value);
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
  status.quantile = rec.quantile;
  status.headroom = rec.headroom;
  status.interval_quantile = std::max(config_.quantile, 1 - config_.quantile);
  status.slo = slo_text();
  if (fit_ && fit_->slo.setting) status.slo_figures = fit_->slo.setting->figures;
  status.step_seconds = config_.step_seconds;
  status.fit_failures = fit_failures_;
  if (anomaly.sample_unix > 0 && anomaly.one_step_sigma > 0) {
    // The prediction interval the sample was held to: [q_(1-p), q_p] of its one-step forecast.
    const double p = status.interval_quantile;
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
  decision.quantile = rec.quantile;
  decision.headroom = rec.headroom;
  decision.risk = rec.forecast_scale;
  decision.slo = slo_text();
  decision.step_seconds = config_.step_seconds;
  const std::size_t window = lead_window_steps(config_);
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
    decision.decision_loss = fit_->decision_loss;
  }
  decision.anomaly = anomaly_.tracker().state();
  decision.event_floor = rec.event_floor;
  decision.event = rec.event.event;
  decision.event_description = rec.event.description;
  decision.event_rise = rec.event.rise;
  decision.unramped = rec.unramped;
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
  input.window_steps = lead_window_steps(config_);
  input.quantile = quantile_in_force();
  input.headroom = headroom_in_force();
  if (fit_ && fit_->slo.setting) {
    // A tuned setting may serve its quiet hours another quantile and headroom.
    const auto applied = fit_->slo.setting->for_decision(end, zone_, calendars_.get());
    input.quantile = applied.quantile;
    input.headroom = applied.headroom;
    input.forecast_scale = applied.forecast_scale;
  }
  input.capacity_per_replica = config_.capacity_per_replica;
  input.min_replicas = config_.min_replicas;
  input.max_replicas = config_.max_replicas;
  input.fallback_reason = fallback.reason;
  input.event = event_ramp(end);
  report.recommendation = recommend(input);
  note_event_served(end, report.recommendation);
  log_fallback_change(report.recommendation.fallback_reason);
  if (recorder_) {
    // What this decision read, for the next refit's SLO tuning.
    const double reactive_target =
        fit_ && fit_->slo.setting && fit_->slo.setting->reactive_hpa_target > 0
            ? fit_->slo.setting->reactive_hpa_target
            : std::nan("");
    recorder_->add(PolicyReading{
        end, input.observed, input.forecast ? report.forecast_window : forecast::Forecast{},
        report.recommendation.servable, report.recommendation.served, reactive_target});
  }

  report.status = make_status(now_unix, report.recommendation, fallback);
  report.decisions = decisions_.decide(make_decision_inputs(now_unix, report));
  report.metrics = make_metrics(now_unix, report.recommendation, report.status.has_forecast);
  return report;
}

}  // namespace prescale::autoscaler
