#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/seasonal_naive.hpp"

using namespace prescale::forecast;

TEST_CASE("origins are spaced over the end of the history", "[forecast][backtest]") {
  BacktestOptions options;
  options.horizon = 4;
  options.origins = 3;
  CHECK(backtest_origins(100, nullptr, options) == std::vector<std::size_t>{88, 92, 96});
  // A daily season of 24 slots and 8 origins: spacing max(4, 24/8) = 4,
  // and at least two days of training.
  const auto layout = SeasonLayout::modular({24}, 100);
  options.origins = 8;
  const auto spread = backtest_origins(100, &layout, options);
  REQUIRE(spread.size() == 8);
  CHECK(spread.front() == 68);
  CHECK(spread.back() == 96);
  options.origins = 50;
  const auto limited = backtest_origins(100, &layout, options);
  CHECK(limited.front() >= 48);  // never less than two seasons of history
  CHECK(backtest_origins(4, nullptr, options).empty());
}

TEST_CASE("each origin sees only the data before it", "[forecast][backtest]") {
  // y[i] = i and the naive model: from origin o the forecast is o-1, so the
  // h-step error is h and the naive in-sample MAE is 1; any look-ahead
  // would change these numbers.
  std::vector<double> y(200);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<double>(i);
  FitInput input;
  input.y = y;
  const SeasonalNaive naive;
  const Model* models[] = {&naive};
  for (bool refit : {false, true}) {
    CAPTURE(refit);
    BacktestOptions options;
    options.horizon = 4;
    options.origins = 5;
    options.refit_each_origin = refit;
    std::size_t calls = 0;
    const auto report = backtest(input, models, options,
                                 [&](std::size_t done, std::size_t total, const std::string&) {
                                   ++calls;
                                   CHECK(done == 1);
                                   CHECK(total == 1);
                                 });
    CHECK(calls == 1);
    REQUIRE(report.origins.size() == 5);
    REQUIRE(report.models.size() == 1);
    const auto& r = report.models[0];
    CHECK(r.status == FitStatus::ok);
    CHECK(r.origins_scored == 5);
    CHECK(r.mase == Approx(2.5));  // mean of h = 1..4
    CHECK(r.smape > 0);
    CHECK(r.fit_seconds_mean >= 0);
  }
}

TEST_CASE("coverage of the interval is near its nominal level on noise", "[forecast][backtest]") {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  const std::size_t season = 24;
  std::vector<double> y(24 * 60);
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = 10 * std::sin(2 * M_PI * i / season) + noise(rng);
  const auto layout = SeasonLayout::modular({season}, y.size());
  FitInput input;
  input.y = y;
  input.layout = &layout;
  const SeasonalNaive naive;
  const Model* models[] = {&naive};
  BacktestOptions options;
  options.horizon = 24;
  options.origins = 20;
  options.origin_spacing = 24;
  options.quantile = 0.9;
  const auto report = backtest(input, models, options);
  const auto& r = report.models[0];
  REQUIRE(r.status == FitStatus::ok);
  CHECK(r.coverage == Approx(0.8).margin(0.1));  // [q10, q90] holds 80 %
  CHECK(r.mase == Approx(1.0).margin(0.25));     // seasonal naive against itself
}

TEST_CASE("a model that cannot fit is reported, not scored", "[forecast][backtest]") {
  std::vector<double> y(100, kMissing);
  FitInput input;
  input.y = y;
  const SeasonalNaive naive;
  const Model* models[] = {&naive};
  BacktestOptions options;
  options.horizon = 4;
  options.origins = 2;
  const auto report = backtest(input, models, options);
  REQUIRE(report.models.size() == 1);
  CHECK(report.models[0].status == FitStatus::too_short);
  CHECK(std::isnan(report.models[0].mase));
  CHECK_FALSE(report.models[0].message.empty());
}

TEST_CASE("models backtested on several threads give the same report", "[forecast][backtest]") {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 2);
  std::vector<double> y(24 * 7 * 4);
  for (std::size_t i = 0; i < y.size(); ++i)
    y[i] = 100 + 30 * std::sin(2 * M_PI * static_cast<double>(i % 24) / 24) +
           (i % 168 >= 120 ? -20 : 0) + noise(rng);
  const auto layout = SeasonLayout::modular({24, 168}, y.size() + 24);
  FitInput input;
  input.y = y;
  input.layout = &layout;
  std::vector<std::unique_ptr<Model>> owned;
  owned.push_back(std::make_unique<SeasonalNaive>());
  for (const HoltWintersSpec& spec : all_holt_winters_specs())
    owned.push_back(std::make_unique<HoltWinters>(spec));
  std::vector<const Model*> models;
  for (const auto& m : owned) models.push_back(m.get());
  BacktestOptions options;
  options.horizon = 6;
  std::vector<std::size_t> progress_calls;
  const BacktestReport one = backtest(input, models, options);
  options.threads = 3;
  const BacktestReport three = backtest(
      input, models, options, [&](std::size_t done, std::size_t total, const std::string&) {
        CHECK(total == models.size());
        progress_calls.push_back(done);
      });
  REQUIRE(three.models.size() == one.models.size());
  for (std::size_t m = 0; m < one.models.size(); ++m) {
    INFO(one.models[m].model);
    CHECK(three.models[m].model == one.models[m].model);
    CHECK(three.models[m].mase == one.models[m].mase);
    CHECK(three.models[m].errors.size() == one.models[m].errors.size());
    CHECK(three.models[m].origin_parameters == one.models[m].origin_parameters);
  }
  // One call per model, counting up, one at a time.
  REQUIRE(progress_calls.size() == models.size());
  for (std::size_t i = 0; i < progress_calls.size(); ++i) CHECK(progress_calls[i] == i + 1);
}
