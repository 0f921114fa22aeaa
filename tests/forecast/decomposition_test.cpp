#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "prescale/forecast/decomposition.hpp"

using namespace prescale::forecast;

TEST_CASE("decomposition recovers level, trend and one season exactly",
          "[forecast][decomposition]") {
  const std::vector<double> pattern{-3, -1, 0, 1, 3, 0};
  const std::size_t n = 30;
  auto layout = SeasonLayout::modular({6}, n);
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = 20 + 0.5 * static_cast<double>(i) + pattern[i % 6];
  auto state = decompose_initial_state(y, &layout, 1, true, false);
  REQUIRE(state.has_value());
  // The state precedes y[0]: level + trend is the de-seasonalised y[0].
  CHECK(state->trend == Approx(0.5).margin(1e-12));
  CHECK(state->level + state->trend == Approx(20).margin(1e-9));
  REQUIRE(state->seasonal.size() == 1);
  for (std::size_t s = 0; s < 6; ++s)
    CHECK(state->seasonal[0][s] == Approx(pattern[s]).margin(1e-9));
}

TEST_CASE("decomposition splits two additive seasons and ignores NaN",
          "[forecast][decomposition]") {
  const std::size_t n = 48;
  auto layout = SeasonLayout::modular({4, 12}, n);
  const std::vector<double> daily{2, -2, 1, -1};
  std::vector<double> weekly(12);
  for (std::size_t s = 0; s < 12; ++s) weekly[s] = s < 4 ? 3.0 : -1.5;  // mean 0
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = 100 + daily[i % 4] + weekly[i % 12];
  y[5] = std::numeric_limits<double>::quiet_NaN();
  auto state = decompose_initial_state(y, &layout, 2, false, false);
  REQUIRE(state.has_value());
  CHECK(state->trend == 0);
  CHECK(state->level == Approx(100).margin(0.5));
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(y[i])) continue;
    const double fitted = state->level + state->seasonal[0][i % 4] + state->seasonal[1][i % 12];
    CHECK(fitted == Approx(y[i]).margin(0.5));
  }
}

TEST_CASE("multiplicative decomposition gives factors with mean one", "[forecast][decomposition]") {
  const std::size_t n = 24;
  auto layout = SeasonLayout::modular({4}, n);
  const std::vector<double> factor{0.5, 1.5, 1.2, 0.8};
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = 40 * factor[i % 4];
  auto state = decompose_initial_state(y, &layout, 1, false, true);
  REQUIRE(state.has_value());
  CHECK(state->level == Approx(40).epsilon(1e-12));
  for (std::size_t s = 0; s < 4; ++s)
    CHECK(state->seasonal[0][s] == Approx(factor[s]).epsilon(1e-12));
}

TEST_CASE("decomposition refuses what it cannot decompose, saying why",
          "[forecast][decomposition]") {
  auto layout = SeasonLayout::modular({10}, 15);
  std::vector<double> y(15, 1.0);
  auto short_history = decompose_initial_state(y, &layout, 1, true, false);
  REQUIRE(!short_history.has_value());
  CHECK(short_history.error().message.find("two cycles") != std::string::npos);

  std::vector<double> gappy(20, 1.0);
  auto layout20 = SeasonLayout::modular({10}, 20);
  for (std::size_t i = 10; i < 20; ++i) gappy[i] = std::numeric_limits<double>::quiet_NaN();
  auto empty_cycle = decompose_initial_state(gappy, &layout20, 1, true, false);
  REQUIRE(!empty_cycle.has_value());
  CHECK(empty_cycle.error().message.find("second cycle") != std::string::npos);
}
