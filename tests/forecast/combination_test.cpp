// Forecast combination (combination.hpp): the backtest of a mean of models
// from their errors, the combined fitted model (mean or median), and when
// auto chooses one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <random>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/combination.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/seasonal_naive.hpp"
#include "prescale/forecast/selection.hpp"

using namespace prescale::forecast;

namespace {
constexpr std::size_t kDay = 24;
constexpr std::size_t kWeek = 168;

// Hourly load over `weeks` weeks: a daily cycle, noise, and `growth`(t) on top.
template <typename Growth>
std::vector<double> series(std::size_t weeks, double noise_sd, unsigned seed, Growth growth) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_sd);
  std::vector<double> y(kWeek * weeks);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double day = std::sin(2 * M_PI * static_cast<double>(i % kDay) / kDay);
    y[i] = 100 + 30 * day + growth(static_cast<double>(i)) + noise(rng);
  }
  return y;
}

struct Fixture {
  std::vector<double> y;
  SeasonLayout layout;
  Eigen::MatrixXd x;
  FitInput input;
  Fixture(std::vector<double> values, std::size_t horizon)
      : y(std::move(values)), layout(SeasonLayout::modular({kDay, kWeek}, y.size() + horizon)) {
    input.y = y;
    input.layout = &layout;
  }
  // A 0/1 payroll column (days 9, 22 and 37, 06:00-11:00) with a +60 surge in y.
  void add_payroll(std::size_t horizon) {
    const std::size_t rows = y.size() + horizon;
    x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows), 1);
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t day = i / kDay, hour = i % kDay;
      const bool pay = (day == 9 || day == 22 || day == 37) && hour >= 6 && hour < 11;
      x(static_cast<Eigen::Index>(i), 0) = pay ? 1 : 0;
      if (pay && i < y.size()) y[i] += 60;
    }
    input.regressors = &x;
    input.regressor_names = {"pay.end.on"};
  }
};

HoltWinters hw(Trend trend, std::size_t max_periods = 3) {
  HoltWintersSpec spec;
  spec.trend = trend;
  spec.seasonality = Seasonality::additive;
  spec.max_periods = max_periods;
  return HoltWinters(spec);
}

std::unique_ptr<FittedModel> fit_on(const Model& model, const FitInput& input, std::size_t count) {
  FitInput part = input;
  part.y = input.y.first(count);
  FitResult fit = model.fit(part);
  REQUIRE(fit.status == FitStatus::ok);
  REQUIRE(fit.fitted != nullptr);
  return std::move(fit.fitted);
}
}  // namespace

TEST_CASE("a combination's backtest error is the mean of its members' errors",
          "[forecast][combination]") {
  Fixture f(series(5, 4.0, 3, [](double t) { return 0.05 * t; }), 24);
  const HoltWinters level = hw(Trend::none), trend = hw(Trend::additive);
  const SeasonalNaive naive;
  const std::vector<const Model*> models = {&naive, &level, &trend};
  BacktestOptions options;
  options.horizon = 6;
  options.error_horizon = 10;  // extra steps for calibration: combined, not scored
  const BacktestReport report = backtest(f.input, models, options);
  REQUIRE(report.origin_scales.size() == report.origins.size());
  const std::vector<std::size_t> members = {1, 2};
  const ModelBacktest combined = combine_backtests(report, members, f.input.y, options);
  REQUIRE(combined.status == FitStatus::ok);
  CHECK(combined.model ==
        "combination(" + report.models[1].model + "+" + report.models[2].model + ")");
  std::map<std::pair<std::size_t, std::size_t>, double> second;
  for (const BacktestError& e : report.models[2].errors) second[{e.index, e.step}] = e.error;
  REQUIRE(combined.errors.size() == report.models[1].errors.size());
  std::size_t past_horizon = 0;
  for (std::size_t i = 0; i < combined.errors.size(); ++i) {
    const BacktestError& a = report.models[1].errors[i];
    const BacktestError& c = combined.errors[i];
    CHECK(c.index == a.index);
    CHECK(c.step == a.step);
    CHECK(c.error == Approx((a.error + second.at({a.index, a.step})) / 2).margin(1e-12));
    past_horizon += c.step >= options.horizon ? 1 : 0;
  }
  CHECK(past_horizon > 0);
  CHECK(std::isfinite(combined.mase));

  SECTION("a combination of one member scores as that member") {
    for (std::size_t m = 0; m < models.size(); ++m) {
      const std::vector<std::size_t> one = {m};
      const ModelBacktest alone = combine_backtests(report, one, f.input.y, options);
      CHECK(alone.mase == Approx(report.models[m].mase).epsilon(1e-12));
      CHECK(alone.smape == Approx(report.models[m].smape).epsilon(1e-9));
      CHECK(alone.coverage == Approx(report.models[m].coverage));
    }
  }
  SECTION("the scores equal a backtest of the combined recipe itself") {
    const CombinedModel recipe({&level, &trend});
    const std::vector<const Model*> just = {&recipe};
    const BacktestReport direct = backtest(f.input, just, options);
    REQUIRE(direct.models[0].status == FitStatus::ok);
    CHECK(combined.mase == Approx(direct.models[0].mase).epsilon(1e-9));
    CHECK(combined.smape == Approx(direct.models[0].smape).epsilon(1e-9));
    CHECK(combined.coverage == Approx(direct.models[0].coverage));
    CHECK(combined.errors.size() == direct.models[0].errors.size());
  }
}

TEST_CASE("event origins are blended into a combination's MASE as into a model's",
          "[forecast][combination]") {
  Fixture f(series(6, 3.0, 5, [](double) { return 0.0; }), 24);
  f.add_payroll(24);
  const CalendarRegression calendar(std::make_shared<HoltWinters>(hw(Trend::none, 1)));
  const HoltWinters plain = hw(Trend::damped, 1);
  const CombinedModel recipe({&calendar, &plain});
  const std::vector<const Model*> models = {&calendar, &plain, &recipe};
  BacktestOptions options;
  options.horizon = 8;
  const BacktestReport report = backtest(f.input, models, options);
  REQUIRE_FALSE(report.event_origins.empty());
  REQUIRE(report.event_scales.size() == report.event_origins.size());
  const std::vector<std::size_t> members = {0, 1};
  const ModelBacktest combined = combine_backtests(report, members, f.input.y, options);
  REQUIRE(report.models[2].status == FitStatus::ok);
  CHECK(std::isfinite(combined.event_mase));
  CHECK(combined.event_mase == Approx(report.models[2].event_mase).epsilon(1e-9));
  CHECK(combined.mase == Approx(report.models[2].mase).epsilon(1e-9));
  CHECK(combined.origins_scored == report.models[2].origins_scored);
}

TEST_CASE("CombinedFitted follows the stream as the mean of its members",
          "[forecast][combination]") {
  Fixture f(series(4, 4.0, 7, [](double t) { return 0.03 * t; }), 48);
  const HoltWinters level = hw(Trend::none), damped = hw(Trend::damped);
  const std::size_t start = f.y.size() - 100;
  std::vector<std::unique_ptr<FittedModel>> members;
  members.push_back(fit_on(level, f.input, start));
  members.push_back(fit_on(damped, f.input, start));
  auto alone_level = fit_on(level, f.input, start);
  auto alone_damped = fit_on(damped, f.input, start);
  CombinedFitted combined(std::move(members));
  CHECK(combined.name() == "combination(" + alone_level->name() + "+" + alone_damped->name() + ")");
  CHECK(combined.parameters().size() ==
        alone_level->parameters().size() + alone_damped->parameters().size());
  CHECK(combined.parameters().count(alone_level->name() + ".alpha") == 1);

  auto same_as_members = [&](const FittedModel& model, std::size_t horizon) {
    const Forecast c = model.forecast(horizon);
    const Forecast a = alone_level->forecast(horizon), b = alone_damped->forecast(horizon);
    REQUIRE(c.size() == horizon);
    for (std::size_t h = 0; h < horizon; ++h) {
      CHECK(c.mean[h] == Approx((a.mean[h] + b.mean[h]) / 2).epsilon(1e-12));
      CHECK(c.sigma[h] == Approx((a.sigma[h] + b.sigma[h]) / 2).epsilon(1e-12));
    }
    const double sd = (std::sqrt(alone_level->residual_variance()) +
                       std::sqrt(alone_damped->residual_variance())) /
                      2;
    CHECK(model.residual_variance() == Approx(sd * sd));
  };
  same_as_members(combined, 24);
  for (std::size_t i = start; i < start + 60; ++i) {
    const double y =
        i == start + 30 ? std::nan("") : f.y[i];  // a gap advances time for every member
    combined.update(y);
    alone_level->update(y);
    alone_damped->update(y);
  }
  CHECK(combined.next_index() == start + 60);
  same_as_members(combined, 24);

  SECTION("a clone is independent of the original") {
    const Forecast before = combined.forecast(12);
    auto copy = combined.clone();
    REQUIRE(copy->name() == combined.name());
    for (std::size_t i = start + 60; i < start + 90; ++i) {
      combined.update(f.y[i]);
      alone_level->update(f.y[i]);
      alone_damped->update(f.y[i]);
    }
    const Forecast unchanged = copy->forecast(12);
    CHECK(copy->next_index() == start + 60);
    for (std::size_t h = 0; h < 12; ++h) CHECK(unchanged.mean[h] == before.mean[h]);
    for (std::size_t i = start + 60; i < start + 90; ++i) copy->update(f.y[i]);
    const Forecast caught_up = copy->forecast(12), original = combined.forecast(12);
    for (std::size_t h = 0; h < 12; ++h) CHECK(caught_up.mean[h] == original.mean[h]);
    same_as_members(*copy, 12);
  }
}

namespace {
// Auto over two Holt-Winters recipes (seasonal naive joins as the yardstick).
Selection pick(const FitInput& input, Trend first, Trend second) {
  SelectionOptions options;
  options.horizon = 12;
  std::vector<std::unique_ptr<Model>> candidates;
  candidates.push_back(std::make_unique<HoltWinters>(hw(first, 1)));
  candidates.push_back(std::make_unique<HoltWinters>(hw(second, 1)));
  return select_and_fit(input, options, std::move(candidates));
}

// The score select_and_fit ranks by: MASE and sMAPE over seasonal naive's.
std::map<std::string, double> relative_scores(const Selection& s) {
  const BacktestScore* naive = nullptr;
  for (const BacktestScore& row : s.scores)
    if (row.model.rfind("seasonal-naive", 0) == 0) naive = &row;
  REQUIRE(naive != nullptr);
  std::map<std::string, double> out;
  for (const BacktestScore& row : s.scores)
    out[row.model] = 0.5 * (row.mase / naive->mase + row.smape / naive->smape);
  return out;
}
}  // namespace

TEST_CASE("auto takes the median of the candidates within 10 % of the best score",
          "[forecast][combination][selection]") {
  SECTION(
      "a daily cycle with noise and no trend: the level and the damped-trend models forecast "
      "alike; their median (of two, the mean) is taken") {
    Fixture f(series(4, 6.0, 9, [](double) { return 0.0; }), 12);
    const Selection s = pick(f.input, Trend::none, Trend::damped);
    REQUIRE(s.status == FitStatus::ok);
    const auto scores = relative_scores(s);
    double best = INFINITY;
    for (const auto& [model, score] : scores)
      if (model.rfind("median(", 0) != 0) best = std::min(best, score);
    std::size_t in_band = 0;
    for (const auto& [model, score] : scores)
      if (model.rfind("median(", 0) != 0 && score <= best * 1.1) ++in_band;
    REQUIRE(in_band >= 2);  // the case this section is built for
    CHECK_THAT(s.model, Catch::StartsWith("median("));
    for (const auto& [model, score] : scores) {
      if (model.rfind("median(", 0) == 0 || model.rfind("seasonal-naive", 0) == 0) continue;
      // Every member is in the band; every candidate in the band is a member.
      CHECK((s.model.find(model) != std::string::npos) == (score <= best * 1.1));
    }
    REQUIRE(s.selected_mase.has_value());
    CHECK(scores.at(s.model) < scores.at(s.scores.front().model));  // beats seasonal naive
    const auto forecast = s.fitted->forecast(12);
    CHECK(forecast.size() == 12);
    CHECK(std::isfinite(forecast.mean[0]));
  }
  SECTION("a straight trend: the level model lags far out of the band, the trend model is alone") {
    Fixture f(series(4, 1.0, 9, [](double t) { return 0.5 * t; }), 12);
    const Selection s = pick(f.input, Trend::none, Trend::additive);
    REQUIRE(s.status == FitStatus::ok);
    CHECK_THAT(s.model, Catch::StartsWith("holt-winters(A,A,A"));
    CHECK_THAT(s.model, !Catch::StartsWith("median("));
  }
}

// The population standard deviation of three values.
double spread_of(double a, double b, double c) {
  const double mean = (a + b + c) / 3;
  return std::sqrt(((a - mean) * (a - mean) + (b - mean) * (b - mean) + (c - mean) * (c - mean)) /
                   3);
}

TEST_CASE("a median combination's error and forecast are its members' medians",
          "[forecast][combination]") {
  Fixture f(series(5, 4.0, 3, [](double t) { return 0.05 * t; }), 24);
  const HoltWinters level = hw(Trend::none), trend = hw(Trend::additive),
                    damped = hw(Trend::damped);
  const SeasonalNaive naive;
  const std::vector<const Model*> models = {&naive, &level, &trend, &damped};
  BacktestOptions options;
  options.horizon = 6;
  const BacktestReport report = backtest(f.input, models, options);
  const std::vector<std::size_t> members = {1, 2, 3};
  const ModelBacktest combined =
      combine_backtests(report, members, f.input.y, options, Aggregate::median);
  REQUIRE(combined.status == FitStatus::ok);
  CHECK_THAT(combined.model, Catch::StartsWith("median("));
  std::map<std::pair<std::size_t, std::size_t>, std::vector<double>> by_key;
  for (std::size_t m : members)
    for (const BacktestError& e : report.models[m].errors)
      by_key[{e.index, e.step}].push_back(e.error);
  for (const BacktestError& c : combined.errors) {
    std::vector<double> v = by_key.at({c.index, c.step});
    std::sort(v.begin(), v.end());
    CHECK(c.error == v[1]);
    // How far apart the members forecast it (the interval widens with it).
    CHECK(c.spread == Approx(spread_of(v[0], v[1], v[2])));
  }
  const CombinedModel recipe({&level, &trend, &damped}, {}, Aggregate::median);
  const FitResult fit = recipe.fit(f.input);
  REQUIRE(fit.status == FitStatus::ok);
  const Forecast c = fit.fitted->forecast(24);
  const Forecast a = level.fit(f.input).fitted->forecast(24),
                 b = trend.fit(f.input).fitted->forecast(24),
                 d = damped.fit(f.input).fitted->forecast(24);
  for (std::size_t h = 0; h < 24; ++h) {
    std::vector<double> v = {a.mean[h], b.mean[h], d.mean[h]};
    std::sort(v.begin(), v.end());
    CHECK(c.mean[h] == v[1]);
    CHECK(c.spread[h] == Approx(spread_of(v[0], v[1], v[2])));
  }
  CHECK(a.spread.empty());  // one model: no disagreement to report
  SECTION("the backtest of the median recipe itself scores the same") {
    const std::vector<const Model*> just = {&recipe};
    const BacktestReport direct = backtest(f.input, just, options);
    CHECK(combined.mase == Approx(direct.models[0].mase).epsilon(1e-9));
  }
}

TEST_CASE("forced models are never combined", "[forecast][combination][selection]") {
  Fixture f(series(4, 1.0, 9, [](double t) { return 400 * (1 - std::exp(-t / 300.0)); }), 12);
  SelectionOptions options;
  options.horizon = 12;
  options.model = "holt-winters";
  const Selection s = select_and_fit(f.input, options);
  REQUIRE(s.status == FitStatus::ok);
  CHECK_THAT(s.model, Catch::StartsWith("holt-winters"));
  for (const BacktestScore& score : s.scores)
    CHECK_THAT(score.model, !Catch::StartsWith("combination("));
}

TEST_CASE("CombinedModel gives each member its own warm start, only when the fit asks for one",
          "[forecast][combination]") {
  Fixture f(series(4, 4.0, 13, [](double t) { return 0.02 * t; }), 24);
  const HoltWinters damped = hw(Trend::damped), level = hw(Trend::none);
  // Hints as the backtest makes them: each member's parameters from a fit on an earlier prefix.
  const std::vector<std::map<std::string, double>> hints = {
      fit_on(damped, f.input, kWeek * 3)->parameters(),
      fit_on(level, f.input, kWeek * 3)->parameters()};
  const CombinedModel recipe({&damped, &level}, hints);
  auto member_fit = [&](const Model& model, const std::map<std::string, double>* hint) {
    FitInput input = f.input;
    input.warm_start = hint;
    FitResult fit = model.fit(input);
    REQUIRE(fit.fitted != nullptr);
    return fit.fitted->parameters();
  };
  auto check = [&](const FitInput& input, const std::map<std::string, double>* damped_hint,
                   const std::map<std::string, double>* level_hint) {
    FitResult fit = recipe.fit(input);
    REQUIRE(fit.status == FitStatus::ok);
    const auto combined = fit.fitted->parameters();
    const auto a = damped.fit(f.input).fitted->name(), b = level.fit(f.input).fitted->name();
    for (const auto& [key, value] : member_fit(damped, damped_hint))
      CHECK(combined.at(a + "." + key) == value);
    for (const auto& [key, value] : member_fit(level, level_hint))
      CHECK(combined.at(b + "." + key) == value);
  };
  SECTION("asked: each member starts from its own hint, never from the combination's map") {
    const std::map<std::string, double> combination_hint = {{"not a member parameter", 1.0}};
    FitInput input = f.input;
    input.warm_start = &combination_hint;
    check(input, &hints[0], &hints[1]);
  }
  SECTION("not asked (a backtest fit): no member gets a hint") {
    check(f.input, nullptr, nullptr);
  }
}
