#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/series.hpp"

using namespace prescale::forecast;

namespace {
constexpr std::size_t kDay = 24;
constexpr std::size_t kWeek = 168;

// Hourly load with daily and weekly cycles, plus +60 from 08:00 to 12:00 on
// the event days (an irregular calendar event, e.g. payroll).
struct EventFixture {
  std::vector<std::size_t> event_days{11, 25, 46};  // day 46 is in the horizon
  std::size_t history = kWeek * 6;
  std::size_t horizon;
  std::vector<double> y;
  SeasonLayout layout;
  Eigen::MatrixXd regressors;
  FitInput input;

  explicit EventFixture(std::size_t horizon_steps = kDay * 5) : horizon(horizon_steps) {
    const std::size_t rows = history + horizon;
    layout = SeasonLayout::modular({kDay, kWeek}, rows);
    // event.on, an all-zero column (an event absent from the data), and a
    // column that is 1 every weekday at 09:00 (the season explains it).
    regressors = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(rows), 3);
    std::mt19937 rng(7);
    std::normal_distribution<double> noise(0.0, 2.0);
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t day = i / kDay;
      const std::size_t hour = i % kDay;
      const bool event = std::find(event_days.begin(), event_days.end(), day) != event_days.end() &&
                         hour >= 8 && hour < 12;
      const bool weekday = day % 7 < 5;
      regressors(static_cast<Eigen::Index>(i), 0) = event ? 1.0 : 0.0;
      regressors(static_cast<Eigen::Index>(i), 2) = weekday && hour == 9 ? 1.0 : 0.0;
      const double value = 100 + 30 * std::sin(2 * M_PI * static_cast<double>(hour) / kDay) +
                           (weekday ? 10.0 : -10.0) + (event ? 60.0 : 0.0) + noise(rng);
      if (i < history) y.push_back(value);
      truth.push_back(value);
    }
    input.y = y;
    input.layout = &layout;
    input.regressors = &regressors;
    input.regressor_names = {"payroll.event.on", "absent.event.on", "weekday-nine"};
  }
  std::vector<double> truth;
};
}  // namespace

TEST_CASE("calendar effects: an irregular event is measured against its slot, the rest is zero",
          "[forecast][calendar]") {
  EventFixture f;
  auto effects = estimate_calendar_effects(f.y, &f.layout, f.regressors);
  REQUIRE(effects);
  CHECK(effects->slot_period == kWeek);
  // Ridge 0.05 shrinks by about 5%; the event adds 60.
  CHECK(effects->beta(0) == Approx(60.0 * 0.95).margin(6.0));
  CHECK(effects->beta(1) == 0.0);  // never on: harmless
  CHECK(effects->beta(2) == 0.0);  // constant per weekly slot: the season's job
  CHECK(effects->active_columns == 1);
  REQUIRE(effects->effect.size() == static_cast<std::size_t>(f.regressors.rows()));
  // Event rows are unusual for their slot; ordinary weekday 09:00 rows are not.
  CHECK(effects->unusual[11 * kDay + 9] == 1);
  CHECK(effects->unusual[12 * kDay + 9] == 0);
}

TEST_CASE("calendar effects: NaN samples are skipped, bad regressors are errors",
          "[forecast][calendar]") {
  EventFixture f;
  f.y[11 * kDay + 8] = kMissing;
  f.y[100] = kMissing;
  auto effects = estimate_calendar_effects(f.y, &f.layout, f.regressors);
  REQUIRE(effects);
  CHECK(std::isfinite(effects->beta(0)));
  Eigen::MatrixXd short_matrix = f.regressors.topRows(10);
  auto too_short = estimate_calendar_effects(f.y, &f.layout, short_matrix);
  REQUIRE_FALSE(too_short);
  CHECK_THAT(too_short.error().message, Catch::Contains("rows"));
  Eigen::MatrixXd with_nan = f.regressors;
  with_nan(3, 1) = std::nan("");
  CHECK_FALSE(estimate_calendar_effects(f.y, &f.layout, with_nan));
}

TEST_CASE("Holt-Winters + calendar forecasts a future event the plain model misses",
          "[forecast][calendar]") {
  EventFixture f;
  const auto base =
      std::make_shared<HoltWinters>(HoltWintersSpec{Trend::none, Seasonality::additive});
  const CalendarRegression model(base);
  CHECK(model.name() == base->name() + "+calendar");
  FitResult fit = model.fit(f.input);
  REQUIRE(fit.status == FitStatus::ok);
  REQUIRE(fit.fitted);
  CHECK_THAT(fit.fitted->name(), Catch::Contains("+calendar(1)"));
  CHECK(fit.fitted->parameters().count("calendar.payroll.event.on") == 1);
  FitResult plain = base->fit(f.input);
  REQUIRE(plain.fitted);
  const Forecast with_calendar = fit.fitted->forecast(f.horizon);
  const Forecast without = plain.fitted->forecast(f.horizon);
  // Day 46 (an event day) 08:00-12:00 is in the horizon (which starts at day 42).
  double error_calendar = 0, error_plain = 0;
  for (std::size_t hour = 8; hour < 12; ++hour) {
    const std::size_t i = 46 * kDay + hour;
    error_calendar += std::abs(with_calendar.mean[i - f.history] - f.truth[i]);
    error_plain += std::abs(without.mean[i - f.history] - f.truth[i]);
  }
  // The plain model's weekly season saw the event on two of six Thursdays:
  // it forecasts part of it; the calendar model forecasts all of it.
  CHECK(error_calendar / 4 < 10.0);
  CHECK(error_calendar < 0.5 * error_plain);
}

TEST_CASE("Holt-Winters + calendar: update() takes the event out before the season sees it",
          "[forecast][calendar]") {
  // Fit on the first 5 weeks (events on days 11 and 25), stream week 6, then
  // forecast days 42-46 (an event on day 46).
  EventFixture f;
  const CalendarRegression model(
      std::make_shared<HoltWinters>(HoltWintersSpec{Trend::none, Seasonality::additive}));
  const std::size_t fitted_on = kWeek * 5;
  FitInput prefix = f.input;
  prefix.y = std::span<const double>(f.y).first(fitted_on);
  FitResult fit = model.fit(prefix);
  REQUIRE(fit.fitted);
  auto streamed = fit.fitted->clone();
  for (std::size_t i = fitted_on; i < f.history; ++i) streamed->update(f.y[i]);
  CHECK(streamed->next_index() == f.history);
  const Forecast forecast = streamed->forecast(f.horizon);
  double error = 0;
  for (std::size_t h = 0; h < f.horizon; ++h)
    error += std::abs(forecast.mean[h] - f.truth[f.history + h]);
  CHECK(error / static_cast<double>(f.horizon) < 6.0);
}

TEST_CASE("Holt-Winters + calendar refuses to fit without calendar information",
          "[forecast][calendar]") {
  EventFixture f;
  const CalendarRegression model(std::make_shared<HoltWinters>(HoltWintersSpec{}));
  FitInput no_regressors = f.input;
  no_regressors.regressors = nullptr;
  FitResult fit = model.fit(no_regressors);
  CHECK(fit.status == FitStatus::invalid_input);
  CHECK_FALSE(fit.fitted);
  // Only the all-zero and the per-slot-constant columns: nothing to estimate.
  Eigen::MatrixXd seasonal_only = f.regressors;
  seasonal_only.col(0).setZero();
  no_regressors.regressors = &seasonal_only;
  fit = model.fit(no_regressors);
  CHECK(fit.status == FitStatus::invalid_input);
  CHECK_THAT(fit.message, Catch::Contains("season"));
}
