#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "prescale/forecast/metrics.hpp"
#include "prescale/forecast/series.hpp"

using namespace prescale::forecast;

TEST_CASE("MASE follows Hyndman and Koehler, NaN-safe", "[forecast][metrics]") {
  // Seasonal naive (lag 2) in-sample errors: |3-1|, |4-2|, |7-3|, |8-4| -> MAE 3.
  const std::vector<double> train = {1, 2, 3, 4, 7, 8};
  CHECK(seasonal_naive_scale(train, 2) == Approx(3.0));
  CHECK(seasonal_naive_scale(train, 1) == Approx((1 + 1 + 1 + 3 + 1) / 5.0));
  const std::vector<double> gappy = {1, kMissing, 3, 4, 7, 8};
  CHECK(seasonal_naive_scale(gappy, 2) == Approx((2 + 4 + 4) / 3.0));
  CHECK(std::isnan(seasonal_naive_scale(std::vector<double>{1, 2}, 2)));

  const std::vector<double> actual = {10, 12, kMissing};
  const std::vector<double> predicted = {13, 9, 5};
  CHECK(mase(actual, predicted, 3.0) == Approx(1.0));
  CHECK(std::isnan(mase(actual, predicted, kMissing)));
  CHECK(mase(actual, std::vector<double>{10, 12, 0}, 0.0) == 0.0);  // perfect on a constant
  CHECK(std::isnan(mase(actual, predicted, 0.0)));
}

TEST_CASE("the MASE lag is the longest season with two cycles of history", "[forecast][metrics]") {
  const std::vector<std::uint32_t> seasons = {288, 2016};
  CHECK(mase_lag(seasons, 8064) == 2016);
  CHECK(mase_lag(seasons, 4031) == 288);
  CHECK(mase_lag(seasons, 500) == 1);
  CHECK(mase_lag({}, 500) == 1);
}

TEST_CASE("sMAPE and interval coverage", "[forecast][metrics]") {
  const std::vector<double> actual = {100, 0, 50, kMissing};
  const std::vector<double> predicted = {50, 0, 50, 1};
  // 200*50/150, 0 (both zero), 0
  CHECK(smape(actual, predicted) == Approx(200.0 * 50 / 150 / 3));
  CHECK(std::isnan(smape(std::vector<double>{kMissing}, std::vector<double>{1})));
  const std::vector<double> lower = {90, -1, 51, 0};
  const std::vector<double> upper = {110, 1, 60, 2};
  CHECK(interval_coverage(actual, lower, upper) == Approx(2.0 / 3.0));
}
