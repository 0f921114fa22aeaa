#pragma once
// Parses Prometheus HTTP API replies (JSON) with simdjson. Public so that the
// fuzz target and the benchmark drive exactly the code the Source runs.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"

namespace prescale::prometheus {

/// A time grid: start, start+step, ... (count points), in UTC seconds.
struct Grid {
  std::int64_t start_unix = 0;
  std::int64_t step_seconds = 60;
  std::size_t count = 0;
};

/// One series of a reply, laid on the grid (NaN where the reply has no point).
struct LabeledSeries {
  std::string labels;  ///< Prometheus notation: name{job="api", instance="a"}
  std::vector<double> values;
};

struct RangeReply {
  std::vector<LabeledSeries> series;
  std::vector<std::string> warnings;
};

struct InstantSample {
  std::string labels;
  double time_unix = 0;
  double value = 0;
};

struct InstantReply {
  std::vector<InstantSample> samples;
  std::vector<std::string> warnings;
};

/// "NaN", "+Inf", "-Inf", "1.5e3" as Prometheus writes sample values.
Expected<double> parse_sample_value(std::string_view text);

/// Reuses its buffers across small replies; frees them after a large one (over
/// 1 MiB), so an idle parser holds at most a few MiB. Not thread-safe: one per Source.
class ReplyParser {
 public:
  ReplyParser();
  ~ReplyParser();
  ReplyParser(ReplyParser&&) noexcept;
  ReplyParser& operator=(ReplyParser&&) noexcept;

  /// `json` is taken as std::string so that spare capacity (Client pads it)
  /// lets simdjson parse in place without a copy.
  /// A query_range reply (resultType matrix) onto `grid`. `status: error`
  /// becomes an Error with errorType and error; a point off the grid is an
  /// Error (the server answered another question than the one asked).
  [[nodiscard]] Expected<RangeReply> parse_range(const std::string& json, const Grid& grid);
  /// A query reply (resultType vector or scalar).
  [[nodiscard]] Expected<InstantReply> parse_instant(const std::string& json);
  /// The largest reply its kept buffers can parse without allocating (they
  /// take about 3.5 times that); at most 1 MiB between calls.
  [[nodiscard]] std::size_t kept_capacity() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::prometheus
