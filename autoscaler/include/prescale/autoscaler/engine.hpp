#pragma once
// The engine: for every target, on its step, fetch the new tail, follow it
// with the fitted model (O(1) per sample), refit on a schedule (and at once
// when the one-step error drifts) on a bounded pool, and publish an
// immutable Snapshot. A slow or failing target never delays the others: each
// target's tick is its own job, and a target still busy simply misses a tick.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/target.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/common/logging.hpp"
#include "prescale/common/snapshot.hpp"
#include "prescale/config/config.hpp"

namespace prescale::autoscaler {

/// Where snapshots go (a SnapshotStore, a test's recorder). Called from
/// engine threads, one call at a time.
using SnapshotSink = std::function<void(std::shared_ptr<const Snapshot>)>;

struct EngineOptions {
  /// Threads for ticks (fetch + update + policy) and for fits. 0 = run
  /// everything inline on the caller of tick() (replay: deterministic).
  std::size_t tick_threads = 2;
  std::size_t fit_threads = 1;
  /// Serving a metric request is the latency-critical work (milliseconds);
  /// ticks matter within seconds and fits within minutes. So tick and fit
  /// threads run this much nicer than the process (Linux, per thread): on a
  /// busy node they yield the CPU to request threads, fits also to ticks.
  /// 0 = same priority.
  int tick_nice = 5;
  int fit_nice = 10;
  LogFunction log;  ///< may be empty
  /// Decision records of each tick (decisions.hpp); may be empty. Called
  /// from tick threads, one call at a time.
  DecisionSink decisions;
  /// Tunes the quantile and headroom of targets with an `slo:` at each refit
  /// (on a fit thread; slo.hpp). Empty: such targets serve their configured
  /// quantile and say so.
  SloTuner slo_tuner;
  /// The snapshot is ready with no target of the file (targets KEDA
  /// triggers carry come later, and must reach a ready pod to be made).
  bool ready_without_targets = false;
};

/// Thread-safety: run()/stop()/reconfigure() may be called from different
/// threads; tick() from one driver thread at a time.
class Engine {
 public:
  /// Throws std::invalid_argument when a target's source cannot be made
  /// (start-up: the message names the target).
  Engine(std::vector<config::TargetConfig> targets, calendar::CalendarSet calendars,
         SourceFactory sources, const Clock& clock, SnapshotSink sink, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Ticks every target on its step until stop(); blocks.
  void run();
  /// Makes run() return (after in-flight jobs finish). Thread-safe.
  void stop();
  /// Starts the tick of every target whose step is due at clock.now();
  /// inline mode runs them to completion before returning.
  void tick();
  /// Hot reload: targets whose forecasting setup is unchanged keep their
  /// history and model; others start afresh (a new source from `sources`).
  /// `rebuild_sources` (e.g. the Prometheus connection changed) restarts all.
  /// Returns an error (and changes nothing) when a new source cannot be made.
  Status reconfigure(std::vector<config::TargetConfig> targets, calendar::CalendarSet calendars,
                     SourceFactory sources, bool rebuild_sources);
  /// The latest report of a target (nullopt before its first tick).
  [[nodiscard]] std::optional<TargetReport> report(const std::string& metric) const;
  [[nodiscard]] std::shared_ptr<const Snapshot> snapshot() const;
  /// Target ticks completed since start (all targets; for load figures).
  [[nodiscard]] std::uint64_t ticks_done() const;
  /// Blocks until no tick or fit job is queued or running (tests, shutdown).
  void wait_idle();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::autoscaler
