// Anomaly signals: the standardised residual against the one-step forecast,
// the interval test at the target's quantile, persistence, and an injected
// outage in a replay (anomaly within three steps, a refit when it persists),
// and the opt-in <metric>-anomaly external metric (value, config, engine).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "prescale/autoscaler/anomaly.hpp"
#include "prescale/autoscaler/anomaly_scorer.hpp"
#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/engine.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/autoscaler/target.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/kubernetes/api.hpp"
#include "prescale/kubernetes/quantity.hpp"
#include "prescale/simulate/replay.hpp"
#include "recorded_source.hpp"

using namespace prescale;
using namespace prescale::autoscaler;
using namespace prescale::simulate;

namespace {

// Feeds a tracker one sample: observed against a forecast of `mean` (made
// anomaly_steps - 1 steps before, as the scorer passes it) with sigma 10, in
// slot 0 unless told.
bool feed(AnomalyTracker& tracker, std::int64_t t, double observed, double mean = 100,
          std::size_t slot = 0, std::string event = {},
          double comparable = std::numeric_limits<double>::quiet_NaN()) {
  AnomalySample sample;
  sample.sample_unix = t;
  sample.observed = observed;
  sample.one_step_mean = mean;
  sample.one_step_sigma = 10;
  sample.lagged_mean = mean;
  sample.lagged_steps = tracker.settings().anomaly_steps;
  sample.comparable = comparable;
  sample.slot.index = slot;
  sample.slot.event = std::move(event);
  return tracker.observe(sample);
}

// A tracker of a target with a weekly season (business days, Saturdays,
// Sundays and holidays apart) and two of its slots: a business day's and a
// Saturday's, at the given local seconds of the day.
struct WeeklyTracker {
  AnomalyTracker tracker;
  std::size_t weekday = 0;
  std::size_t saturday = 0;
};
WeeklyTracker weekly_tracker(std::int64_t weekday_second, std::int64_t saturday_second) {
  const auto layout = AnomalySlotLayout::for_target(60, {86400, 7 * 86400});
  return {AnomalyTracker(AnomalySettings{3, 15}, 60, 0.9, layout),
          layout.index(weekday_second, AnomalyDayType::business),
          layout.index(saturday_second, AnomalyDayType::saturday)};
}

// Gaussian noise of a fixed seed (a tiny LCG and Box-Muller: the same everywhere).
struct Noise {
  std::uint64_t state = 12345;
  double uniform() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (static_cast<double>(state >> 11) + 0.5) * 0x1.0p-53;
  }
  double normal() {
    return std::sqrt(-2 * std::log(uniform())) * std::cos(6.283185307179586 * uniform());
  }
};

// The payments target the replays and the worker score: New York time, two
// backtest origins; the rest as each test needs it.
config::TargetConfig payments_target(std::int64_t step_seconds, std::int64_t history_seconds,
                                     std::vector<std::int64_t> seasonality_seconds,
                                     std::string model, std::int64_t lead_time_seconds) {
  config::TargetConfig target;
  target.metric = "payments-rps-forecast";
  target.query = "payments";
  target.step_seconds = step_seconds;
  target.history_seconds = history_seconds;
  target.timezone = "America/New_York";
  target.seasonality_seconds = std::move(seasonality_seconds);
  target.model = std::move(model);
  target.lead_time_seconds = lead_time_seconds;
  target.backtest_origins = 2;
  return target;
}

// Replays `target` over `trace`; PRESCALE_DUMP_DECISIONS=<file> appends its
// decision records there, to read them when a check fails.
ReplayResult scored_replay(const forecast::Series& trace, const config::TargetConfig& target,
                           const ReplayOptions& options) {
  auto result = replay(trace, target, options);
  REQUIRE(result.has_value());
  if (const char* path = std::getenv("PRESCALE_DUMP_DECISIONS")) {
    std::ofstream out(path, std::ios::app);
    for (const auto& r : result->decisions) out << to_json(r) << "\n";
  }
  return std::move(*result);
}

}  // namespace

TEST_CASE("the CUSUM allowance follows the number of tests a week", "[anomaly]") {
  // A Gaussian residual exceeds it about 27 times a week, whatever the step.
  CHECK(anomaly_allowance(60) == Approx(3.0).margin(0.01));
  CHECK(anomaly_allowance(300) == Approx(2.47).margin(0.01));
  CHECK(anomaly_allowance(1800) == Approx(1.75).margin(0.01));
  CHECK(anomaly_allowance(86400) == 1.0);  // never below one sigma
}

TEST_CASE(
    "slots: five-minute buckets or three steps; business days, Saturdays and Sundays apart with a "
    "weekly season",
    "[anomaly]") {
  const auto minute = AnomalySlotLayout::for_target(60, {86400, 7 * 86400});
  CHECK(minute.buckets_per_day == 288);
  CHECK(minute.day_types == 3);
  CHECK(minute.index(9 * 3600 + 31 * 60, AnomalyDayType::business) == 114);
  CHECK(minute.index(9 * 3600 + 31 * 60, AnomalyDayType::saturday) == 288 + 114);
  CHECK(minute.index(9 * 3600 + 31 * 60, AnomalyDayType::rest) == 2 * 288 + 114);
  const auto half_hour = AnomalySlotLayout::for_target(1800, {86400});
  CHECK(half_hour.buckets_per_day == 16);  // 90-minute buckets
  CHECK(half_hour.day_types == 1);
  CHECK(half_hour.index(86399, AnomalyDayType::saturday) == 15);
  CHECK(AnomalySlotLayout::for_target(300, {}).count() == 1);
}

TEST_CASE("ordinary noise makes no anomaly; a sustained shift does after anomalySteps samples",
          "[anomaly]") {
  AnomalyTracker tracker(AnomalySettings{3, 15}, 60, 0.9, AnomalySlotLayout{});
  Noise noise;
  std::int64_t t = 0;
  // Four weeks of one-minute Gaussian noise (sigma 10): the interval test
  // fires on a fifth of the samples, the anomaly rule never.
  int outside = 0;
  for (int i = 0; i < 4 * 10080; ++i, t += 60) {
    feed(tracker, t, 100 + 10 * noise.normal());
    REQUIRE_FALSE(tracker.state().anomaly);
    outside += tracker.state().outside ? 1 : 0;
  }
  CHECK(outside > 7000);
  CHECK(tracker.slot_scale(0, 1) == Approx(10).epsilon(0.15));
  // One wild sample (a bad scrape) is no anomaly, however wild.
  feed(tracker, t, 1e6);
  t += 60;
  CHECK_FALSE(tracker.state().anomaly);
  CHECK(tracker.state().evidence < 1);
  for (int i = 0; i < 20; ++i, t += 60) feed(tracker, t, 100 + 10 * noise.normal());
  REQUIRE(tracker.state().evidence == 0);
  // A drop to 30 (seven scales): flagged at its third sample, not before.
  const std::int64_t start = t;
  for (int i = 0; i < 3; ++i, t += 60) {
    feed(tracker, t, 30);
    CHECK(tracker.state().anomaly == (i == 2));
  }
  CHECK(tracker.state().episode_start_unix == start);
  CHECK(tracker.state().evidence < -1);  // below the forecast
  CHECK(tracker.state().score == Approx(-7).epsilon(0.2));
  // The forecast, less the slot's small habit (the wild sample taught a little of it).
  CHECK(describe_anomaly(tracker.state()).find("residual scales below the forecast") !=
        std::string::npos);
  CHECK(tracker.state().expected == Approx(100).margin(2));
  // Back to normal: over within a few samples.
  int samples_to_end = 0;
  while (tracker.state().anomaly && samples_to_end < 20) {
    feed(tracker, t, 100);
    t += 60;
    ++samples_to_end;
  }
  CHECK(samples_to_end <= 6);
  CHECK(tracker.state().episode_start_unix == 0);
}

TEST_CASE("a run's residuals never widen the scale that judges them; they are learned after it",
          "[anomaly]") {
  // Slot 1 (a quiet night bucket) has seen 30 samples: young enough that
  // learning each of a drop's samples at once would widen its scale by a
  // tenth a sample, and a 5.5-scale drop would take twice as long to flag.
  AnomalyTracker tracker(AnomalySettings{3, 15}, 60, 0.9,
                         AnomalySlotLayout::for_target(60, {86400}));
  Noise noise;
  std::int64_t t = 0;
  for (int i = 0; i < 600; ++i, t += 60) feed(tracker, t, 100 + 10 * noise.normal(), 100, 0);
  for (int i = 0; i < 30; ++i, t += 60) feed(tracker, t, 100 + 10 * noise.normal(), 100, 1);
  REQUIRE(tracker.state().evidence == 0);
  const double before = tracker.slot_scale(1, 1);
  const std::int64_t learned = tracker.learned_samples();
  // 3 scales past the allowance a sample: 12 > h = 10 at the fourth.
  const double drop = 100 - (anomaly_allowance(60) + 3) * before;
  for (int i = 0; i < 4; ++i, t += 60) {
    feed(tracker, t, drop, 100, 1);
    CHECK(tracker.slot_scale(1, 1) == before);
    CHECK(tracker.state().anomaly == (i == 3));
  }
  // Over: its residuals (capped at 4 scales) are learned now, the slot a little wider.
  for (int i = 0; i < 10 && tracker.state().anomaly; ++i, t += 60) feed(tracker, t, 100, 100, 1);
  REQUIRE_FALSE(tracker.state().anomaly);
  CHECK(tracker.learned_samples() > learned + 4);
  CHECK(tracker.slot_scale(1, 1) > before);
}

TEST_CASE(
    "an anomaly lasting shiftSteps is a new normal, once; a creeping run counts from its "
    "declaration",
    "[anomaly]") {
  AnomalyTracker tracker(AnomalySettings{3, 5}, 60, 0.9, AnomalySlotLayout{});
  std::int64_t t = 0;
  for (int i = 0; i < 600; ++i, t += 60) feed(tracker, t, 100 + (i % 2 ? 8 : -8));
  std::vector<int> shifts;
  for (int i = 0; i < 12; ++i, t += 60)
    if (feed(tracker, t, 200)) shifts.push_back(i);
  // Declared at the third sample, a new normal at the fifth; a refit that did not
  // absorb it is not asked again while the anomaly lasts (the schedule still runs).
  CHECK(shifts == std::vector<int>{4});
  CHECK(tracker.state().shift);
  CHECK(tracker.state().episode_steps == 12);
  for (int i = 0; i < 30 && tracker.state().anomaly; ++i, t += 60) feed(tracker, t, 100);
  REQUIRE_FALSE(tracker.state().anomaly);
  // A run that creeps past the threshold (0.95 scales beyond the allowance a
  // sample) is declared at its eleventh sample (10.45 > h) and is a new normal
  // only shiftSteps - anomalySteps samples later, not at its fifth.
  const double scale = tracker.slot_scale(0, 1);
  const double creep = 100 + tracker.slot_bias(0) + (anomaly_allowance(60) + 0.95) * scale;
  int declared = -1, shifted = -1;
  for (int i = 0; i < 20; ++i, t += 60) {
    const bool refit = feed(tracker, t, creep);
    if (declared < 0 && tracker.state().anomaly) declared = i;
    if (shifted < 0 && refit) shifted = i;
  }
  CHECK(declared == 10);
  CHECK(shifted == declared + 2);
}

TEST_CASE(
    "a miss the model makes at that hour every week is its habit: learned as the slot's bias, and "
    "an outage there is still flagged",
    "[anomaly]") {
  // A model with a weekly season that forecasts a market open on Saturdays
  // too (200 where the load stays at 100): the Saturday 09:30 slot learns a
  // bias of -100, not a spread of 100 that would hide a real outage there.
  auto weekly = weekly_tracker(9 * 3600 + 31 * 60, 9 * 3600 + 31 * 60);
  auto& tracker = weekly.tracker;
  const std::size_t weekday = weekly.weekday, saturday = weekly.saturday;
  Noise noise;
  std::int64_t t = 0;
  int flagged_late = 0;
  for (int week = 0; week < 20; ++week) {
    for (int i = 0; i < 300; ++i, t += 60)
      feed(tracker, t, 100 + 10 * noise.normal(), 100, weekday);
    for (int i = 0; i < 5; ++i, t += 60) {
      feed(tracker, t, 100 + 10 * noise.normal(), 200, saturday);
      if (week >= 2 && tracker.state().anomaly) ++flagged_late;
    }
  }
  CHECK(flagged_late == 0);  // the first Saturday is news; from the third on, a habit
  CHECK(tracker.slot_bias(saturday) == Approx(-100).epsilon(0.25));
  CHECK(tracker.slot_scale(saturday, 1) < 40);
  // An outage on a Saturday morning (0 against the same forecast of 200):
  // flagged within ten samples. Without the bias the slot's scale would have
  // learned the habitual miss as spread (about 100) and never flag it.
  for (int i = 0; i < 30; ++i, t += 60) feed(tracker, t, 100 + 10 * noise.normal(), 100, weekday);
  REQUIRE_FALSE(tracker.state().anomaly);
  int samples = 0;
  for (; samples < 10 && !tracker.state().anomaly; ++samples, t += 60)
    feed(tracker, t, 0, 200, saturday);
  CHECK(tracker.state().anomaly);
  CHECK(samples <= 8);
  // Judged against the forecast less the habit: what the slot's Saturdays look like.
  CHECK(tracker.state().expected == Approx(100).epsilon(0.3));
}

TEST_CASE(
    "an anomaly is also off from the same time on the last comparable day: a model's ghost that "
    "day's load matches is none, an outage still is",
    "[anomaly]") {
  // A model with a weekly season that learnt one Saturday's batch (or a market
  // open) forecasts it again the next Saturday: 200 where the load, as last
  // Saturday, stays at 100. Off against the model, not against last week.
  auto weekly = weekly_tracker(11 * 3600, 20 * 3600 + 5 * 60);
  auto& tracker = weekly.tracker;
  const std::size_t weekday = weekly.weekday, saturday = weekly.saturday;
  Noise noise;
  // A sample with last week's value at the same time (the scorer's comparable).
  auto feed_week = [](AnomalyTracker& into, std::int64_t t, double observed, double mean,
                      std::size_t slot, double last_week) {
    return feed(into, t, observed, mean, slot, {}, last_week);
  };
  std::int64_t t = 0;
  // Two days of ordinary samples teach both scales (the cross-check waits
  // for a day of them).
  for (int i = 0; i < 2 * 1440; ++i, t += 60)
    feed_week(tracker, t, 100 + 10 * noise.normal(), 100, weekday, 100 + 10 * noise.normal());
  REQUIRE_FALSE(tracker.state().anomaly);
  // The ghost, judged with last week's value (tracker) and without it (blind:
  // the model's test alone, as before the cross-check).
  AnomalyTracker blind = tracker;
  bool flagged = false, blind_flagged = false;
  for (int i = 0; i < 10; ++i, t += 60) {
    const double observed = 100 + 10 * noise.normal();
    feed_week(tracker, t, observed, 200, saturday, 100 + 10 * noise.normal());
    feed_week(blind, t, observed, 200, saturday, std::numeric_limits<double>::quiet_NaN());
    flagged = flagged || tracker.state().anomaly;
    blind_flagged = blind_flagged || blind.state().anomaly;
    CHECK(std::abs(tracker.state().evidence) < 1);  // the evidence reads as the rule
  }
  CHECK(blind_flagged);
  CHECK_FALSE(flagged);
  for (int i = 0; i < 30; ++i, t += 60)
    feed_week(tracker, t, 100 + 10 * noise.normal(), 100, weekday, 100 + 10 * noise.normal());
  REQUIRE_FALSE(tracker.state().anomaly);
  // An outage is off from both: flagged at the third sample, as without the cross-check.
  int samples = 0;
  for (; samples < 10 && !tracker.state().anomaly; ++samples, t += 60)
    feed_week(tracker, t, 0, 100, weekday, 100 + 10 * noise.normal());
  CHECK(tracker.state().anomaly);
  CHECK(samples == 3);
  CHECK(tracker.state().evidence <= -1);
}

TEST_CASE(
    "the cross-check compares like with like: the last day of the same type at the same local "
    "time, one longest season back without a weekly season",
    "[anomaly]") {
  const auto zone = calendar::TimeZone::find("America/New_York").value();
  auto calendars = payments_calendars();
  REQUIRE(calendars.has_value());
  auto target = payments_target(60, 35 * 86400, {86400, 7 * 86400}, "auto", 180);
  target.calendars = {"nyse"};
  const AnomalyScorer weekly(target, zone,
                             std::make_shared<const calendar::CalendarSet>(*calendars));
  auto at = [&](unsigned month, unsigned day, int hour, int minute) {
    return zone.to_utc(calendar::days_from_civil({2026, month, day}) * 86400 + hour * 3600 +
                       minute * 60);
  };
  CHECK(weekly.comparable_time(at(2, 11, 10, 0)) == at(2, 10, 10, 0));  // Wed: Tuesday
  CHECK(weekly.comparable_time(at(2, 9, 10, 0)) == at(2, 6, 10, 0));    // Mon: Friday
  CHECK(weekly.comparable_time(at(2, 14, 20, 5)) == at(2, 7, 20, 5));   // Sat: last Saturday
  // Presidents' Day, a holiday, is like the Sunday before; the Tuesday after
  // like the Friday before it; the Sunday after like the holiday.
  CHECK(weekly.comparable_time(at(2, 16, 9, 31)) == at(2, 15, 9, 31));
  CHECK(weekly.comparable_time(at(2, 17, 9, 31)) == at(2, 13, 9, 31));
  CHECK(weekly.comparable_time(at(2, 22, 9, 31)) == at(2, 16, 9, 31));
  // Across the change to daylight saving time (Sunday 8 March): the same
  // local time, 71 hours before.
  CHECK(weekly.comparable_time(at(3, 9, 10, 0)) == at(3, 9, 10, 0) - 71 * 3600);
  // Without a weekly season: one longest season back; without one, none.
  const AnomalyScorer daily(payments_target(60, 35 * 86400, {86400}, "auto", 180), zone, nullptr);
  CHECK(daily.comparable_time(at(2, 9, 10, 0)) == at(2, 9, 10, 0) - 86400);
  const AnomalyScorer none(payments_target(60, 35 * 86400, {}, "auto", 180), zone, nullptr);
  CHECK(none.comparable_time(at(2, 9, 10, 0)) == 0);
}

TEST_CASE(
    "comparable_time keeps its lookups per local day and gives what a fresh lookup gives, across "
    "DST changes, a 30-minute one, a skipped day and calls out of order",
    "[anomaly]") {
  auto calendars = payments_calendars();
  REQUIRE(calendars.has_value());
  const auto shared = std::make_shared<const calendar::CalendarSet>(*calendars);
  // The rule spelled out with the zone's own conversions, looked up afresh at each call.
  auto expected = [](const calendar::TimeZone& zone, const calendar::Calendar* business,
                     std::int64_t t) {
    auto type = [&](std::int64_t day) {
      const auto date = calendar::civil_from_days(day);
      const auto weekday = calendar::weekday_of(date);
      const bool weekend =
          weekday == calendar::Weekday::saturday || weekday == calendar::Weekday::sunday;
      if (business ? business->is_business_day(date) : !weekend) return 0;
      return weekday == calendar::Weekday::saturday ? 1 : 2;
    };
    const std::int64_t local = zone.to_local(t);
    const std::int64_t day = floor_div(local, 86400);
    std::int64_t back = 1;
    while (back < 7 && type(day - back) != type(day)) ++back;
    return zone.to_utc(local - back * 86400);
  };
  struct Case {
    std::string zone;
    bool nyse;
    calendar::CivilDate from;
    int days;
    std::int64_t step;
  };
  // New York with the exchange's holidays over a year; Lord Howe's 30-minute
  // change; Apia, which skipped 30 December 2011; London; Kolkata (no DST).
  const std::vector<Case> cases = {{"America/New_York", true, {2026, 1, 1}, 366, 900},
                                   {"Australia/Lord_Howe", false, {2026, 3, 25}, 21, 300},
                                   {"Australia/Lord_Howe", false, {2026, 9, 28}, 14, 300},
                                   {"Pacific/Apia", false, {2011, 12, 20}, 21, 420},
                                   {"Europe/London", false, {2026, 3, 20}, 230, 1800},
                                   {"Asia/Kolkata", false, {2026, 1, 1}, 15, 3600}};
  for (const auto& c : cases) {
    INFO(c.zone);
    const auto zone = calendar::TimeZone::find(c.zone).value();
    auto target = payments_target(60, 35 * 86400, {86400, 7 * 86400}, "auto", 180);
    target.timezone = c.zone;
    if (c.nyse) target.calendars = {"nyse"};
    const AnomalyScorer scorer(target, zone, c.nyse ? shared : nullptr);
    const calendar::Calendar* business = c.nyse ? shared->find("nyse") : nullptr;
    const std::int64_t from = calendar::days_from_civil(c.from) * 86400;
    const std::int64_t count = c.days * 86400 / c.step;
    int wrong = 0;
    for (std::int64_t i = 0; i < count; ++i) {  // in order, as a catch-up calls it
      const std::int64_t t = from + i * c.step;
      if (scorer.comparable_time(t) != expected(zone, business, t) && ++wrong <= 3)
        FAIL_CHECK("in order at " << t);
    }
    for (std::int64_t i = 0, j = 0; i < count / 7; ++i) {  // jumping back and forth
      j = (j + 7919) % count;
      const std::int64_t t = from + j * c.step;
      if (scorer.comparable_time(t) != expected(zone, business, t) && ++wrong <= 3)
        FAIL_CHECK("out of order at " << t);
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("each slot is judged by its own volatility; an event by its own spread once learned",
          "[anomaly]") {
  AnomalyTracker tracker(AnomalySettings{3, 15}, 60, 0.9,
                         AnomalySlotLayout::for_target(60, {86400}));
  Noise noise;
  // Slot 0 is calm (sigma 10), slot 1 volatile (sigma 60, a market open).
  std::int64_t t = 0;
  for (int i = 0; i < 3000; ++i, t += 60) {
    feed(tracker, t, 100 + 10 * noise.normal(), 100, 0);
    feed(tracker, t, 100 + 60 * noise.normal(), 100, 1);
  }
  CHECK(tracker.slot_scale(0, 1) == Approx(10).epsilon(0.15));
  CHECK(tracker.slot_scale(1, 1) == Approx(60).epsilon(0.15));
  // +150 for three samples: ordinary in the volatile slot, an anomaly in the calm one.
  for (int i = 0; i < 3; ++i, t += 60) feed(tracker, t, 250, 100, 1);
  CHECK_FALSE(tracker.state().anomaly);
  for (int i = 0; i < 10; ++i, t += 60) feed(tracker, t, 100, 100, 0);
  for (int i = 0; i < 3; ++i, t += 60) feed(tracker, t, 250, 100, 0);
  CHECK(tracker.state().anomaly);
  for (int i = 0; i < 10; ++i, t += 60) feed(tracker, t, 100, 100, 0);
  REQUIRE_FALSE(tracker.state().anomaly);
  // A payroll surge the forecast half-knows: its first windows teach its spread and
  // judge nothing; then a surge like them is ordinary, an outage inside one is not.
  for (int i = 0; i < 120; ++i, t += 60) {
    feed(tracker, t, 100 + 200 * noise.normal(), 100, 0, "payroll.payroll-end");
    CHECK_FALSE(tracker.state().anomaly);
  }
  for (int i = 0; i < 3; ++i, t += 60) feed(tracker, t, 400, 100, 0, "payroll.payroll-end");
  CHECK_FALSE(tracker.state().anomaly);
  for (int i = 0; i < 5; ++i, t += 60) feed(tracker, t, 100, 100, 0, "payroll.payroll-end");
  for (int i = 0; i < 3; ++i, t += 60) feed(tracker, t, -3000, 100, 0, "payroll.payroll-end");
  CHECK(tracker.state().anomaly);
  CHECK(tracker.state().event == "payroll.payroll-end");
}

TEST_CASE("gaps and degenerate forecasts score nothing; a warm-up's learning carries over",
          "[anomaly]") {
  AnomalyTracker tracker;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(feed(tracker, 60, nan));
  CHECK_FALSE(feed(tracker, 60, 150, nan));
  CHECK(tracker.state().sample_unix == 0);
  CHECK(tracker.learned_samples() == 0);
  AnomalyTracker warmed;
  for (int i = 0; i < 100; ++i) feed(warmed, i * 60, 100 + (i % 2 ? 20 : -20));
  CHECK(warmed.learned_samples() == 100);
  tracker.adopt_learning(warmed);
  CHECK(tracker.learned_samples() == 100);
  CHECK(tracker.slot_scale(0, 1) == Approx(warmed.slot_scale(0, 1)));
  CHECK(tracker.state().sample_unix == 0);  // its own newest sample, not the warm-up's
}

TEST_CASE("an injected outage: anomaly records within three steps, a refit when it persists",
          "[anomaly][replay]") {
  // 5-minute steps, three weeks; the outage halves traffic for three hours
  // from 2026-02-19 15:00Z (10:00 New York, a Thursday), 36 steps.
  TraceOptions options;
  options.days = 21;
  options.step_seconds = 300;
  options.random_spikes = false;
  const std::int64_t outage_start = calendar::days_from_civil({2026, 2, 19}) * 86400 + 15 * 3600;
  options.outages.push_back({outage_start, outage_start + 3 * 3600});
  options.outage_factor = 0.5;
  auto trace = generate_trace(options);
  REQUIRE(trace.has_value());

  // "auto" picks seasonal naive or better: no fallback to hide the forecast.
  auto target = payments_target(300, 14 * 86400, {86400, 7 * 86400}, "auto", 900);
  // Refits are on the wall clock's schedule: with a week between them, none
  // falls inside these ten hours to absorb the outage before the shift is called.
  target.refit_interval_seconds = 7 * 86400;
  ReplayOptions replay_options;
  replay_options.start_unix = outage_start - 6 * 3600;
  replay_options.end_unix = outage_start + 4 * 3600;
  const auto result = scored_replay(*trace, target, replay_options);

  const DecisionRecord* anomaly = nullptr;
  const DecisionRecord* shift = nullptr;
  const DecisionRecord* refit_after_shift = nullptr;
  for (const auto& r : result.decisions) {
    INFO(to_json(r));
    if (r.time_unix < outage_start) {
      CHECK(r.kind != DecisionKind::shift);  // the normal load is no shift
      continue;
    }
    if (!anomaly && r.kind == DecisionKind::anomaly) anomaly = &r;
    if (!shift && r.kind == DecisionKind::shift) shift = &r;
    if (shift && !refit_after_shift && r.kind == DecisionKind::refit) refit_after_shift = &r;
  }
  REQUIRE(anomaly != nullptr);
  // The outage's first sample is visible one step after it starts; anomalySteps (3) such samples
  // make the record when they are far enough out, one more when the slot's spread is wider.
  const auto delay_steps = (anomaly->time_unix - outage_start) / target.step_seconds;
  CHECK(delay_steps <= 4);
  CHECK(anomaly->anomaly_score < -1);
  CHECK(anomaly->anomaly);
  CHECK(anomaly->outside_interval);
  CHECK(anomaly->reason.find("below the forecast") != std::string::npos);
  REQUIRE(shift != nullptr);
  CHECK((shift->time_unix - outage_start) / target.step_seconds <= 15 + 1);
  CHECK(shift->reason.rfind("new normal:", 0) == 0);
  REQUIRE(refit_after_shift != nullptr);
  CHECK(refit_after_shift->time_unix - shift->time_unix <= target.step_seconds);
  CHECK(refit_after_shift->reason.find("persistent shift") != std::string::npos);
}

TEST_CASE("a payments week: at most one false anomaly record, incidents flagged within 5 minutes",
          "[anomaly][replay]") {
  // One-minute steps: three weeks of history, then the week of 2026-02-23
  // (payroll-end on Friday the 27th, the month-end batch on Saturday) with
  // three incidents at different hours. The old rule (three samples outside
  // the 80 % interval) wrote hundreds of records on such a week.
  const auto zone = calendar::TimeZone::find("America/New_York").value();
  auto local = [&](int day, int hour, int minute) {
    return zone.to_utc(calendar::days_from_civil({2026, 2, static_cast<unsigned>(day)}) * 86400 +
                       hour * 3600 + minute * 60);
  };
  TraceOptions options;
  options.start_unix = local(2, 0, 0);
  options.days = 28;
  options.step_seconds = 60;
  options.seed = 3;
  options.incidents = {{local(24, 3, 40), local(24, 4, 20), 0.6},    // a night-time drop
                       {local(25, 14, 10), local(25, 14, 40), 1.5},  // an afternoon surge
                       {local(26, 9, 50), local(26, 10, 10), 0.5}};  // an outage after the open
  std::vector<TraceTruthEntry> truth;
  auto trace = generate_trace(options, &truth);
  REQUIRE(trace.has_value());
  auto calendars = payments_calendars();
  REQUIRE(calendars.has_value());

  // Holt-Winters, the family auto tries first, keeps the test in seconds.
  auto target = payments_target(60, 21 * 86400, {86400, 7 * 86400}, "holt-winters", 300);
  target.calendars = {"nyse", "payroll", "settlement"};
  target.refit_interval_seconds = 86400;
  ReplayOptions replay_options;
  replay_options.calendars = &*calendars;
  const auto result = scored_replay(*trace, target, replay_options);
  REQUIRE_FALSE(result.steps.empty());

  std::vector<const DecisionRecord*> anomalies;
  for (const auto& r : result.decisions)
    if (r.kind == DecisionKind::anomaly) anomalies.push_back(&r);
  int false_records = 0;
  for (const auto* r : anomalies) {
    bool explained = false;
    for (const auto& entry : truth) {
      // An incident's recovery is part of it; the generator's small random spikes are anomalies
      // too, neither required nor false.
      const std::int64_t grace = entry.kind == "incident" ? 1800 : 900;
      explained |= entry.start_unix <= r->time_unix && r->time_unix <= entry.end_unix + grace;
    }
    if (!explained) {
      ++false_records;
      UNSCOPED_INFO("false record: " << to_json(*r));
    }
  }
  CHECK(false_records <= 1);
  for (const auto& incident : options.incidents) {
    INFO("incident at " << incident.start_unix << " x" << incident.factor);
    const bool flagged = std::any_of(anomalies.begin(), anomalies.end(), [&](const auto* r) {
      return r->time_unix >= incident.start_unix && r->time_unix <= incident.start_unix + 300;
    });
    CHECK(flagged);
  }
}

// ---- The opt-in <metric>-anomaly external metric --------------------------

namespace {

std::string served_quantity(const AnomalyState& state, bool forecasting) {
  const double value = served_anomaly_score(state, forecasting);
  REQUIRE(std::isfinite(value));
  REQUIRE(value >= 0);
  auto quantity = kubernetes::format_quantity(value);
  REQUIRE(quantity.has_value());
  return *quantity;
}

std::string config_error(const std::string& yaml) {
  try {
    (void)config::parse_config(yaml);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  FAIL("accepted:\n" << yaml);
  return {};
}

}  // namespace

TEST_CASE(
    "the -anomaly metric serves the anomaly evidence as a milli quantity, 0 without evidence, "
    "never NaN or inf",
    "[anomaly][external]") {
  AnomalyTracker tracker;
  // Nothing scored yet: 0, not an error (the HPA reads an absent metric as a failure).
  CHECK(served_quantity(tracker.state(), true) == "0");
  // Ordinary samples: no evidence.
  for (int i = 0; i < 100; ++i) feed(tracker, i * 60, 100 + (i % 2 ? 10 : -10));
  CHECK(served_quantity(tracker.state(), true) == "0");
  // A drop, then a surge: |evidence|, rounded up to a milli-unit; 1 or more is an anomaly.
  AnomalyState state = tracker.state();
  state.evidence = -1.23456;
  CHECK(served_quantity(state, true) == "1235m");
  state.evidence = 0.5;
  CHECK(served_quantity(state, true) == "500m");
  for (int i = 100; i < 103; ++i) feed(tracker, i * 60, 400);
  CHECK(tracker.state().anomaly);
  CHECK(served_anomaly_score(tracker.state(), true) == Approx(tracker.state().evidence));
  CHECK(served_anomaly_score(tracker.state(), true) > 1);
  // A target in fallback has no trusted forecast: 0 whatever the last evidence was.
  CHECK(served_quantity(tracker.state(), false) == "0");
  // Served as the cap beyond it; a NaN is no evidence.
  state.evidence = -std::numeric_limits<double>::infinity();
  CHECK(served_anomaly_score(state, true) == kMaxServedAnomalyScore);
  CHECK(served_quantity(state, true) == "1M");
  state.evidence = std::numeric_limits<double>::quiet_NaN();
  CHECK(served_quantity(state, true) == "0");
}

TEST_CASE(
    "anomaly.externalMetric is opt-in, per target or in defaults, and errors name its YAML path",
    "[anomaly][external][config]") {
  const auto config = config::parse_config(R"(
defaults:
  anomaly: {externalMetric: true}
targets:
  - metric: payments
    query: up
  - metric: checkout
    query: up
    anomaly: {externalMetric: false}
)");
  REQUIRE(config.targets.size() == 2);
  CHECK(config.targets[0].anomaly_external_metric);
  CHECK(config.targets[0].anomaly_metric() == "payments-anomaly");
  CHECK_FALSE(config.targets[1].anomaly_external_metric);
  CHECK_FALSE(config::parse_config("targets:\n  - metric: a\n    query: up\n")
                  .targets[0]
                  .anomaly_external_metric);
  // Printed by check-config and read back the same.
  const auto reparsed = config::parse_config(config::to_yaml(config));
  CHECK(reparsed.targets[0].anomaly_external_metric);
  CHECK_FALSE(reparsed.targets[1].anomaly_external_metric);
  // Turning it on or off is a new setup: a reload rebuilds the target.
  auto toggled = config.targets[0];
  toggled.anomaly_external_metric = false;
  CHECK_FALSE(toggled.same_as(config.targets[0]));

  const std::string head = "targets:\n  - metric: a\n    query: up\n";
  CHECK_THAT(config_error(head + "    anomaly: true\n"),
             Catch::Contains(
                 "targets[0].anomaly: expected a map such as {externalMetric: true} (line 4)"));
  CHECK_THAT(
      config_error(head + "    anomaly: {externalMetric: maybe}\n"),
      Catch::Contains("targets[0].anomaly.externalMetric: expected true or false, got 'maybe'"));
  CHECK_THAT(
      config_error(head + "    anomaly: {externalMetrics: true}\n"),
      Catch::Contains(
          "targets[0].anomaly.externalMetrics: unknown key; did you mean 'externalMetric'?"));
  CHECK_THAT(config_error("defaults:\n  anomaly: {enabled: true}\n" + head),
             Catch::Contains("defaults.anomaly.enabled: unknown key"));
  // The twin's name may not collide with another target's metric.
  CHECK_THAT(
      config_error(head +
                   "    anomaly: {externalMetric: true}\n  - metric: a-anomaly\n    query: up\n"),
      Catch::Contains("targets[1].metric: duplicate metric name 'a-anomaly'"));
  // Nor be longer than a Kubernetes resource name.
  const std::string long_name(250, 'a');
  CHECK_THAT(config_error("targets:\n  - metric: " + long_name +
                          "\n    query: up\n    anomaly: {externalMetric: true}\n"),
             Catch::Contains("targets[0].metric: '" + long_name +
                             "-anomaly' (served because anomaly.externalMetric is "
                             "true) is longer than 253 characters"));
}

TEST_CASE(
    "an opted-in target serves <metric>-anomaly beside its forecast; a target that did not opt in "
    "does not",
    "[anomaly][external][engine]") {
  // Two weeks at 10-minute steps (fast even under the sanitizers); the last
  // three samples triple the load: an anomaly (anomalySteps samples of it).
  TraceOptions options;
  options.days = 14;
  options.step_seconds = 600;
  options.random_spikes = false;
  auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  for (std::size_t i = trace->size() - 3; i < trace->size(); ++i) trace->values[i] *= 3;

  config::TargetConfig opted;
  opted.metric = "payments-rps-forecast";
  opted.namespace_name = "payments";
  opted.labels = {{"app", "payments"}};
  opted.query = "payments";
  opted.step_seconds = 600;
  opted.history_seconds = 13 * 86400;
  opted.timezone = "America/New_York";
  opted.seasonality_seconds = {86400};
  opted.model = "seasonal-naive";
  opted.lead_time_seconds = 1200;
  opted.backtest_origins = 2;
  opted.capacity_per_replica = 100;
  opted.anomaly_external_metric = true;
  config::TargetConfig plain = opted;
  plain.metric = "checkout-rps-forecast";
  plain.capacity_per_replica.reset();
  plain.anomaly_external_metric = false;

  SourceFactory sources =
      [&](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(std::make_unique<testing::RecordedSource>(*trace));
  };
  // Fit with the last three samples unseen, then follow them: they are scored.
  ReplayClock clock(static_cast<double>(trace->end_unix() - 3 * 600));
  EngineOptions engine_options;
  engine_options.tick_threads = 0;  // inline: deterministic
  Engine engine({opted, plain}, {}, sources, clock, nullptr, engine_options);
  engine.tick();
  clock.set(static_cast<double>(trace->end_unix()));
  engine.tick();
  const auto snapshot = engine.snapshot();
  REQUIRE(snapshot->targets.size() == 2);
  const auto& status = snapshot->targets[0];
  INFO("model " << status.model << ", fallback '" << status.fallback_reason << "', score "
                << status.anomaly_score);
  REQUIRE(status.fallback_reason.empty());
  CHECK(status.outside_interval);
  CHECK(status.anomaly);
  CHECK(status.anomaly_score > 1);
  CHECK(status.residual_z > 3);
  // The interval the sample was held to, as /metrics exports it
  // (prescale_target_interval): the observed value lies above it.
  CHECK(status.quantile == opted.quantile);
  CHECK(status.step_seconds == 600);
  REQUIRE(std::isfinite(status.interval_lower));
  REQUIRE(std::isfinite(status.interval_upper));
  CHECK(status.interval_lower < status.interval_upper);
  CHECK(status.observed > status.interval_upper);
  CHECK(snapshot->targets[1].step_seconds == 600);

  std::vector<std::string> names;
  for (const auto& m : snapshot->metrics) names.push_back(m.metric);
  CHECK(names == std::vector<std::string>{"payments-rps-forecast", "payments-rps-forecast-replicas",
                                          "payments-rps-forecast-anomaly",
                                          "checkout-rps-forecast"});
  const MetricValue& forecast_metric = snapshot->metrics[0];
  const MetricValue& anomaly = snapshot->metrics[2];
  // Served like its forecast twin (same namespace, labels, time, window), so the same selector
  // finds it.
  CHECK(anomaly.namespace_name == "payments");
  CHECK(anomaly.labels == forecast_metric.labels);
  CHECK(anomaly.timestamp_unix == forecast_metric.timestamp_unix);
  CHECK(anomaly.window_seconds == 600);
  CHECK(anomaly.target == "payments-rps-forecast");
  CHECK(anomaly.value == Approx(std::abs(status.anomaly_score)));
  // The External Metrics API serves it (discovery and value) like any other metric.
  const auto listed = kubernetes::serve_api(
      *snapshot, "GET", kubernetes::parse_target("/apis/external.metrics.k8s.io/v1beta1"));
  CHECK(listed.body.find("\"payments-rps-forecast-anomaly\"") != std::string::npos);
  CHECK(listed.body.find("checkout-rps-forecast-anomaly") == std::string::npos);
  const auto value = kubernetes::serve_api(
      *snapshot, "GET",
      kubernetes::parse_target("/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/"
                               "payments-rps-forecast-anomaly?labelSelector=app%3Dpayments"));
  CHECK(value.status == 200);
  CHECK(value.body.find("\"value\":\"" + *kubernetes::format_quantity(anomaly.value) + "\"") !=
        std::string::npos);
  const auto absent = kubernetes::serve_api(
      *snapshot, "GET",
      kubernetes::parse_target("/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/"
                               "checkout-rps-forecast-anomaly"));
  CHECK(absent.status == 404);
  CHECK(absent.body.find("\"reason\":\"NotFound\"") != std::string::npos);
}

TEST_CASE("the anomaly warm-up is a fit job of its own, after the first forecast is served",
          "[anomaly][engine]") {
  // Two weeks at 10-minute steps; the worker starts two days before the end.
  TraceOptions options;
  options.days = 14;
  options.step_seconds = 600;
  options.random_spikes = false;
  const auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  const auto target = payments_target(600, 11 * 86400, {86400}, "seasonal-naive", 1200);
  std::vector<std::string> messages;
  const LogFunction log = [&](const LogRecord& record) { messages.push_back(record.message); };
  auto logged = [&](const std::string& message) {
    return std::count(messages.begin(), messages.end(), message);
  };
  TargetWorker worker(target, std::make_unique<testing::RecordedSource>(*trace), nullptr, log);
  // A fit pool that runs nothing until told, in the order jobs came.
  std::deque<std::function<void()>> queued;
  const FitLauncher launch = [&](std::function<void()> job) { queued.push_back(std::move(job)); };
  auto run_next = [&] {
    auto job = std::move(queued.front());
    queued.pop_front();
    job();
  };
  const std::int64_t start = trace->end_unix() - 2 * 86400;
  (void)worker.tick(start, launch);
  REQUIRE(queued.size() == 1);  // the first fit
  run_next();
  // The fit is delivered; the warm-up queues behind the fits already waiting
  // (another target's first fit would run before it).
  REQUIRE(queued.size() == 1);
  CHECK(logged("refit") == 1);
  CHECK(logged("anomaly scales learned from history") == 0);
  const auto first = worker.tick(start + 600, launch);
  CHECK(first.fit_adopted);
  CHECK(first.status.fallback_reason.empty());
  // No other fit of the target starts before the warm-up is in, even when
  // the schedule asks for one.
  (void)worker.tick(start + 2 * 3600, launch);
  REQUIRE(queued.size() == 1);
  run_next();
  CHECK(logged("anomaly scales learned from history") == 1);
  CHECK(queued.empty());
  // The next tick adopts the scales and starts the refit the schedule asked for.
  (void)worker.tick(start + 2 * 3600 + 600, launch);
  REQUIRE(queued.size() == 1);
  run_next();
  CHECK(logged("refit") == 2);
  CHECK(queued.empty());  // warmed once: no second warm-up
}
