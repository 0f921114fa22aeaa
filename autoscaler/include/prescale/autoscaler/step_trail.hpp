#pragma once
// The step trail: per target, at each step, the value served and the newest
// sample beside it. Decision records say why the served value moved; the
// trail says what it was at every step, so an operator can score a shadow
// run afterwards (`prescale status --since 7d`): how close the forecast came
// to the load, how often the load stayed under what was served against the
// quantile promised, and what an HPA would have done with either.
//
// Kept in memory by the daemon (a few hundred kilobytes per target for
// eight days at a one-minute step), answered by `GET /decisions?steps=1`.
// A restart starts it afresh; Prometheus keeps the same series for longer
// (prescale_target_served, _observed).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/common/snapshot.hpp"
#include "prescale/config/config.hpp"

namespace prescale::autoscaler {

/// One step of one target. NaN numbers are written as JSON null.
struct TrailStep {
  std::int64_t time_unix = 0;    ///< the step (tick time rounded down to the target's step)
  double served = 0;             ///< served at the end of that step
  bool forecasting = false;      ///< false: in fallback, serving the observed value
  std::int64_t sample_unix = 0;  ///< time of the newest sample then (0: none)
  double observed = 0;           ///< its value (NaN: none)
  /// The upper end of the interval that sample was scored against: its
  /// one-step forecast at the served quantile (NaN before a model scores one).
  double upper = 0;
};

/// One target's trail and what is needed to replay it through the HPA model.
struct TargetTrail {
  std::string target;
  std::int64_t step_seconds = 60;
  std::int64_t lead_seconds = 300;
  double quantile = 0.9;
  std::optional<double> capacity_per_replica;
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 100;
  std::vector<TrailStep> steps;  ///< oldest first, one per step at most
};

/// {"kind":"StepList","targets":[...]}; columns per target ("time":[...],
/// "served":[...], ...) keep a week of steps a few hundred kilobytes.
[[nodiscard]] std::string to_json(const std::vector<TargetTrail>& trails);
/// Parses to_json's output; the error names what is wrong.
[[nodiscard]] Expected<std::vector<TargetTrail>> parse_step_list(std::string_view body);

/// Every target's trail over the last `keep_seconds`. Thread-safe: the
/// engine's publisher adds, request threads query.
class StepTrail {
 public:
  explicit StepTrail(std::int64_t keep_seconds = 8 * 86400) : keep_seconds_(keep_seconds) {}
  /// Records each target of `snapshot` at its step; `targets` gives the lead
  /// time, quantile and replica bounds (a target it lacks is skipped). A
  /// second snapshot within the same step replaces the first. Targets no
  /// longer configured are dropped.
  void add(const Snapshot& snapshot, const std::vector<config::TargetConfig>& targets);
  /// The trails of `target` (empty = all) from `since_unix` on.
  [[nodiscard]] std::vector<TargetTrail> query(std::string_view target,
                                               std::int64_t since_unix) const;
  [[nodiscard]] std::string query_json(std::string_view target, std::int64_t since_unix) const;

 private:
  struct Entry {
    TargetTrail header;  ///< steps unused: they live in `steps`
    std::deque<TrailStep> steps;
  };
  std::int64_t keep_seconds_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> targets_;
};

}  // namespace prescale::autoscaler
