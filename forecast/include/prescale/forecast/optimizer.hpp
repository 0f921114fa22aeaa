#pragma once
// A derivative-free minimiser over the unit box [0,1]^d that asks for its
// objective in batches, so a SIMD kernel can evaluate every trial point of a
// round at once: a Halton population first, then a multi-start compass
// (pattern) search whose rounds submit all starts' 2d trial points together.
#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace prescale::forecast {

/// values[i] = f(points[i*d .. i*d+d)); called with many points at once.
using BatchObjective =
    std::function<void(std::span<const double> points, std::span<double> values)>;

struct BoxOptimizerOptions {
  std::size_t population = 64;  ///< Halton points evaluated first
  std::size_t starts = 4;       ///< best distinct population points searched from
  double initial_step = 0.125;  ///< compass step, in box units
  double tolerance = 1e-4;      ///< stop when every step is below this
  /// A move must lower f by more than this fraction of |f|, so flat valleys
  /// (e.g. beta against phi) end the search instead of being crept along.
  double relative_improvement = 1e-7;
  /// Starts whose value is this fraction above the best are abandoned.
  double abandon_above_best = 1e-3;
  /// A start that gained less than stall_improvement x |f| over its last
  /// stall_rounds rounds has converged in value (a flat ridge) and stops.
  std::size_t stall_rounds = 25;
  double stall_improvement = 1e-6;
  std::size_t max_rounds = 200;  ///< batches after the population
  /// With a seed (a point known to be near the optimum, e.g. the parameters
  /// fitted on all but the newest part of the same series): a smaller
  /// population around it, fewer starts and a shorter first step.
  std::size_t seeded_population = 16;
  std::size_t seeded_starts = 2;
  double seeded_initial_step = 1.0 / 32;
};

struct BoxOptimizerResult {
  std::vector<double> x;  ///< best point found, inside [0,1]^d
  double value = 0.0;
  std::size_t evaluations = 0;
  std::size_t rounds = 0;
  bool converged = false;  ///< every start's step shrank below the tolerance, or its value stalled
};

/// Minimises `objective` over [0,1]^dimension. Deterministic (no clocks, no
/// global RNG). Non-finite values count as +infinity. Thread-safe as far as
/// the objective is. A `seed` (dimension values, clamped into the box) is
/// evaluated first in place of the centre and the search is narrowed around
/// it (seeded_* options); the Halton points still guard against a seed that
/// sits in the wrong basin. An empty seed, or one of the wrong size, is ignored.
BoxOptimizerResult minimize_in_box(std::size_t dimension, const BatchObjective& objective,
                                   const BoxOptimizerOptions& options = {},
                                   std::span<const double> seed = {});

}  // namespace prescale::forecast
