#pragma once
// What `prescale demo` saw while its trace played: one row per served step,
// and, when the trace ends, what it adds up to (forecasts served, surges
// pre-scaled in time against a reactive HPA on the same load, fallbacks and
// why) with an HTML report of the run. Library code: never prints.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/common/snapshot.hpp"

namespace prescale::daemon {

/// One step as the External Metrics API served it.
struct DemoStep {
  std::int64_t unix_seconds = 0;
  double observed = 0;
  double forecast = 0;
  double served = 0;
  std::optional<double> replicas;
  std::string fallback_reason;  ///< empty when a forecast was served
};

/// The deployment the demo's HPA would scale (the demo config's values).
struct DemoDeployment {
  std::int64_t step_seconds = 300;
  double capacity_per_replica = 120;
  std::int32_t min_replicas = 2;
  std::int32_t max_replicas = 200;
  std::int64_t startup_seconds = 585;  ///< lead time 15m - HPA sync 15 s - one step
};

struct DemoSummary {
  std::size_t steps = 0;  ///< steps recorded
  /// Steps from the first recorded to the last: more than `steps` when the
  /// clock ran faster than the engine ticked or the demo polled.
  std::size_t grid_steps = 0;
  std::size_t forecast_steps = 0;  ///< steps that served a forecast (not a fallback)
  /// Steps in fallback, by reason (the text from its first ':' is dropped,
  /// so "data stale: newest sample is 900s old" counts as "data stale").
  std::map<std::string, std::size_t> fallbacks;
  /// Surges: stretches where an HPA on the observed load alone ran short of
  /// ready pods; in time: those where the HPA fed by prescale did not.
  std::size_t surges = 0;
  std::size_t surges_in_time = 0;
  double reactive_violation_minutes = 0;
  double predictive_violation_minutes = 0;
  double reactive_replica_hours = 0;
  double predictive_replica_hours = 0;
  /// The same cost spent on headroom instead: a reactive HPA with its
  /// per-pod target lowered until it spends prescale's replica-hours (the
  /// reactive frontier swept from 100 % of capacity down, interpolated).
  /// Unset when prescale spent less than a reactive HPA at 100 % does.
  std::optional<double> equal_cost_reactive_minutes;
  std::optional<double> equal_cost_reactive_target;  ///< fraction of capacity
  std::filesystem::path report;  ///< the HTML report, empty when none was written
};

/// Collects steps from snapshots; a snapshot already seen is ignored. Not thread-safe.
class DemoRecorder {
 public:
  /// Records the first target of `snapshot` once per generated time.
  void add(const Snapshot& snapshot);
  [[nodiscard]] std::span<const DemoStep> steps() const { return steps_; }

 private:
  std::vector<DemoStep> steps_;
  std::int64_t last_generated_ = 0;
};

/// Replays the recorded stretch through the HPA model twice (the observed load
/// alone; the observed load and the served forecast) against `demand` (the
/// trace's true load, one value per step from `demand_start_unix`), then the
/// reactive HPA at lower per-pod targets to find what it does at prescale's
/// cost, counts surges and fallbacks, and writes the HTML report to `report_path` (empty:
/// none). The error names what failed (too few steps, an unwritable file).
[[nodiscard]] Expected<DemoSummary> summarise_demo(std::span<const DemoStep> steps,
                                                   std::span<const double> demand,
                                                   std::int64_t demand_start_unix,
                                                   const DemoDeployment& deployment,
                                                   const std::filesystem::path& report_path);

}  // namespace prescale::daemon
