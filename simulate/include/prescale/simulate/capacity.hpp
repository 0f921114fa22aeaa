#pragma once
// Pods and what they can serve: a pool where each pod becomes ready a fixed
// start-up time after it is created, and the accounting of demand against
// ready capacity (SLO violation, unserved requests, replica-hours).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace prescale::simulate {

/// The pods of one deployment, by creation time. Scale-up creates pods that
/// turn ready `startup_seconds` later; scale-down deletes the newest pods at
/// once (the ReplicaSet controller removes not-ready and younger pods first).
/// Value type; not synchronised.
class PodPool {
 public:
  PodPool(std::int64_t startup_seconds, std::int32_t initial_ready, std::int64_t now);

  /// Creates or deletes pods so that `replicas` exist from `now` on.
  void scale_to(std::int32_t replicas, std::int64_t now);
  [[nodiscard]] std::int32_t replicas() const {
    return static_cast<std::int32_t>(ready_at_.size());
  }
  /// Pods whose start-up has finished at `now`.
  [[nodiscard]] std::int32_t ready(std::int64_t now) const;
  /// The first instant after `now` at which another pod turns ready.
  [[nodiscard]] std::optional<std::int64_t> next_ready_after(std::int64_t now) const;
  [[nodiscard]] std::int64_t startup_seconds() const { return startup_seconds_; }

 private:
  std::int64_t startup_seconds_;
  std::vector<std::int64_t> ready_at_;  // non-decreasing: pods are created in time order
};

/// Totals of one run over the trace. Units: seconds, requests, replica-seconds.
struct CapacityTotals {
  double violation_seconds = 0;                ///< time with demand above ready capacity
  double unserved_requests = 0;                ///< integral of (demand - capacity)+
  double replica_seconds = 0;                  ///< integral of pods (ready or starting): the bill
  double overprovisioned_replica_seconds = 0;  ///< integral of (capacity - demand)+ / per-replica
  double observed_seconds = 0;                 ///< time with a known demand
};

/// Adds a stretch of `seconds` with constant demand (NaN = unknown: only the
/// bill counts), `pods` existing and `ready` of them serving.
void account(CapacityTotals& totals, double demand, std::int32_t pods, std::int32_t ready,
             double capacity_per_replica, double seconds);

}  // namespace prescale::simulate
