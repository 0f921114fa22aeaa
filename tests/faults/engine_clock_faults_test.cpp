// Faults the daemon binary cannot be driven through in a test's time: the
// clock jumping forward and backward (NTP step, VM resume) and a target whose
// query returns nothing for a whole hour. The real engine runs on a replay
// clock the test sets, inline (deterministic), over a source that answers
// like Prometheus: NaN for samples not yet complete or missing.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>

#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/engine.hpp"
#include "prescale/source/source.hpp"

using namespace prescale;

namespace {

constexpr std::int64_t kStep = 60;
constexpr std::int64_t kStart = 1767225600;  // 2026-01-01T00:00:00Z

double load_at(std::int64_t t) {
  return 200 + 80 * std::sin(2 * M_PI * static_cast<double>(t) / 3600);
}

/// The series up to the clock's now, NaN inside [gap_start, gap_end).
class ClockedSource final : public source::Source {
 public:
  ClockedSource(const autoscaler::Clock& clock, std::int64_t gap_start, std::int64_t gap_end)
      : clock_(clock), gap_start_(gap_start), gap_end_(gap_end) {}
  [[nodiscard]] std::string describe() const override { return "clocked sine"; }
  [[nodiscard]] Expected<forecast::Series> fetch(std::int64_t start, std::int64_t end,
                                                 std::int64_t step) override {
    forecast::Series out;
    out.start_unix = start;
    out.step_seconds = step;
    const auto now = static_cast<std::int64_t>(clock_.now());
    for (std::int64_t t = start; t < end; t += step) {
      const bool visible = t + step <= now && !(t >= gap_start_ && t < gap_end_);
      out.values.push_back(visible ? load_at(t) : forecast::kMissing);
    }
    return out;
  }

 private:
  const autoscaler::Clock& clock_;
  std::int64_t gap_start_, gap_end_;
};

config::TargetConfig target() {
  config::TargetConfig t;
  t.metric = "clock-forecast";
  t.query = "load";
  t.step_seconds = kStep;
  t.history_seconds = 86400;
  t.seasonality_seconds = {3600};
  t.model = "auto";  // a forced model that loses its backtest is served as a fallback
  t.backtest_origins = 1;
  t.lead_time_seconds = 300;
  t.refit_interval_seconds = 3600;
  t.capacity_per_replica = 50;
  return t;
}

struct Harness {
  autoscaler::ReplayClock clock{static_cast<double>(kStart)};
  std::unique_ptr<autoscaler::Engine> engine;

  Harness(std::int64_t gap_start, std::int64_t gap_end) {
    autoscaler::EngineOptions options;
    options.tick_threads = 0;  // inline: each tick (and fit) completes before tick() returns
    autoscaler::SourceFactory sources =
        [this, gap_start,
         gap_end](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
      return std::unique_ptr<source::Source>(
          std::make_unique<ClockedSource>(clock, gap_start, gap_end));
    };
    engine = std::make_unique<autoscaler::Engine>(std::vector<config::TargetConfig>{target()},
                                                  calendar::CalendarSet(), sources, clock,
                                                  autoscaler::SnapshotSink(), options);
  }

  /// Sets the clock, ticks, and checks every served value is finite and >= 0.
  TargetStatus tick_at(std::int64_t t) {
    clock.set(static_cast<double>(t));
    engine->tick();
    const auto report = engine->report("clock-forecast");
    REQUIRE(report.has_value());
    INFO("at " << t << " (start + " << (t - kStart)
               << " s), fallback: " << report->status.fallback_reason);
    REQUIRE(report->recommendation.servable);
    REQUIRE(std::isfinite(report->recommendation.served));
    REQUIRE(report->recommendation.served >= 0);
    REQUIRE_FALSE(report->metrics.empty());
    for (const auto& metric : report->metrics) {
      REQUIRE(std::isfinite(metric.value));
      REQUIRE(metric.value >= 0);
    }
    return report->status;
  }
};

}  // namespace

TEST_CASE("engine: a target whose query returns nothing for an hour falls back, then recovers",
          "[faults]") {
  const std::int64_t gap_start = kStart + 2 * 3600, gap_end = gap_start + 3600;
  Harness h(gap_start, gap_end);
  std::int64_t t = kStart;
  for (; t < gap_start; t += kStep) h.tick_at(t);
  const auto before = h.tick_at(t);
  REQUIRE(before.has_forecast);
  REQUIRE(before.fallback_reason.empty());

  // An hour of nothing: from 3 steps on, the observed value alone, saying why.
  std::int64_t stale_ticks = 0;
  for (t += kStep; t < gap_end; t += kStep) {
    const auto status = h.tick_at(t);
    if (t - gap_start > 4 * kStep) {
      INFO("at gap + " << (t - gap_start) << " s");
      REQUIRE(status.fallback_reason.find("data stale") != std::string::npos);
      REQUIRE(status.served == Approx(status.observed));  // the last good observation
      ++stale_ticks;
    }
  }
  CHECK(stale_ticks > 50);
  // Data again: the forecast comes back by itself within a few steps.
  bool recovered = false;
  std::string last_reason;
  for (t += kStep; t < gap_end + 10 * kStep && !recovered; t += kStep) {
    const auto status = h.tick_at(t);
    last_reason = status.fallback_reason + " model=" + status.model;
    recovered = status.fallback_reason.empty() && status.has_forecast;
  }
  INFO("last status: " << last_reason);
  REQUIRE(recovered);
}

TEST_CASE("engine: the clock jumping forward and backward never yields a bad value", "[faults]") {
  Harness h(0, 0);  // no gap
  std::int64_t t = kStart + 3600;
  for (; t < kStart + 2 * 3600; t += kStep) h.tick_at(t);
  REQUIRE(h.tick_at(t).has_forecast);

  SECTION("forward six hours (VM resumed): catches up on the missed samples") {
    t += 6 * 3600;
    const auto jumped = h.tick_at(t);
    INFO("after the jump: " << jumped.fallback_reason);
    bool forecasting = jumped.fallback_reason.empty() && jumped.has_forecast;
    for (int i = 0; i < 10 && !forecasting; ++i) {
      t += kStep;
      const auto s = h.tick_at(t);
      forecasting = s.fallback_reason.empty() && s.has_forecast;
    }
    REQUIRE(forecasting);
    CHECK(h.tick_at(t + kStep).data_age_seconds <= 2 * kStep);
  }

  SECTION("backward an hour (NTP step), then time runs on past where it was") {
    const std::int64_t was = t;
    t -= 3600;
    for (std::int64_t i = 0; i < 90; ++i, t += kStep) h.tick_at(t);  // back past `was`
    REQUIRE(t > was);
    const auto status = h.tick_at(t);
    INFO("fallback: " << status.fallback_reason);
    CHECK(status.has_forecast);
    CHECK(status.fallback_reason.empty());
    CHECK(status.data_age_seconds <= 2 * kStep);
  }

  SECTION("back and forth by a day, repeatedly") {
    for (int i = 0; i < 6; ++i) {
      t += (i % 2 == 0 ? -1 : 1) * 86400 + kStep;
      h.tick_at(t);
    }
    for (int i = 0; i < 10; ++i, t += kStep) h.tick_at(t);
  }
}
