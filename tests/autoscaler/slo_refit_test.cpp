// A declared SLO is tuned at each refit, on a fit thread, while the target
// ticks on and records more decisions: the tuning reads the decisions as
// they were when its fit started.
#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "prescale/autoscaler/slo.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/autoscaler/target.hpp"
#include "recorded_source.hpp"

using namespace prescale;
using namespace prescale::autoscaler;

TEST_CASE(
    "a refit tunes the SLO on the decisions recorded before it started, not on those recorded "
    "while it runs",
    "[slo][engine]") {
  constexpr std::int64_t kStep = 600;
  TraceOptions options;
  options.days = 14;
  options.step_seconds = kStep;
  options.random_spikes = false;
  const auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  config::TargetConfig target;
  target.metric = "payments-rps-forecast";
  target.query = "payments";
  target.step_seconds = kStep;
  target.history_seconds = 10 * 86400;
  target.timezone = "America/New_York";
  target.seasonality_seconds = {86400};
  target.model = "seasonal-naive";
  target.lead_time_seconds = 2 * kStep;
  target.backtest_origins = 2;
  target.capacity_per_replica = 100;
  target.refit_interval_seconds = 3 * 3600;
  target.slo = config::SloConfig{};
  target.slo->history_seconds = 3 * 86400;

  // The newest decision each tuning read (a day or more of them: it tunes).
  std::vector<std::int64_t> newest;
  const SloTuner tuner = [&](const config::TargetConfig&, const SloHistory& history,
                             const std::optional<SloSetting>&) -> Expected<SloSetting> {
    newest.push_back(history.start_unix +
                     static_cast<std::int64_t>(history.demand.size()) * history.step_seconds -
                     history.step_seconds);
    return SloSetting{};
  };
  TargetWorker worker(target, std::make_unique<testing::RecordedSource>(*trace), nullptr, {},
                      tuner);
  // A fit pool that runs nothing until told.
  std::deque<std::function<void()>> queued;
  const FitLauncher launch = [&](std::function<void()> job) { queued.push_back(std::move(job)); };
  const auto run_queued = [&] {
    while (!queued.empty()) {
      auto job = std::move(queued.front());
      queued.pop_front();
      job();  // a first fit queues the anomaly warm-up behind it
    }
  };

  // The first fit tunes on decisions replayed from history.
  std::int64_t now = trace->end_unix() - 3 * 86400;
  (void)worker.tick(now, launch);
  REQUIRE(queued.size() == 1);
  run_queued();
  REQUIRE(newest.size() == 1);

  // Tick on until the schedule starts a refit; it runs three ticks later.
  std::int64_t started = 0;
  for (int i = 0; i < 40 && started == 0; ++i) {
    now += kStep;
    (void)worker.tick(now, launch);
    if (!queued.empty()) started = now;
  }
  REQUIRE(started != 0);
  for (int i = 0; i < 3; ++i) (void)worker.tick(now += kStep, launch);
  REQUIRE(queued.size() == 1);
  run_queued();
  // The tick that started the fit records its own decision after starting
  // it, and a decision's load is known from the next step's sample: the
  // newest one the tuning can read is the step before, none of the three since.
  REQUIRE(newest.size() == 2);
  CHECK(newest[1] == started - kStep);

  // The next refit reads those three, and the ones after.
  std::int64_t next = 0;
  for (int i = 0; i < 40 && next == 0; ++i) {
    now += kStep;
    (void)worker.tick(now, launch);
    if (!queued.empty()) next = now;
  }
  REQUIRE(next != 0);
  run_queued();
  REQUIRE(newest.size() == 3);
  CHECK(newest[2] == next - kStep);
  CHECK(newest[2] > started + 3 * kStep);
}
