#include <catch2/catch.hpp>

#include "prescale/forecast/model.hpp"

using namespace prescale::forecast;

TEST_CASE("normal quantiles match the standard table", "[forecast]") {
  CHECK(normal_quantile(0.5) == Approx(0.0).margin(1e-12));
  CHECK(normal_quantile(0.9) == Approx(1.2815515655446004).epsilon(1e-12));
  CHECK(normal_quantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
  CHECK(normal_quantile(0.001) == Approx(-3.090232306167813).epsilon(1e-12));
  CHECK(std::isnan(normal_quantile(0.0)));
  CHECK(std::isnan(normal_quantile(1.0)));
}

TEST_CASE("modular layouts cycle through their slots", "[forecast]") {
  auto layout = SeasonLayout::modular({4, 8}, 10);
  REQUIRE(layout.periods() == 2);
  REQUIRE(layout.size() == 10);
  CHECK(layout.positions[0][5] == 1);
  CHECK(layout.positions[1][9] == 1);
}
