#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/interval_calibration.hpp"
#include "prescale/forecast/seasonal_naive.hpp"
#include "prescale/forecast/selection.hpp"

using namespace prescale::forecast;

namespace {

// Errors drawn from `draw`, spread over `horizon` lead steps, model sigma 1.
template <class Draw>
std::vector<BacktestError> errors_from(std::size_t count, std::size_t horizon, Draw draw) {
  std::vector<BacktestError> errors;
  for (std::size_t i = 0; i < count; ++i) errors.push_back({i % horizon, i, draw(), 1.0});
  return errors;
}

// Hourly daily cycle plus noise(hour): 80 days.
template <class Noise>
std::vector<double> daily_series(Noise noise) {
  std::vector<double> y(24 * 80);
  for (std::size_t i = 0; i < y.size(); ++i) {
    y[i] = 100 + 30 * std::sin(2 * M_PI * static_cast<double>(i % 24) / 24) + noise(i % 24);
  }
  return y;
}

// daily_series with N(0, 2) noise drawn from `seed`, and its fit input
// (daily season, a 12-step horizon).
struct NoisyDaily {
  std::vector<double> y;
  SeasonLayout layout;
  FitInput input;
  explicit NoisyDaily(unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 2.0);
    y = daily_series([&](std::size_t) { return noise(rng); });
    layout = SeasonLayout::modular({24}, y.size() + 12);
    input.y = y;
    input.layout = &layout;
  }
  NoisyDaily(const NoisyDaily&) = delete;  // input points into y and layout
};

struct Coverage {
  double below_upper = 0;  ///< share of actuals <= q_0.9
  double below_lower = 0;  ///< share of actuals < q_0.1
};

// Selects on the first 50 days, then follows the last 30 with update() and
// scores every 1..12-step forecast's q0.1 and q0.9 against what happened.
Coverage held_out_coverage(const std::vector<double>& y, bool calibrate) {
  constexpr std::size_t kTrain = 24 * 50, kHorizon = 12;
  const auto layout = SeasonLayout::modular({24}, y.size() + kHorizon);
  FitInput input;
  input.y = std::span<const double>(y).first(kTrain);
  input.layout = &layout;
  SelectionOptions options;
  options.model = "holt-winters:none-additive";
  options.horizon = kHorizon;
  options.origins = 24;
  options.quantile = 0.9;
  options.calibrate = calibrate;
  Selection s = select_and_fit(input, options);
  REQUIRE(s.status == FitStatus::ok);
  REQUIRE(s.fitted != nullptr);
  CHECK(s.interval.calibrated() == calibrate);
  std::size_t upper = 0, lower = 0, total = 0;
  for (std::size_t t = kTrain; t + kHorizon <= y.size(); ++t) {
    const Forecast f = s.fitted->forecast(kHorizon);
    for (std::size_t h = 0; h < kHorizon; ++h) {
      upper += y[t + h] <= f.quantile(h, 0.9) ? 1 : 0;
      lower += y[t + h] < f.quantile(h, 0.1) ? 1 : 0;
      ++total;
    }
    s.fitted->update(y[t]);
  }
  return {double(upper) / double(total), double(lower) / double(total)};
}

}  // namespace

TEST_CASE("each tail's sigma puts the quantile at the errors' own", "[forecast][calibration]") {
  std::mt19937 rng(7);
  // Surges: exp(1) - 1 has mean 0 and variance 1 but a long upper tail and a
  // short lower one (q0.9 = ln 10 - 1, q0.1 = ln(10/9) - 1).
  std::exponential_distribution<double> exponential(1.0);
  const auto errors = errors_from(60000, 6, [&] { return exponential(rng) - 1; });
  const IntervalCalibration c = calibrate_intervals(errors, 6);
  REQUIRE(c.calibrated());
  CHECK(c.errors == 60000);
  REQUIRE(c.upper.size() == 6);
  const double z = normal_quantile(0.9);
  for (std::size_t h = 0; h < 6; ++h) {
    CHECK(c.upper[h] * z == Approx(std::log(10.0) - 1).epsilon(0.05));
    CHECK(c.lower[h] * z == Approx(1 - std::log(10.0 / 9.0)).epsilon(0.05));
  }
  CHECK_THAT(c.why, Catch::Contains("calibrated from 60000 backtest errors"));

  // Applied: the upper quantile moves to mean + Q_0.9, the lower to mean +
  // Q_0.1, whatever the model's sigma said (above half of it).
  Forecast f{std::vector<double>(8, 10.0), std::vector<double>(8, 1.0)};
  c.apply(f);
  REQUIRE(f.sigma_lower.size() == 8);
  CHECK(f.quantile(7, 0.9) == Approx(10 + c.upper[5] * z));  // beyond the horizon: the last
  CHECK(f.quantile(0, 0.1) == Approx(10 - c.lower[0] * z));
  CHECK(f.quantile(0, 0.5) == Approx(10.0));
  SECTION("past the calibrated steps the band grows as the model's own") {
    Forecast growing{std::vector<double>(8, 10.0), {1, 1, 1, 1, 1, 1, 2, 3}};
    c.apply(growing);
    CHECK(growing.sigma[6] == Approx(2 * c.upper[5]));
    CHECK(growing.sigma[7] == Approx(3 * c.upper[5]));
  }
}

TEST_CASE("too few errors keep the model's sigma, and say why", "[forecast][calibration]") {
  auto errors = errors_from(29, 6, [] { return 5.0; });
  errors.push_back({0, 29, std::nan(""), 1.0});  // not an error: not counted
  const IntervalCalibration c = calibrate_intervals(errors, 6);
  CHECK_FALSE(c.calibrated());
  CHECK(c.errors == 29);
  CHECK_THAT(c.why, Catch::Contains("29 backtest errors, fewer than the 30"));
  Forecast f{std::vector<double>(3, 1.0), std::vector<double>(3, 2.0)};
  c.apply(f);
  CHECK(f.sigma == std::vector<double>(3, 2.0));
  CHECK(f.sigma_lower.empty());
}

TEST_CASE("a calm backtest cannot shrink the band below the floor", "[forecast][calibration]") {
  std::mt19937 rng(3);
  std::normal_distribution<double> tiny(0.0, 0.01);
  const auto errors = errors_from(200, 4, [&] { return tiny(rng); });
  const IntervalCalibration c = calibrate_intervals(errors, 4);
  REQUIRE(c.calibrated());
  Forecast f{std::vector<double>(4, 10.0), std::vector<double>(4, 2.0)};
  c.apply(f);
  for (double s : f.sigma) CHECK(s == CalibrationOptions{}.min_scale * 2.0);
  for (double s : f.sigma_lower) CHECK(s == CalibrationOptions{}.min_scale * 2.0);
}

TEST_CASE("a burst in the backtest window cannot widen the band past the ceiling",
          "[forecast][calibration]") {
  // A refit in the middle of a burst: the last origins' errors are 1000x the
  // usual, enough to set the q0.9 of every pool. Served at q0.9, such a band
  // bought replicas for the burst until the next refit.
  std::mt19937 rng(5);
  std::normal_distribution<double> usual(0.0, 1.0);
  std::size_t i = 0;
  const auto errors = errors_from(200, 4, [&] { return ++i > 160 ? 1000.0 : usual(rng); });
  const IntervalCalibration c = calibrate_intervals(errors, 4);
  REQUIRE(c.calibrated());
  CHECK(c.upper.front() > 100.0);  // the raw calibration follows the burst
  Forecast f{std::vector<double>(6, 10.0), std::vector<double>(6, 2.0)};
  c.apply(f);
  for (double s : f.sigma) CHECK(s == CalibrationOptions{}.max_scale * 2.0);
  for (double s : f.sigma_lower) CHECK(s <= CalibrationOptions{}.max_scale * 2.0);
}

TEST_CASE("lead steps are pooled with their neighbours in units of each step's error size",
          "[forecast][calibration]") {
  // 8 origins x 12 steps; errors grow with the step (step + 1 at every origin).
  std::vector<BacktestError> errors;
  for (std::size_t origin = 0; origin < 8; ++origin)
    for (std::size_t h = 0; h < 12; ++h)
      errors.push_back({h, origin * 12 + h, static_cast<double>(h + 1), 1.0});
  const IntervalCalibration c = calibrate_intervals(errors, 12);
  REQUIRE(c.upper.size() == 12);
  // A step's size is the mean |error| of the 40 nearest (5 steps of 8):
  // steps 0-2 measure 0..4 (3), step 6 4..8 (7), steps 9-11 7..11 (9). Each
  // error is divided by its own step's size, pooled with the neighbours' to
  // 40, and the conformal rank ceil(41 x 0.9) = 37 of 40 times the step's
  // size is the band: step 6, whose errors are all 7, gets 7 (pooled raw
  // errors gave 9, its neighbours' largest); step 11 gets 9 x 12/9.
  const double z = normal_quantile(0.9);
  CHECK(c.upper[0] * z == Approx(3.0));
  CHECK(c.upper[6] * z == Approx(7.0));
  CHECK(c.upper[11] * z == Approx(12.0));
  for (std::size_t h = 1; h < 12; ++h) CHECK(c.upper[h] >= c.upper[h - 1]);
}

TEST_CASE("the band follows the busy and quiet hours of the window", "[forecast][calibration]") {
  // Hourly errors from 8 origins a day apart, 48 steps ahead, three times
  // larger from 08:00 to 16:00 (the same hours at every origin). The 97.5 %
  // tail pools 160 errors, 20 steps, most of a day: in raw errors the quiet
  // hours would get the busy hours' band and the busy hours a diluted one.
  std::vector<BacktestError> errors;
  auto size = [](std::size_t h) { return h % 24 >= 8 && h % 24 < 16 ? 3.0 : 1.0; };
  for (std::size_t origin = 0; origin < 8; ++origin)
    for (std::size_t h = 0; h < 48; ++h) {
      const double u =
          (static_cast<double>(origin) - 3.5) / 3.5 + 0.01 * static_cast<double>(h % 5);
      errors.push_back({h, origin * 24 + h, size(h) * u, 1.0});
    }
  CalibrationOptions options;
  options.quantile = 0.975;
  const IntervalCalibration c = calibrate_intervals(errors, 48, options);
  REQUIRE(c.upper.size() == 48);
  const double z = normal_quantile(0.975);
  for (std::size_t h : {12, 36}) {  // busy: at least the busy errors' largest
    CAPTURE(h, c.upper[h] * z, c.upper[h - 10] * z);
    CHECK(c.upper[h] * z >= 3.0);
    CHECK(c.upper[h] > 2 * c.upper[h - 10]);  // 02:00 and 02:00 the next day
    CHECK(c.lower[h] > 2 * c.lower[h - 10]);
  }
  // Quiet: at least the quiet errors' largest (1), well under the busy
  // ones' (3). Each origin keeps its offset through the window, so held out
  // the outermost is beyond the others' largest: the band is widened past it.
  for (std::size_t h : {2, 22, 26, 46}) {
    CAPTURE(h, c.upper[h] * z);
    CHECK(c.upper[h] * z >= 1.0);
    CHECK(c.upper[h] * z < 2.0);
  }
}

TEST_CASE("a tail is widened until held-out origins are covered", "[forecast][calibration]") {
  // 8 origins x 6 steps: seven calm origins (errors -1 .. 1) and a stormy
  // one (errors up to 10). At q0.9 the 37th of the 48 errors is a calm one,
  // but held out the stormy origin falls outside: the level rises towards
  // the largest error.
  std::vector<BacktestError> errors;
  for (std::size_t origin = 0; origin < 8; ++origin)
    for (std::size_t h = 0; h < 6; ++h) {
      const double calm = -1 + 2 * static_cast<double>(h) / 5;
      errors.push_back({h, origin * 10 + h, origin == 3 ? 5 + calm * 5 : calm, 1.0});
    }
  const IntervalCalibration c = calibrate_intervals(errors, 6);
  REQUIRE(c.calibrated());
  const double z = normal_quantile(0.9);
  CHECK(c.upper[0] * z > 1.0);  // beyond every calm error
  CHECK_THAT(c.why, Catch::Contains("to cover q0.90 of each held-out origin"));
  // Eight alike origins: held out, each is covered at q0.9 itself.
  std::vector<BacktestError> alike;
  for (std::size_t origin = 0; origin < 8; ++origin)
    for (std::size_t h = 0; h < 6; ++h)
      alike.push_back({h, origin * 10 + h, -1 + 2 * static_cast<double>(h) / 5, 1.0});
  CHECK_THAT(calibrate_intervals(alike, 6).why, !Catch::Contains("held-out"));
}

TEST_CASE("the backtest keeps every scored error with its sigma",
          "[forecast][backtest][calibration]") {
  // y[i] = i and the naive model: from origin o the step-h (0-based) error is h + 1.
  std::vector<double> y(200);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = static_cast<double>(i);
  y[197] = std::nan("");
  FitInput input;
  input.y = y;
  const SeasonalNaive naive;
  const Model* models[] = {&naive};
  BacktestOptions options;
  options.horizon = 4;
  options.origins = 5;
  const auto report = backtest(input, models, options);
  REQUIRE(report.origins.size() == 5);
  const auto& errors = report.models[0].errors;
  CHECK(errors.size() == 5 * 4 - 1);  // the missing actual is left out
  for (const BacktestError& e : errors) {
    CHECK(e.error == Approx(static_cast<double>(e.step + 1)));
    CHECK(e.error == Approx(y[e.index] - y[e.index - e.step - 1]));
    CHECK(e.sigma > 0);
  }
}

TEST_CASE("selection calibrates the fitted model and says from how many errors",
          "[forecast][selection][calibration]") {
  const NoisyDaily f(11);
  const FitInput& input = f.input;
  SelectionOptions options;
  options.model = "holt-winters:none-additive";
  options.horizon = 6;
  const Selection s = select_and_fit(input, options);
  REQUIRE(s.fitted != nullptr);
  REQUIRE(s.interval.calibrated());
  CHECK(s.interval.errors ==
        s.origins * 6);  // 8 origins x 6 steps fill a pool of 40: no extra steps
  CHECK(std::find(s.notes.begin(), s.notes.end(), s.interval.why) != s.notes.end());
  CHECK_THAT(s.interval.why,
             Catch::Contains("calibrated from " + std::to_string(s.interval.errors)));
  CHECK(s.model == s.fitted->name());  // the wrapper keeps the model's name

  options.calibrate = false;
  const Selection raw = select_and_fit(input, options);
  CHECK_FALSE(raw.interval.calibrated());
  const Forecast a = s.fitted->forecast(8), b = raw.fitted->forecast(8);
  const double floor = CalibrationOptions{}.min_scale;
  for (std::size_t h = 0; h < 8; ++h) {
    CHECK(a.mean[h] == b.mean[h]);
    const std::size_t k = std::min<std::size_t>(h, 5);
    const double grow = h > 5 ? std::max(1.0, b.sigma[h] / b.sigma[5]) : 1.0;
    CHECK(a.sigma[h] == Approx(std::max(s.interval.upper[k] * grow, floor * b.sigma[h])));
    CHECK(a.sigma_lower[h] == Approx(std::max(s.interval.lower[k] * grow, floor * b.sigma[h])));
  }
  // A clone forecasts the same calibrated band.
  const auto copy = s.fitted->clone();
  CHECK(copy->forecast(8).sigma == a.sigma);

  // Two origins 12 steps apart; errors kept to 20 steps (40 / 2 origins) but
  // the data ends 4 steps after the last: 16 + 4 errors, too few: the
  // model's sigma, and the note says so.
  options.calibrate = true;
  options.horizon = 4;
  options.origins = 2;
  const Selection few = select_and_fit(input, options);
  REQUIRE(few.fitted != nullptr);
  CHECK_FALSE(few.interval.calibrated());
  CHECK(std::find(few.notes.begin(), few.notes.end(),
                  "interval: the model's sigma (20 backtest errors, fewer than the 30 a "
                  "calibration needs)") != few.notes.end());
  CHECK(few.fitted->forecast(4).sigma_lower.empty());
}

TEST_CASE("few origins keep errors past the horizon to fill a pool",
          "[forecast][backtest][calibration]") {
  // The engine's defaults at 5-minute steps: 4 origins, a 3-step lead window.
  const NoisyDaily f(2);
  const FitInput& input = f.input;
  SelectionOptions options;
  options.model = "holt-winters:none-additive";
  options.horizon = 3;
  options.origins = 4;
  const Selection s = select_and_fit(input, options);
  REQUIRE(s.fitted != nullptr);
  REQUIRE(s.origins == 4);
  // Origins 6 steps apart (a day / 4), the last 3 before the end: errors
  // kept to 10 steps (40 / 4) where the data goes on: 10 + 10 + 9 + 3.
  CHECK(s.interval.errors == 32);
  REQUIRE(s.interval.calibrated());
  CHECK(s.interval.upper.size() == 10);
  // Scoring is unchanged: the MASE is over the 3-step horizon alone.
  options.calibrate = false;
  const Selection raw = select_and_fit(input, options);
  CHECK(raw.selected_mase == s.selected_mase);
}

TEST_CASE("calibrated bands cover near the nominal quantile where the model's sigma is wrong",
          "[forecast][calibration]") {
  SECTION("surges: skewed noise, the normal lower tail far too wide") {
    std::mt19937 rng(5);
    std::exponential_distribution<double> exponential(1.0);
    const auto y = daily_series([&](std::size_t) { return 3 * (exponential(rng) - 1); });
    const Coverage raw = held_out_coverage(y, false);
    const Coverage calibrated = held_out_coverage(y, true);
    CAPTURE(raw.below_upper, raw.below_lower, calibrated.below_upper, calibrated.below_lower);
    // 24 origins x 12 steps: a tail share estimated from 288 errors is itself +-0.02.
    CHECK(std::abs(calibrated.below_lower - 0.1) < 0.05);
    CHECK(std::abs(calibrated.below_lower - 0.1) < std::abs(raw.below_lower - 0.1));
    CHECK(std::abs(calibrated.below_upper - 0.9) < 0.03);
  }
  SECTION("noise four times larger in six hours of the day") {
    std::mt19937 rng(9);
    std::normal_distribution<double> normal(0.0, 1.0);
    const auto y = daily_series(
        [&](std::size_t hour) { return (hour >= 8 && hour < 14 ? 4.0 : 1.0) * normal(rng); });
    const Coverage raw = held_out_coverage(y, false);
    const Coverage calibrated = held_out_coverage(y, true);
    CAPTURE(raw.below_upper, raw.below_lower, calibrated.below_upper, calibrated.below_lower);
    CHECK(std::abs(calibrated.below_upper - 0.9) < 0.03);
    CHECK(std::abs(calibrated.below_upper - 0.9) < std::abs(raw.below_upper - 0.9));
  }
}

TEST_CASE("a combination's band widens where its members disagree", "[forecast][calibration]") {
  // A combination's backtest, 8 origins x 12 steps: at half the origins its
  // members agreed (spread 1) and its errors were small (sd 1), at the
  // other half they disagreed (spread 4) and its errors were four times
  // larger. A single model's calibration cannot tell the two apart.
  std::mt19937 rng(21);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto draw = [&](std::size_t origins) {
    std::vector<BacktestError> errors;
    for (std::size_t o = 0; o < origins; ++o)
      for (std::size_t h = 0; h < 12; ++h) {
        const double spread = o % 2 == 0 ? 1.0 : 4.0;
        errors.push_back({h, 100 * o + h, spread * normal(rng), 3.0, spread});
      }
    return errors;
  };
  const auto errors = draw(8);
  const IntervalCalibration c = calibrate_intervals(errors, 12);
  REQUIRE(c.calibrated());
  REQUIRE(c.spread_scale.size() == 12);
  CHECK(c.spread_scale[0] == Approx(2.5));  // the typical spread
  CHECK_THAT(c.why, Catch::Contains("scaled by the members' disagreement"));
  std::vector<BacktestError> blind = errors;  // as one model's errors
  for (BacktestError& e : blind) e.spread = 0;
  const IntervalCalibration one = calibrate_intervals(blind, 12);
  CHECK(one.spread_scale.empty());

  // Forecasts with the members in agreement and in disagreement: each
  // step's band is the calibration's times (3 + spread / 2.5) / 4 (the
  // model's sigma set so that its bounds do not bind).
  auto band = [](const IntervalCalibration& calibration, double spread) {
    Forecast f{std::vector<double>(12, 0.0), calibration.upper};
    f.spread.assign(12, spread);
    calibration.apply(f);
    return f;
  };
  const Forecast agree = band(c, 1.0), disagree = band(c, 4.0), blind_band = band(one, 4.0);
  const double z = normal_quantile(0.9);
  for (std::size_t h = 0; h < 12; ++h) {
    CHECK(disagree.quantile(h, 0.9) == Approx(z * c.upper[h] * (3 + 4 / 2.5) / 4));
    CHECK(agree.quantile(h, 0.9) == Approx(z * c.upper[h] * (3 + 1 / 2.5) / 4));
    CHECK(disagree.quantile(h, 0.1) < agree.quantile(h, 0.1));
  }
  // Fresh errors from the same two regimes: the disagreeing forecasts'
  // actuals are covered at least as often as by the band that ignores the
  // spread, and the band still covers at least about 90 % overall.
  std::size_t inside_blind = 0, inside_disagree = 0, inside_all = 0, disagreeing = 0, total = 0;
  for (const BacktestError& e : draw(400)) {
    const Forecast& f = e.spread > 1 ? disagree : agree;
    const bool in = e.error <= f.quantile(e.step, 0.9);
    inside_all += in ? 1 : 0;
    ++total;
    if (e.spread > 1) {
      inside_disagree += in ? 1 : 0;
      inside_blind += e.error <= blind_band.quantile(e.step, 0.9) ? 1 : 0;
      ++disagreeing;
    }
  }
  const double share_disagree = double(inside_disagree) / double(disagreeing);
  const double share_blind = double(inside_blind) / double(disagreeing);
  const double share_all = double(inside_all) / double(total);
  CAPTURE(share_disagree, share_blind, share_all);
  CHECK(share_disagree >= share_blind);
  CHECK(share_all > 0.87);
}

TEST_CASE("event rows are calibrated from the errors on past event rows, relative to the mean",
          "[forecast][calibration][events]") {
  // Ordinary hours: 200 calm errors (sigma 1 around a mean of 100). Three past
  // payroll mornings (origins 1000, 2000, 3000), rows 1010..1019 etc.: the
  // forecast was 10 % to 25 % under the load (a mean of 400 missing 40..100).
  std::mt19937 rng(11);
  std::normal_distribution<double> calm(0.0, 1.0);
  const auto ordinary = errors_from(200, 4, [&] { return calm(rng); });
  std::vector<double> y(4000, 100.0);
  std::vector<BacktestError> before_events;
  for (std::size_t origin : {1000, 2000, 3000})
    for (std::size_t k = 0; k < 20; ++k) {
      const std::size_t row = origin + k;
      const bool event = k >= 10;
      const double forecast = event ? 400.0 : 100.0;
      const double under = event ? forecast * (0.10 + 0.15 * static_cast<double>(k - 10) / 9) : 1;
      y[row] = forecast + under;
      before_events.push_back({k, row, under, 1.0});
    }
  const auto is_event = [](std::size_t row) { return row % 1000 >= 10 && row % 1000 < 20; };
  IntervalCalibration c = calibrate_intervals(ordinary, 4);
  REQUIRE(c.calibrated());
  calibrate_event_rows(c, before_events, y, is_event);
  CHECK(c.event_errors == 30);  // the rows before the events are ordinary ones
  const double z = normal_quantile(0.9);
  // The conformal rank ceil(31 x 0.9) = 28 of 30: a 25 % miss (the largest).
  CHECK(c.event_upper * z == Approx(0.25).epsilon(0.02));
  CHECK(c.event_lower == 0.0);  // the forecast was never above the load there
  CHECK_THAT(c.why, Catch::Contains("event rows from 30 backtest errors on past event rows"));

  // Applied to a payroll morning forecast at 400: q0.9 at +25 %, where the
  // ordinary calibration (about 1.3) would have served 402.
  Forecast f{{100.0, 400.0, 400.0, 100.0}, std::vector<double>(4, 1.0)};
  const std::vector<std::uint8_t> event_row{0, 1, 1, 0};
  c.apply(f, event_row);
  CHECK(f.quantile(1, 0.9) == Approx(500.0).epsilon(0.01));
  CHECK(f.quantile(0, 0.9) < 103.0);
  CHECK(f.quantile(3, 0.9) < 103.0);

  SECTION("too few errors on event rows: the model's own sigma there, if wider") {
    IntervalCalibration few = calibrate_intervals(ordinary, 4);
    calibrate_event_rows(few, std::span(before_events).first(15), y, is_event);
    CHECK(few.event_errors == 5);
    CHECK(std::isnan(few.event_upper));
    CHECK_THAT(few.why, Catch::Contains("5 backtest errors on past event rows, fewer than the 8"));
    Forecast g{{100.0, 400.0}, {1.0, 30.0}};  // the events model widened its event row
    few.apply(g, std::vector<std::uint8_t>{0, 1});
    CHECK(g.sigma[1] == 30.0);
    CHECK(g.sigma[0] < 2.0);
  }

  SECTION("event rows never narrower than the spread of past occurrences") {
    // Past payroll mornings strayed 12 % from what the others foretold: a
    // model scored on one of them (5 errors) keeps its ordinary sigma of 1
    // on a forecast of 400 no longer; 12 % of the mean is the least.
    IntervalCalibration few = calibrate_intervals(ordinary, 4);
    calibrate_event_rows(few, std::span(before_events).first(15), y, is_event, {}, 0.12);
    CHECK(std::isnan(few.event_upper));
    CHECK(few.event_floor == 0.12);
    CHECK_THAT(few.why, Catch::Contains("at least 12 % of the forecast (the spread of past "
                                        "occurrences around the others) (5 backtest errors"));
    Forecast g{{100.0, 400.0, 400.0}, {1.0, 1.0, 60.0}};
    few.apply(g, std::vector<std::uint8_t>{0, 1, 1});
    CHECK(g.sigma[0] < 2.0);  // ordinary rows: no floor
    CHECK(g.sigma[1] == Approx(48.0));
    CHECK(g.sigma_lower[1] == Approx(48.0));
    CHECK(g.sigma[2] == 60.0);  // a wider model sigma is kept
    // Calibrated apart (30 errors, a q0.9 of +25 %), the wider of the two.
    IntervalCalibration narrow = calibrate_intervals(ordinary, 4);
    calibrate_event_rows(narrow, before_events, y, is_event, {}, 0.05);
    IntervalCalibration wide = calibrate_intervals(ordinary, 4);
    calibrate_event_rows(wide, before_events, y, is_event, {}, 0.5);
    Forecast h1{{400.0}, {1.0}}, h2{{400.0}, {1.0}};
    narrow.apply(h1, std::vector<std::uint8_t>{1});
    wide.apply(h2, std::vector<std::uint8_t>{1});
    CHECK(h1.quantile(0, 0.9) == Approx(500.0).epsilon(0.01));
    CHECK(h2.sigma[0] == Approx(200.0));
    CHECK_THAT(wide.why, Catch::Contains("never below the ordinary hours'), at least 50 %"));
  }
}
