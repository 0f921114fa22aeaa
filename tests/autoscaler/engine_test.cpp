#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/engine.hpp"
#include "prescale/autoscaler/policy.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/autoscaler/target.hpp"
#include "prescale/simulate/replay.hpp"
#include "recorded_source.hpp"

using namespace prescale;
using namespace prescale::autoscaler;
using namespace prescale::simulate;

namespace {

// Three weeks of the payments trace at 10-minute steps: big enough for daily
// and weekly seasons, small enough to fit in well under a second.
forecast::Series payments_trace(int days = 21) {
  TraceOptions options;
  options.days = days;
  options.step_seconds = 600;
  auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  return *trace;
}

config::TargetConfig payments_target() {
  config::TargetConfig t;
  t.metric = "payments-rps-forecast";
  t.query = "payments";
  t.step_seconds = 600;
  t.history_seconds = 14 * 86400;
  t.timezone = "America/New_York";
  t.seasonality_seconds = {86400, 7 * 86400};
  t.lead_time_seconds = 1800;
  t.refit_interval_seconds = 6 * 3600;
  t.backtest_origins = 3;
  t.capacity_per_replica = 120;
  t.min_replicas = 2;
  t.max_replicas = 200;
  return t;
}

using Recorded = testing::RecordedSource;

}  // namespace

TEST_CASE("replay serves max(observed, forecast quantile) and refits on schedule", "[engine]") {
  const auto series = payments_trace();
  const auto target = payments_target();
  ReplayOptions options;
  options.start_unix = series.end_unix() - 2 * 86400;
  auto result = replay(series, target, options);
  REQUIRE(result.has_value());
  const auto& steps = result->steps;
  REQUIRE(steps.size() == 2 * 144 + 1);
  // One fit at the start, then one every 6 hours over two days (drift may add some).
  CHECK(result->fits >= 8);
  std::size_t forecasting = 0;
  for (const auto& s : steps) {
    INFO("t=" << s.time_unix << " model=" << s.model << " fallback=" << s.fallback_reason);
    REQUIRE(std::isfinite(s.served));
    CHECK(s.served >= 0);
    // observed(t) is the sample at t - step: only data before t is used.
    const auto i =
        static_cast<std::size_t>((s.time_unix - series.start_unix) / series.step_seconds) - 1;
    if (i < series.size()) CHECK(s.observed == series.values[i]);
    CHECK(s.served >= s.observed);
    if (s.fallback_reason.empty()) {
      ++forecasting;
      CHECK_FALSE(s.model.empty());
      CHECK(s.served == Approx(std::max(s.observed, s.forecast)));
    } else {
      CHECK(s.served == s.observed);
    }
    REQUIRE(s.replicas.has_value());
    CHECK(*s.replicas == replicas_for(s.served, 120, 2, 200));
  }
  CHECK(forecasting == steps.size());
}

TEST_CASE("the forecast runs ahead of the load: it rises before the 09:30 burst", "[engine]") {
  const auto series = payments_trace();
  auto target = payments_target();
  ReplayOptions options;
  options.start_unix = series.end_unix() - 86400;
  auto result = replay(series, target, options);
  REQUIRE(result.has_value());
  // Served value exceeds what was observed at some step (it anticipates), and
  // overall the forecast part is used, not only the floor.
  std::size_t anticipating = 0;
  for (const auto& s : result->steps) anticipating += s.served > s.observed * 1.05 ? 1 : 0;
  CHECK(anticipating > result->steps.size() / 10);
}

TEST_CASE("stale data falls back to the last observed value and says so", "[engine]") {
  auto series = payments_trace();
  // The source stops answering values for the last 6 steps.
  const std::size_t n = series.size();
  for (std::size_t i = n - 6; i < n; ++i) series.values[i] = forecast::kMissing;
  const double last_observed = series.values[n - 7];
  const auto target = payments_target();
  ReplayOptions options;
  options.start_unix = series.end_unix() - 12 * 600;
  auto result = replay(series, target, options);
  REQUIRE(result.has_value());
  const auto& last = result->steps.back();
  CHECK_THAT(last.fallback_reason, Catch::Contains("data stale"));
  CHECK(last.served == last_observed);
  // Three steps of silence are tolerated: the forecast is still served then.
  const auto& early = result->steps[static_cast<std::size_t>(result->steps.size() - 4)];
  CHECK(early.fallback_reason.empty());
}

TEST_CASE("too short a history falls back to the observed value", "[engine]") {
  forecast::Series series;
  series.start_unix = 1767225600;  // 2026-01-01T00:00Z
  series.step_seconds = 600;
  series.values = {10, 12, 11};
  auto target = payments_target();
  target.history_seconds = 86400;
  ReplayOptions options;
  options.start_unix = series.start_unix + 600;
  auto result = replay(series, target, options);
  REQUIRE(result.has_value());
  for (const auto& s : result->steps) {
    CHECK_FALSE(s.fallback_reason.empty());
    CHECK(s.served == s.observed);
  }
}

TEST_CASE("a season is dropped until the history holds a cycle, logged once", "[engine]") {
  // The metric exists from the trace's start: at day 5 the history holds
  // five days, not a cycle of 1w; from day 7 it does.
  const auto series = payments_trace();
  auto target = payments_target();
  target.model = "seasonal-naive";
  target.refit_interval_seconds = 86400;
  ReplayOptions options;
  options.start_unix = series.start_unix + 5 * 86400;
  options.end_unix = series.start_unix + 9 * 86400;
  std::vector<LogRecord> seasons;
  options.log = [&](const LogRecord& record) {
    if (record.message.rfind("season", 0) == 0) seasons.push_back(record);
  };
  auto result = replay(series, target, options);
  REQUIRE(result.has_value());
  CHECK(result->steps.front().model == "seasonal-naive(144)");
  CHECK(result->steps.back().model == "seasonal-naive(144,1008)");
  REQUIRE(seasons.size() == 2);
  CHECK(seasons[0].message == "season dropped: too short a history");
  CHECK(seasons[1].message == "season in use again: the history has grown");
  for (const auto& record : seasons) {
    const auto season = std::find_if(record.fields.begin(), record.fields.end(),
                                     [](const auto& field) { return field.first == "season"; });
    REQUIRE(season != record.fields.end());
    CHECK(std::get<std::string>(season->second) == "1w");
  }
}

TEST_CASE("a forced model that loses to seasonal naive is not served", "[engine]") {
  // An exactly repeating day: seasonal naive is perfect, nothing beats it.
  forecast::Series series;
  series.start_unix = 1767225600;
  series.step_seconds = 600;
  for (int i = 0; i < 144 * 10; ++i)
    series.values.push_back(100 + 50 * std::sin(2 * M_PI * (i % 144) / 144.0));
  auto target = payments_target();
  target.timezone = "UTC";
  target.seasonality_seconds = {86400};
  target.history_seconds = 9 * 86400;
  target.model = "holt-winters";
  ReplayOptions options;
  options.start_unix = series.end_unix() - 3 * 600;
  auto result = replay(series, target, options);
  REQUIRE(result.has_value());
  const auto& s = result->steps.back();
  CHECK_THAT(s.fallback_reason, Catch::Contains("not better than seasonal naive"));
  CHECK(s.served == s.observed);

  target.model = "auto";  // auto picks seasonal naive and forecasts with it
  result = replay(series, target, options);
  REQUIRE(result.has_value());
  CHECK(result->steps.back().fallback_reason.empty());
  CHECK_THAT(result->steps.back().model, Catch::StartsWith("seasonal-naive"));
}

TEST_CASE("the engine publishes snapshots with both metrics and a status per target", "[engine]") {
  const auto series = payments_trace();
  auto target = payments_target();
  ReplayClock clock(static_cast<double>(series.end_unix()));
  SourceFactory sources =
      [&](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(std::make_unique<Recorded>(series));
  };
  std::vector<std::shared_ptr<const Snapshot>> published;
  EngineOptions options;
  options.tick_threads = 2;
  Engine engine(
      {target}, {}, sources, clock,
      [&](std::shared_ptr<const Snapshot> s) { published.push_back(s); }, options);
  engine.tick();
  engine.wait_idle();
  engine.tick();  // not due again at the same time: nothing happens
  clock.set(static_cast<double>(series.end_unix() + 600));
  engine.tick();
  engine.wait_idle();
  const auto snapshot = engine.snapshot();
  REQUIRE(snapshot->ready);
  REQUIRE(snapshot->targets.size() == 1);
  const auto& status = snapshot->targets[0];
  CHECK(status.fallback_reason.empty());
  CHECK_FALSE(status.model.empty());
  CHECK(status.backtest_mase.has_value());
  REQUIRE(snapshot->metrics.size() == 2);
  CHECK(snapshot->metrics[0].metric == "payments-rps-forecast");
  CHECK(snapshot->metrics[1].metric == "payments-rps-forecast-replicas");
  CHECK(snapshot->metrics[0].value >= status.observed);
  CHECK(snapshot->metrics[1].value == replicas_for(snapshot->metrics[0].value, 120, 2, 200));
  CHECK(published.size() >= 2);
}

TEST_CASE("a round of ticks publishes one whole snapshot, not one per target", "[engine]") {
  // Rebuilding the snapshot copies every target's metrics: per-tick
  // publishing made a round cost targets^2 copies and slowed metric requests.
  const auto series = payments_trace();
  ReplayClock clock(static_cast<double>(series.end_unix()));
  std::vector<config::TargetConfig> targets;
  for (int i = 0; i < 40; ++i) {
    auto t = payments_target();
    t.metric = "payments-" + std::to_string(i) + "-rps";
    t.model = "seasonal-naive";  // fits are not what this test is about
    targets.push_back(t);
  }
  SourceFactory sources =
      [&](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(std::make_unique<Recorded>(series));
  };
  std::vector<std::shared_ptr<const Snapshot>> published;
  EngineOptions options;
  options.tick_threads = 2;
  Engine engine(
      targets, {}, sources, clock,
      [&](std::shared_ptr<const Snapshot> s) { published.push_back(s); }, options);
  engine.tick();
  engine.wait_idle();
  REQUIRE_FALSE(published.empty());
  // The round's last tick published everything (ticks slower than 250 ms may add a few partial
  // ones).
  CHECK(published.size() < targets.size() / 2);
  const auto last = published.back();
  CHECK(last == engine.snapshot());
  CHECK(last->ready);
  CHECK(last->targets.size() == targets.size());
  CHECK(last->metrics.size() == 2 * targets.size());
  CHECK(engine.ticks_done() == targets.size());
}

TEST_CASE("a fit not done when its target is stopped gives up instead of holding shutdown",
          "[engine]") {
  // SIGTERM waits for the fit threads: a refit of weeks of 15-second samples
  // held `serve` past its 8 s shutdown deadline, which then exited without
  // logging "stopped". A cancelled target's fit stops after the model it is
  // fitting, says so, and hands over no model.
  const auto series = payments_trace();
  std::vector<LogRecord> records;
  TargetWorker worker(payments_target(), std::make_unique<Recorded>(series), nullptr,
                      [&](const LogRecord& r) { records.push_back(r); });
  std::function<void()> fit;
  (void)worker.tick(series.end_unix(), [&](std::function<void()> job) { fit = std::move(job); });
  REQUIRE(fit);  // the first fit, handed to the launcher
  worker.cancel();
  fit();
  std::set<std::string> messages;
  for (const auto& r : records) messages.insert(r.message);
  CHECK(messages.count("fit cancelled") == 1);
  CHECK(messages.count("refit") == 0);
  CHECK(messages.count("fit failed") == 0);
}

TEST_CASE("a target a KEDA trigger carries does not hold back readiness while it loads",
          "[engine][trigger]") {
  const auto series = payments_trace();
  ReplayClock clock(static_cast<double>(series.end_unix()));
  SourceFactory sources =
      [&](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(std::make_unique<Recorded>(series));
  };
  EngineOptions options;
  options.tick_threads = 0;  // inline: reconfigure publishes before any new tick
  auto file_target = payments_target();
  file_target.model = "seasonal-naive";
  Engine engine(
      {file_target}, {}, sources, clock, [](std::shared_ptr<const Snapshot>) {}, options);
  engine.tick();
  REQUIRE(engine.snapshot()->ready);

  auto from_trigger = file_target;
  from_trigger.metric = "shop.checkout.rps";
  from_trigger.trigger = "shop/checkout/rps";
  REQUIRE(engine.reconfigure({file_target, from_trigger}, {}, sources, false).has_value());
  CHECK(engine.snapshot()->ready);  // no report yet, still ready
  // A new target of the file does hold it back until its first tick.
  auto another = file_target;
  another.metric = "ledger-rps";
  REQUIRE(engine.reconfigure({file_target, from_trigger, another}, {}, sources, false).has_value());
  CHECK_FALSE(engine.snapshot()->ready);
  engine.tick();
  CHECK(engine.snapshot()->ready);
  CHECK(engine.snapshot()->targets.size() == 3);

  // A config of trigger targets only is ready with none, when told so.
  Engine empty(
      {}, {}, sources, clock, [](std::shared_ptr<const Snapshot>) {}, options);
  REQUIRE(empty.reconfigure({}, {}, sources, false).has_value());
  CHECK_FALSE(empty.snapshot()->ready);
  options.ready_without_targets = true;
  Engine triggers_only(
      {}, {}, sources, clock, [](std::shared_ptr<const Snapshot>) {}, options);
  REQUIRE(triggers_only.reconfigure({from_trigger}, {}, sources, false).has_value());
  CHECK(triggers_only.snapshot()->ready);
}
