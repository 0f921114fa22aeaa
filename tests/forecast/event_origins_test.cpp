// Backtest origins before past calendar events (backtest.hpp): where they are
// placed, that they see no data after their origin, and how their scores
// enter the ranking; and the sibling pooling that lets a calendar model
// forecast the first occurrence of an event from its sibling's.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/seasonal_naive.hpp"
#include "prescale/forecast/selection.hpp"

using namespace prescale::forecast;

namespace {
constexpr std::size_t kDay = 24;
constexpr std::size_t kWeek = 168;

// Six weeks of hourly load (day 0 a Monday) with a +80 surge from 06:00 to
// 11:00 on payroll days: pay.end on days 9 and 37, pay.mid on day 22 (its
// sibling), and a one-off holiday (bank.business_day 0) on day 31.
struct Calendar {
  std::size_t history = kWeek * 6;
  std::size_t horizon = 4;
  std::vector<double> y;
  SeasonLayout layout;
  Eigen::MatrixXd x;
  FitInput input;

  static bool surge(std::size_t day, std::size_t hour, std::size_t event_day) {
    return day == event_day && hour >= 6 && hour < 11;
  }

  Calendar() {
    const std::size_t rows = history + kDay;
    layout = SeasonLayout::modular({kDay, kWeek}, rows);
    x = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows), 3);
    std::mt19937 rng(11);
    std::normal_distribution<double> noise(0.0, 2.0);
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t day = i / kDay, hour = i % kDay;
      const bool end = surge(day, hour, 9) || surge(day, hour, 37);
      const bool mid = surge(day, hour, 22);
      const bool business = day % 7 < 5 && day != 31;
      const auto r = static_cast<Eigen::Index>(i);
      x(r, 0) = mid ? 1 : 0;
      x(r, 1) = end ? 1 : 0;
      x(r, 2) = business ? 1 : 0;
      if (i < history) {
        y.push_back(100 + 30 * std::sin(2 * M_PI * static_cast<double>(hour) / kDay) +
                    (business ? 10.0 : -10.0) + (mid || end ? 80.0 : 0.0) + noise(rng));
      }
    }
    input.y = y;
    input.layout = &layout;
    input.regressors = &x;
    input.regressor_names = {"pay.mid.on", "pay.end.on", "bank.business_day"};
  }
};

std::size_t at(std::size_t day, std::size_t hour) {
  return day * kDay + hour;
}
}  // namespace

TEST_CASE("event origins: before each past event that an earlier related one makes learnable",
          "[forecast][backtest][calendar]") {
  Calendar c;
  BacktestOptions options;
  options.horizon = 4;  // shorter than the 5-hour surge: the window opens just before the onset
  // Two weeks of training: day 9's surge is too early; day 22 (pay.mid, after
  // its sibling pay.end on day 9) and day 37 (pay.end) qualify; the one-off
  // holiday on day 31 has no earlier holiday to learn from.
  CHECK(event_backtest_origins(c.input, options) ==
        std::vector<std::size_t>{at(22, 6) - 1, at(37, 6) - 1});
  // A horizon that holds the surge: the window ends with it.
  options.horizon = 12;
  const auto whole = event_backtest_origins(c.input, options);
  CHECK(whole == std::vector<std::size_t>{at(22, 11) - 12, at(37, 11) - 12});
  for (std::size_t origin : whole) CHECK(origin >= 2 * kWeek);
  // The newest first, at most event_origins of them.
  options.event_origins = 1;
  CHECK(event_backtest_origins(c.input, options) == std::vector<std::size_t>{at(37, 11) - 12});
  options.event_origins = 0;
  CHECK(event_backtest_origins(c.input, options).empty());
  // Without the sibling (unnamed columns match only themselves) day 22 has
  // nothing to learn from.
  options.event_origins = 3;
  c.input.regressor_names.clear();
  CHECK(event_backtest_origins(c.input, options) == std::vector<std::size_t>{at(37, 11) - 12});
  // No regressors, no event origins.
  c.input.regressors = nullptr;
  CHECK(event_backtest_origins(c.input, options).empty());
}

TEST_CASE("event origins read the calendar only and score no data after their window",
          "[forecast][backtest][calendar]") {
  Calendar c;
  BacktestOptions options;
  options.horizon = 4;
  options.origins = 3;
  const auto origins = event_backtest_origins(c.input, options);
  REQUIRE(origins.size() == 2);

  // y[i] = i and seasonal naive without a layout (the last value): from any
  // origin the h-step error is h and the in-sample MAE 1, so each event
  // origin's MASE is (1 + ... + 4) / 4 = 2.5 only if its fit saw y[0, o).
  std::vector<double> ramp(c.history);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<double>(i);
  FitInput plain = c.input;
  plain.y = ramp;
  plain.layout = nullptr;
  const SeasonalNaive naive;
  const Model* just_naive[] = {&naive};
  const BacktestReport ramp_report = backtest(plain, just_naive, options);
  REQUIRE(!ramp_report.event_origins.empty());
  CHECK(ramp_report.models[0].event_mase == Approx(2.5));
  CHECK(ramp_report.models[0].origins_scored ==
        ramp_report.origins.size() + ramp_report.event_origins.size());

  // A calendar model: whatever happens after the newest event window (here:
  // the series is wrecked) leaves the event origins' scores alone.
  const HoltWintersSpec spec{Trend::none, Seasonality::additive};
  auto calendar_model = std::make_shared<CalendarRegression>(std::make_shared<HoltWinters>(spec));
  const Model* models[] = {&naive, calendar_model.get()};
  const BacktestReport report = backtest(c.input, models, options);
  std::vector<double> wrecked = c.y;
  for (std::size_t i = origins.back() + options.horizon; i < wrecked.size(); ++i) wrecked[i] = 1e6;
  FitInput changed = c.input;
  changed.y = wrecked;
  const BacktestReport after = backtest(changed, models, options);
  REQUIRE(report.event_origins == origins);
  REQUIRE(after.event_origins == origins);  // placement did not look at y
  for (std::size_t m = 0; m < 2; ++m) {
    CAPTURE(report.models[m].model);
    REQUIRE(report.models[m].status == FitStatus::ok);
    CHECK(after.models[m].event_mase == report.models[m].event_mase);
    CHECK(after.models[m].mase != report.models[m].mase);  // the rolling origins did see the change
  }
  // The calendar model forecasts the surges it learnt from the earlier payroll
  // days; seasonal naive (last week's same hour) cannot.
  CHECK(report.models[1].event_mase < 0.5 * report.models[0].event_mase);
  // Blend: (1 - w) x rolling mean + w x event mean.
  BacktestOptions rolling_only = options;
  rolling_only.event_origins = 0;
  const BacktestReport base = backtest(c.input, models, rolling_only);
  for (std::size_t m = 0; m < 2; ++m) {
    CHECK(std::isnan(base.models[m].event_mase));
    CHECK(report.models[m].mase == Approx((1 - options.event_weight) * base.models[m].mase +
                                          options.event_weight * report.models[m].event_mase));
  }
}

TEST_CASE("calendar regression: an event not seen yet takes its seen sibling's profile",
          "[forecast][calendar]") {
  Calendar c;
  // History to day 20: pay.end (day 9) seen, pay.mid (day 22) not yet.
  const std::size_t origin = at(22, 5);
  FitInput before = c.input;
  before.y = std::span<const double>(c.y).first(origin);
  const CalendarRegression model(
      std::make_shared<HoltWinters>(HoltWintersSpec{Trend::none, Seasonality::additive}));
  FitResult fit = model.fit(before);
  REQUIRE(fit.status == FitStatus::ok);
  const auto parameters = fit.fitted->parameters();
  REQUIRE(parameters.count("calendar.pay.end.on") == 1);
  REQUIRE(parameters.count("calendar.pay.mid.on") == 1);
  CHECK(parameters.at("calendar.pay.mid.on") ==
        Approx(parameters.at("calendar.pay.end.on")).epsilon(0.2));
  const Forecast f = fit.fitted->forecast(8);
  // 06:00-11:00 on day 22 forecast with the surge (+80 over an ordinary Tuesday).
  CHECK(f.mean[2] - f.mean[0] > 50);
}

TEST_CASE("event windows: origins the event history makes learnable when the history has none",
          "[forecast][backtest][calendar]") {
  // Only the pay.mid surge of day 22 in the history (the pay.end days are
  // ordinary here) and pay.mid again ahead, on day 42: no occurrence in the
  // history has an earlier related one there. An older pay.end comes as
  // event history (FitInput::past_events), as the daemon fetches it.
  Calendar c;
  for (std::size_t day : {9, 37}) {
    for (std::size_t hour = 6; hour < 11; ++hour) {
      c.x(static_cast<Eigen::Index>(at(day, hour)), 1) = 0;
      c.y[at(day, hour)] -= 80;
    }
  }
  for (std::size_t hour = 6; hour < 11; ++hour) c.x(static_cast<Eigen::Index>(at(42, hour)), 0) = 1;
  std::vector<double> older(5, 190.0);
  const std::vector<PastEvent> past{{"pay.end", 0, older, std::vector<double>(5, 110.0)}};
  c.input.past_events = past;
  BacktestOptions options;
  options.horizon = 4;
  CHECK(event_backtest_origins(c.input, options).empty());
  CHECK(event_backtest_origins(c.input, options, true) == std::vector<std::size_t>{at(22, 6) - 1});

  // The ordinary ranking has no event origin; the event windows ahead are
  // given to the model that forecast day 22 best, and the reason says
  // where its origins come from.
  SelectionOptions selection_options;
  selection_options.horizon = 4;
  selection_options.origins = 4;
  const Selection selection = select_and_fit(c.input, selection_options);
  REQUIRE(selection.status == FitStatus::ok);
  INFO(selection.reason << "\n" << selection.event_choice);
  CHECK(selection.event_origins == 0);
  CHECK(selection.event_choice.find("event windows: ") == 0);
  CHECK(selection.event_choice.find("learnable from the event history only") != std::string::npos);
  // Without the older occurrence nothing is said about the event windows.
  c.input.past_events = {};
  CHECK(select_and_fit(c.input, selection_options).event_choice.empty());
}
