#pragma once
// What the daemon holds per target: the last good history from a Source,
// refreshed by fetching only the new tail, with the age of its data.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "prescale/common/expected.hpp"
#include "prescale/forecast/series.hpp"
#include "prescale/source/source.hpp"

namespace prescale::source {

struct HistoryOptions {
  std::int64_t step_seconds = 60;
  std::int64_t window_seconds = 35 * 86400;  ///< history kept (older samples are dropped)
  /// Newest steps fetched again on each refresh: scrapes and rule evaluations
  /// land late, so the last points of the previous fetch may have been partial.
  std::int64_t refetch_steps = 2;
};

/// Keeps the last good series of one Source. The first refresh() loads the
/// whole window; later ones fetch only [last end - refetch_steps, now]. A
/// failed refresh keeps the last good data untouched and reports why.
/// Not thread-safe: one engine worker owns it (copy series() to share).
class IncrementalHistory {
 public:
  /// `source` must outlive this object.
  IncrementalHistory(Source& source, HistoryOptions options);

  /// Brings the history up to the step that contains `now_unix`.
  Status refresh(std::int64_t now_unix);

  [[nodiscard]] bool has_data() const { return !series_.empty(); }
  /// The last good series (grid aligned to the step; NaN gaps kept).
  [[nodiscard]] const forecast::Series& series() const { return series_; }
  /// Time of the newest sample that holds a value, if any.
  [[nodiscard]] std::optional<std::int64_t> newest_sample_unix() const;
  /// now - newest sample with a value; nullopt when there is none. The
  /// policy falls back to reactive scaling when this exceeds 3 steps.
  [[nodiscard]] std::optional<std::int64_t> data_age_seconds(std::int64_t now_unix) const;
  [[nodiscard]] std::optional<std::int64_t> last_success_unix() const { return last_success_; }
  /// Empty after a successful refresh.
  [[nodiscard]] const std::string& last_error() const { return last_error_; }
  [[nodiscard]] std::size_t consecutive_failures() const { return failures_; }
  /// Points asked of the source by the last successful refresh.
  [[nodiscard]] std::size_t last_fetched_points() const { return last_fetched_points_; }
  [[nodiscard]] const HistoryOptions& options() const { return options_; }

 private:
  Status fail(std::string message);

  Source& source_;
  HistoryOptions options_;
  forecast::Series series_;
  std::optional<std::int64_t> last_success_;
  std::string last_error_;
  std::size_t failures_ = 0;
  std::size_t last_fetched_points_ = 0;
};

}  // namespace prescale::source
