#include <catch2/catch.hpp>

#include "prescale/forecast/arima.hpp"
#include "prescale/forecast/series.hpp"

#include <cmath>
#include <random>
#include <vector>

using namespace prescale::forecast;

namespace {

// phi(B) w = theta(B) e with N(0, sigma^2) innovations, after a burn-in.
std::vector<double> simulate(const std::vector<double>& ar, const std::vector<double>& ma,
                             std::size_t n, unsigned seed, double sigma = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, sigma);
  const std::size_t burn = 300;
  std::vector<double> w(n + burn, 0.0), e(n + burn, 0.0);
  for (std::size_t t = 0; t < n + burn; ++t) {
    e[t] = normal(rng);
    double v = e[t];
    for (std::size_t i = 0; i < ar.size() && i < t; ++i) v += ar[i] * w[t - i - 1];
    for (std::size_t j = 0; j < ma.size() && j < t; ++j) v += ma[j] * e[t - j - 1];
    w[t] = v;
  }
  return {w.begin() + burn, w.end()};
}

FitResult fit_fixed(std::span<const double> y, int p, int d, int q,
                    const SeasonLayout* layout = nullptr,
                    const Eigen::MatrixXd* regressors = nullptr,
                    std::vector<std::string> names = {}) {
  ArimaOptions options;
  options.p = p;
  options.d = d;
  options.q = q;
  FitInput input;
  input.y = y;
  input.layout = layout;
  input.regressors = regressors;
  input.regressor_names = std::move(names);
  return ArimaModel(options).fit(input);
}

}  // namespace

TEST_CASE("ARIMA recovers known AR and MA coefficients", "[forecast][arima]") {
  SECTION("AR(2)") {
    const auto y = simulate({0.6, -0.3}, {}, 2000, 1);
    const FitResult fit = fit_fixed(y, 2, 0, 0);
    REQUIRE(fit.status == FitStatus::ok);
    const auto params = fit.fitted->parameters();
    CHECK(params.at("ar1") == Approx(0.6).margin(0.06));
    CHECK(params.at("ar2") == Approx(-0.3).margin(0.06));
    CHECK(params.at("sigma2") == Approx(1.0).margin(0.1));
    CHECK(fit.fitted->name() == "arima(2,0,0)");
  }
  SECTION("ARMA(1,1) with a mean") {
    auto y = simulate({0.7}, {0.4}, 2000, 2);
    for (double& v : y) v += 50.0;
    const FitResult fit = fit_fixed(y, 1, 0, 1);
    REQUIRE(fit.status == FitStatus::ok);
    const auto params = fit.fitted->parameters();
    CHECK(params.at("ar1") == Approx(0.7).margin(0.06));
    CHECK(params.at("ma1") == Approx(0.4).margin(0.08));
    CHECK(params.at("intercept") == Approx(50.0).margin(0.5));
  }
  SECTION(
      "MA(2) on an integrated series: fixed orders recover it, the stepwise search is no worse") {
    const auto w = simulate({}, {0.5, 0.3}, 1500, 3);
    std::vector<double> y(w.size());
    double level = 100;
    for (std::size_t t = 0; t < w.size(); ++t) y[t] = level += w[t];
    const FitResult fixed = fit_fixed(y, 0, 1, 2);
    REQUIRE(fixed.status == FitStatus::ok);
    CHECK(fixed.fitted->parameters().at("ma1") == Approx(0.5).margin(0.08));
    CHECK(fixed.fitted->parameters().at("ma2") == Approx(0.3).margin(0.08));
    FitInput input;
    input.y = y;
    const FitResult searched = ArimaModel().fit(input);
    REQUIRE(searched.status == FitStatus::ok);
    INFO(searched.message);
    // d by KPSS; the (CSS-ranked, then exactly refitted) stepwise choice may
    // differ from the truth but not be clearly worse by its own criterion.
    CHECK(searched.fitted->name().find(",1,") != std::string::npos);
    CHECK(searched.fitted->parameters().at("aicc") <= fixed.fitted->parameters().at("aicc") + 4.0);
  }
}

TEST_CASE("ARIMA forecasts of an AR(1) match the closed form and update in O(1)",
          "[forecast][arima]") {
  auto y = simulate({0.8}, {}, 600, 4);
  for (double& v : y) v += 10.0;
  FitResult fit = fit_fixed(y, 1, 0, 0);
  REQUIRE(fit.status == FitStatus::ok);
  auto params = fit.fitted->parameters();
  const double phi = params.at("ar1"), mu = params.at("intercept"), s2 = params.at("sigma2");
  auto check = [&](const FittedModel& model, double last) {
    const Forecast f = model.forecast(4);
    REQUIRE(f.size() == 4);
    double variance = 0;
    for (std::size_t h = 0; h < 4; ++h) {
      variance = variance * phi * phi + s2;
      CHECK(f.mean[h] == Approx(mu + std::pow(phi, h + 1) * (last - mu)).epsilon(1e-7));
      CHECK(f.sigma[h] == Approx(std::sqrt(variance)).epsilon(1e-7));
    }
  };
  CHECK(fit.fitted->next_index() == 600);
  check(*fit.fitted, y.back());
  fit.fitted->update(13.0);
  CHECK(fit.fitted->next_index() == 601);
  check(*fit.fitted, 13.0);
  CHECK(fit.fitted->residual_variance() == Approx(s2));
}

TEST_CASE("ARIMA tolerates gaps", "[forecast][arima]") {
  auto y = simulate({0.6, -0.3}, {}, 2000, 5);
  for (std::size_t t = 0; t < y.size(); t += 17) y[t] = kMissing;
  for (std::size_t t = 900; t < 960; ++t) y[t] = kMissing;
  const FitResult fit = fit_fixed(y, 2, 0, 0);
  REQUIRE(fit.status == FitStatus::ok);
  const auto params = fit.fitted->parameters();
  CHECK(params.at("ar1") == Approx(0.6).margin(0.07));
  CHECK(params.at("ar2") == Approx(-0.3).margin(0.07));
  // A missing tail sample advances time and widens the interval.
  const double before = fit.fitted->forecast(1).sigma[0];
  fit.fitted->update(kMissing);
  CHECK(fit.fitted->forecast(1).sigma[0] > before);
  CHECK(fit.fitted->next_index() == 2001);
}

TEST_CASE("ARIMA prediction intervals cover at their nominal rate", "[forecast][arima]") {
  // Fit on the first part, then roll through the rest with update():
  // 95% intervals one and five steps ahead should cover about 95%.
  const auto y = simulate({0.5}, {0.3}, 3000, 6, 2.0);
  const std::span<const double> history(y.data(), 1000);
  FitResult fit = fit_fixed(history, 1, 0, 1);
  REQUIRE(fit.status == FitStatus::ok);
  std::size_t covered1 = 0, covered5 = 0, count = 0;
  for (std::size_t t = 1000; t + 5 < y.size(); ++t) {
    const Forecast f = fit.fitted->forecast(5);
    covered1 += std::abs(y[t] - f.mean[0]) <= 1.959964 * f.sigma[0] ? 1 : 0;
    covered5 += std::abs(y[t + 4] - f.mean[4]) <= 1.959964 * f.sigma[4] ? 1 : 0;
    ++count;
    fit.fitted->update(y[t]);
  }
  const double rate1 = static_cast<double>(covered1) / count,
               rate5 = static_cast<double>(covered5) / count;
  CHECK(rate1 == Approx(0.95).margin(0.02));
  CHECK(rate5 == Approx(0.95).margin(0.025));
}

TEST_CASE("ARIMA learns a calendar-like dummy regressor", "[forecast][arima]") {
  // Load jumps by 5 during a 'session' of 8 of every 24 steps; the dummy
  // marks it for history and horizon alike.
  const std::size_t n = 1200, horizon = 48;
  const auto noise = simulate({0.5}, {}, n, 7);
  Eigen::MatrixXd dummy(n + horizon, 1);
  std::vector<double> y(n);
  for (std::size_t t = 0; t < n + horizon; ++t) {
    dummy(static_cast<Eigen::Index>(t), 0) = (t % 24) >= 9 && (t % 24) < 17 ? 1.0 : 0.0;
    if (t < n) y[t] = 20.0 + 5.0 * dummy(static_cast<Eigen::Index>(t), 0) + noise[t];
  }
  FitInput input;
  input.y = y;
  input.regressors = &dummy;
  input.regressor_names = {"session"};
  const FitResult fit = ArimaModel().fit(input);
  REQUIRE(fit.status == FitStatus::ok);
  INFO(fit.message);
  CHECK(fit.fitted->parameters().at("session") == Approx(5.0).margin(0.3));
  CHECK(fit.fitted->name().find("+xreg(1)") != std::string::npos);
  const Forecast f = fit.fitted->forecast(horizon);
  REQUIRE(f.size() == horizon);
  // Steps 1..48 after n = 1200 (= 0 mod 24): session at offsets 9..16 and 33..40.
  CHECK(f.mean[33] - f.mean[30] == Approx(5.0).margin(0.6));
  CHECK(f.mean[40] - f.mean[44] == Approx(5.0).margin(0.6));
  // The horizon ends where the regressors end.
  CHECK(fit.fitted->forecast(horizon + 10).size() == horizon);
}

TEST_CASE("ARIMA Fourier terms follow a DST layout and K is chosen by AICc", "[forecast][arima]") {
  // 24 slots a day; every 5th day is 23 local hours long (slot 2 skipped),
  // and the load follows local time. A UTC-phased model would drift.
  SeasonLayout layout;
  layout.slots = {24};
  std::vector<std::uint32_t> positions;
  for (int day = 0; positions.size() < 1100; ++day)
    for (std::uint32_t h = 0; h < 24; ++h)
      if (!(day % 5 == 4 && h == 2)) positions.push_back(h);
  layout.positions = {positions};
  const std::size_t n = 1000, horizon = 72;
  const auto noise = simulate({0.4}, {}, n, 8, 0.5);
  auto shape = [&](std::size_t t) {
    const double angle = 2 * M_PI * positions[t] / 24.0;
    return 10 * std::sin(angle) + 4 * std::cos(2 * angle);
  };
  std::vector<double> y(n);
  for (std::size_t t = 0; t < n; ++t) y[t] = 100 + shape(t) + noise[t];
  ArimaOptions options;
  options.step_seconds = 3600;
  FitInput input;
  input.y = y;
  input.layout = &layout;
  const FitResult fit = ArimaModel(options).fit(input);
  REQUIRE(fit.status == FitStatus::ok);
  INFO(fit.fitted->name() << " / " << fit.message);
  CHECK(fit.fitted->name().find("+fourier(1d:K=") != std::string::npos);
  const auto params = fit.fitted->parameters();
  CHECK(params.at("S1-24") == Approx(10.0).margin(0.5));
  CHECK(params.at("C2-24") == Approx(4.0).margin(0.5));
  const Forecast f = fit.fitted->forecast(horizon);
  REQUIRE(f.size() == horizon);
  double error = 0;
  for (std::size_t h = 12; h < horizon; ++h)
    error = std::max(error, std::abs(f.mean[h] - 100 - shape(n + h)));
  CHECK(error < 1.5);
}

TEST_CASE("ARIMA on a constant series forecasts the constant", "[forecast][arima]") {
  std::vector<double> y(500, 42.0);
  y[10] = kMissing;
  FitInput input;
  input.y = y;
  const FitResult fit = ArimaModel().fit(input);
  REQUIRE(fit.status == FitStatus::ok);
  CHECK(fit.message.find("constant") != std::string::npos);
  const Forecast f = fit.fitted->forecast(3);
  REQUIRE(f.size() == 3);
  CHECK(f.mean[2] == Approx(42.0));
  CHECK(f.sigma[2] == 0.0);
}

TEST_CASE("ARIMA says why on short or invalid input", "[forecast][arima]") {
  FitInput input;
  std::vector<double> tiny{1, 2, 3, 4, 5};
  input.y = tiny;
  FitResult fit = ArimaModel().fit(input);
  CHECK(fit.status == FitStatus::too_short);
  CHECK(fit.message.find("5 observed samples") != std::string::npos);

  std::vector<double> bad(50, 1.0);
  bad[3] = INFINITY;
  input.y = bad;
  fit = ArimaModel().fit(input);
  CHECK(fit.status == FitStatus::invalid_input);
  CHECK(fit.message.find("sample 3 is infinite") != std::string::npos);

  // Three days of hourly data cannot carry a weekly season: it is left out, said so.
  const auto y = simulate({0.5}, {}, 72, 9);
  const SeasonLayout layout = SeasonLayout::modular({24, 168}, 100);
  ArimaOptions options;
  options.step_seconds = 3600;
  input.y = y;
  input.layout = &layout;
  fit = ArimaModel(options).fit(input);
  REQUIRE(fit.status == FitStatus::ok);
  CHECK(fit.message.find("season 1w left out") != std::string::npos);
  CHECK(fit.fitted->name().find("1w") == std::string::npos);

  Eigen::MatrixXd short_regressors = Eigen::MatrixXd::Zero(10, 1);
  input.regressors = &short_regressors;
  fit = ArimaModel(options).fit(input);
  CHECK(fit.status == FitStatus::invalid_input);
  CHECK(fit.message.find("regressors have 10 rows") != std::string::npos);
}

TEST_CASE("ARIMA fits on a layout whose seasons were all dropped", "[forecast][arima]") {
  // A history shorter than two cycles of every season reaches the models as
  // a layout without periods; ARIMA refused it ("layout covers 0 samples").
  const auto y = simulate({0.6}, {}, 300, 5);
  const SeasonLayout no_seasons;
  FitInput input;
  input.y = y;
  input.layout = &no_seasons;
  const FitResult fit = ArimaModel().fit(input);
  REQUIRE(fit.status == FitStatus::ok);
  CHECK(fit.fitted->forecast(12).size() == 12);
}

TEST_CASE("ARIMA names a fractional cycle requirement as written", "[forecast][arima]") {
  // 12.5 used to read "12." (the first three characters of "12.500000").
  const auto y = simulate({0.5}, {}, 240, 4);
  const SeasonLayout layout = SeasonLayout::modular({24}, 300);
  FitInput input;
  input.y = y;
  input.layout = &layout;
  ArimaOptions options;
  options.min_cycles = 12.5;
  options.step_seconds = 3600;
  FitResult fit = ArimaModel(options).fit(input);
  REQUIRE(fit.status == FitStatus::ok);
  CHECK_THAT(fit.message, Catch::Contains("season 1d left out: history 240 samples < 300 "
                                          "(12.5 cycles)"));
  options.min_cycles = 20;
  fit = ArimaModel(options).fit(input);
  CHECK_THAT(fit.message, Catch::Contains("(20 cycles)"));
}

TEST_CASE("season labels name durations", "[forecast][arima]") {
  CHECK(season_label(288, 300) == "1d");
  CHECK(season_label(2016, 300) == "1w");
  CHECK(season_label(12, 300) == "1h");
  CHECK(season_label(288, 0) == "288");
}
