#include "prescale/forecast/decomposition.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace prescale::forecast {
namespace {

/// Mean value and mean index of the valid samples in [begin, end).
struct CycleMean {
  double value = 0;
  double index = 0;
  std::size_t count = 0;
};

CycleMean cycle_mean(std::span<const double> y, std::size_t begin, std::size_t end) {
  CycleMean mean;
  for (std::size_t i = begin; i < end; ++i) {
    if (std::isnan(y[i])) continue;
    mean.value += y[i];
    mean.index += static_cast<double>(i);
    ++mean.count;
  }
  if (mean.count > 0) {
    mean.value /= static_cast<double>(mean.count);
    mean.index /= static_cast<double>(mean.count);
  }
  return mean;
}

// One period's seasonal indices from the detrended window: each slot's mean,
// the observed slots normalised (mean 0, or mean 1 for factors); unseen
// slots stay neutral.
Expected<std::vector<double>> seasonal_indices(std::span<const double> rest,
                                               std::span<const std::uint32_t> positions,
                                               std::uint32_t slots, bool multiplicative) {
  std::vector<double> sum(slots, 0.0);
  std::vector<std::size_t> count(slots, 0);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (std::isnan(rest[i])) continue;
    const std::uint32_t slot = positions[i];
    if (slot >= slots)
      return make_error("seasonal position out of range at sample " + std::to_string(i));
    sum[slot] += rest[i];
    ++count[slot];
  }
  std::vector<double> season(slots, multiplicative ? 1.0 : 0.0);
  double total = 0;
  std::size_t filled = 0;
  for (std::uint32_t s = 0; s < slots; ++s) {
    if (count[s] == 0) continue;
    season[s] = sum[s] / static_cast<double>(count[s]);
    total += season[s];
    ++filled;
  }
  if (filled == 0) return season;
  const double mean = total / static_cast<double>(filled);
  for (std::uint32_t s = 0; s < slots; ++s) {
    if (count[s] == 0) continue;
    if (multiplicative) {
      season[s] = mean > 0 ? season[s] / mean : 1.0;
    } else {
      season[s] -= mean;
    }
  }
  return season;
}

}  // namespace

Expected<InitialState> decompose_initial_state(std::span<const double> y,
                                               const SeasonLayout* layout, std::size_t periods,
                                               bool with_trend, bool multiplicative) {
  const std::size_t n = y.size();
  if (periods > 0 && (!layout || layout->periods() < periods || layout->size() < n))
    return make_error("seasonal layout missing or shorter than the series");
  // Two "cycles" give level and trend: of the longest period, or of up to 12
  // samples without seasons.
  std::size_t cycle = std::min<std::size_t>(12, n / 2);
  for (std::size_t k = 0; k < periods; ++k) cycle = std::max<std::size_t>(cycle, layout->slots[k]);
  if (cycle == 0 || n < 2 * cycle)
    return make_error("history of " + std::to_string(n) +
                      " samples is shorter than two cycles of " + std::to_string(cycle));
  const CycleMean first = cycle_mean(y, 0, cycle);
  const CycleMean second = cycle_mean(y, cycle, 2 * cycle);
  if (first.count == 0 || second.count == 0)
    return make_error("no valid sample in the " +
                      std::string(first.count == 0 ? "first" : "second") + " cycle of " +
                      std::to_string(cycle) + " samples");

  InitialState state;
  double slope = 0;
  double level_at_zero = 0;
  if (with_trend && second.index > first.index) {
    slope = (second.value - first.value) / (second.index - first.index);
    level_at_zero = first.value - slope * first.index;
    // A multiplicative model needs a positive level over the window.
    if (multiplicative && std::min(level_at_zero, level_at_zero + slope * (2 * cycle)) <= 0)
      slope = 0;
  }
  if (slope == 0) {
    const double total = static_cast<double>(first.count + second.count);
    level_at_zero = (first.value * static_cast<double>(first.count) +
                     second.value * static_cast<double>(second.count)) /
                    total;
  }
  // The state precedes y[0]: its one-step forecast level + trend is the line at 0.
  state.trend = slope;
  state.level = level_at_zero - slope;

  const std::size_t window = 2 * cycle;
  std::vector<double> rest(window);
  for (std::size_t i = 0; i < window; ++i) {
    const double line = level_at_zero + slope * static_cast<double>(i);
    rest[i] = multiplicative ? y[i] / line : y[i] - line;
  }
  for (std::size_t k = 0; k < periods; ++k) {
    Expected<std::vector<double>> season =
        seasonal_indices(rest, layout->positions[k], layout->slots[k], multiplicative);
    if (!season) return season.error();
    for (std::size_t i = 0; i < window; ++i) {
      const double s = (*season)[layout->positions[k][i]];
      rest[i] = multiplicative ? rest[i] / s : rest[i] - s;
    }
    state.seasonal.push_back(std::move(*season));
  }
  return state;
}

}  // namespace prescale::forecast
