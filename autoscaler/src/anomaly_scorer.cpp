#include "prescale/autoscaler/anomaly_scorer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>

#include "prescale/autoscaler/fit_frame.hpp"

namespace prescale::autoscaler {

namespace {

// After an event ends, the model catches up: its residuals stay the event's
// for this long.
constexpr std::int64_t kEventTailSeconds = 30 * 60;
// An event's first and last minutes (with the tail) are judged apart from its
// middle: the forecast rises late at its start, holds in the middle, and
// falls late at its end, each with its own spread and bias.
constexpr std::int64_t kEventStartSeconds = 30 * 60;
constexpr std::int64_t kEventEndSeconds = 15 * 60;
// Occurrences are looked up for windows of this length, not per sample.
constexpr std::int64_t kEventCacheSeconds = 6 * 3600;
// A probe follows a forecast this many steps, once every kProbeEverySteps.
constexpr std::int64_t kProbeSteps = 10;
constexpr std::int64_t kProbeEverySteps = 60;
// A reference older than this is replaced by the model of the moment.
constexpr std::int64_t kReferenceMaxSeconds = 86400;

// "payroll.payroll-end (start)": the key of the event's phase at `t`.
std::string event_phase(const calendar::Occurrence& o, std::int64_t t) {
  const char* phase = t >= o.end_unix - kEventEndSeconds      ? " (end)"
                      : t < o.start_unix + kEventStartSeconds ? " (start)"
                                                              : " (middle)";
  return o.qualified_name() + phase;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

AnomalyScorer::AnomalyScorer(const config::TargetConfig& config, calendar::TimeZone zone,
                             std::shared_ptr<const calendar::CalendarSet> calendars)
    : step_seconds_(std::max<std::int64_t>(config.step_seconds, 1)),
      named_(config.calendars),
      zone_(std::move(zone)),
      calendars_(std::move(calendars)),
      layout_(AnomalySlotLayout::for_target(config.step_seconds, config.seasonality_seconds)),
      tracker_(AnomalySettings{config.anomaly_steps, config.shift_steps}, config.step_seconds,
               config.quantile, layout_) {
  for (const std::int64_t season : config.seasonality_seconds)
    if (season > 0 && season % step_seconds_ == 0)
      season_seconds_ = std::max(season_seconds_, season);
  if (calendars_) {
    for (const auto& name : named_) {
      const auto* found = calendars_->find(name);
      if (found && !found->holiday_days().empty()) {
        business_ = found;
        break;
      }
    }
  }
}

AnomalyDayType AnomalyScorer::day_type(calendar::CivilDate local_date) const {
  const auto day = calendar::weekday_of(local_date);
  const bool business =
      business_ ? business_->is_business_day(local_date)
                : day != calendar::Weekday::saturday && day != calendar::Weekday::sunday;
  if (business) return AnomalyDayType::business;
  return day == calendar::Weekday::saturday ? AnomalyDayType::saturday : AnomalyDayType::rest;
}

std::string AnomalyScorer::event_at(std::int64_t t) {
  if (!calendars_ || named_.empty()) return {};
  if (t < events_from_ || t >= events_to_) {
    events_from_ = t;
    events_to_ = t + kEventCacheSeconds;
    events_.clear();
    for (auto& o : calendars_->occurrences(events_from_ - kEventTailSeconds, events_to_))
      if (o.kind == calendar::Occurrence::Kind::event &&
          std::find(named_.begin(), named_.end(), o.calendar) != named_.end())
        events_.push_back(std::move(o));
  }
  for (const auto& o : events_)
    if (o.start_unix <= t && t < o.end_unix + kEventTailSeconds) return event_phase(o, t);
  // A holiday of a named calendar on a weekday: the day's rhythm is not a business day's.
  for (const auto& name : named_) {
    const auto* c = calendars_->find(name);
    if (!c || c->holiday_days().empty()) continue;
    const auto date = c->local_date(t);
    const auto day = calendar::weekday_of(date);
    if (day != calendar::Weekday::saturday && day != calendar::Weekday::sunday &&
        c->is_holiday(date))
      return name + ".holiday";
  }
  return {};
}

std::int64_t AnomalyScorer::to_local(std::int64_t t) const {
  auto& span = lookups_.span;
  if (t < span.begin_unix || t >= span.end_unix) span = zone_.offset_span(t);
  return t + span.offset;
}

AnomalySlot AnomalyScorer::slot_of(std::int64_t unix_seconds) {
  const std::int64_t local = to_local(unix_seconds);
  const std::int64_t day = floor_div(local, 86400);
  AnomalySlot slot;
  slot.index = layout_.index(local - day * 86400, day_type(calendar::civil_from_days(day)));
  slot.event = event_at(unix_seconds);
  return slot;
}

void AnomalyScorer::model_changed() {
  reference_ = {};
  probe_ = {};
}

std::int64_t AnomalyScorer::comparable_time(std::int64_t t) const {
  if (layout_.day_types < 3) return season_seconds_ > 0 ? t - season_seconds_ : 0;
  // Like with like: a holiday looks like a Sunday, not like last week's
  // business day, and local time keeps a DST week comparable.
  // Samples come in order: the day's answer is worked out once per local day.
  const std::int64_t local = to_local(t);
  const std::int64_t day = floor_div(local, 86400);
  auto& cached = lookups_;
  if (day != cached.day) {
    const AnomalyDayType type = day_type(calendar::civil_from_days(day));
    std::int64_t back = 1;
    while (back < 7 && day_type(calendar::civil_from_days(day - back)) != type) ++back;
    cached.day = day;
    cached.back = back;
    // Local time on that day converts back by one subtraction when a single
    // UTC offset holds from two days before it to its end: no gap, no
    // repeated hour, and no earlier instant with that wall-clock time (UTC
    // offsets differ by less than two days). Else to_utc, time by time.
    const std::int64_t midnight = (day - back) * 86400;
    const auto there = zone_.offset_span(zone_.to_utc(midnight));
    const bool whole_day = there.begin_unix <= midnight - there.offset - 2 * 86400 &&
                           midnight + 86400 - there.offset <= there.end_unix;
    cached.whole_day_offset = whole_day ? std::optional<std::int64_t>(there.offset) : std::nullopt;
  }
  const std::int64_t then = local - cached.back * 86400;
  return cached.whole_day_offset ? then - *cached.whole_day_offset : zone_.to_utc(then);
}

ScoredSample AnomalyScorer::score(const forecast::FittedModel& model, std::int64_t t,
                                  double observed, double comparable) {
  ScoredSample out;
  const auto lag =
      static_cast<std::size_t>(std::max<std::int64_t>(tracker_.settings().anomaly_steps, 1));
  const auto path = model.forecast(lag);
  if (path.size() != lag || !std::isfinite(path.mean[0])) return out;
  out.one_step_mean = path.mean[0];
  // Keep this sample's forecasts for the next lag - 1 samples, gap or not.
  paths_.push_back(Path{t, path.mean});
  while (paths_.size() > lag ||
         (!paths_.empty() &&
          paths_.front().origin_unix + static_cast<std::int64_t>(lag) * step_seconds_ <= t))
    paths_.erase(paths_.begin());
  if (!std::isfinite(observed)) return out;
  out.scored = true;

  AnomalySample sample;
  sample.sample_unix = t;
  sample.observed = observed;
  sample.one_step_mean = path.mean[0];
  sample.one_step_sigma = path.sigma[0];
  sample.comparable = comparable;
  sample.slot = slot_of(t);
  // The oldest kept forecast of this sample: lag steps ahead when the model
  // has been following that long.
  sample.lagged_mean = path.mean[0];
  for (const auto& p : paths_) {
    const std::int64_t ahead = (t - p.origin_unix) / step_seconds_;
    if (ahead >= 0 && static_cast<std::size_t>(ahead) < p.mean.size() &&
        std::isfinite(p.mean[static_cast<std::size_t>(ahead)])) {
      sample.lagged_mean = p.mean[static_cast<std::size_t>(ahead)];
      sample.lagged_steps = ahead + 1;
      break;
    }
  }
  // During a run of large residuals: the forecast made before it began.
  if (tracker_.excursion_start_unix() != 0 && reference_.model &&
      t - reference_.start_unix <= kReferenceMaxSeconds) {
    const auto ahead = static_cast<std::size_t>((t - reference_.start_unix) / step_seconds_) + 1;
    const auto reference = reference_.model->forecast(ahead);
    if (reference.size() == ahead && std::isfinite(reference.mean.back())) {
      sample.reference_mean = reference.mean.back();
      sample.reference_steps = static_cast<std::int64_t>(ahead);
    }
  }
  // A probe: how a forecast a few steps old misses, on ordinary load.
  if (probe_.model) {
    const std::int64_t ahead = (t - probe_.start_unix) / step_seconds_ + 1;
    if (ahead >= 1 && ahead <= kProbeSteps) {
      const auto probed = probe_.model->forecast(static_cast<std::size_t>(ahead));
      if (probed.size() == static_cast<std::size_t>(ahead) && std::isfinite(probed.mean.back()))
        tracker_.learn_horizon(ahead, observed - probed.mean.back(), sample.slot,
                               sample.one_step_sigma);
    }
    if (ahead >= kProbeSteps || ahead < 1) probe_ = {};
  }

  out.refit = tracker_.observe(sample);

  // The models kept are copies from before they learn this sample.
  if (tracker_.excursion_start_unix() == 0) {
    reference_ = {};
  } else if (!reference_.model || t - reference_.start_unix > kReferenceMaxSeconds) {
    reference_ = Kept{model.clone(), t};
  }
  if (!probe_.model && t >= next_probe_unix_ && tracker_.excursion_start_unix() == 0) {
    probe_ = Kept{model.clone(), t};
    next_probe_unix_ = t + kProbeEverySteps * step_seconds_;
    tracker_.learn_horizon(1, observed - sample.one_step_mean, sample.slot, sample.one_step_sigma);
  }
  return out;
}

namespace {

std::unique_ptr<AnomalyScorer> learn(const config::TargetConfig& config,
                                     const calendar::TimeZone& zone,
                                     const std::shared_ptr<const calendar::CalendarSet>& calendars,
                                     const config::TargetConfig& fitted, std::int64_t start_unix,
                                     std::span<const double> values, std::size_t rows,
                                     forecast::SelectionOptions options) {
  const auto per_day =
      static_cast<std::size_t>(86400 / std::max<std::int64_t>(config.step_seconds, 1));
  const std::size_t held = std::min(7 * per_day, values.size() / 4);
  if (held < per_day || held == 0) return nullptr;
  // Its own frame: the target's grows in the worker while this runs.
  const FitFrame frame(fitted, zone, calendars, start_unix, rows);
  const forecast::FitInput input = frame.fit_input(values.first(values.size() - held));
  options.calibrate = false;  // only its residuals are read
  auto selection = forecast::select_and_fit(input, options);
  if (selection.status != forecast::FitStatus::ok || !selection.fitted) return nullptr;
  auto scorer = std::make_unique<AnomalyScorer>(config, zone, calendars);
  auto& model = *selection.fitted;
  const std::int64_t step = frame.step_seconds();
  for (std::size_t i = values.size() - held; i < values.size(); ++i) {
    const std::int64_t t = start_unix + static_cast<std::int64_t>(i) * step;
    const std::int64_t then = scorer->comparable_time(t);
    const double comparable = then >= start_unix && then < t
                                  ? values[static_cast<std::size_t>((then - start_unix) / step)]
                                  : std::numeric_limits<double>::quiet_NaN();
    (void)scorer->score(model, t, values[i], comparable);
    model.update(values[i]);
  }
  return scorer;
}

}  // namespace

std::unique_ptr<AnomalyScorer> learn_from_history(
    const config::TargetConfig& config, const calendar::TimeZone& zone,
    const std::shared_ptr<const calendar::CalendarSet>& calendars,
    const config::TargetConfig& fitted, std::int64_t start_unix, std::span<const double> values,
    std::size_t rows, forecast::SelectionOptions options, const LogFunction& log) {
  std::unique_ptr<AnomalyScorer> scorer;
  const auto started = std::chrono::steady_clock::now();
  try {
    scorer = learn(config, zone, calendars, fitted, start_unix, values, rows, options);
  } catch (const std::exception&) {
    // Out of memory, most likely: the scales learn from live samples instead.
  }
  if (log && scorer)
    log(LogRecord{LogLevel::info, "anomaly scales learned from history", {}}
            .with("target", config.metric)
            .with("samples", scorer->tracker().learned_samples())
            .with(
                "seconds",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()));
  return scorer;
}

}  // namespace prescale::autoscaler
