// The candidates model selection adds beside Holt-Winters and ARIMA: Theta,
// any model on log(y), and a model on a cycle found in the data.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>

#include "prescale/forecast/found_period.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/log_transform.hpp"
#include "prescale/forecast/seasonal_naive.hpp"
#include "prescale/forecast/theta.hpp"

using namespace prescale::forecast;

namespace {

// Hourly load with a daily shape (factor 0.5 .. 1.5) on a rising level.
double daily_load(std::size_t t, double level, double growth) {
  const double shape = 1 + 0.5 * std::sin(2 * M_PI * static_cast<double>(t % 24) / 24);
  return (level + growth * static_cast<double>(t)) * shape;
}

FitInput input_for(const std::vector<double>& y, const SeasonLayout& layout) {
  FitInput input;
  input.y = y;
  input.layout = &layout;
  return input;
}

}  // namespace

TEST_CASE("theta follows a seasonal series with a trend", "[forecast][theta]") {
  std::vector<double> y(24 * 20), truth(24 * 22);
  for (std::size_t t = 0; t < truth.size(); ++t) truth[t] = daily_load(t, 100, 0.2);
  std::copy(truth.begin(), truth.begin() + static_cast<std::ptrdiff_t>(y.size()), y.begin());
  const auto layout = SeasonLayout::modular({24}, truth.size());
  FitResult fit = Theta().fit(input_for(y, layout));
  REQUIRE(fit.status == FitStatus::ok);
  CHECK(fit.fitted->name() == "theta(24)");
  CHECK(fit.fitted->parameters().at("drift") > 0);  // the level rises
  const Forecast f = fit.fitted->forecast(48);
  for (std::size_t h = 0; h < 48; ++h) {
    // The shape is found; Theta's half drift lags the trend a little.
    CHECK(std::abs(f.mean[h] - truth[y.size() + h]) / truth[y.size() + h] < 0.1);
    CHECK(f.sigma[h] > 0);
  }
  // update() is streaming: it advances the index and the forecast moves on.
  fit.fitted->update(truth[y.size()]);
  CHECK(fit.fitted->next_index() == y.size() + 1);
  CHECK(fit.fitted->forecast(1).mean[0] == Approx(f.mean[1]).epsilon(0.05));
}

TEST_CASE("theta needs four samples and two cycles for a season", "[forecast][theta]") {
  const auto layout = SeasonLayout::modular({24}, 100);
  const std::vector<double> three{1, 2, 3};
  CHECK(Theta().fit(input_for(three, layout)).status == FitStatus::too_short);
  std::vector<double> day(30);
  for (std::size_t t = 0; t < day.size(); ++t) day[t] = daily_load(t, 100, 0);
  const FitResult fit = Theta().fit(input_for(day, layout));
  REQUIRE(fit.status == FitStatus::ok);
  CHECK(fit.fitted->name() == "theta");
  CHECK_THAT(fit.message, Catch::Contains("shorter than two seasons"));
}

TEST_CASE("a log-transformed model grows by factors and keeps its interval's skew",
          "[forecast][log]") {
  // Load that grows 0.3 % an hour with a daily shape and 3 % noise:
  // additive on the log scale.
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.03);
  std::vector<double> y(24 * 21), truth(24 * 23);
  for (std::size_t t = 0; t < truth.size(); ++t)
    truth[t] = 50 * std::exp(0.003 * static_cast<double>(t)) *
               (1 + 0.5 * std::sin(2 * M_PI * static_cast<double>(t % 24) / 24));
  for (std::size_t t = 0; t < y.size(); ++t) y[t] = truth[t] * std::exp(noise(rng));
  const auto layout = SeasonLayout::modular({24}, truth.size());
  const LogTransformed model(
      std::make_shared<HoltWinters>(HoltWintersSpec{Trend::additive, Seasonality::additive, 1}));
  CHECK(model.name() == "log(holt-winters(A,A,A))");
  const FitResult fit = model.fit(input_for(y, layout));
  REQUIRE(fit.status == FitStatus::ok);
  CHECK(fit.fitted->name().rfind("log(holt-winters(A,A,A", 0) == 0);
  const Forecast f = fit.fitted->forecast(48);
  REQUIRE(f.sigma_lower.size() == 48);
  for (std::size_t h = 0; h < 48; ++h) {
    CHECK(std::abs(f.mean[h] - truth[y.size() + h]) / truth[y.size() + h] < 0.05);
    // exp() stretches the upper tail: the band is wider above than below.
    CHECK(f.sigma[h] > f.sigma_lower[h]);
    // The q0.1 it implies is exp(m - z s) (exact at z of 0.9): above zero.
    CHECK(f.mean[h] - 1.2815515655446004 * f.sigma_lower[h] > 0);
  }
}

TEST_CASE("a log transform refuses zeros and negatives, naming the sample", "[forecast][log]") {
  const auto layout = SeasonLayout::modular({4}, 20);
  const std::vector<double> y{3, 4, 5, 6, 3, 0, 5, 6};
  const FitResult fit = LogTransformed(std::make_shared<SeasonalNaive>()).fit(input_for(y, layout));
  CHECK(fit.status == FitStatus::invalid_input);
  CHECK(fit.fitted == nullptr);
  CHECK_THAT(fit.message, Catch::Contains("positive") && Catch::Contains("sample 5"));
}

TEST_CASE("a cycle other than the declared season is found in the recent history",
          "[forecast][found-period]") {
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0.0, 1.0);
  // A batch job every 23 hours (a spike and its tail), declared as daily.
  std::vector<double> drifting(24 * 14);
  for (std::size_t t = 0; t < drifting.size(); ++t)
    drifting[t] = 50 + (t % 23 < 3 ? 40.0 / static_cast<double>(1 + t % 23) : 0) + noise(rng);
  CHECK(recent_period(drifting, 24) == std::optional<std::uint32_t>(23));
  // The same job on the wall clock: nothing other than the declared season.
  std::vector<double> daily(24 * 14);
  for (std::size_t t = 0; t < daily.size(); ++t)
    daily[t] = 50 + (t % 24 < 3 ? 40.0 / static_cast<double>(1 + t % 24) : 0) + noise(rng);
  CHECK_FALSE(recent_period(daily, 24).has_value());
  // Flat, or shorter than the cycles searched: nothing.
  CHECK_FALSE(recent_period(std::vector<double>(24 * 14, 5.0), 24).has_value());
  CHECK_FALSE(
      recent_period(std::vector<double>(drifting.begin(), drifting.begin() + 100), 24).has_value());
}

TEST_CASE("a model on the found cycle forecasts at the cycle's phase", "[forecast][found-period]") {
  std::vector<double> y(24 * 10);
  for (std::size_t t = 0; t < y.size(); ++t) y[t] = 10 + static_cast<double>(t % 23);
  const auto layout = SeasonLayout::modular({24, 168}, y.size() + 48);
  const FoundPeriod model(std::make_shared<SeasonalNaive>());
  CHECK(model.name() == "seasonal-naive@found-period");
  const FitResult fit = model.fit(input_for(y, layout));
  REQUIRE(fit.status == FitStatus::ok);
  CHECK(fit.fitted->name() == "seasonal-naive(23)");
  const Forecast f = fit.fitted->forecast(48);
  for (std::size_t h = 0; h < 48; ++h)
    CHECK(f.mean[h] == 10 + static_cast<double>((y.size() + h) % 23));
  // Without a declared season there is nothing to search near.
  FitInput bare;
  bare.y = y;
  CHECK(model.fit(bare).fitted == nullptr);
}
