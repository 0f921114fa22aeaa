#include "slo_risk.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace prescale::simulate {

std::vector<std::size_t> hours_of_week(const autoscaler::SloHistory& history,
                                       const calendar::TimeZone& zone) {
  // The zone looked up once per offset change: a tuning reads every step of
  // its history (35 days at 1 minute: 50,400).
  const std::size_t n = history.demand.size();
  const auto utc = calendar::TimeZone::utc();
  std::vector<std::size_t> hour_at(n);
  calendar::TimeZone::OffsetSpan span{0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t t = history.start_unix + static_cast<std::int64_t>(i) * history.step_seconds;
    if (t < span.begin_unix || t >= span.end_unix) span = zone.offset_span(t);
    hour_at[i] = autoscaler::hour_of_week(t + span.offset, utc);
  }
  return hour_at;
}

namespace {

// log(load peak / median forecast peak) over decision i's lead window; NaN
// when either is unknown or not positive.
double rise_above_median(const autoscaler::SloHistory& history, std::size_t i) {
  const auto& window = history.windows[i];
  const std::size_t steps = window.size();
  if (steps == 0 || i + steps > history.demand.size()) return NAN;
  double forecast = -INFINITY, load = -INFINITY;
  for (std::size_t h = 0; h < steps; ++h) {
    forecast = std::max(forecast, window.quantile(h, 0.5));
    if (std::isfinite(history.demand[i + h])) load = std::max(load, history.demand[i + h]);
  }
  if (!(forecast > 0) || !(load > 0) || !std::isfinite(forecast)) return NAN;
  return std::log(load / forecast);
}

std::size_t day_of(const autoscaler::SloHistory& history, std::size_t i) {
  return static_cast<std::size_t>(static_cast<std::int64_t>(i) * history.step_seconds / 86400);
}

// The first event-hour class (autoscaler::risk_class).
constexpr std::size_t kEventClasses = static_cast<std::size_t>(autoscaler::HourKind::event) * 24;

// The median of the finite values in [first, last); NaN when none.
double median_of(const std::vector<double>& tails, std::size_t first, std::size_t last) {
  std::vector<double> known;
  for (std::size_t c = first; c < last; ++c)
    if (std::isfinite(tails[c])) known.push_back(tails[c]);
  if (known.empty()) return NAN;
  const auto middle = known.begin() + static_cast<std::ptrdiff_t>(known.size() / 2);
  std::nth_element(known.begin(), middle, known.end());
  return *middle;
}

// The 95th percentile of non-empty `r` (reordered).
double percentile95(std::vector<double>& r) {
  const auto at = r.begin() + static_cast<std::ptrdiff_t>(0.95 * static_cast<double>(r.size() - 1));
  std::nth_element(r.begin(), at, r.end());
  return *at;
}

// Per class, the 95th percentile of its rises (NaN for a class with too few).
// Reorders `rises`.
std::vector<double> tails_of(std::vector<std::vector<double>>& rises) {
  std::vector<double> tail(rises.size(), NAN);
  for (std::size_t c = 0; c < rises.size(); ++c) {
    auto& r = rises[c];
    if (r.size() < (c >= kEventClasses ? kMinEventRiskSamples : kMinRiskSamples)) continue;
    tail[c] = percentile95(r);
  }
  return tail;
}

double as_risk(double tail, double reference) {
  return std::isfinite(tail) && std::isfinite(reference)
             ? std::clamp(std::exp(tail - reference), 1.0, kMaxRisk)
             : NAN;
}

// Per class, its tail over its reference's as a factor: weekday and weekend
// hours against their own kind's median class, event-day hours against the
// ordinary classes' median. Reorders `rises`.
std::vector<double> risk_of(std::vector<std::vector<double>>& rises) {
  const std::vector<double> tail = tails_of(rises);
  const double weekday = median_of(tail, 0, 24), weekend = median_of(tail, 24, kEventClasses),
               ordinary = median_of(tail, 0, kEventClasses);
  std::vector<double> risk(rises.size(), NAN);
  for (std::size_t c = 0; c < risk.size(); ++c)
    risk[c] = as_risk(tail[c], c < 24 ? weekday : c < kEventClasses ? weekend : ordinary);
  return risk;
}

}  // namespace

RiskDays risk_days(const autoscaler::SloHistory& history, const calendar::TimeZone& zone,
                   const std::vector<std::size_t>& hour_at) {
  const std::size_t n = std::min(history.demand.size(), hour_at.size());
  RiskDays out{std::vector<std::size_t>(n), std::vector<std::int64_t>(n), {}};
  const auto* calendars = history.calendars.get();
  std::vector<std::vector<std::string>> events(calendars ? 24 : 0);
  std::int64_t hour = std::numeric_limits<std::int64_t>::min();
  std::size_t c = 0;
  calendar::TimeZone::OffsetSpan span{0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t t = history.start_unix + static_cast<std::int64_t>(i) * history.step_seconds;
    if (t < span.begin_unix || t >= span.end_unix) span = zone.offset_span(t);
    const std::int64_t local = t + span.offset;
    const std::int64_t local_hour = local / 3600 - (local % 3600 < 0 ? 1 : 0);
    // The kind looked up once an hour: the calendars' events in it.
    if (local_hour != hour) {
      hour = local_hour;
      const auto kind = autoscaler::hour_kind(t, zone, calendars);
      c = autoscaler::risk_class(hour_at[i], kind);
      if (kind == autoscaler::HourKind::event) {
        const std::int64_t from = t - (local - local_hour * 3600);
        for (const auto& o : autoscaler::events_between(*calendars, from, from + 3600)) {
          auto& names = events[hour_at[i] % 24];
          if (std::find(names.begin(), names.end(), o.qualified_name()) == names.end())
            names.push_back(o.qualified_name());
        }
      }
    }
    out.risk_class[i] = c;
    out.local_day[i] = local_hour / 24 - (local_hour % 24 < 0 ? 1 : 0);
  }
  for (auto& names : events) {
    std::sort(names.begin(), names.end());
    out.events.push_back(fmt::format("{}", fmt::join(names, ", ")));
  }
  return out;
}

namespace {

// Per event class, the median over `days` (each an event day's 95th
// percentiles, by class) of the days that hold it, over `reference`; NaN
// where the days hold fewer than kMinEventRiskSamples rises of it. The
// median: one day the forecast had never seen the event on (the first
// payroll morning) must not set every later event day's risk.
std::vector<double> event_risk(const std::vector<std::vector<double>>& tails,
                               const std::vector<std::vector<std::size_t>>& counts,
                               double reference, std::int64_t leave_out,
                               const std::vector<std::int64_t>& day_of_tails) {
  std::vector<double> risk(autoscaler::kRiskHours, NAN);
  for (std::size_t c = kEventClasses; c < risk.size(); ++c) {
    std::vector<double> by_day;
    std::size_t samples = 0;
    for (std::size_t d = 0; d < tails.size(); ++d) {
      if (day_of_tails[d] == leave_out || !std::isfinite(tails[d][c])) continue;
      by_day.push_back(tails[d][c]);
      samples += counts[d][c];
    }
    if (samples < kMinEventRiskSamples) continue;
    std::sort(by_day.begin(), by_day.end());
    risk[c] = as_risk(by_day[by_day.size() / 2], reference);
  }
  return risk;
}

}  // namespace

LearntRisk learn_risk(const autoscaler::SloHistory& history, const RiskDays& days) {
  constexpr std::size_t k = autoscaler::kRiskHours;
  std::vector<std::vector<double>> all(k), even(k), odd(k);
  struct EventRise {
    std::int64_t day;
    std::size_t c;
    double rise;
  };
  std::vector<EventRise> event_rises;
  for (std::size_t i = 0; i < history.demand.size() && i < days.risk_class.size(); ++i) {
    if (!history.decided[i]) continue;
    const double rise = rise_above_median(history, i);
    if (!std::isfinite(rise)) continue;
    const std::size_t c = days.risk_class[i];
    all[c].push_back(rise);
    (day_of(history, i) % 2 == 0 ? even : odd)[c].push_back(rise);
    if (c >= kEventClasses) event_rises.push_back({days.local_day[i], c, rise});
  }
  LearntRisk out{risk_of(all), risk_of(even), risk_of(odd), {}, {}};
  // Each event day's 95th percentiles, by class; every event class against
  // the ordinary classes' median on every day (no event hour is in them).
  const double ordinary = median_of(tails_of(all), 0, kEventClasses);
  std::vector<std::int64_t> event_days;
  std::vector<std::vector<double>> day_tails;
  std::vector<std::vector<std::size_t>> day_counts;
  for (std::size_t e = 0; e < event_rises.size();) {
    std::vector<std::vector<double>> rises(k);
    const std::int64_t day = event_rises[e].day;
    for (; e < event_rises.size() && event_rises[e].day == day; ++e)  // in time order
      rises[event_rises[e].c].push_back(event_rises[e].rise);
    std::vector<std::size_t> counts(k);
    for (std::size_t c = 0; c < k; ++c) counts[c] = rises[c].size();
    std::vector<double> tail(k, NAN);
    for (std::size_t c = kEventClasses; c < k; ++c)
      if (!rises[c].empty()) tail[c] = percentile95(rises[c]);
    event_days.push_back(day);
    day_tails.push_back(std::move(tail));
    day_counts.push_back(std::move(counts));
  }
  constexpr std::int64_t kNoDay = std::numeric_limits<std::int64_t>::min();
  out.events_all = event_risk(day_tails, day_counts, ordinary, kNoDay, event_days);
  for (std::size_t d = 0; d < event_days.size(); ++d) {
    auto risk = event_risk(day_tails, day_counts, ordinary, event_days[d], event_days);
    // Judged on this day only in the event hours it holds.
    for (std::size_t c = kEventClasses; c < k; ++c)
      if (day_counts[d][c] == 0) risk[c] = NAN;
    out.other_event_days.emplace_back(event_days[d], std::move(risk));
  }
  return out;
}

std::vector<double> LearntRisk::served() const {
  std::vector<double> risk(autoscaler::kRiskHours, 1.0);
  for (std::size_t c = 0; c < risk.size() && c < all.size(); ++c) {
    if (c < kEventClasses) {
      if (std::isfinite(odd[c]) && std::isfinite(even[c]) && std::isfinite(all[c]))
        risk[c] = all[c];
      continue;
    }
    bool judged = false;
    for (const auto& [day, others] : other_event_days) judged = judged || std::isfinite(others[c]);
    if (judged && std::isfinite(events_all[c])) risk[c] = events_all[c];
  }
  return risk;
}

void apply_risk_crossfitted(const LearntRisk& risk, const autoscaler::SloHistory& history,
                            const RiskDays& days, std::vector<forecast::Forecast>& windows) {
  for (std::size_t i = 0; i < windows.size() && i < days.risk_class.size(); ++i) {
    const std::size_t c = days.risk_class[i];
    double r = NAN;
    if (c < kEventClasses) {
      r = (day_of(history, i) % 2 == 0 ? risk.odd : risk.even)[c];
    } else {
      for (const auto& [day, others] : risk.other_event_days)
        if (day == days.local_day[i]) r = others[c];
    }
    if (!(r > 1.0)) continue;  // 1, or none learnt
    // Every quantile of the window scales with it: mean and both spreads.
    for (auto* values : {&windows[i].mean, &windows[i].sigma, &windows[i].sigma_lower})
      for (double& v : *values) v *= r;
  }
}

std::vector<double> raise_by_risk(const autoscaler::SloHistory& history, const RiskDays& days,
                                  std::vector<forecast::Forecast>& windows) {
  const LearntRisk learnt = learn_risk(history, days);
  apply_risk_crossfitted(learnt, history, days, windows);
  return learnt.served();
}

std::string describe_risk(const std::vector<double>& risk, const std::vector<std::string>& events) {
  std::vector<std::size_t> raised(risk.size());
  std::iota(raised.begin(), raised.end(), 0);
  std::erase_if(raised, [&](std::size_t c) { return !(risk[c] > 1.05); });
  std::sort(raised.begin(), raised.end(),
            [&](std::size_t a, std::size_t b) { return risk[a] > risk[b]; });
  std::string words;
  for (std::size_t k = 0; k < raised.size() && k < 4; ++k) {
    const std::size_t c = raised[k], h = c % 24;
    words += fmt::format("{}x{:.3g} ", words.empty() ? "" : ", ", risk[c]);
    if (c < kEventClasses)
      words += fmt::format("in {} {:02}:00-{:02}:00", c < 24 ? "weekday" : "weekend", h, h + 1);
    else
      words += fmt::format("at {:02}:00-{:02}:00 of {}", h, h + 1,
                           h < events.size() && !events[h].empty() ? events[h] : "event days");
  }
  if (raised.size() > 4) {
    const std::size_t more = raised.size() - 4;
    words += fmt::format(" and {} more hour{}", more, more == 1 ? "" : "s");
  }
  return words;
}

}  // namespace prescale::simulate
