// Anomaly signals: the standardised residual against the one-step forecast,
// the interval test at the target's quantile, persistence, and an injected
// outage in a replay (anomaly within three steps, a refit when it persists).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "prescale/autoscaler/anomaly.hpp"
#include "prescale/autoscaler/replay.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"

using namespace prescale;
using namespace prescale::autoscaler;

TEST_CASE("the anomaly score is the standardised residual; the interval follows the quantile", "[anomaly]") {
  AnomalyTracker tracker;
  CHECK_FALSE(tracker.observe(0, 110, 100, 10, 0.9));
  CHECK(tracker.state().score == Approx(1.0));
  CHECK_FALSE(tracker.state().outside);  // z_0.9 = 1.2816
  tracker.observe(60, 113, 100, 10, 0.9);
  CHECK(tracker.state().outside);
  CHECK(tracker.state().outside_steps == 1);
  CHECK(tracker.state().episode_start_unix == 60);
  // At q0.99 the interval is wider: 1.3 sigma is inside.
  tracker.observe(120, 113, 100, 10, 0.99);
  CHECK_FALSE(tracker.state().outside);
  CHECK(tracker.state().outside_steps == 0);
  // Below the interval counts too; a quantile under one half gives the same interval.
  tracker.observe(180, 80, 100, 10, 0.1);
  CHECK(tracker.state().score == Approx(-2.0));
  CHECK(tracker.state().outside);
  CHECK(describe_anomaly(tracker.state(), 0.9) ==
        "observed 80 is 2.0 sigma below the one-step forecast 100 (outside the 80% interval for 1 steps)");
}

TEST_CASE("gaps and degenerate forecasts score nothing", "[anomaly]") {
  AnomalyTracker tracker;
  tracker.observe(0, 150, 100, 10, 0.9);
  REQUIRE(tracker.state().outside_steps == 1);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(tracker.observe(60, nan, 100, 10, 0.9));
  CHECK_FALSE(tracker.observe(60, 150, nan, 10, 0.9));
  CHECK_FALSE(tracker.observe(60, 150, 100, 0, 0.9));
  CHECK_FALSE(tracker.observe(60, 150, 100, std::numeric_limits<double>::infinity(), 0.9));
  CHECK(tracker.state().outside_steps == 1);
  CHECK(tracker.state().sample_unix == 0);
}

TEST_CASE("a run outside the interval becomes a shift after M steps, and again after M more", "[anomaly]") {
  AnomalyTracker tracker(AnomalySettings{3, 5});
  std::vector<int> shifts;
  for (int i = 0; i < 12; ++i)
    if (tracker.observe(i * 60, 200, 100, 10, 0.9)) shifts.push_back(i);
  CHECK(shifts == std::vector<int>{4, 9});
  CHECK(tracker.state().shift);
  CHECK(tracker.state().outside_steps == 12);
  CHECK(tracker.state().episode_start_unix == 0);
  tracker.observe(12 * 60, 100, 100, 10, 0.9);
  CHECK_FALSE(tracker.state().shift);
  CHECK(tracker.state().outside_steps == 0);
  CHECK_FALSE(tracker.observe(13 * 60, 200, 100, 10, 0.9));
}

TEST_CASE("an injected outage: anomaly records within three steps, a refit when it persists", "[anomaly][replay]") {
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

  config::TargetConfig target;
  target.metric = "payments-rps-forecast";
  target.query = "payments";
  target.step_seconds = 300;
  target.history_seconds = 14 * 86400;
  target.timezone = "America/New_York";
  target.seasonality_seconds = {86400, 7 * 86400};
  target.model = "auto";  // picks seasonal naive or better: no fallback to hide the forecast
  target.lead_time_seconds = 900;
  target.refit_interval_seconds = 12 * 3600;
  target.backtest_origins = 2;
  ReplayOptions replay_options;
  replay_options.start_unix = outage_start - 6 * 3600;
  replay_options.end_unix = outage_start + 4 * 3600;
  auto result = replay(*trace, target, replay_options);
  REQUIRE(result.has_value());
  if (const char* path = std::getenv("PRESCALE_DUMP_DECISIONS")) {  // to read the records
    std::ofstream out(path, std::ios::app);
    for (const auto& r : result->decisions) out << to_json(r) << "\n";
  }

  const DecisionRecord* anomaly = nullptr;
  const DecisionRecord* shift = nullptr;
  const DecisionRecord* refit_after_shift = nullptr;
  for (const auto& r : result->decisions) {
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
  // The outage's first sample is visible one step after it starts; three such samples make the record.
  const auto delay_steps = (anomaly->time_unix - outage_start) / target.step_seconds;
  CHECK(delay_steps <= 3);
  CHECK(anomaly->anomaly_score < -2);
  CHECK(anomaly->outside_interval);
  CHECK(anomaly->reason.find("below the one-step forecast") != std::string::npos);
  REQUIRE(shift != nullptr);
  CHECK((shift->time_unix - outage_start) / target.step_seconds <= 15 + 1);
  CHECK(shift->reason.rfind("new normal:", 0) == 0);
  REQUIRE(refit_after_shift != nullptr);
  CHECK(refit_after_shift->time_unix - shift->time_unix <= target.step_seconds);
  CHECK(refit_after_shift->reason.find("persistent shift") != std::string::npos);
}
