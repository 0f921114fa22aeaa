#include "prescale/file/file_source.hpp"

#include <cmath>

namespace prescale::file {

Expected<FileSource> FileSource::open(const std::filesystem::path& path,
                                      const CsvReadOptions& options) {
  auto series = read_csv_series(path, options);
  if (!series) return series.error();
  return FileSource(std::move(*series), "file " + path.string());
}

FileSource::FileSource(forecast::Series series, std::string description)
    : series_(std::move(series)), description_(std::move(description)) {}

Expected<forecast::Series> FileSource::fetch(std::int64_t start_unix, std::int64_t end_unix,
                                             std::int64_t step_seconds) {
  if (step_seconds <= 0 || end_unix < start_unix) {
    return make_error(description_ + ": bad fetch range or step");
  }
  forecast::Series out;
  out.start_unix = start_unix;
  out.step_seconds = step_seconds;
  const auto count = static_cast<std::size_t>((end_unix - start_unix) / step_seconds);
  out.values.assign(count, forecast::kMissing);
  const std::int64_t file_step = series_.step_seconds;
  for (std::size_t i = 0; i < count; ++i) {
    // Mean of the file's samples inside [t, t + step): same step = a slice.
    const std::int64_t t = out.time_at(i);
    std::int64_t first = t - series_.start_unix;
    first = first <= 0 ? 0 : (first + file_step - 1) / file_step;
    double sum = 0;
    int n = 0;
    for (auto j = static_cast<std::size_t>(first);
         j < series_.size() && series_.time_at(j) < t + step_seconds; ++j) {
      if (!std::isnan(series_.values[j])) {
        sum += series_.values[j];
        ++n;
      }
    }
    if (n > 0) out.values[i] = sum / n;
  }
  return out;
}

}  // namespace prescale::file
