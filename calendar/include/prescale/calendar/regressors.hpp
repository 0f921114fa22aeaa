#pragma once
// Calendar regressor columns for a grid of timestamps, as a plain row-major
// matrix with column names, so that models (which use Eigen) get numbers
// only and this library stays free of Eigen: the caller maps `values` into
// an Eigen::Map<const Matrix<double, Dynamic, Dynamic, RowMajor>>.
//
// Columns, per calendar <c> (business-day columns are emitted once per
// distinct business-day set and time zone, so nyse and a payroll calendar
// that borrows nyse's business days do not give two identical columns):
//   <c>.business_day                 1 if the local date is a business day
//   <c>.business_days_to_month_end   business days left after the local date
//                                    in its month (0 on the last one)
// per session or event <c>.<e>:
//   <c>.<e>.on                       1 inside an occurrence [start, end)
//   <c>.<e>.elapsed[a,b)             1 when the sample is a to b-1 steps after
//                                    the occurrence's start (UTC elapsed time)
//
// Elapsed-time bucketing (keeps the columns bounded while resolving the sharp
// start of a burst): bucket 0 is step 0, bucket k >= 1 is steps
// [2^(k-1), 2^k), so a 09:30-16:00 session at 1-minute steps (390 steps) has
// 10 buckets: [0,1) [1,2) [2,4) [4,8) ... [256,512). At most
// `max_elapsed_buckets` buckets; the last one is open-ended. The last bucket
// has no column of its own: `.on` is the level in that tail and each
// elapsed column is the excess over it early in the window, which keeps the
// columns linearly independent (the buckets sum to `.on`).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "prescale/calendar/calendar.hpp"

namespace prescale::calendar {

/// What to emit. Value type.
struct RegressorOptions {
  std::size_t max_elapsed_buckets = 12;  ///< >= 1; 1 gives the .on column only
  bool business_day_columns = true;
  bool occurrence_columns = true;
  /// Calendars to use, by name; empty means all. Unknown names are ignored
  /// (the config loader checks references with their YAML path).
  std::vector<std::string> calendars;
};

/// rows x names.size() values in row-major order. Value type.
struct RegressorMatrix {
  std::size_t rows = 0;
  std::vector<std::string> names;
  std::vector<double> values;

  [[nodiscard]] std::size_t cols() const { return names.size(); }
  [[nodiscard]] double at(std::size_t row, std::size_t col) const {
    return values[row * names.size() + col];
  }
  /// Index of a named column, or cols() when absent.
  [[nodiscard]] std::size_t column(const std::string& name) const;
};

/// Number of elapsed-time buckets for a window of `window_steps` steps.
std::size_t elapsed_bucket_count(std::int64_t window_steps, std::size_t max_buckets);
/// Bucket of a sample `elapsed_steps` after the start (clamped to the last).
std::size_t elapsed_bucket(std::int64_t elapsed_steps, std::size_t bucket_count);

/// Regressor columns over the grid start + i*step, i < count, for every
/// calendar of the set. step_seconds must be > 0.
RegressorMatrix calendar_regressors(const CalendarSet& calendars, std::int64_t start_unix,
                                    std::int64_t step_seconds, std::size_t count,
                                    const RegressorOptions& options = {});

}  // namespace prescale::calendar
