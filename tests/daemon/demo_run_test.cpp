// The demo's closing summary: steps recorded from served snapshots, replayed
// through the HPA model against the trace's true load.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "prescale/daemon/demo_run.hpp"

using namespace prescale;
using namespace prescale::daemon;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kStart = 1773050400;  // Mon 2026-03-09 10:00 UTC
constexpr std::int64_t kStep = 300;

// Flat 150 with one surge to 1000 for ten steps from step 50.
std::vector<double> surge_trace() {
  std::vector<double> load(100, 150);
  std::fill(load.begin() + 50, load.begin() + 60, 1000);
  return load;
}

DemoDeployment deployment() {
  DemoDeployment d;
  d.step_seconds = kStep;
  d.capacity_per_replica = 100;
  d.min_replicas = 1;
  d.max_replicas = 50;
  d.startup_seconds = 600;
  return d;
}

// Ten steps of first fit, then a served value: observed (what a forecast
// that never saw the surge coming would serve) or the peak of the next
// `lead` steps of the true load (a forecast that did).
std::vector<DemoStep> steps_serving(const std::vector<double>& load, std::size_t lead) {
  std::vector<DemoStep> steps;
  for (std::size_t i = 0; i < load.size(); ++i) {
    DemoStep step;
    step.unix_seconds = kStart + static_cast<std::int64_t>(i) * kStep + 7;  // mid-step poll
    step.observed = i > 0 ? load[i - 1] : load[0];
    if (i < 10) {
      step.fallback_reason = "first fit in progress";
      step.served = step.observed;
    } else {
      const auto end = std::min(load.size(), i + 1 + lead);
      step.forecast = *std::max_element(load.begin() + static_cast<std::ptrdiff_t>(i),
                                        load.begin() + static_cast<std::ptrdiff_t>(end));
      step.served = std::max(step.observed, step.forecast);
    }
    steps.push_back(step);
  }
  return steps;
}

}  // namespace

TEST_CASE("the demo summary counts a surge pre-scaled in time by a forecast that saw it",
          "[demo]") {
  const auto load = surge_trace();
  const fs::path report = fs::temp_directory_path() / "prescale_demo_run_test_report.html";
  fs::remove(report);
  auto summary = summarise_demo(steps_serving(load, 4), load, kStart, deployment(), report);
  REQUIRE(summary.has_value());
  CHECK(summary->steps == 100);
  CHECK(summary->grid_steps == 100);
  CHECK(summary->forecast_steps == 90);
  REQUIRE(summary->fallbacks.size() == 1);
  CHECK(summary->fallbacks.at("first fit in progress") == 10);
  CHECK(summary->surges == 1);
  CHECK(summary->surges_in_time == 1);
  CHECK(summary->reactive_violation_minutes > 0);
  CHECK(summary->predictive_violation_minutes == 0);
  CHECK(summary->predictive_replica_hours > summary->reactive_replica_hours);
  // Spent on a lower target instead, the same replica-hours leave a reactive
  // HPA short at the surge: the forecast bought what headroom could not.
  REQUIRE(summary->equal_cost_reactive_minutes.has_value());
  CHECK(*summary->equal_cost_reactive_minutes > 0);
  CHECK(*summary->equal_cost_reactive_target < 1.0);
  CHECK(*summary->equal_cost_reactive_target > 0.2);
  // The report is the simulate report of the run, both runs in it.
  REQUIRE(summary->report == report);
  std::ifstream in(report);
  const std::string html{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("reactive") != std::string::npos);
  CHECK(html.find("predictive") != std::string::npos);
  CHECK(html.find("at equal cost: a reactive HPA with its per-pod target lowered to") !=
        std::string::npos);
  fs::remove(report);
}

TEST_CASE("a served value that is only headroom is worth what a lower reactive target is",
          "[demo]") {
  // Served = the observed value / 0.8: what a reactive HPA at 80 % of the
  // pods' capacity reads. The demo's equal-cost line must find that target
  // and no fewer minutes short than the served run had (a yardstick that
  // flattered prescale would credit headroom to the forecast).
  std::vector<double> load(200);
  for (std::size_t i = 0; i < load.size(); ++i)
    load[i] = 400 + 250 * std::sin(static_cast<double>(i) * 2 * 3.14159265358979 / 48);
  std::fill(load.begin() + 120, load.begin() + 126, 1100);
  auto steps = steps_serving(load, 0);
  for (auto& step : steps) {
    step.fallback_reason.clear();
    step.served = step.observed / 0.8;
  }
  auto summary = summarise_demo(steps, load, kStart, deployment(), {});
  REQUIRE(summary.has_value());
  CHECK(summary->predictive_replica_hours > summary->reactive_replica_hours);
  REQUIRE(summary->equal_cost_reactive_minutes.has_value());
  CHECK(*summary->equal_cost_reactive_target == Approx(0.8).margin(0.01));
  // Within a few percent, not exactly: the served run's first step reads
  // the load the reactive one has not seen yet, and between two swept
  // targets the frontier is a chord.
  CHECK(*summary->equal_cost_reactive_minutes ==
        Approx(summary->predictive_violation_minutes).epsilon(0.05));
  CHECK(summary->predictive_violation_minutes > 0);
}

TEST_CASE("the demo summary does not count a surge the served value only followed", "[demo]") {
  const auto load = surge_trace();
  auto steps = steps_serving(load, 0);
  for (auto& step : steps) step.served = step.observed;  // no foresight at all
  steps[40].fallback_reason = "data stale: newest sample is 1200s old (more than 3 steps)";
  steps[41].fallback_reason = "data stale: newest sample is 1500s old (more than 3 steps)";
  auto summary = summarise_demo(steps, load, kStart, deployment(), {});
  REQUIRE(summary.has_value());
  CHECK(summary->surges == 1);
  CHECK(summary->surges_in_time == 0);
  CHECK(summary->fallbacks.at("data stale") == 2);
  CHECK(summary->forecast_steps == 88);
  CHECK(summary->predictive_violation_minutes == Approx(summary->reactive_violation_minutes));
  // Same pods as the reactive HPA: the equal-cost target is the pods' capacity.
  REQUIRE(summary->equal_cost_reactive_target.has_value());
  CHECK(*summary->equal_cost_reactive_target == Approx(1.0));
  CHECK(*summary->equal_cost_reactive_minutes == Approx(summary->reactive_violation_minutes));
  CHECK(summary->report.empty());
}

TEST_CASE("a step the demo's poll missed served what the step before it did", "[demo]") {
  // A fast clock can outrun the poll. The API kept answering the previous
  // snapshot meanwhile: the HPA fed by it must not see a failed metric
  // (which would stop it scaling down after the surge and credit prescale
  // with the pods it kept).
  const auto load = surge_trace();
  auto every_step = steps_serving(load, 0);
  std::vector<DemoStep> seen;
  for (std::size_t i : {0, 20, 40, 65, 80, 99}) {
    seen.push_back(every_step[i]);
    seen.back().served = seen.back().observed;  // no foresight
  }
  auto summary = summarise_demo(seen, load, kStart, deployment(), {});
  REQUIRE(summary.has_value());
  CHECK(summary->steps == 6);
  CHECK(summary->grid_steps == 100);
  CHECK(summary->surges == 1);
  CHECK(summary->surges_in_time == 0);
  CHECK(summary->predictive_replica_hours == Approx(summary->reactive_replica_hours));
  CHECK(summary->predictive_violation_minutes == Approx(summary->reactive_violation_minutes));
}

TEST_CASE("the demo summary needs two steps and says so", "[demo]") {
  const auto load = surge_trace();
  auto steps = steps_serving(load, 4);
  steps.resize(1);
  auto summary = summarise_demo(steps, load, kStart, deployment(), {});
  REQUIRE_FALSE(summary.has_value());
  CHECK(summary.error().message == "the demo recorded 1 steps; a summary needs at least 2");
}

TEST_CASE("the demo summary says which report it could not write", "[demo]") {
  const auto load = surge_trace();
  const fs::path report = "/nonexistent-prescale-dir/demo-report.html";
  auto summary = summarise_demo(steps_serving(load, 4), load, kStart, deployment(), report);
  REQUIRE_FALSE(summary.has_value());
  CHECK(summary.error().message.find(report.string()) != std::string::npos);
}

TEST_CASE("the demo recorder keeps one step per served snapshot", "[demo]") {
  DemoRecorder recorder;
  Snapshot empty;
  empty.generated_unix = kStart;
  recorder.add(empty);  // no target yet
  Snapshot snapshot;
  snapshot.generated_unix = kStart;
  TargetStatus status;
  status.target = "payments-rps-forecast";
  status.observed = 500;
  status.forecast = 640;
  status.served = 640;
  status.replicas = 6;
  snapshot.targets.push_back(status);
  recorder.add(snapshot);
  recorder.add(snapshot);  // polled again before the next tick
  snapshot.generated_unix += kStep;
  snapshot.targets[0].fallback_reason = "data stale: newest sample is 900s old";
  recorder.add(snapshot);
  const auto steps = recorder.steps();
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].unix_seconds == kStart);
  CHECK(steps[0].served == 640);
  CHECK(steps[0].replicas == 6);
  CHECK(steps[0].fallback_reason.empty());
  CHECK(steps[1].fallback_reason == "data stale: newest sample is 900s old");
}
