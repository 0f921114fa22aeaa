#pragma once
// A load series on a regular time grid: the one shape of data every module
// exchanges. Gaps are NaN, never dropped, so index i is always t0 + i*step.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace prescale::forecast {

/// Value type; not synchronised (copy it to share across threads).
struct Series {
  std::int64_t start_unix = 0;     ///< UTC seconds of values[0]
  std::int64_t step_seconds = 60;  ///< grid spacing, > 0
  std::vector<double> values;      ///< NaN marks a missing sample

  [[nodiscard]] std::size_t size() const { return values.size(); }
  [[nodiscard]] bool empty() const { return values.empty(); }
  [[nodiscard]] std::int64_t time_at(std::size_t i) const {
    return start_unix + static_cast<std::int64_t>(i) * step_seconds;
  }
  /// UTC seconds one step past the last sample (where a forecast starts).
  [[nodiscard]] std::int64_t end_unix() const { return time_at(values.size()); }
  [[nodiscard]] std::size_t missing_count() const {
    std::size_t n = 0;
    for (double v : values) n += std::isnan(v) ? 1 : 0;
    return n;
  }
};

inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

}  // namespace prescale::forecast
