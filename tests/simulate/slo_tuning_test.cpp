// A target's declared SLO (`slo:`): the tuner the daemon runs at each refit
// (tune_target_for_slo on the decisions it recorded), and the engine applying
// its choice until the next refit, replayed as `serve` runs it.
#include <fmt/core.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "prescale/autoscaler/slo.hpp"
#include "prescale/simulate/frontier.hpp"
#include "prescale/simulate/predictive.hpp"
#include "prescale/simulate/replay.hpp"
#include "prescale/simulate/tune.hpp"
#include "replay_fixture.hpp"

using prescale::autoscaler::PolicyReading;
using prescale::autoscaler::PolicyRecorder;
using prescale::autoscaler::SloHistory;
using prescale::config::SloConfig;
using prescale::config::TargetConfig;
using namespace prescale::simulate;

namespace {

constexpr std::int64_t kStart = 1767225600;  // 2026-01-01T00:00Z

// Two days of 1-minute load, a daily cycle 1000 +- 600, and a target
// serving it with 100 per pod, a 5-minute lead (start-up 3m45s).
double load_at(std::size_t i) {
  return 1000 + 600 * std::sin(2 * M_PI * static_cast<double>(i % 1440) / 1440.0);
}

TargetConfig slo_target() {
  TargetConfig target;
  target.metric = "slo-test";
  target.query = "trace";
  target.step_seconds = 60;
  target.lead_time_seconds = 300;
  target.capacity_per_replica = 100;
  target.slo = SloConfig{};
  return target;
}

// What the decisions of two days read, as a worker records them: the
// observed value (the sample before t) and a lead-window forecast of the
// load `bias` times the truth, sigma 1 % of it.
SloHistory recorded_days(double bias) {
  const auto target = slo_target();
  const std::size_t steps = 2 * 1440;
  const std::size_t window = static_cast<std::size_t>(target.lead_steps()) + 1;
  std::vector<double> samples;
  for (std::size_t i = 0; i < steps + window; ++i) samples.push_back(load_at(i));
  PolicyRecorder recorder(target.slo->history_seconds);
  for (std::size_t i = 1; i < steps; ++i) {
    PolicyReading reading;
    reading.time_unix = kStart + static_cast<std::int64_t>(i) * 60;
    reading.observed = samples[i - 1];
    for (std::size_t h = 0; h < window; ++h) {
      reading.window.mean.push_back(bias * samples[i + h]);
      reading.window.sigma.push_back(0.01 * samples[i + h]);
    }
    reading.servable = true;
    recorder.add(std::move(reading));
  }
  return recorder.history(60, kStart, samples);
}

}  // namespace

TEST_CASE("the policy recorder lays readings on the step grid with the load each faced", "[slo]") {
  PolicyRecorder recorder(3600);
  const std::vector<double> samples = {10, 11, 12, 13, 14};  // t = 0, 60, .. 240
  recorder.add(PolicyReading{60, 10, {}, true});
  recorder.add(PolicyReading{180, 12, {}, true});  // the tick at 120 was missed
  recorder.add(PolicyReading{300, 14, {}, true});  // its sample (t = 300) is not in yet
  const SloHistory history = recorder.history(60, 0, samples);
  REQUIRE(history.start_unix == 60);
  REQUIRE(history.demand.size() == 3);  // 60, 120, 180: 300 waits for its sample
  CHECK(history.demand == std::vector<double>{11, 12, 13});
  CHECK(history.decided == std::vector<bool>{true, false, true});
  CHECK(std::isnan(history.observed[1]));
  CHECK(history.recorded_seconds() == 120);

  // A second tick at the same step (a fit landed) replaces that step's
  // reading and keeps the rest.
  recorder.add(PolicyReading{300, 15, {}, true});
  CHECK(recorder.size() == 3);
  CHECK(recorder.history(60, 0, {10, 11, 12, 13, 14, 15}).observed.back() == 15);
  // Older than the history window: dropped.
  recorder.add(PolicyReading{3600 + 200, 1, {}, true});
  CHECK(recorder.size() == 2);
}

TEST_CASE("tune_target_for_slo meets the SLO on history and buys headroom for a low forecast",
          "[slo]") {
  const auto target = slo_target();
  const auto exact = tune_target_for_slo(target, recorded_days(1.0));
  REQUIRE(exact);
  CHECK(exact->meets_slo);
  CHECK(exact->headroom >= 1);
  CHECK(exact->quantile > 0);
  CHECK(exact->quantile < 1);
  CHECK_THAT(exact->summary, Catch::Contains("SLO 0.1% of minutes short (margin 50%)") &&
                                 Catch::Contains(fmt::format("quantile {:g}", exact->quantile)) &&
                                 Catch::Contains("a reactive HPA"));

  // A forecast 25 % under the load needs more served than the true one.
  const auto low = tune_target_for_slo(target, recorded_days(0.75));
  REQUIRE(low);
  CHECK(low->headroom > exact->headroom);

  auto no_capacity = target;
  no_capacity.capacity_per_replica.reset();
  const auto refused = tune_target_for_slo(no_capacity, recorded_days(1.0));
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains("capacityPerReplica"));
}

TEST_CASE("a target with an slo serves the tuned quantile and headroom from the refit after a day",
          "[slo][replay]") {
  const auto series = prescale::test::five_daily_cycles();
  auto target = prescale::test::daily_cycle_target("slo-replay");
  target.capacity_per_replica = 100;
  target.slo = SloConfig{};
  ReplayOptions options;
  options.end_unix = series.end_unix();
  const auto replayed = replay(series, target, options);
  REQUIRE(replayed);

  std::size_t waiting = 0, tuned = 0;
  double headroom = 1, quantile = 0;
  for (const auto& r : replayed->decisions) {
    REQUIRE_FALSE(r.slo.empty());  // every record of the target says where its SLO stands
    if (r.kind != prescale::autoscaler::DecisionKind::refit) continue;
    if (r.slo.find("waits for a day") != std::string::npos) {
      ++waiting;
      CHECK(r.quantile == target.quantile);
      CHECK(r.headroom == 1);
    } else {
      ++tuned;
      // The setting the record names is the one in force.
      CHECK_THAT(r.slo, Catch::Contains(fmt::format("quantile {:g}, headroom x{:.3g}", r.quantile,
                                                    r.headroom)));
      CHECK_THAT(r.reason, Catch::Contains(r.slo));
      headroom = r.headroom;
      quantile = r.quantile;
    }
  }
  CHECK(waiting >= 1);  // the first fit: nothing recorded yet
  REQUIRE(tuned >= 1);  // the refit a day later
  CHECK(headroom >= 1);
  // The last day's decisions serve max(observed, forecast at the tuned
  // quantile) x headroom.
  const auto& last = replayed->steps.back();
  REQUIRE(last.window.size() > 0);
  double peak = -1e300;
  for (std::size_t h = 0; h < last.window.size(); ++h)
    peak = std::max(peak, last.window.quantile(h, quantile));
  CHECK(last.forecast == Approx(peak));
  CHECK(last.served == Approx(std::max(last.observed, peak) * headroom));
}

TEST_CASE("the frontier scores the daemon's own tuning: a replay with slo is the daemon point",
          "[slo][frontier]") {
  const auto series = prescale::test::five_daily_cycles();
  auto target = prescale::test::daily_cycle_target("slo-frontier");
  target.capacity_per_replica = 100;
  target.slo = SloConfig{};
  const auto tuned = replay_predictive(series, target);
  REQUIRE(tuned);
  CHECK(tuned->slo_tuned);
  bool noted = false;
  for (const auto& note : tuned->notes)
    noted = noted || note.find("tuned at each refit as the daemon does") != std::string::npos;
  CHECK(noted);

  SimulationConfig config;
  config.start_unix = tuned->start_unix;
  config.step_seconds = series.step_seconds;
  config.capacity_per_replica = 100;
  config.startup_seconds = 600;
  const auto skip = static_cast<std::size_t>((tuned->start_unix - series.start_unix) / 600);
  const std::vector<double> demand(series.values.begin() + static_cast<std::ptrdiff_t>(skip),
                                   series.values.end());
  FrontierOptions options;
  options.reactive_targets = {1.0, 0.9, 0.8, 0.7};
  options.predictive_targets = {0.9};  // the daemon's target (1.0) is swept for it alone
  options.quantiles = {0.5, 0.9};
  options.slo_short_fraction = 0.01;
  const auto swept = sweep_frontier(config, demand, &*tuned, options);
  REQUIRE(swept);
  const auto& h = swept->headline;
  REQUIRE(h.daemon_point);
  const auto& daemon = swept->points[*h.daemon_point];
  CHECK(daemon.run == "daemon");
  CHECK(daemon.target_fraction == 1.0);
  // It is the replay's served series through the HPA at target = capacity:
  // exactly the predictive run `simulate` reports.
  const std::vector<RunSpec> runs = {predictive_run(demand, tuned->served)};
  const auto direct = simulate(config, demand, runs);
  REQUIRE(direct);
  CHECK(daemon.violation_minutes == Approx(direct->summaries[0].slo_violation_minutes));
  CHECK(daemon.replica_hours == Approx(direct->summaries[0].replica_hours));
  CHECK(h.daemon_meets_slo == (daemon.violation_minutes <= h.slo_minutes));
  const auto reactive = frontier_minutes_at(swept->points, "reactive", daemon.replica_hours);
  CHECK(h.daemon_reactive_minutes_at_equal_cost.has_value() == reactive.has_value());
  if (reactive && *reactive > 0)
    CHECK(*h.daemon_violation_ratio == Approx(daemon.violation_minutes / *reactive));
  // Per day (two simulated days of 10-minute steps): the days add up to the totals.
  for (const auto& p : swept->points) {
    INFO(p.run << " " << p.target_fraction << " q" << p.quantile);
    REQUIRE(p.daily_violation_minutes.size() == 2);
    CHECK(p.daily_violation_minutes[0] + p.daily_violation_minutes[1] ==
          Approx(p.violation_minutes).margin(1e-9));
    CHECK(p.daily_replica_hours[0] + p.daily_replica_hours[1] == Approx(p.replica_hours));
  }

  // The same target without slo: no daemon point (its predictive run is a swept setting).
  target.slo.reset();
  const auto plain = replay_predictive(series, target);
  REQUIRE(plain);
  CHECK_FALSE(plain->slo_tuned);
  const auto unswept = sweep_frontier(config, demand, &*plain, options);
  REQUIRE(unswept);
  CHECK_FALSE(unswept->headline.daemon_point);
  for (const auto& p : unswept->points) CHECK(p.run != "daemon");
}
