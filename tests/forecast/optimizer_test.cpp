#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "prescale/forecast/optimizer.hpp"

using namespace prescale::forecast;

TEST_CASE("box optimiser finds an interior minimum with batched calls", "[forecast][optimizer]") {
  std::size_t calls = 0, largest_batch = 0;
  const std::vector<double> target{0.3, 0.71, 0.05};
  auto objective = [&](std::span<const double> points, std::span<double> values) {
    ++calls;
    largest_batch = std::max(largest_batch, values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      double f = 0;
      for (std::size_t j = 0; j < 3; ++j)
        f += (j + 1.0) * std::pow(points[i * 3 + j] - target[j], 2);
      values[i] = f;
    }
  };
  const auto result = minimize_in_box(3, objective);
  REQUIRE(result.converged);
  for (std::size_t j = 0; j < 3; ++j) CHECK(result.x[j] == Approx(target[j]).margin(2e-4));
  CHECK(result.value < 1e-7);
  // Rounds are batches: many points per call, few calls.
  CHECK(largest_batch >= 64);
  CHECK(calls == result.rounds + 1);
  CHECK(result.evaluations >= 4 * calls);
}

TEST_CASE("box optimiser stops at the boundary and treats NaN as +inf", "[forecast][optimizer]") {
  auto objective = [](std::span<const double> points, std::span<double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const double x = points[i * 2], y = points[i * 2 + 1];
      values[i] = y > 0.9 ? std::numeric_limits<double>::quiet_NaN() : -x + (y - 0.2) * (y - 0.2);
    }
  };
  const auto result = minimize_in_box(2, objective);
  CHECK(result.x[0] == 1.0);
  // Moves must gain 1e-7 of |f| = 1, so y stops once (y - 0.2)^2 < 1e-7.
  CHECK(result.x[1] == Approx(0.2).margin(1e-3));
  CHECK(std::isfinite(result.value));
}

TEST_CASE("box optimiser reports a round budget it ran out of", "[forecast][optimizer]") {
  auto objective = [](std::span<const double> points, std::span<double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::abs(points[i] - 0.123456);
  };
  BoxOptimizerOptions options;
  options.max_rounds = 2;
  const auto result = minimize_in_box(1, objective, options);
  CHECK(!result.converged);
  CHECK(result.rounds == 2);
}

TEST_CASE("a seed near the minimum finds it with fewer evaluations", "[forecast][optimizer]") {
  const std::vector<double> target{0.42, 0.18, 0.66};
  auto objective = [&](std::span<const double> points, std::span<double> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      double f = 0;
      for (std::size_t j = 0; j < 3; ++j)
        f += (j + 1.0) * std::pow(points[i * 3 + j] - target[j], 2);
      values[i] = f;
    }
  };
  const auto cold = minimize_in_box(3, objective);
  const std::vector<double> seed{0.44, 0.17, 0.63};  // e.g. a fit on most of the same data
  const auto warm = minimize_in_box(3, objective, {}, seed);
  REQUIRE(warm.converged);
  for (std::size_t j = 0; j < 3; ++j) CHECK(warm.x[j] == Approx(target[j]).margin(2e-4));
  CHECK(warm.value <= cold.value + 1e-9);
  CHECK(warm.evaluations < cold.evaluations);

  // A seed in the wrong place still ends at the minimum (the Halton points
  // and the compass search are kept), and a seed of the wrong size is ignored.
  const auto far = minimize_in_box(3, objective, {}, std::vector<double>{1.0, 1.0, 0.0});
  for (std::size_t j = 0; j < 3; ++j) CHECK(far.x[j] == Approx(target[j]).margin(2e-4));
  const auto ignored = minimize_in_box(3, objective, {}, std::vector<double>{0.5});
  CHECK(ignored.evaluations == cold.evaluations);
}
