#pragma once
// A Source over a CSV file: the file is read once, fetch() returns slices of
// its grid (NaN outside it), so the engine and simulator replay a trace the
// way they would query Prometheus.
#include <filesystem>

#include "prescale/file/csv_series.hpp"
#include "prescale/source/source.hpp"

namespace prescale::file {

/// Not thread-safe (one engine worker at a time, as the Source seam says).
class FileSource final : public source::Source {
 public:
  /// Reads the file now; an error names it.
  static Expected<FileSource> open(const std::filesystem::path& path,
                                   const CsvReadOptions& options = {});
  explicit FileSource(forecast::Series series, std::string description = "series");

  [[nodiscard]] std::string describe() const override { return description_; }
  [[nodiscard]] Expected<forecast::Series> fetch(std::int64_t start_unix, std::int64_t end_unix,
                                                 std::int64_t step_seconds) override;
  [[nodiscard]] const forecast::Series& series() const { return series_; }

 private:
  forecast::Series series_;
  std::string description_;
};

}  // namespace prescale::file
