#pragma once
// CSV load history: `timestamp,value` rows in, a Series on a regular grid out.
//
// Accepted timestamps (per row, mixed is fine):
//   - RFC 3339: 2026-01-05T14:30:00Z, 2026-01-05T09:30:00.250-05:00
//   - 2026-01-05 14:30:00 (or with a T, seconds and fraction optional):
//     UTC, or local time in CsvReadOptions::input_zone when given
//   - Unix seconds, optionally fractional: 1767623400
// Values: decimal numbers; an empty value or NaN marks a known gap.
// A header is recognised as a first line whose first field has no digit.
//
// Resampling: rows are sorted by time (input order does not matter). The
// step is forced, or the median spacing of distinct timestamps. If every
// timestamp sits on first + k*step the grid starts at the first timestamp
// (a regular file comes out unchanged); otherwise the grid is aligned to
// multiples of the step since the epoch (also on request), and a timestamp
// belongs to the bucket that starts at or before it. Each grid point holds the MEAN of
// the samples in [t, t+step) (duplicates included); empty buckets are NaN.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::file {

struct CsvReadOptions {
  /// Grid step in seconds; unset = median spacing of the timestamps.
  std::optional<std::int64_t> step_seconds;
  /// Zone of timestamps written without an offset; unset = UTC. A local time
  /// in a DST fold maps to its first instance (so both hours share buckets).
  std::optional<calendar::TimeZone> input_zone;
  /// Align the grid to multiples of the step since the epoch even when the
  /// file is regular (as Prometheus query_range grids are).
  bool align_to_step = false;
  /// Refuse grids larger than this (a wrong --step on years of data).
  std::size_t max_points = 20'000'000;
};

/// What the reader did, for the CLI's notes.
struct CsvReadReport {
  std::size_t rows = 0;  ///< data rows read (header excluded)
  bool header = false;
  bool unsorted = false;                 ///< rows were not in time order
  std::size_t duplicate_timestamps = 0;  ///< rows repeating an earlier timestamp
  std::size_t merged_samples = 0;        ///< rows averaged into a bucket with others
  std::size_t empty_buckets = 0;         ///< grid points with no sample (NaN)
  bool step_detected = false;            ///< step was the median spacing
  bool grid_realigned = false;           ///< timestamps were off-grid (irregular)
};

/// Parses CSV text; `name` (a file name) prefixes every error with the line:
/// "load.csv:12: value 'abc' is not a number".
[[nodiscard]] Expected<forecast::Series> parse_csv_series(std::string_view text,
                                                          std::string_view name,
                                                          const CsvReadOptions& options = {},
                                                          CsvReadReport* report = nullptr);
/// Reads and parses a file; errors name the file.
[[nodiscard]] Expected<forecast::Series> read_csv_series(const std::filesystem::path& path,
                                                         const CsvReadOptions& options = {},
                                                         CsvReadReport* report = nullptr);

/// `timestamp,value` with RFC 3339 UTC timestamps; NaN gaps written as NaN.
[[nodiscard]] std::string format_csv_series(const forecast::Series& series);
[[nodiscard]] Status write_csv_series(const std::filesystem::path& path,
                                      const forecast::Series& series);

/// A timestamped sample before resampling.
struct Sample {
  double unix_seconds;
  double value;
};
/// Sorts, detects or applies the step and averages samples per bucket (see
/// the file comment). Errors when there is no sample or the grid is too big.
[[nodiscard]] Expected<forecast::Series> resample(std::span<Sample> samples,
                                                  const CsvReadOptions& options,
                                                  CsvReadReport* report = nullptr);

}  // namespace prescale::file
