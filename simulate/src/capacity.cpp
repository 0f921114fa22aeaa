#include "prescale/simulate/capacity.hpp"

#include <algorithm>
#include <cmath>

namespace prescale::simulate {

PodPool::PodPool(std::int64_t startup_seconds, std::int32_t initial_ready, std::int64_t now)
    : startup_seconds_(std::max<std::int64_t>(0, startup_seconds)),
      ready_at_(static_cast<std::size_t>(std::max(0, initial_ready)), now) {}

void PodPool::scale_to(std::int32_t replicas, std::int64_t now) {
  const auto target = static_cast<std::size_t>(std::max(0, replicas));
  if (target < ready_at_.size()) {
    ready_at_.resize(target);  // the newest pods (latest ready times) go first
  } else {
    ready_at_.resize(target, now + startup_seconds_);
  }
}

std::int32_t PodPool::ready(std::int64_t now) const {
  const auto end = std::upper_bound(ready_at_.begin(), ready_at_.end(), now);
  return static_cast<std::int32_t>(end - ready_at_.begin());
}

std::optional<std::int64_t> PodPool::next_ready_after(std::int64_t now) const {
  const auto next = std::upper_bound(ready_at_.begin(), ready_at_.end(), now);
  if (next == ready_at_.end()) return std::nullopt;
  return *next;
}

void account(CapacityTotals& totals, double demand, std::int32_t pods, std::int32_t ready,
             double capacity_per_replica, double seconds) {
  totals.replica_seconds += pods * seconds;
  if (std::isnan(demand)) return;
  totals.observed_seconds += seconds;
  const double capacity = ready * capacity_per_replica;
  if (demand > capacity) {
    totals.violation_seconds += seconds;
    totals.unserved_requests += (demand - capacity) * seconds;
  } else {
    totals.overprovisioned_replica_seconds += (capacity - demand) / capacity_per_replica * seconds;
  }
}

}  // namespace prescale::simulate
