// CSV load history comes from exports, spreadsheets and other tools: any bytes
// must parse or be refused with a message naming the file and line; a parsed
// series must sit on a valid grid and survive write -> read unchanged.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "prescale/file/csv_series.hpp"

namespace {

bool same_series(const prescale::forecast::Series& a, const prescale::forecast::Series& b) {
  if (a.start_unix != b.start_unix || a.step_seconds != b.step_seconds || a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a.values[i]) != std::isnan(b.values[i])) return false;
    if (!std::isnan(a.values[i]) && a.values[i] != b.values[i]) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  prescale::file::CsvReadOptions options;
  options.max_points = 100'000;  // keeps a fuzzed year-long grid from exhausting memory
  prescale::file::CsvReadReport report;
  auto series = prescale::file::parse_csv_series(text, "fuzz.csv", options, &report);
  if (!series) {
    if (series.error().message.find("fuzz.csv") == std::string_view::npos) std::abort();
    return 0;
  }
  if (series->empty() || series->step_seconds <= 0 || series->size() > options.max_points)
    std::abort();
  if (report.rows == 0) std::abort();
  // The writer keeps whole seconds and the grid, so the file it writes reads
  // back onto the same grid (forced step: a one-point series has no spacing).
  // Written only within RFC 3339 years (end checked without overflowing).
  constexpr std::int64_t kYear9999 = 253402300799;
  if (series->start_unix < 0 || series->start_unix > kYear9999 ||
      (kYear9999 - series->start_unix) / series->step_seconds <
          static_cast<std::int64_t>(series->size()))
    return 0;
  prescale::file::CsvReadOptions again = options;
  again.step_seconds = series->step_seconds;
  auto reread = prescale::file::parse_csv_series(prescale::file::format_csv_series(*series),
                                                 "written.csv", again);
  if (!reread || !same_series(*series, *reread)) std::abort();
  return 0;
}
