#include <catch2/catch.hpp>

#include "prescale/forecast/fourier.hpp"

#include <cmath>

using namespace prescale::forecast;

TEST_CASE("Fourier columns follow the layout's local-time positions across DST",
          "[forecast][fourier]") {
  // Hourly slots of a day; on the spring-forward day local time jumps from
  // 02:00 to 03:00, so the 24-step stretch after it covers 25 local slots.
  SeasonLayout layout;
  layout.slots = {24};
  std::vector<std::uint32_t> positions;
  for (std::uint32_t h = 0; h < 24; ++h) positions.push_back(h);  // normal day
  for (std::uint32_t h = 0; h < 24; ++h)
    if (h != 2) positions.push_back(h);                           // 23-hour day
  for (std::uint32_t h = 0; h < 24; ++h) positions.push_back(h);  // normal day
  layout.positions = {positions};
  const FourierBasis basis({24}, {2});
  REQUIRE(basis.columns() == 4);
  const Eigen::MatrixXd x = basis.matrix(layout, 0, layout.size());
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    const double angle = 2 * M_PI * layout.positions[0][static_cast<std::size_t>(i)] / 24.0;
    CHECK(x(i, 0) == Approx(std::sin(angle)).margin(1e-12));
    CHECK(x(i, 1) == Approx(std::cos(angle)).margin(1e-12));
    CHECK(x(i, 2) == Approx(std::sin(2 * angle)).margin(1e-12));
  }
  // 09:00 local has the same phase on all three days despite the 23-hour day
  // (a UTC-modular basis would be an hour off on day 3).
  const Eigen::Index nine_day1 = 9, nine_day2 = 24 + 8, nine_day3 = 24 + 23 + 9;
  CHECK(x.row(nine_day1).isApprox(x.row(nine_day2)));
  CHECK(x.row(nine_day1).isApprox(x.row(nine_day3)));
  const Eigen::MatrixXd modular =
      basis.matrix(SeasonLayout::modular({24}, layout.size()), 0, layout.size());
  CHECK_FALSE(modular.row(nine_day1).isApprox(modular.row(nine_day3)));
}

TEST_CASE("duplicate frequencies and Nyquist sines are left out", "[forecast][fourier]") {
  // The 7th weekly harmonic is the daily fundamental: kept once.
  const FourierBasis basis({288, 2016}, {2, 8});
  const auto names = basis.names();
  CHECK(basis.columns() == 2 * 2 + 2 * 7);
  CHECK(std::count(names.begin(), names.end(), "S7-2016") == 0);
  CHECK(std::count(names.begin(), names.end(), "S8-2016") == 1);
  CHECK(names.front() == "S1-288");
  // For 4 slots, K = 2 is the Nyquist harmonic: cos only.
  const FourierBasis small({4}, {5});
  CHECK(small.harmonics()[0] == 2);
  CHECK(small.columns() == 3);
  CHECK(max_harmonics(288) == 144);
}
