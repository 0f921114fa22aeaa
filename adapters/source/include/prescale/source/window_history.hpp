#pragma once
// Sparse windows of one Source far behind its regular history: the past
// occurrences of a target's calendar events (and the ordinary days beside
// them), months back, fetched one query per window instead of months of
// dense samples. Past data does not change, so a window fetched once is
// kept: a refit fetches only the windows it has not seen.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "prescale/forecast/series.hpp"
#include "prescale/source/source.hpp"

namespace prescale::source {

/// Samples [start, end) on the step grid (both aligned to the step).
struct Window {
  std::int64_t start_unix = 0;
  std::int64_t end_unix = 0;
  auto operator<=>(const Window&) const = default;
};

/// Bounds of one fetch(): windows past them are left for the next call.
struct WindowLimits {
  std::size_t max_calls = 64;        ///< Source::fetch calls
  std::size_t max_points = 100'000;  ///< samples asked for
};

/// What one fetch() cost and found.
struct WindowFetchCost {
  std::size_t calls = 0;     ///< Source::fetch calls made
  std::size_t points = 0;    ///< samples asked for
  std::size_t cached = 0;    ///< windows already held (no call)
  std::size_t deferred = 0;  ///< windows left out by the limits or a failure
  double seconds = 0;        ///< wall time of the calls
  std::string error;         ///< the failure that stopped it (empty: none)
};

/// Not thread-safe: one engine worker owns it, as it owns the Source.
class WindowHistory {
 public:
  /// `source` must outlive this object.
  WindowHistory(Source& source, std::int64_t step_seconds);

  /// Makes the history hold `wanted` (windows touching or overlapping are
  /// merged into one call) and forgets the windows no longer wanted. Stops
  /// at the limits, at a failed call (reported in `error`; what was fetched
  /// is kept) or when `cancel` is set.
  WindowFetchCost fetch(std::span<const Window> wanted, const WindowLimits& limits,
                        const std::atomic<bool>* cancel = nullptr);

  /// Samples of [start, end) (aligned to the step); NaN where none is held.
  [[nodiscard]] std::vector<double> values(std::int64_t start_unix, std::int64_t end_unix) const;
  /// True when [start, end) lies in one window held.
  [[nodiscard]] bool holds(std::int64_t start_unix, std::int64_t end_unix) const;
  [[nodiscard]] std::size_t windows_held() const { return held_.size(); }

 private:
  Source& source_;
  std::int64_t step_;
  std::vector<forecast::Series> held_;  ///< by start, disjoint
};

}  // namespace prescale::source
