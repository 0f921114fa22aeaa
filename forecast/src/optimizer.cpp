#include "prescale/forecast/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace prescale::forecast {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// i-th element (from 1) of the van der Corput sequence in `base`.
double radical_inverse(std::size_t i, unsigned base) {
  double inverse = 1.0 / base, fraction = inverse, value = 0;
  while (i > 0) {
    value += static_cast<double>(i % base) * fraction;
    i /= base;
    fraction *= inverse;
  }
  return value;
}

constexpr unsigned kPrimes[] = {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37};

struct Start {
  std::vector<double> x;
  double value = kInfinity;
  double step = 0;
  std::vector<double> last_move;  ///< displacement of the last successful move (empty: none)
  std::vector<double> history;    ///< value after each round, for the stall test
};

double sanitize(double value) {
  return std::isfinite(value) ? value : kInfinity;
}

}  // namespace

BoxOptimizerResult minimize_in_box(std::size_t dimension, const BatchObjective& objective,
                                   const BoxOptimizerOptions& options,
                                   std::span<const double> seed) {
  BoxOptimizerResult result;
  const std::size_t d = dimension;
  if (d == 0) {
    std::vector<double> none;
    std::vector<double> value(1);
    objective(none, value);
    result.value = sanitize(value[0]);
    result.evaluations = 1;
    result.converged = true;
    return result;
  }

  // Round 0: the centre (or the seed) plus a Halton population, one batch.
  const bool seeded = seed.size() == d;
  const std::size_t population =
      std::max<std::size_t>(1, seeded ? options.seeded_population : options.population);
  const std::size_t start_count =
      std::max<std::size_t>(1, seeded ? options.seeded_starts : options.starts);
  const double initial_step = seeded ? options.seeded_initial_step : options.initial_step;
  std::vector<double> points(population * d);
  for (std::size_t j = 0; j < d; ++j)
    points[j] = seeded && std::isfinite(seed[j]) ? std::clamp(seed[j], 0.0, 1.0) : 0.5;
  for (std::size_t i = 1; i < population; ++i)
    for (std::size_t j = 0; j < d; ++j)
      points[i * d + j] = radical_inverse(i, kPrimes[j % std::size(kPrimes)]);
  std::vector<double> values(population);
  objective(points, values);
  result.evaluations += population;
  for (double& v : values) v = sanitize(v);

  std::vector<std::size_t> order(population);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<Start> starts;
  for (std::size_t i = 0; i < population && starts.size() < start_count; ++i) {
    Start start;
    start.x.assign(points.begin() + order[i] * d, points.begin() + order[i] * d + d);
    start.value = values[order[i]];
    start.step = initial_step;
    starts.push_back(std::move(start));
  }

  // Compass search from every start; each round is one batch of all trial points.
  std::vector<double> trials;
  std::vector<std::size_t> owner;
  for (; result.rounds < options.max_rounds; ++result.rounds) {
    trials.clear();
    owner.clear();
    for (std::size_t s = 0; s < starts.size(); ++s) {
      const Start& start = starts[s];
      if (start.step < options.tolerance) continue;
      // Pattern moves (Hooke-Jeeves): along the last successful displacement,
      // once and twice, so curved valleys are followed in strides.
      if (!start.last_move.empty()) {
        for (double stride : {1.0, 2.0}) {
          bool moved = false;
          for (std::size_t j = 0; j < d; ++j) {
            const double to = std::clamp(start.x[j] + stride * start.last_move[j], 0.0, 1.0);
            moved = moved || to != start.x[j];
            trials.push_back(to);
          }
          if (moved) {
            owner.push_back(s);
          } else {
            trials.resize(trials.size() - d);
          }
        }
      }
      for (std::size_t j = 0; j < d; ++j) {
        for (double sign : {-1.0, 1.0}) {
          const double moved = std::clamp(start.x[j] + sign * start.step, 0.0, 1.0);
          if (moved == start.x[j]) continue;
          trials.insert(trials.end(), start.x.begin(), start.x.end());
          trials[trials.size() - d + j] = moved;
          owner.push_back(s);
        }
      }
    }
    if (owner.empty()) {
      result.converged = true;
      break;
    }
    values.assign(owner.size(), kInfinity);
    objective(trials, values);
    result.evaluations += owner.size();
    std::vector<std::size_t> best(starts.size(), owner.size());
    for (std::size_t t = 0; t < owner.size(); ++t) {
      values[t] = sanitize(values[t]);
      const std::size_t s = owner[t];
      if (best[s] == owner.size() || values[t] < values[best[s]]) best[s] = t;
    }
    double best_value = kInfinity;
    for (std::size_t s = 0; s < starts.size(); ++s) {
      Start& start = starts[s];
      if (start.step < options.tolerance) {
        best_value = std::min(best_value, start.value);
        continue;
      }
      const std::size_t t = best[s];
      // Move only on a real improvement; a successful direction earns a longer step.
      if (t < owner.size() &&
          values[t] < start.value - options.relative_improvement * std::abs(start.value)) {
        start.last_move.resize(d);
        for (std::size_t j = 0; j < d; ++j) start.last_move[j] = trials[t * d + j] - start.x[j];
        start.x.assign(trials.begin() + t * d, trials.begin() + t * d + d);
        start.value = values[t];
      } else {
        start.step *= 0.5;
        start.last_move.clear();
      }
      best_value = std::min(best_value, start.value);
      start.history.push_back(start.value);
      const std::size_t window = options.stall_rounds;
      if (window > 0 && start.history.size() > window) {
        const double before = start.history[start.history.size() - 1 - window];
        if (before - start.value <= options.stall_improvement * std::abs(start.value))
          start.step = 0;  // converged in value
      }
    }
    // Searching on from a clearly worse basin only costs evaluations.
    for (Start& start : starts)
      if (start.value > best_value + options.abandon_above_best * std::abs(best_value))
        start.step = 0;
  }
  const auto winner =
      std::min_element(starts.begin(), starts.end(),
                       [](const Start& a, const Start& b) { return a.value < b.value; });
  result.x = winner->x;
  result.value = winner->value;
  if (!result.converged)
    result.converged = std::all_of(starts.begin(), starts.end(),
                                   [&](const Start& s) { return s.step < options.tolerance; });
  return result;
}

}  // namespace prescale::forecast
