// The trace simulator: pods, readiness, capacity accounting and the standard
// runs, on small traces whose outcome can be computed by hand.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "prescale/simulate/replay.hpp"
#include "prescale/simulate/simulation.hpp"

using namespace prescale::simulate;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

SimulationConfig config_60s() {
  SimulationConfig config;
  config.start_unix = 1'700'000'000;  // a multiple of 60
  config.step_seconds = 60;
  config.capacity_per_replica = 100;
  config.startup_seconds = 180;
  config.min_replicas = 1;
  config.max_replicas = 50;
  return config;
}

const RunSummary& summary(const SimulationResult& result, const std::string& name) {
  for (const auto& s : result.summaries) {
    if (s.name == name) return s;
  }
  FAIL("no run named " << name);
  return result.summaries.front();
}

// A served series built causally: served[i] sees only demand[0 .. i-1], the
// samples that exist before step i starts. Whatever `forecaster` does, it
// cannot read the future, which is the property the engine replay must keep.
std::vector<double> causal_series(
    std::span<const double> demand,
    const std::function<double(std::span<const double> history)>& forecaster) {
  std::vector<double> served(demand.size(), kNaN);
  for (std::size_t i = 0; i < demand.size(); ++i) served[i] = forecaster(demand.first(i));
  return served;
}

}  // namespace

TEST_CASE("PodPool: pods turn ready after start-up; scale-down removes the newest",
          "[simulation]") {
  PodPool pool(180, 2, 0);
  CHECK(pool.ready(0) == 2);
  pool.scale_to(5, 30);
  CHECK(pool.replicas() == 5);
  CHECK(pool.ready(209) == 2);
  CHECK(pool.ready(210) == 5);
  CHECK(pool.next_ready_after(100) == 210);
  pool.scale_to(3, 60);  // the starting pods go first
  CHECK(pool.ready(60) == 2);
  CHECK(pool.ready(210) == 3);
  CHECK_FALSE(pool.next_ready_after(210).has_value());
}

TEST_CASE("Flat demand: no scaling, no violation, exact replica-hours", "[simulation]") {
  const auto config = config_60s();
  const std::vector<double> demand(120, 480.0);  // 2 hours at 4.8 pods of load
  const std::vector<RunSpec> runs = {reactive_run(demand), oracle_run(demand, config)};
  const auto result = simulate(config, demand, runs);
  REQUIRE(result.has_value());
  for (const auto& s : result->summaries) {
    INFO(s.name);
    CHECK(s.scale_events == 0);
    CHECK(s.slo_violation_minutes == 0);
    CHECK(s.replica_hours == Approx(5 * 2.0));
    CHECK(s.overprovisioned_replica_hours == Approx(0.2 * 2.0));
  }
}

TEST_CASE("A step up: reactive pays the start-up time, the oracle does not", "[simulation]") {
  const auto config = config_60s();
  std::vector<double> demand(60, 500.0);
  for (std::size_t i = 30; i < 60; ++i) demand[i] = 1000.0;
  const std::vector<RunSpec> runs = {reactive_run(demand), oracle_run(demand, config)};
  const auto result = simulate(config, demand, runs);
  REQUIRE(result.has_value());

  // Reactive reads 1000 at the sync that opens step 30, asks for 10 pods at
  // once (limit max(2 x 5, 4) = 10), and they serve 180 s later.
  const auto& reactive = summary(*result, "reactive");
  CHECK(reactive.slo_violation_minutes == Approx(3.0));
  CHECK(reactive.unserved_requests == Approx(500.0 * 180));
  CHECK(reactive.scale_ups == 1);
  const auto& timeline = result->timelines[0];
  CHECK(timeline.replicas[29] == 5);
  CHECK(timeline.replicas[30] == 10);
  CHECK(timeline.ready[30] == Approx(5.0));
  CHECK(timeline.ready[33] == Approx(10.0));
  CHECK(timeline.violation_seconds[32] == Approx(60));
  CHECK(timeline.violation_seconds[33] == 0);

  // The oracle looks 180 + 15 s ahead (4 steps of 60 s): it scales at step
  // 26 and is ready before the surge.
  const auto& oracle = summary(*result, "oracle");
  CHECK(oracle.slo_violation_minutes == 0);
  CHECK(oracle.unserved_requests == 0);
  CHECK(result->timelines[1].replicas[26] == 10);
  CHECK(result->timelines[1].replicas[25] == 5);
  CHECK(oracle.replica_hours > reactive.replica_hours);
}

TEST_CASE("After a surge the HPA holds capacity for the 300 s stabilization window",
          "[simulation]") {
  const auto config = config_60s();
  std::vector<double> demand(40, 500.0);
  for (std::size_t i = 10; i < 20; ++i) demand[i] = 1000.0;
  const std::vector<RunSpec> runs = {reactive_run(demand)};
  const auto result = simulate(config, demand, runs);
  REQUIRE(result.has_value());
  const auto& replicas = result->timelines[0].replicas;
  // Load drops at step 20 (t = 1200 s); recommendations of 10 pods until
  // t = 1185 s keep 10 pods until the sync at 1185 + 300 = 1485 s (step 24).
  CHECK(replicas[23] == 10);
  CHECK(replicas[24] == 5);
  CHECK(summary(*result, "reactive").scale_downs == 1);
}

TEST_CASE("HPA behavior limits scale-up speed in the simulation", "[simulation]") {
  auto config = config_60s();
  HpaBehavior slow;
  slow.scale_up = ScalingRules{0, SelectPolicy::max, {{ScalingPolicyType::pods, 1, 60}}};
  config.behavior = slow;
  std::vector<double> demand(30, 500.0);
  for (std::size_t i = 10; i < 30; ++i) demand[i] = 1000.0;
  const std::vector<RunSpec> runs = {reactive_run(demand)};
  const auto result = simulate(config, demand, runs);
  REQUIRE(result.has_value());
  const auto& replicas = result->timelines[0].replicas;
  // One pod per 60 s: 6 after step 10, 7 after step 11, ... 10 after step 14.
  CHECK(replicas[10] == 6);
  CHECK(replicas[11] == 7);
  CHECK(replicas[14] == 10);
  CHECK(summary(*result, "reactive").scale_ups == 5);
}

TEST_CASE(
    "No leakage: on a flat trace with one unannounced spike the predictive run adds "
    "no capacity before the spike",
    "[simulation][leakage]") {
  const auto config = config_60s();
  const std::size_t spike_at = 120;
  std::vector<double> demand(180, 500.0);
  for (std::size_t i = spike_at; i < spike_at + 10; ++i) demand[i] = 2000.0;

  // A forecaster that only sees the past: the max of the last 30 minutes,
  // times a 5 % margin (what a seasonal model without history of this spike does).
  const auto served = causal_series(demand, [](std::span<const double> history) {
    if (history.empty()) return kNaN;
    double peak = 0;
    const std::size_t from = history.size() > 30 ? history.size() - 30 : 0;
    for (std::size_t j = from; j < history.size(); ++j) peak = std::max(peak, history[j]);
    return peak * 1.05;
  });
  const std::vector<RunSpec> runs = {reactive_run(demand), predictive_run(demand, served)};
  const auto result = simulate(config, demand, runs);
  REQUIRE(result.has_value());
  const auto& reactive = result->timelines[0];
  const auto& predictive = result->timelines[1];
  for (std::size_t i = 0; i < spike_at; ++i) {
    INFO("step " << i);
    // 525/s on 5 pods is within the 10 % tolerance: no scale-up before the spike.
    CHECK(predictive.replicas[i] == 5);
    CHECK(predictive.replicas[i] == reactive.replicas[i]);
  }
  CHECK(summary(*result, "predictive").slo_violation_minutes ==
        Approx(summary(*result, "reactive").slo_violation_minutes));

  // The check can fail: a served series that peeks at the future (the
  // oracle's) adds capacity before the spike.
  const auto leaky = oracle_metric(demand, config.step_seconds, 195);
  const std::vector<RunSpec> leaky_runs = {predictive_run(demand, leaky)};
  const auto leaked = simulate(config, demand, leaky_runs);
  REQUIRE(leaked.has_value());
  CHECK(leaked->timelines[0].replicas[spike_at - 1] > 5);
}

TEST_CASE(
    "No leakage through the real engine: the replayed forecast does not see an "
    "unannounced spike coming",
    "[simulation][leakage][engine]") {
  // Two weeks of a daily pattern at 10-minute steps, then a 1-day test stretch
  // with a one-hour spike that no history announces.
  SimulationConfig sim;
  sim.step_seconds = 600;
  sim.capacity_per_replica = 100;
  sim.startup_seconds = 300;
  sim.max_replicas = 100;
  prescale::forecast::Series series;
  series.start_unix = 1767225600;  // 2026-01-01T00:00Z
  series.step_seconds = 600;
  const std::size_t days = 15;
  for (std::size_t i = 0; i < days * 144; ++i) {
    const double phase = 2 * M_PI * static_cast<double>(i % 144) / 144.0;
    // Small deterministic wiggle so the fit has residuals to size its quantile on.
    series.values.push_back(1000 + 300 * std::sin(phase) +
                            10 * std::sin(static_cast<double>(i) * 1.7));
  }
  const std::size_t spike_at = (days - 1) * 144 + 80;  // 13:20 on the last day
  for (std::size_t i = spike_at; i < spike_at + 6; ++i) series.values[i] *= 3;

  prescale::config::TargetConfig target;
  target.metric = "leakage-test";
  target.query = "trace";
  target.step_seconds = 600;
  target.history_seconds = 14 * 86400;
  target.timezone = "UTC";
  target.seasonality_seconds = {86400};
  target.lead_time_seconds = sim.startup_seconds + 15 + 600;
  target.refit_interval_seconds = 6 * 3600;
  target.backtest_origins = 3;
  ReplayOptions options;
  options.end_unix = series.end_unix();
  const auto replayed = replay(series, target, options);
  REQUIRE(replayed.has_value());
  REQUIRE_FALSE(replayed->steps.empty());

  // The simulated stretch starts at the engine's first decision.
  const std::int64_t first = replayed->steps.front().time_unix;
  const auto skip = static_cast<std::size_t>((first - series.start_unix) / series.step_seconds);
  const std::vector<double> demand(series.values.begin() + static_cast<std::ptrdiff_t>(skip),
                                   series.values.end());
  std::vector<double> served(demand.size(), kNaN);
  for (const auto& step : replayed->steps) {
    served[static_cast<std::size_t>((step.time_unix - first) / series.step_seconds)] = step.served;
  }
  sim.start_unix = first;
  const std::size_t spike = spike_at - skip;
  const std::vector<RunSpec> runs = {reactive_run(demand), predictive_run(demand, served)};
  const auto result = simulate(sim, demand, runs);
  REQUIRE(result.has_value());
  // Before the spike, the served value follows the daily pattern, never the spike.
  for (std::size_t i = 0; i < spike; ++i) {
    INFO("step " << i << " served " << served[i]);
    CHECK(served[i] < 1.5 * 1300);
  }
  // And the capacity it bought just before the spike is the daily pattern's,
  // far below what the spike needs (about 3 x 1300 / 100 = 39 pods).
  const auto& predictive = result->timelines[1];
  CHECK(predictive.replicas[spike - 1] < 25);
  CHECK(predictive.violation_seconds[spike] > 0);  // it is caught out, as it must be
}

TEST_CASE("Metric builders: observed with lag, oracle window max", "[simulation]") {
  const std::vector<double> demand = {1, 5, 2, kNaN, 3, 0};
  const auto observed = observed_metric(demand, 1);
  CHECK(std::isnan(observed[0]));
  CHECK(observed[1] == 1);
  CHECK(observed[5] == 3);
  // Look-ahead 120 s on a 60 s grid: max over steps i .. i+2, NaN skipped.
  const auto oracle = oracle_metric(demand, 60, 120);
  CHECK(oracle == std::vector<double>{5, 5, 3, 3, 3, 0});
  const auto exact = oracle_metric(demand, 60, 0);
  CHECK(exact[0] == 1);
  CHECK(std::isnan(exact[3]));
}

TEST_CASE("Syncs every 15 s on a grid that is not a multiple of 15 s", "[simulation]") {
  auto config = config_60s();
  config.step_seconds = 10;
  config.startup_seconds = 100;
  std::vector<double> demand(120, 300.0);
  for (std::size_t i = 61; i < 120; ++i) demand[i] = 600.0;  // surge at t = 610 s
  const std::vector<RunSpec> runs = {reactive_run(demand)};
  const auto result = simulate(config, demand, runs);
  REQUIRE(result.has_value());
  // The next sync after 610 s is 615 s; pods ready at 715 s: 105 s short.
  CHECK(summary(*result, "reactive").slo_violation_minutes == Approx(105.0 / 60));
  CHECK(summary(*result, "reactive").unserved_requests == Approx(300.0 * 105));
}

TEST_CASE("Gaps in demand are not held against capacity; a failed metric blocks scaling",
          "[simulation]") {
  const auto config = config_60s();
  std::vector<double> demand(20, 500.0);
  demand[5] = kNaN;
  const std::vector<RunSpec> runs = {reactive_run(demand)};
  const auto result = simulate(config, demand, runs);
  REQUIRE(result.has_value());
  CHECK(result->missing_steps == 1);
  CHECK(result->summaries[0].scale_events == 0);
  CHECK(result->summaries[0].replica_hours == Approx(5 * 20 / 60.0));
}

TEST_CASE("Bad inputs are errors that name them", "[simulation]") {
  auto config = config_60s();
  const std::vector<double> demand(10, 1.0);
  RunSpec short_run{"predictive", {"forecast"}, {std::vector<double>(9, 1.0)}};
  const std::vector<RunSpec> runs = {short_run};
  const auto result = simulate(config, demand, runs);
  REQUIRE_FALSE(result.has_value());
  CHECK_THAT(result.error().message,
             Catch::Contains("run 'predictive': metric 0 has 9 values for 10"));

  config.capacity_per_replica = 0;
  const std::vector<RunSpec> ok = {reactive_run(demand)};
  const auto zero = simulate(config, demand, ok);
  REQUIRE_FALSE(zero.has_value());
  CHECK_THAT(zero.error().message, Catch::Contains("capacity per replica"));
}
