// Anomaly signals: the standardised residual against the one-step forecast,
// the interval test at the target's quantile, persistence, and an injected
// outage in a replay (anomaly within three steps, a refit when it persists),
// and the opt-in <metric>-anomaly external metric (value, config, engine).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include "prescale/autoscaler/anomaly.hpp"
#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/engine.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/kubernetes/api.hpp"
#include "prescale/kubernetes/quantity.hpp"
#include "prescale/simulate/replay.hpp"
#include "recorded_source.hpp"

using namespace prescale;
using namespace prescale::autoscaler;
using namespace prescale::simulate;

TEST_CASE("the anomaly score is the standardised residual; the interval follows the quantile",
          "[anomaly]") {
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
        "observed 80 is 2.0 sigma below the one-step forecast 100 (outside the 80% interval for 1 "
        "steps)");
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

TEST_CASE("a run outside the interval becomes a shift after M steps, and again after M more",
          "[anomaly]") {
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

  config::TargetConfig target;
  target.metric = "payments-rps-forecast";
  target.query = "payments";
  target.step_seconds = 300;
  target.history_seconds = 14 * 86400;
  target.timezone = "America/New_York";
  target.seasonality_seconds = {86400, 7 * 86400};
  target.model = "auto";  // picks seasonal naive or better: no fallback to hide the forecast
  target.lead_time_seconds = 900;
  // Refits are on the wall clock's schedule: with a week between them, none
  // falls inside these ten hours to absorb the outage before the shift is called.
  target.refit_interval_seconds = 7 * 86400;
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
  // The outage's first sample is visible one step after it starts; three such samples make the
  // record.
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
    "the -anomaly metric serves |z| as a milli quantity, 0 without evidence, never NaN or inf",
    "[anomaly][external]") {
  AnomalyTracker tracker;
  // Nothing scored yet: 0, not an error (the HPA reads an absent metric as a failure).
  CHECK(served_quantity(tracker.state(), true) == "0");
  // 20 / 8.53 = 2.34466: a distance, rounded up to a milli-unit, for a drop as for a rise.
  tracker.observe(600, 80, 100, 8.53, 0.9);
  CHECK(served_anomaly_score(tracker.state(), true) == Approx(20 / 8.53));
  CHECK(served_quantity(tracker.state(), true) == "2345m");
  tracker.observe(1200, 120, 100, 8.53, 0.9);
  CHECK(served_quantity(tracker.state(), true) == "2345m");
  tracker.observe(1800, 130, 100, 10, 0.9);
  CHECK(served_quantity(tracker.state(), true) == "3");
  tracker.observe(2400, 100, 100, 10, 0.9);
  CHECK(served_quantity(tracker.state(), true) == "0");
  tracker.observe(3000, 20100, 100, 10, 0.9);
  CHECK(served_quantity(tracker.state(), true) == "2k");
  // A target in fallback has no trusted interval: 0 whatever the last score was.
  CHECK(served_quantity(tracker.state(), false) == "0");
  // A near-zero sigma overflows the score to infinity: served as the cap.
  tracker.observe(3600, 1e300, 0, 1e-300, 0.9);
  REQUIRE(std::isinf(tracker.state().score));
  CHECK(served_anomaly_score(tracker.state(), true) == kMaxServedAnomalyScore);
  CHECK(served_quantity(tracker.state(), true) == "1M");
  // A gap keeps the last score (scores nothing); a NaN score is no evidence.
  AnomalyState nan_state = tracker.state();
  nan_state.score = std::numeric_limits<double>::quiet_NaN();
  CHECK(served_quantity(nan_state, true) == "0");
  nan_state.score = -std::numeric_limits<double>::infinity();
  CHECK(served_quantity(nan_state, true) == "1M");
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
  // sample triples the load, so the newest score is far outside the interval.
  TraceOptions options;
  options.days = 14;
  options.step_seconds = 600;
  options.random_spikes = false;
  auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  trace->values.back() *= 3;

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
  CHECK(status.anomaly_score > 3);
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
