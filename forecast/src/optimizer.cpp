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
/// One compass-search round's trial points (d coordinates each) and the
/// start each belongs to.
struct Trials {
  std::vector<double> points;
  std::vector<std::size_t> owner;
};

// Round 0: the centre (or the seed) plus a Halton population, one batch;
// the best `start_count` points become the starts.
std::vector<Start> initial_starts(std::size_t d, const BatchObjective& objective,
                                  const BoxOptimizerOptions& options, std::span<const double> seed,
                                  BoxOptimizerResult& result) {
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
  return starts;
}

// The trial points of one start: pattern moves (Hooke-Jeeves) along the
// last successful displacement, once and twice, so curved valleys are
// followed in strides; then +-step along each coordinate.
void add_trials(const Start& start, std::size_t s, std::size_t d, Trials& trials) {
  if (!start.last_move.empty()) {
    for (double stride : {1.0, 2.0}) {
      bool moved = false;
      for (std::size_t j = 0; j < d; ++j) {
        const double to = std::clamp(start.x[j] + stride * start.last_move[j], 0.0, 1.0);
        moved = moved || to != start.x[j];
        trials.points.push_back(to);
      }
      if (moved) {
        trials.owner.push_back(s);
      } else {
        trials.points.resize(trials.points.size() - d);
      }
    }
  }
  for (std::size_t j = 0; j < d; ++j) {
    for (double sign : {-1.0, 1.0}) {
      const double moved = std::clamp(start.x[j] + sign * start.step, 0.0, 1.0);
      if (moved == start.x[j]) continue;
      trials.points.insert(trials.points.end(), start.x.begin(), start.x.end());
      trials.points[trials.points.size() - d + j] = moved;
      trials.owner.push_back(s);
    }
  }
}

// A start after its round: it moves to its best trial on a real
// improvement (keeping the displacement for the next pattern move), else
// halves its step; a start whose value stalled for stall_rounds stops.
void advance(Start& start, const Trials& trials, const std::vector<double>& values, std::size_t t,
             std::size_t d, const BoxOptimizerOptions& options) {
  if (t < trials.owner.size() &&
      values[t] < start.value - options.relative_improvement * std::abs(start.value)) {
    start.last_move.resize(d);
    for (std::size_t j = 0; j < d; ++j) start.last_move[j] = trials.points[t * d + j] - start.x[j];
    start.x.assign(trials.points.begin() + t * d, trials.points.begin() + t * d + d);
    start.value = values[t];
  } else {
    start.step *= 0.5;
    start.last_move.clear();
  }
  start.history.push_back(start.value);
  const std::size_t window = options.stall_rounds;
  if (window > 0 && start.history.size() > window) {
    const double before = start.history[start.history.size() - 1 - window];
    if (before - start.value <= options.stall_improvement * std::abs(start.value))
      start.step = 0;  // converged in value
  }
}

// One compass-search round over every start, its trial points evaluated as
// one batch. False when no start has a step left (converged).
bool search_round(std::vector<Start>& starts, std::size_t d, const BatchObjective& objective,
                  const BoxOptimizerOptions& options, Trials& trials, std::vector<double>& values,
                  BoxOptimizerResult& result) {
  trials.points.clear();
  trials.owner.clear();
  for (std::size_t s = 0; s < starts.size(); ++s)
    if (starts[s].step >= options.tolerance) add_trials(starts[s], s, d, trials);
  const std::size_t count = trials.owner.size();
  if (count == 0) return false;
  values.assign(count, kInfinity);
  objective(trials.points, values);
  result.evaluations += count;
  std::vector<std::size_t> best(starts.size(), count);
  for (std::size_t t = 0; t < count; ++t) {
    values[t] = sanitize(values[t]);
    const std::size_t s = trials.owner[t];
    if (best[s] == count || values[t] < values[best[s]]) best[s] = t;
  }
  double best_value = kInfinity;
  for (std::size_t s = 0; s < starts.size(); ++s) {
    if (starts[s].step >= options.tolerance)
      advance(starts[s], trials, values, best[s], d, options);
    best_value = std::min(best_value, starts[s].value);
  }
  // Searching on from a clearly worse basin only costs evaluations.
  for (Start& start : starts)
    if (start.value > best_value + options.abandon_above_best * std::abs(best_value))
      start.step = 0;
  return true;
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
  std::vector<Start> starts = initial_starts(d, objective, options, seed, result);
  // Compass search from every start; each round is one batch of all trial points.
  Trials trials;
  std::vector<double> values;
  for (; result.rounds < options.max_rounds; ++result.rounds) {
    if (!search_round(starts, d, objective, options, trials, values, result)) {
      result.converged = true;
      break;
    }
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
