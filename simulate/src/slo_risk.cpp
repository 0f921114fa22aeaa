#include "slo_risk.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
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

}  // namespace

namespace {

std::size_t day_of(const autoscaler::SloHistory& history, std::size_t i) {
  return static_cast<std::size_t>(static_cast<std::int64_t>(i) * history.step_seconds / 86400);
}

// Per class, the 95th percentile of its rises over the median class's, as a
// factor; NaN for a class with too few rises. Reorders `rises`.
std::vector<double> risk_of(std::vector<std::vector<double>>& rises) {
  std::vector<double> tail(rises.size(), NAN);
  std::vector<double> known;
  for (std::size_t c = 0; c < rises.size(); ++c) {
    auto& r = rises[c];
    if (r.size() < kMinRiskSamples) continue;
    const auto at =
        r.begin() + static_cast<std::ptrdiff_t>(0.95 * static_cast<double>(r.size() - 1));
    std::nth_element(r.begin(), at, r.end());
    tail[c] = *at;
    known.push_back(*at);
  }
  std::vector<double> risk(rises.size(), NAN);
  if (known.empty()) return risk;
  const auto middle = known.begin() + static_cast<std::ptrdiff_t>(known.size() / 2);
  std::nth_element(known.begin(), middle, known.end());
  for (std::size_t c = 0; c < risk.size(); ++c)
    if (std::isfinite(tail[c])) risk[c] = std::clamp(std::exp(tail[c] - *middle), 1.0, kMaxRisk);
  return risk;
}

}  // namespace

LearntRisk learn_risk(const autoscaler::SloHistory& history,
                      const std::vector<std::size_t>& hour_at) {
  std::vector<std::vector<double>> all(autoscaler::kRiskHours), even(autoscaler::kRiskHours),
      odd(autoscaler::kRiskHours);
  for (std::size_t i = 0; i < history.demand.size() && i < hour_at.size(); ++i) {
    if (!history.decided[i]) continue;
    const double rise = rise_above_median(history, i);
    if (!std::isfinite(rise)) continue;
    const std::size_t c = autoscaler::risk_class(hour_at[i]);
    all[c].push_back(rise);
    (day_of(history, i) % 2 == 0 ? even : odd)[c].push_back(rise);
  }
  return {risk_of(all), risk_of(even), risk_of(odd)};
}

std::vector<double> LearntRisk::served() const {
  std::vector<double> risk(autoscaler::kRiskHours, 1.0);
  for (std::size_t c = 0; c < risk.size(); ++c)
    if (std::isfinite(odd[c]) && std::isfinite(even[c]) && std::isfinite(all[c])) risk[c] = all[c];
  return risk;
}

void apply_risk_crossfitted(const LearntRisk& risk, const autoscaler::SloHistory& history,
                            const std::vector<std::size_t>& hour_at,
                            std::vector<forecast::Forecast>& windows) {
  for (std::size_t i = 0; i < windows.size() && i < hour_at.size(); ++i) {
    const auto& other_days = day_of(history, i) % 2 == 0 ? risk.odd : risk.even;
    const double r = other_days[autoscaler::risk_class(hour_at[i])];
    if (!(r > 1.0)) continue;  // 1, or none learnt
    // Every quantile of the window scales with it: mean and both spreads.
    for (auto* values : {&windows[i].mean, &windows[i].sigma, &windows[i].sigma_lower})
      for (double& v : *values) v *= r;
  }
}

std::vector<double> raise_by_risk(const autoscaler::SloHistory& history,
                                  const std::vector<std::size_t>& hour_at,
                                  std::vector<forecast::Forecast>& windows) {
  const LearntRisk learnt = learn_risk(history, hour_at);
  apply_risk_crossfitted(learnt, history, hour_at, windows);
  return learnt.served();
}

std::string describe_risk(const std::vector<double>& risk) {
  std::vector<std::size_t> raised(risk.size());
  std::iota(raised.begin(), raised.end(), 0);
  std::erase_if(raised, [&](std::size_t c) { return !(risk[c] > 1.05); });
  std::sort(raised.begin(), raised.end(),
            [&](std::size_t a, std::size_t b) { return risk[a] > risk[b]; });
  std::string words;
  for (std::size_t k = 0; k < raised.size() && k < 4; ++k) {
    const std::size_t c = raised[k];
    words += fmt::format("{}x{:.3g} in {} {:02}:00-{:02}:00", words.empty() ? "" : ", ", risk[c],
                         c < 24 ? "weekday" : "weekend", c % 24, c % 24 + 1);
  }
  if (raised.size() > 4) words += fmt::format(" and {} more hours", raised.size() - 4);
  return words;
}

}  // namespace prescale::simulate
