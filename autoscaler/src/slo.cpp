#include "prescale/autoscaler/slo.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "prescale/autoscaler/fit_frame.hpp"
#include "prescale/forecast/selection.hpp"

namespace prescale::autoscaler {

std::int64_t SloHistory::recorded_seconds() const {
  return static_cast<std::int64_t>(std::count(decided.begin(), decided.end(), true)) * step_seconds;
}

void PolicyRecorder::add(PolicyReading reading) {
  // The engine ticks a target again at the same step when a fit lands: the
  // later reading replaces the earlier. A clock step back: start again
  // rather than mix two pasts.
  if (!readings_.empty() && reading.time_unix == readings_.back().time_unix) readings_.pop_back();
  if (!readings_.empty() && reading.time_unix < readings_.back().time_unix) readings_.clear();
  const std::int64_t oldest = reading.time_unix - history_seconds_;
  readings_.push_back(std::move(reading));
  while (!readings_.empty() && readings_.front().time_unix < oldest) readings_.pop_front();
}

void PolicyRecorder::seed(const std::vector<PolicyReading>& older) {
  const std::int64_t newest =
      readings_.empty() ? std::numeric_limits<std::int64_t>::max() : readings_.front().time_unix;
  const std::int64_t oldest = (readings_.empty() ? (older.empty() ? 0 : older.back().time_unix)
                                                 : readings_.back().time_unix) -
                              history_seconds_;
  std::int64_t before = newest;
  std::vector<PolicyReading> taken;  // newest first
  for (auto r = older.rbegin(); r != older.rend(); ++r) {
    if (r->time_unix >= before) continue;
    if (r->time_unix < oldest) break;
    taken.push_back(*r);
    before = r->time_unix;
  }
  std::reverse(taken.begin(), taken.end());
  readings_.prepend(std::move(taken));
}

SloHistory PolicyRecorder::history(std::int64_t step_seconds, std::int64_t series_start_unix,
                                   const std::vector<double>& series_values) const {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  SloHistory out;
  out.step_seconds = step_seconds;
  if (readings_.empty() || step_seconds <= 0) return out;
  const std::int64_t series_end =
      series_start_unix + static_cast<std::int64_t>(series_values.size()) * step_seconds;
  out.start_unix = readings_.front().time_unix;
  // The last decision whose own step has a sample: the load it faced is known.
  std::int64_t last = out.start_unix - step_seconds;
  for (const auto& r : readings_)
    if (r.time_unix < series_end) last = std::max(last, r.time_unix);
  if (last < out.start_unix) return out;
  const auto count = static_cast<std::size_t>((last - out.start_unix) / step_seconds + 1);
  out.demand.assign(count, kNaN);
  out.observed.assign(count, kNaN);
  out.windows.assign(count, forecast::Forecast{});
  out.decided.assign(count, false);
  out.served.assign(count, kNaN);
  out.reactive_targets.assign(count, kNaN);
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t t = out.start_unix + static_cast<std::int64_t>(i) * step_seconds;
    if (t >= series_start_unix && t < series_end)
      out.demand[i] =
          series_values[static_cast<std::size_t>((t - series_start_unix) / step_seconds)];
  }
  for (const auto& r : readings_) {
    if (r.time_unix > last || (r.time_unix - out.start_unix) % step_seconds != 0) continue;
    const auto i = static_cast<std::size_t>((r.time_unix - out.start_unix) / step_seconds);
    out.observed[i] = r.observed;
    out.windows[i] = r.window;
    out.decided[i] = r.servable;
    out.served[i] = r.servable ? r.served : kNaN;
    out.reactive_targets[i] = r.reactive_target;
  }
  return out;
}

namespace {

// A model chosen and fitted as the target's fits are, on history.values[0,
// end), with its frame and prepared history (the model points into both)
// sized to forecast up to `rows_after` samples past it.
struct SeedFit {
  std::unique_ptr<forecast::Series> earlier;
  std::unique_ptr<PreparedHistory> prepared;
  std::unique_ptr<FitFrame> frame;
  std::unique_ptr<forecast::FittedModel> model;
  std::size_t window = 1;  ///< the lead window a decision reads: lead steps + 1
  std::string error;
};

// The seed replay refits no more often than this (seed_readings).
constexpr std::int64_t kSeedRefitSeconds = 7 * 86400;

SeedFit seed_fit(const config::TargetConfig& target, const calendar::TimeZone& zone,
                 const std::shared_ptr<const calendar::CalendarSet>& calendars,
                 const forecast::Series& history, std::size_t end, std::size_t rows_after,
                 const std::atomic<bool>* cancel) {
  SeedFit out;
  const std::int64_t step = history.step_seconds;
  out.earlier = std::make_unique<forecast::Series>(forecast::Series{
      history.start_unix, step,
      std::vector<double>(history.values.begin(),
                          history.values.begin() + static_cast<std::ptrdiff_t>(end))});
  auto prepared = prepare_history(target, *out.earlier);
  if (!prepared) {
    out.error = prepared.error().message;
    return out;
  }
  // The prepared values point into `earlier`, the model into both and the frame.
  out.prepared = std::make_unique<PreparedHistory>(std::move(*prepared));
  const auto& t = out.prepared->target;
  const std::size_t window = lead_window_steps(t);
  out.window = window;
  const std::size_t fitted = out.prepared->values.size();
  out.frame = std::make_unique<FitFrame>(t, zone, calendars, out.prepared->start_unix,
                                         fitted + rows_after + window + 1);
  auto options = selection_options(t, window);
  options.cancel = cancel;
  auto selection = forecast::select_and_fit(out.frame->fit_input(out.prepared->values), options);
  if (selection.status != forecast::FitStatus::ok || !selection.fitted) {
    out.error = fmt::format("the fit on the {:.1f} days before them failed ({})",
                            static_cast<double>(fitted) * static_cast<double>(step) / 86400,
                            selection.reason);
    return out;
  }
  out.model = std::move(selection.fitted);
  return out;
}

}  // namespace

SeedReadings seed_readings(const config::TargetConfig& target, const calendar::TimeZone& zone,
                           std::shared_ptr<const calendar::CalendarSet> calendars,
                           const forecast::Series& history, const std::atomic<bool>* cancel) {
  SeedReadings out;
  if (!target.slo || history.empty()) return out;
  const std::int64_t step = history.step_seconds;
  const std::size_t days_steps = static_cast<std::size_t>(std::min<std::int64_t>(
      target.slo->history_seconds / step, static_cast<std::int64_t>(history.size() * 2 / 3)));
  const std::size_t before = history.size() - days_steps;
  // Refitted as the target refits, on all the history before the decision:
  // one model followed over weeks forecasts worse than the target's own
  // refits will, so every setting would look worse than it will be and the
  // first tuning would start too cautious. At the target's refit interval,
  // but at most once a week of replayed decisions: each refit costs a whole
  // fit, and the target serves no forecast until the replay is done (at the
  // default hourly refit 35 days would be 840 fits); a week holds a whole
  // cycle of every season a target fits, so each refit has seen a new one.
  const std::int64_t every_seconds = std::max(target.refit_interval_seconds, kSeedRefitSeconds);
  const std::size_t refit_steps =
      static_cast<std::size_t>(std::max<std::int64_t>(1, every_seconds / step));
  out.refit_seconds = static_cast<std::int64_t>(refit_steps) * step;
  SeedFit fit;
  double observed = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < before; ++i)
    if (!std::isnan(history.values[i])) observed = history.values[i];
  out.readings.reserve(days_steps);
  for (std::size_t i = before; i < history.size(); ++i) {
    if ((i - before) % refit_steps == 0) {
      SeedFit next = seed_fit(target, zone, calendars, history, i, history.size() - i, cancel);
      if (cancel && cancel->load()) return SeedReadings{{}, "no decisions replayed: cancelled"};
      if (next.model) {
        fit = std::move(next);  // fitted on every sample before i
        ++out.fits;
      } else if (i == before) {
        out.note = "no decisions replayed from history: " + next.error;
        return out;
      }  // else the model fitted before follows on, as a target keeps it when a refit fails
    }
    // The decision at t reads the newest valid sample before t and the
    // forecast of [t, t + lead] from a model that has followed every sample
    // before t, as a target's tick does (target.cpp, lead_window_forecast).
    const std::int64_t time = history.time_at(i);
    const std::size_t window = fit.window;
    auto forecast = fit.model->forecast(window);
    out.readings.push_back(PolicyReading{
        time, observed, forecast.size() == window ? std::move(forecast) : forecast::Forecast{},
        true});
    fit.model->update(history.values[i]);
    if (!std::isnan(history.values[i])) observed = history.values[i];
  }
  return out;
}

std::string SeedReadings::summary(std::int64_t step_seconds) const {
  if (readings.empty()) return {};
  auto words = fmt::format(
      "with {:.1f} days of decisions replayed from history: a model fitted on the history before "
      "them",
      static_cast<double>(readings.size()) * static_cast<double>(step_seconds) / 86400);
  if (fits > 1)
    words += fmt::format(", refitted every {:g} days ({} fits)",
                         static_cast<double>(refit_seconds) / 86400, fits);
  return words;
}

double decision_level(double observed, const forecast::Forecast* window, std::size_t window_steps) {
  double level = std::isfinite(observed) ? observed : std::numeric_limits<double>::quiet_NaN();
  if (window == nullptr || window->size() < window_steps) return level;
  for (std::size_t h = 0; h < window_steps; ++h) {
    const double median = window->quantile(h, 0.5);
    if (std::isfinite(median) && !(median <= level)) level = median;
  }
  return level;
}

std::size_t hour_of_week(std::int64_t time_unix, const calendar::TimeZone& zone) {
  // 1970-01-01 was a Thursday: 3 days after a Monday.
  time_unix = zone.to_local(time_unix);
  const std::int64_t hours = time_unix / 3600 - (time_unix % 3600 < 0 ? 1 : 0) + 3 * 24;
  return static_cast<std::size_t>(((hours % 168) + 168) % 168);
}

std::size_t risk_class(std::size_t hour_of_week) {
  const std::size_t day = hour_of_week / 24 % 7;  // Monday 0
  return (day >= 5 ? 24 : 0) + hour_of_week % 24;
}

std::size_t risk_class(std::size_t hour_of_week, HourKind kind) {
  return static_cast<std::size_t>(kind) * 24 + hour_of_week % 24;
}

std::vector<calendar::Occurrence> events_between(const calendar::CalendarSet& calendars,
                                                 std::int64_t from_unix, std::int64_t to_unix) {
  auto occurrences = calendars.occurrences(from_unix, to_unix);
  std::erase_if(occurrences, [](const calendar::Occurrence& o) {
    return o.kind != calendar::Occurrence::Kind::event;
  });
  return occurrences;
}

HourKind hour_kind(std::int64_t time_unix, const calendar::TimeZone& zone,
                   const calendar::CalendarSet* calendars) {
  const bool weekend = hour_of_week(time_unix, zone) / 24 >= 5;
  if (calendars == nullptr) return weekend ? HourKind::weekend : HourKind::weekday;
  const std::int64_t into_hour = ((zone.to_local(time_unix) % 3600) + 3600) % 3600;
  if (!events_between(*calendars, time_unix - into_hour, time_unix - into_hour + 3600).empty())
    return HourKind::event;
  for (const auto& calendar : calendars->calendars())
    if (calendar.is_holiday(calendar.local_date(time_unix))) return HourKind::weekend;
  return weekend ? HourKind::weekend : HourKind::weekday;
}

SloSetting::Applied SloSetting::for_decision(std::int64_t time_unix, const calendar::TimeZone& zone,
                                             const calendar::CalendarSet* calendars) const {
  if (quiet_hours.empty() && risk.empty()) return {quantile, headroom};
  const std::size_t hour = hour_of_week(time_unix, zone);
  Applied out{quantile, headroom};
  if (hour < quiet_hours.size() && quiet_hours[hour]) out = {quiet_quantile, quiet_headroom};
  if (risk.size() == kRiskHours)
    out.forecast_scale = risk[risk_class(hour, hour_kind(time_unix, zone, calendars))];
  return out;
}

std::string SloOutcome::text() const {
  if (!setting) return note;
  return note.empty() ? setting->summary : setting->summary + " (" + note + ")";
}

SloOutcome tune_at_refit(const config::TargetConfig& target, const SloTuner& tuner,
                         const SloHistory* history, std::int64_t now_unix,
                         const std::optional<SloSetting>& in_force) {
  SloOutcome out;
  const auto& slo = target.slo;
  if (!slo) return out;
  const auto as_configured =
      fmt::format("serving quantile {:g} as configured, no headroom", target.quantile);
  if (!tuner) {
    out.note = "SLO declared but this process does not tune: " + as_configured;
    return out;
  }
  const std::int64_t recorded = history ? history->recorded_seconds() : 0;
  if (recorded < 86400) {
    out.note = fmt::format(
        "SLO {:g}% of minutes short: tuning waits for a day of decisions ({}h{:02}m recorded); {}",
        slo->max_short_percent, recorded / 3600, recorded / 60 % 60, as_configured);
    return out;
  }
  try {
    auto tuned = tuner(target, *history, in_force);
    if (tuned) {
      out.setting = std::move(*tuned);
      out.setting->tuned_at_unix = now_unix;
    } else {
      out.note = "SLO tuning failed: " + tuned.error().message;
    }
  } catch (const std::exception& e) {
    out.note = fmt::format("SLO tuning failed: {}", e.what());
  }
  if (!out.setting && in_force) {
    out.setting = in_force;
    out.note += "; the setting tuned before stays";
  }
  return out;
}

}  // namespace prescale::autoscaler
