#include "prescale/forecast/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace prescale::forecast {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double seasonal_naive_scale(std::span<const double> training, std::size_t lag) {
  if (lag == 0) lag = 1;
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t t = lag; t < training.size(); ++t) {
    const double d = training[t] - training[t - lag];
    if (std::isnan(d)) continue;
    sum += std::abs(d);
    ++count;
  }
  return count ? sum / static_cast<double>(count) : kNaN;
}

std::size_t mase_lag(std::span<const std::uint32_t> season_slots, std::size_t training_size) {
  for (std::size_t k = season_slots.size(); k-- > 0;) {
    if (season_slots[k] > 0 && 2 * static_cast<std::size_t>(season_slots[k]) <= training_size) {
      return season_slots[k];
    }
  }
  return 1;
}

double mase(std::span<const double> actual, std::span<const double> predicted, double scale) {
  double sum = 0;
  std::size_t count = 0;
  const std::size_t n = std::min(actual.size(), predicted.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double e = actual[i] - predicted[i];
    if (std::isnan(e)) continue;
    sum += std::abs(e);
    ++count;
  }
  if (count == 0 || std::isnan(scale)) return kNaN;
  const double mae = sum / static_cast<double>(count);
  if (scale == 0) return mae == 0 ? 0.0 : kNaN;
  return mae / scale;
}

double smape(std::span<const double> actual, std::span<const double> predicted) {
  double sum = 0;
  std::size_t count = 0;
  const std::size_t n = std::min(actual.size(), predicted.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double a = actual[i];
    const double f = predicted[i];
    if (std::isnan(a) || std::isnan(f)) continue;
    const double denominator = std::abs(a) + std::abs(f);
    sum += denominator == 0 ? 0.0 : 200.0 * std::abs(a - f) / denominator;
    ++count;
  }
  return count ? sum / static_cast<double>(count) : kNaN;
}

double interval_coverage(std::span<const double> actual, std::span<const double> lower,
                         std::span<const double> upper) {
  std::size_t inside = 0;
  std::size_t count = 0;
  const std::size_t n = std::min({actual.size(), lower.size(), upper.size()});
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(actual[i]) || std::isnan(lower[i]) || std::isnan(upper[i])) continue;
    inside += (actual[i] >= lower[i] && actual[i] <= upper[i]) ? 1 : 0;
    ++count;
  }
  return count ? static_cast<double>(inside) / static_cast<double>(count) : kNaN;
}

}  // namespace prescale::forecast
