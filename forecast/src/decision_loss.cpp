#include "prescale/forecast/decision_loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace prescale::forecast {

double pinball_loss(double actual, double served, double q) {
  return actual >= served ? q * (actual - served) : (1 - q) * (served - actual);
}

double decision_loss(std::span<const BacktestError> errors, std::span<const double> y,
                     const ServedWindow& window, const IntervalCalibration& calibration,
                     std::span<const std::size_t> origins) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  if (window.steps == 0 || !(window.quantile > 0 && window.quantile < 1)) return kNaN;
  // Each origin's errors by lead step (a combination's come in another order).
  std::map<std::size_t, std::vector<const BacktestError*>> by_origin;
  for (const BacktestError& e : errors) {
    if (e.index < e.step || e.index >= y.size()) continue;
    const std::size_t origin = e.index - e.step;
    if (!origins.empty() && std::find(origins.begin(), origins.end(), origin) == origins.end())
      continue;
    by_origin[origin].push_back(&e);
  }
  double sum = 0;
  std::size_t windows = 0;
  for (const auto& [origin, scored] : by_origin) {
    std::size_t steps = 0;
    for (const BacktestError* e : scored) steps = std::max(steps, e->step + 1);
    // The origin's forecast as the fitted model would serve it.
    Forecast forecast{std::vector<double>(steps, kNaN), std::vector<double>(steps, kNaN)};
    forecast.spread.assign(steps, 0.0);
    std::vector<double> actual(steps, kNaN);
    for (const BacktestError* e : scored) {
      actual[e->step] = y[e->index];
      forecast.mean[e->step] = y[e->index] - e->error;
      forecast.sigma[e->step] = e->sigma;
      forecast.spread[e->step] = e->spread;
    }
    calibration.apply(forecast);
    for (std::size_t start = 0; start + window.steps <= steps; ++start) {
      double peak = -std::numeric_limits<double>::infinity();
      double served = peak;
      bool complete = true;
      for (std::size_t h = start; h < start + window.steps && complete; ++h) {
        const double q = forecast.quantile(h, window.quantile);
        complete = std::isfinite(actual[h]) && std::isfinite(q);
        peak = std::max(peak, actual[h]);
        served = std::max(served, q);
      }
      if (!complete) continue;
      sum += pinball_loss(peak, served, window.quantile);
      ++windows;
    }
  }
  return windows ? sum / double(windows) : kNaN;
}

}  // namespace prescale::forecast
