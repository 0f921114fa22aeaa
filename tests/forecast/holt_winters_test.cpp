// Holt-Winters family: recovery on series of known structure, gaps,
// constant data, fallbacks, DST layouts, streaming updates and intervals.
// Hourly data (24 and 168 slots) keeps the suite fast, also under ASan.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "prescale/forecast/holt_winters.hpp"

using namespace prescale::forecast;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double daily(std::uint32_t hour) {
  return 20 * std::sin(2 * M_PI * (hour + 3) / 24.0) + 6 * std::cos(4 * M_PI * hour / 24.0);
}
double weekly(std::uint32_t hour_of_week) {
  return hour_of_week / 24 >= 5 ? -15.0 : 6.0;
}

/// Day + week pattern on an hourly grid with noise of sd `noise`.
std::vector<double> double_seasonal(std::size_t n, double noise, std::uint32_t seed,
                                    double level = 200) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> eps(0.0, noise);
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = level + daily(i % 24) + weekly(i % 168) + eps(rng);
  return y;
}

/// Simulates ETS(A,N,A), one period, with known alpha/gamma and unit noise.
std::vector<double> simulate_ana(std::size_t n, double alpha, double gamma, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> eps(0.0, 1.0);
  double level = 100;
  std::vector<double> season(24);
  for (std::uint32_t s = 0; s < 24; ++s) season[s] = 8 * std::sin(2 * M_PI * s / 24);
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double e = eps(rng);
    y[i] = level + season[i % 24] + e;
    level += alpha * e;
    season[i % 24] += gamma * e;
  }
  return y;
}

FitResult fit(const HoltWintersSpec& spec, const std::vector<double>& y,
              const SeasonLayout& layout) {
  FitInput input;
  input.y = y;
  input.layout = &layout;
  return HoltWinters(spec).fit(input);
}

}  // namespace

TEST_CASE("names and the family list", "[forecast][holt-winters]") {
  CHECK(HoltWinters({Trend::damped, Seasonality::additive}).name() == "holt-winters(A,Ad,A)");
  CHECK(HoltWinters({Trend::none, Seasonality::multiplicative}).name() == "holt-winters(A,N,M)");
  CHECK(all_holt_winters_specs().size() == 6);
  const auto y = double_seasonal(24 * 7 * 3, 1.0, 1);
  const auto layout = SeasonLayout::modular({24, 168}, y.size() + 48);
  const auto result = fit({Trend::damped, Seasonality::additive}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  CHECK(result.fitted->name() == "holt-winters(A,Ad,A;24,168)");
  const auto parameters = result.fitted->parameters();
  for (const char* key : {"alpha", "beta", "phi", "gamma1", "gamma2"})
    CHECK(parameters.count(key) == 1);
  CHECK(parameters.at("phi") >= 0.8);
  CHECK(parameters.at("phi") <= 0.98);
  CHECK(parameters.at("beta") <= parameters.at("alpha"));

  HoltWintersSpec daily_only{Trend::none, Seasonality::additive};
  daily_only.max_periods = 1;
  const auto one = fit(daily_only, y, layout);
  REQUIRE(one.status == FitStatus::ok);
  CHECK(one.fitted->name() == "holt-winters(A,N,A;24)");
  CHECK(one.message.empty());
}

TEST_CASE("fitting recovers alpha and gamma of a simulated ETS(A,N,A)",
          "[forecast][holt-winters]") {
  const auto y = simulate_ana(24 * 80, 0.3, 0.15, 7);
  const auto layout = SeasonLayout::modular({24}, y.size() + 24);
  const auto result = fit({Trend::none, Seasonality::additive}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  const auto p = result.fitted->parameters();
  // Tolerances: a few standard errors for 1,920 samples.
  CHECK(p.at("alpha") == Approx(0.3).margin(0.06));
  CHECK(p.at("gamma1") == Approx(0.15).margin(0.08));
  CHECK(result.fitted->residual_variance() == Approx(1.0).epsilon(0.12));
}

TEST_CASE("double-seasonal fit forecasts the day and week pattern", "[forecast][holt-winters]") {
  const std::size_t n = 24 * 7 * 4;
  const auto y = double_seasonal(n, 1.0, 2);
  const auto layout = SeasonLayout::modular({24, 168}, n + 168);
  for (auto spec : {HoltWintersSpec{Trend::damped, Seasonality::additive},
                    HoltWintersSpec{Trend::none, Seasonality::additive},
                    HoltWintersSpec{Trend::additive, Seasonality::multiplicative}}) {
    INFO(HoltWinters(spec).name());
    const auto result = fit(spec, y, layout);
    REQUIRE(result.status == FitStatus::ok);
    const Forecast f = result.fitted->forecast(168);
    REQUIRE(f.size() == 168);
    double worst = 0;
    for (std::size_t h = 0; h < 168; ++h) {
      const std::size_t i = n + h;
      worst = std::max(worst, std::abs(f.mean[h] - (200 + daily(i % 24) + weekly(i % 168))));
      CHECK(f.sigma[h] > 0);
      // Additive errors accumulate; multiplicative sigma also follows the seasonal factor.
      if (h > 0 && spec.seasonality == Seasonality::additive)
        CHECK(f.sigma[h] >= f.sigma[h - 1] - 1e-12);
    }
    // Noise sd 1; a week ahead the forecast stays within 4 of the truth.
    CHECK(worst < 4.0);
  }
}

TEST_CASE("a warm start from a fit on a prefix reaches the cold fit's optimum",
          "[forecast][holt-winters]") {
  const std::size_t n = 24 * 7 * 5;
  const auto y = double_seasonal(n, 2.0, 11);
  const auto layout = SeasonLayout::modular({24, 168}, n + 168);
  const HoltWinters model({Trend::damped, Seasonality::additive});
  FitInput prefix;
  prefix.y = std::span<const double>(y).first(n - 24 * 7);
  prefix.layout = &layout;
  const auto earlier = model.fit(prefix);
  REQUIRE(earlier.status == FitStatus::ok);
  const auto hint = earlier.fitted->parameters();

  FitInput whole;
  whole.y = y;
  whole.layout = &layout;
  const auto cold = model.fit(whole);
  whole.warm_start = &hint;
  const auto warm = model.fit(whole);
  REQUIRE(cold.status == FitStatus::ok);
  REQUIRE(warm.status == FitStatus::ok);
  // Same optimum up to the search's tolerance: in-sample error within 0.5%.
  CHECK(warm.fitted->residual_variance() <= cold.fitted->residual_variance() * 1.005);

  // Parameters of another shape (no trend: no beta, no phi) are not used.
  const std::map<std::string, double> other{{"alpha", 0.5}, {"gamma1", 0.1}};
  whole.warm_start = &other;
  const auto mismatched = model.fit(whole);
  REQUIRE(mismatched.status == FitStatus::ok);
  CHECK(mismatched.fitted->parameters() == cold.fitted->parameters());
}

TEST_CASE("a linear trend is extrapolated", "[forecast][holt-winters]") {
  const std::size_t n = 24 * 30;
  std::mt19937 rng(3);
  std::normal_distribution<double> eps(0.0, 0.5);
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i)
    y[i] = 50 + 0.2 * static_cast<double>(i) + daily(i % 24) + eps(rng);
  const auto layout = SeasonLayout::modular({24}, n + 48);
  const auto result = fit({Trend::additive, Seasonality::additive}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  const Forecast f = result.fitted->forecast(48);
  for (std::size_t h = 0; h < 48; ++h) {
    const std::size_t i = n + h;
    CHECK(f.mean[h] == Approx(50 + 0.2 * static_cast<double>(i) + daily(i % 24)).margin(2.0));
  }
}

TEST_CASE("NaN gaps are stepped over", "[forecast][holt-winters]") {
  const std::size_t n = 24 * 7 * 4;
  auto y = double_seasonal(n, 1.0, 4);
  for (std::size_t i = 3; i < n; i += 9) y[i] = kNaN;
  for (std::size_t i = 24 * 10; i < 24 * 11 + 5; ++i) y[i] = kNaN;  // a day and a bit
  const auto layout = SeasonLayout::modular({24, 168}, n + 24);
  const auto result = fit({Trend::damped, Seasonality::additive}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  const Forecast f = result.fitted->forecast(24);
  for (std::size_t h = 0; h < 24; ++h) {
    const std::size_t i = n + h;
    CHECK(f.mean[h] == Approx(200 + daily(i % 24) + weekly(i % 168)).margin(4.0));
  }
  CHECK(std::isfinite(result.fitted->residual_variance()));
}

TEST_CASE("a constant series forecasts the constant", "[forecast][holt-winters]") {
  const std::vector<double> y(24 * 7 * 2 + 5, 42.5);
  const auto layout = SeasonLayout::modular({24, 168}, y.size() + 30);
  for (const auto& spec : all_holt_winters_specs()) {
    INFO(HoltWinters(spec).name());
    const auto result = fit(spec, y, layout);
    REQUIRE(result.status == FitStatus::ok);
    const Forecast f = result.fitted->forecast(30);
    for (std::size_t h = 0; h < 30; ++h) {
      CHECK(f.mean[h] == Approx(42.5).epsilon(1e-12));
      CHECK(f.sigma[h] < 1e-9);
    }
  }
}

TEST_CASE("multiplicative seasonality on data with zeros falls back to additive",
          "[forecast][holt-winters]") {
  auto y = double_seasonal(24 * 7 * 3, 1.0, 5, 20);
  for (double& v : y) v = std::max(v, 0.0);
  y[30] = 0;
  const auto layout = SeasonLayout::modular({24, 168}, y.size() + 24);
  const auto result = fit({Trend::damped, Seasonality::multiplicative}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  CHECK(result.fitted->name() == "holt-winters(A,Ad,A;24,168)");
  CHECK(result.message.find("multiplicative seasonality needs positive data") != std::string::npos);
}

TEST_CASE("multiplicative seasonality fits proportional swings", "[forecast][holt-winters]") {
  const std::size_t n = 24 * 28;
  std::mt19937 rng(6);
  std::normal_distribution<double> eps(0.0, 0.01);
  std::vector<double> y(n);
  auto factor = [](std::size_t i) {
    return 1 + 0.5 * std::sin(2 * M_PI * static_cast<double>(i % 24) / 24);
  };
  for (std::size_t i = 0; i < n; ++i)
    y[i] = (100 + 0.5 * static_cast<double>(i)) * factor(i) * (1 + eps(rng));
  const auto layout = SeasonLayout::modular({24}, n + 24);
  const auto result = fit({Trend::additive, Seasonality::multiplicative}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  CHECK(result.fitted->name() == "holt-winters(A,A,M;24)");
  const Forecast f = result.fitted->forecast(24);
  for (std::size_t h = 0; h < 24; ++h) {
    const std::size_t i = n + h;
    CHECK(f.mean[h] == Approx((100 + 0.5 * static_cast<double>(i)) * factor(i)).epsilon(0.03));
  }
}

TEST_CASE("too short a history drops seasons, saying why", "[forecast][holt-winters]") {
  const auto layout = SeasonLayout::modular({24, 168}, 24 * 14 + 24);
  SECTION("five days: the week is dropped") {
    const auto y = double_seasonal(24 * 5, 1.0, 8);
    const auto result = fit({Trend::damped, Seasonality::additive}, y, layout);
    REQUIRE(result.status == FitStatus::ok);
    CHECK(result.fitted->name() == "holt-winters(A,Ad,A;24)");
    CHECK(result.message.find("shorter than two cycles of 168 slots") != std::string::npos);
    CHECK(result.fitted->parameters().count("gamma2") == 0);
  }
  SECTION("one day: no season is left, but a level still fits") {
    const auto y = double_seasonal(24, 1.0, 9);
    const auto result = fit({Trend::damped, Seasonality::additive}, y, layout);
    REQUIRE(result.status == FitStatus::ok);
    CHECK(result.fitted->name() == "holt-winters(A,Ad,N)");
    CHECK(result.message.find("24 slots") != std::string::npos);
  }
  SECTION("three samples: too short") {
    const std::vector<double> y{1, 2, kNaN, 3};
    const auto result = fit({Trend::damped, Seasonality::additive}, y, layout);
    CHECK(result.status == FitStatus::too_short);
    CHECK(result.message.find("3 valid samples") != std::string::npos);
    CHECK(!result.fitted);
  }
}

TEST_CASE("invalid input is named", "[forecast][holt-winters]") {
  auto y = double_seasonal(100, 1.0, 10);
  y[17] = std::numeric_limits<double>::infinity();
  const auto layout = SeasonLayout::modular({24}, 100);
  auto result = fit({Trend::none, Seasonality::additive}, y, layout);
  CHECK(result.status == FitStatus::invalid_input);
  CHECK(result.message.find("sample 17") != std::string::npos);

  const auto too_many = SeasonLayout::modular({2, 3, 4, 5}, 100);
  y[17] = 1;
  result = fit({Trend::none, Seasonality::additive}, y, too_many);
  CHECK(result.status == FitStatus::invalid_input);

  const auto short_layout = SeasonLayout::modular({24}, 50);
  result = fit({Trend::none, Seasonality::additive}, y, short_layout);
  CHECK(result.status == FitStatus::invalid_input);
}

TEST_CASE("a DST layout keeps the wall-clock slots", "[forecast][holt-winters]") {
  // Hourly samples, local-hour slots. Day 20 has 23 hours (02:00 skipped),
  // day 34 has 25 (01:00 twice); the load follows the local hour.
  std::vector<std::uint32_t> hours;
  for (int day = 0; day < 50; ++day) {
    for (std::uint32_t hour = 0; hour < 24; ++hour) {
      if (day == 20 && hour == 2) continue;
      hours.push_back(hour);
      if (day == 34 && hour == 1) hours.push_back(hour);
    }
  }
  SeasonLayout layout;
  layout.slots = {24};
  layout.positions = {hours};
  const std::size_t n = 24 * 40;  // history ends after the 25-hour day; day 20 is inside it
  std::mt19937 rng(11);
  std::normal_distribution<double> eps(0.0, 0.5);
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = 100 + daily(hours[i]) + eps(rng);
  FitInput input;
  input.y = y;
  input.layout = &layout;
  const auto result = HoltWinters({Trend::none, Seasonality::additive}).fit(input);
  REQUIRE(result.status == FitStatus::ok);
  const Forecast f = result.fitted->forecast(48);
  for (std::size_t h = 0; h < 48; ++h)
    CHECK(f.mean[h] == Approx(100 + daily(hours[n + h])).margin(2.0));

  // The same data on a plain modular layout is an hour off after the DST days.
  const auto modular = SeasonLayout::modular({24}, hours.size());
  input.layout = &modular;
  const auto shifted = HoltWinters({Trend::none, Seasonality::additive}).fit(input);
  REQUIRE(shifted.status == FitStatus::ok);
  CHECK(shifted.fitted->residual_variance() > 1.5 * result.fitted->residual_variance());
}

TEST_CASE("update() then forecast() equals the recursion over the extended data",
          "[forecast][holt-winters]") {
  const std::size_t n = 24 * 7 * 3, extra = 100;
  auto all = double_seasonal(n + extra, 2.0, 12);
  all[n + 10] = kNaN;
  const auto layout = SeasonLayout::modular({24, 168}, n + extra + 48);
  const std::vector<double> history(all.begin(), all.begin() + static_cast<long>(n));
  const HoltWinters model({Trend::damped, Seasonality::additive});
  FitInput input;
  input.y = history;
  input.layout = &layout;
  auto result = model.fit(input);
  REQUIRE(result.status == FitStatus::ok);
  auto& fitted = *result.fitted;
  for (std::size_t i = n; i < n + extra; ++i) fitted.update(all[i]);
  CHECK(fitted.next_index() == n + extra);

  const auto p = fitted.parameters();
  SmoothingParameters parameters;
  parameters.alpha = p.at("alpha");
  parameters.beta = p.at("beta");
  parameters.phi = p.at("phi");
  parameters.gamma = {p.at("gamma1"), p.at("gamma2"), 0};
  FitInput extended;
  extended.y = all;
  extended.layout = &layout;
  const auto replay = model.fit_with_parameters(extended, parameters);
  REQUIRE(replay.status == FitStatus::ok);
  const Forecast a = fitted.forecast(48), b = replay.fitted->forecast(48);
  for (std::size_t h = 0; h < 48; ++h) {
    CHECK(a.mean[h] == Approx(b.mean[h]).epsilon(1e-12));
    CHECK(a.sigma[h] == Approx(b.sigma[h]).epsilon(1e-12));
  }
  // clone() is an independent copy.
  auto copy = fitted.clone();
  copy->update(500);
  CHECK(fitted.next_index() == n + extra);
  CHECK(copy->forecast(1).mean[0] != fitted.forecast(1).mean[0]);
}

TEST_CASE("90% intervals cover about 90% of one-step outcomes", "[forecast][holt-winters]") {
  const std::size_t n = 24 * 20, outcomes = 3000;
  const auto y = simulate_ana(n + outcomes, 0.2, 0.1, 13);
  const auto layout = SeasonLayout::modular({24}, y.size() + 1);
  const std::vector<double> history(y.begin(), y.begin() + static_cast<long>(n));
  FitInput input;
  input.y = history;
  input.layout = &layout;
  auto result = HoltWinters({Trend::none, Seasonality::additive}).fit(input);
  REQUIRE(result.status == FitStatus::ok);
  std::size_t covered = 0;
  for (std::size_t i = n; i < n + outcomes; ++i) {
    const Forecast f = result.fitted->forecast(1);
    covered += (y[i] >= f.quantile(0, 0.05) && y[i] <= f.quantile(0, 0.95)) ? 1 : 0;
    result.fitted->update(y[i]);
  }
  const double coverage = static_cast<double>(covered) / outcomes;
  INFO("coverage " << coverage);
  CHECK(coverage >= 0.85);
  CHECK(coverage <= 0.95);
}

TEST_CASE("h-step sigma follows the ETS(A,N,A) formula", "[forecast][holt-winters]") {
  const auto y = simulate_ana(24 * 20, 0.2, 0.1, 14);
  const auto layout = SeasonLayout::modular({24}, y.size() + 60);
  const auto result = fit({Trend::none, Seasonality::additive}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  const auto p = result.fitted->parameters();
  const double alpha = p.at("alpha"), gamma = p.at("gamma1"),
               s2 = result.fitted->residual_variance();
  const Forecast f = result.fitted->forecast(60);
  // Hyndman et al. (2008), Table 6.1, class 1: v_h = s2 (1 + (h-1) alpha^2 + k gamma (2 alpha +
  // gamma)), k = number of whole seasons before step h.
  for (std::size_t h = 1; h <= 60; ++h) {
    const double k = std::floor((static_cast<double>(h) - 1) / 24);
    const double v =
        s2 * (1 + (static_cast<double>(h) - 1) * alpha * alpha + k * gamma * (2 * alpha + gamma));
    CHECK(f.sigma[h - 1] == Approx(std::sqrt(v)).epsilon(1e-9));
  }
}

TEST_CASE("h-step sigma counts every earlier step in the same slot of each season",
          "[forecast][holt-winters]") {
  // Two seasons (24 and 168 slots) over 400 steps: a step a whole week back
  // shares both slots and carries both gammas. Additive model, no trend:
  // v_h = s2 (1 + sum_{j<h} (alpha + gamma1 [24 | h-j] + gamma2 [168 | h-j])^2).
  const auto y = double_seasonal(24 * 7 * 4, 1.0, 15);
  const std::size_t horizon = 400;
  const auto layout = SeasonLayout::modular({24, 168}, y.size() + horizon);
  const auto result = fit({Trend::none, Seasonality::additive}, y, layout);
  REQUIRE(result.status == FitStatus::ok);
  const auto p = result.fitted->parameters();
  const double alpha = p.at("alpha"), gamma1 = p.at("gamma1"), gamma2 = p.at("gamma2"),
               s2 = result.fitted->residual_variance();
  const Forecast f = result.fitted->forecast(horizon);
  REQUIRE(f.size() == horizon);
  for (std::size_t h = 1; h <= horizon; ++h) {
    double total = 0;
    for (std::size_t j = 1; j < h; ++j) {
      const double c =
          alpha + ((h - j) % 24 == 0 ? gamma1 : 0.0) + ((h - j) % 168 == 0 ? gamma2 : 0.0);
      total += c * c;
    }
    CAPTURE(h);
    CHECK(f.sigma[h - 1] == Approx(std::sqrt(s2 * (1 + total))).epsilon(1e-9));
  }
}

TEST_CASE("without a layout a non-seasonal model is fitted", "[forecast][holt-winters]") {
  std::vector<double> y(200);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = 10 + 0.5 * static_cast<double>(i);
  FitInput input;
  input.y = y;
  const auto result = HoltWinters({Trend::additive, Seasonality::multiplicative}).fit(input);
  REQUIRE(result.status == FitStatus::ok);
  CHECK(result.fitted->name() == "holt-winters(A,A,N)");
  const Forecast f = result.fitted->forecast(10);
  for (std::size_t h = 0; h < 10; ++h)
    CHECK(f.mean[h] == Approx(10 + 0.5 * static_cast<double>(200 + h)).epsilon(1e-6));
}
