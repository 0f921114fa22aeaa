#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "prescale/forecast/arima.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/seasonal_naive.hpp"

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

namespace {

// Every model of the library, for checks they must all pass alike.
std::vector<std::unique_ptr<Model>> every_model() {
  std::vector<std::unique_ptr<Model>> models;
  models.push_back(std::make_unique<SeasonalNaive>());
  models.push_back(std::make_unique<HoltWinters>(HoltWintersSpec{}));
  models.push_back(std::make_unique<ArimaModel>());
  models.push_back(
      std::make_unique<CalendarRegression>(std::make_shared<HoltWinters>(HoltWintersSpec{})));
  return models;
}

struct ValidInput {
  std::vector<double> y;
  SeasonLayout layout = SeasonLayout::modular({24}, 120);
  Eigen::MatrixXd regressors = Eigen::MatrixXd::Zero(120, 1);
  ValidInput() {
    for (int i = 0; i < 96; ++i) y.push_back(100 + 10 * std::sin(i * 0.26) + (i % 7));
    regressors(33, 0) = regressors(81, 0) = 1;  // two days of four: an event, not a season
  }
  [[nodiscard]] FitInput input() const {
    FitInput in;
    in.y = y;
    in.layout = &layout;
    in.regressors = &regressors;
    in.regressor_names = {"payroll"};
    return in;
  }
};

}  // namespace

TEST_CASE("validate accepts a valid input and reports what models need", "[forecast]") {
  ValidInput v;
  v.y[5] = std::numeric_limits<double>::quiet_NaN();
  const auto facts = validate(v.input());
  REQUIRE(facts);
  CHECK(facts->observed == 95);
  CHECK_FALSE(facts->constant);
  CHECK(facts->first == v.y[0]);
  for (const auto& model : every_model()) {
    INFO(model->name());
    CHECK(model->fit(v.input()).status == FitStatus::ok);
  }
}

TEST_CASE("every model refuses bad input with validate's words", "[forecast]") {
  struct Case {
    std::string what;
    std::function<void(ValidInput&)> spoil;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"infinite sample", [](ValidInput& v) { v.y[17] = INFINITY; }, "sample 17 is infinite"},
      {"layout too short", [](ValidInput& v) { v.layout = SeasonLayout::modular({24}, 50); },
       "season layout covers 50 samples of seasonal period 1, the history has 96"},
      {"slot outside the period", [](ValidInput& v) { v.layout.positions[0][110] = 24; },
       "seasonal position 24 of sample 110 is outside seasonal period 1 (24 slots)"},
      {"period without slots", [](ValidInput& v) { v.layout.slots[0] = 0; },
       "seasonal period 1 has 0 slots"},
      {"regressor not finite", [](ValidInput& v) { v.regressors(40, 0) = NAN; },
       "regressor 'payroll' is not finite at sample 40"},
      {"regressors too short", [](ValidInput& v) { v.regressors = Eigen::MatrixXd::Zero(10, 1); },
       "regressors have 10 rows, the history has 96"},
  };
  for (const Case& c : cases) {
    ValidInput v;
    c.spoil(v);
    const auto facts = validate(v.input());
    INFO(c.what);
    REQUIRE_FALSE(facts);
    CHECK(facts.error().message == c.message);
    for (const auto& model : every_model()) {
      INFO(model->name());
      const FitResult fit = model->fit(v.input());
      CHECK(fit.status == FitStatus::invalid_input);
      CHECK(fit.message == c.message);
      CHECK_FALSE(fit.fitted);
    }
  }
}
