#pragma once
// How a target did over a window of its step trail, as `prescale status
// --since` prints it: the value served a lead time before each sample
// against that sample (error and coverage of the served quantile), and what
// an HPA would have done reading the observed load alone or prescale's
// served value beside it (the HPA model of simulate/).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

#include "prescale/autoscaler/step_trail.hpp"
#include "prescale/common/expected.hpp"

namespace prescale::cli {

/// One HPA run over the window.
struct HpaRun {
  double replica_hours = 0;
  double short_minutes = 0;  ///< minutes the load was above ready capacity
  std::int32_t peak_replicas = 0;
};

struct ShadowScore {
  std::size_t grid_steps = 0;   ///< steps from the first recorded one to the last
  std::size_t recorded = 0;     ///< steps the daemon recorded
  std::size_t forecasting = 0;  ///< of those, serving a forecast (the rest: fallback)
  std::size_t lead_steps = 1;
  // The value served lead_steps before each sample against the sample; only
  // pairs where that value was a forecast (not the fallback's observed value).
  std::size_t scored = 0;
  double mean_load = 0;
  double mean_absolute_error = 0;
  double bias = 0;     ///< mean (served - observed): > 0 is headroom
  double covered = 0;  ///< share of scored samples at or under the value served
  double quantile = 0.9;
  // Each sample against its one-step forecast at the quantile (the interval's
  // upper end): calibration of the quantile itself.
  std::size_t one_step_scored = 0;
  double one_step_covered = 0;
  // The HPA replay; unset without a capacity per replica.
  std::optional<double> capacity_per_replica;
  std::int64_t startup_seconds = 0;
  std::optional<HpaRun> observed_alone, served_beside;
};

/// Scores one target's trail. `capacity` and `startup_seconds` override the
/// target's capacityPerReplica and the start-up time (default: its lead
/// time). An error names what is missing (fewer than two steps).
[[nodiscard]] Expected<ShadowScore> score_shadow(const autoscaler::TargetTrail& trail,
                                                 std::optional<double> capacity,
                                                 std::optional<std::int64_t> startup_seconds);

[[nodiscard]] nlohmann::json to_json(const ShadowScore& score);

}  // namespace prescale::cli
