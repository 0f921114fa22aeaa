#include <catch2/catch.hpp>

#include "prescale/forecast/regression.hpp"

#include <cmath>
#include <random>

using namespace prescale::forecast;

TEST_CASE("least squares skips missing rows and names collinear columns",
          "[forecast][regression]") {
  const std::size_t n = 50;
  Eigen::MatrixXd x(n, 3);
  std::vector<double> y(n);
  for (std::size_t t = 0; t < n; ++t) {
    const auto i = static_cast<Eigen::Index>(t);
    x(i, 0) = 1.0;
    x(i, 1) = static_cast<double>(t);
    x(i, 2) = 2.0 * static_cast<double>(t) + 1.0;  // = x0 + 2 x1: dependent
    y[t] = 4.0 + 0.5 * static_cast<double>(t);
  }
  y[7] = std::nan("");
  const LinearFit fit = least_squares(x, y);
  CHECK(fit.observations == n - 1);
  REQUIRE(fit.dropped.size() == 1);
  CHECK(std::isnan(fit.residuals[7]));
  CHECK(fit.rss == Approx(0.0).margin(1e-12));
  const Eigen::VectorXd fitted = x * fit.coefficients;
  CHECK(fitted(20) == Approx(14.0));
}

TEST_CASE("KPSS differences a random walk and leaves white noise", "[forecast][regression]") {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  std::vector<double> noise(1000), walk(1000);
  double level = 0;
  for (std::size_t t = 0; t < noise.size(); ++t) {
    noise[t] = normal(rng);
    level += normal(rng);
    walk[t] = level;
  }
  CHECK(choose_differences(noise, 2) == 0);
  CHECK(choose_differences(walk, 2) == 1);
  CHECK(kpss_lags(8064) == 20);  // R's ndiffs: trunc(3 sqrt(n) / 13)
  const std::vector<double> d = difference(std::vector<double>{1, 4, 9, std::nan(""), 25}, 1);
  CHECK(std::isnan(d[0]));
  CHECK(d[2] == 5);
  CHECK(std::isnan(d[3]));
  CHECK(std::isnan(d[4]));
}
