#include "prescale/file/csv_series.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <vector>

#include "prescale/calendar/timestamp.hpp"
#include "prescale/common/text.hpp"
#include "prescale/common/time.hpp"

namespace prescale::file {
namespace {

using forecast::Series;

}  // namespace

Expected<Series> resample(std::span<Sample> samples, const CsvReadOptions& options,
                          CsvReadReport* report) {
  CsvReadReport local;
  CsvReadReport& rep = report ? *report : local;
  if (samples.empty()) return make_error("no data rows");
  auto by_time = [](const Sample& a, const Sample& b) { return a.unix_seconds < b.unix_seconds; };
  if (!std::is_sorted(samples.begin(), samples.end(), by_time)) {
    rep.unsorted = true;
    std::stable_sort(samples.begin(), samples.end(), by_time);
  }
  std::vector<double> spacings;
  spacings.reserve(samples.size());
  rep.duplicate_timestamps = 0;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const double gap = samples[i].unix_seconds - samples[i - 1].unix_seconds;
    if (gap > 0)
      spacings.push_back(gap);
    else
      ++rep.duplicate_timestamps;
  }
  std::int64_t step = 0;
  if (options.step_seconds) {
    step = *options.step_seconds;
    if (step <= 0) return make_error("step must be positive");
  } else {
    if (spacings.empty()) {
      return make_error("cannot detect the step from a single timestamp; give the step explicitly");
    }
    auto middle = spacings.begin() + static_cast<std::ptrdiff_t>(spacings.size() / 2);
    std::nth_element(spacings.begin(), middle, spacings.end());
    step = std::max<std::int64_t>(1, std::llround(*middle));
    rep.step_detected = true;
  }
  const double first = samples.front().unix_seconds;
  const double last = samples.back().unix_seconds;
  bool on_grid = !options.align_to_step && std::floor(first) == first;
  for (std::size_t i = 0; on_grid && i < samples.size(); ++i) {
    // Whole seconds (the usual case) are checked in integers; fmod is slow.
    const double offset = samples[i].unix_seconds - first;
    on_grid = std::floor(offset) == offset && offset < 9.0e15
                  ? static_cast<std::int64_t>(offset) % step == 0
                  : std::fmod(offset, static_cast<double>(step)) == 0;
  }
  const double origin =
      on_grid ? first : std::floor(first / static_cast<double>(step)) * static_cast<double>(step);
  rep.grid_realigned = !on_grid;
  const double span_steps = std::floor((last - origin) / static_cast<double>(step));
  if (span_steps + 1 > static_cast<double>(options.max_points)) {
    return make_error("a step of " + std::to_string(step) + " s over this time span makes " +
                      std::to_string(static_cast<long long>(span_steps + 1)) + " points (limit " +
                      std::to_string(options.max_points) + "); use a larger step");
  }
  Series series;
  series.start_unix = static_cast<std::int64_t>(origin);
  series.step_seconds = step;
  const auto count = static_cast<std::size_t>(span_steps) + 1;
  std::vector<double> sums(count, 0.0);
  std::vector<std::uint32_t> counts(count, 0);
  std::vector<std::uint32_t> rows(count, 0);
  for (const Sample& s : samples) {
    const auto bucket =
        static_cast<std::size_t>((s.unix_seconds - origin) / static_cast<double>(step));
    ++rows[bucket];
    if (std::isnan(s.value)) continue;  // an explicit gap adds nothing to the mean
    sums[bucket] += s.value;
    ++counts[bucket];
  }
  series.values.resize(count);
  rep.empty_buckets = 0;
  rep.merged_samples = 0;
  for (std::size_t i = 0; i < count; ++i) {
    series.values[i] = counts[i] ? sums[i] / counts[i] : forecast::kMissing;
    rep.empty_buckets += counts[i] == 0;
    rep.merged_samples += rows[i] > 1 ? rows[i] : 0;
  }
  return series;
}

Expected<Series> parse_csv_series(std::string_view text, std::string_view name,
                                  const CsvReadOptions& options, CsvReadReport* report) {
  CsvReadReport local;
  CsvReadReport& rep = report ? *report : local;
  rep = CsvReadReport{};
  const std::string where(name);
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::vector<Sample> samples;
  samples.reserve(text.size() / 24 + 1);
  std::size_t line_number = 0;
  bool first_content_line = true;
  while (!text.empty()) {
    const std::size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    ++line_number;
    line = trim_cell(line);
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](const std::string& why) {
      return make_error(where + ":" + std::to_string(line_number) + ": " + why);
    };
    const std::size_t comma = line.find(',');
    if (comma == std::string_view::npos || line.find(',', comma + 1) != std::string_view::npos) {
      const auto columns = 1 + std::count(line.begin(), line.end(), ',');
      return fail("expected 2 columns (timestamp,value), found " + std::to_string(columns) + ": '" +
                  std::string(line.substr(0, 80)) + "'");
    }
    const std::string_view time_text = trim_cell(line.substr(0, comma));
    const std::string_view value_text = trim_cell(line.substr(comma + 1));
    if (first_content_line) {
      first_content_line = false;
      if (std::none_of(time_text.begin(), time_text.end(), is_digit)) {
        rep.header = true;
        continue;
      }
    }
    auto when = calendar::parse_timestamp(time_text, options.input_zone);
    if (!when) return fail(when.error().message);
    double value = forecast::kMissing;
    if (!value_text.empty()) {
      auto parsed = parse_number(value_text);
      if (!parsed) return fail("value '" + std::string(value_text) + "' is not a number");
      if (std::isinf(*parsed)) return fail("value '" + std::string(value_text) + "' is not finite");
      value = *parsed;
    }
    samples.push_back(Sample{*when, value});
  }
  rep.rows = samples.size();
  if (samples.empty())
    return make_error(where + ": no data rows (expected lines 'timestamp,value')");
  auto series = resample(samples, options, &rep);
  if (!series) return make_error(where + ": " + series.error().message);
  return series;
}

Expected<Series> read_csv_series(const std::filesystem::path& path, const CsvReadOptions& options,
                                 CsvReadReport* report) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path.string() + ": cannot open for reading");
  // One read of the whole file (a character iterator costs more than parsing it).
  std::string text;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0)
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return make_error(path.string() + ": read error");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return make_error(path.string() + ": the file is empty (expected lines 'timestamp,value')");
  }
  return parse_csv_series(text, path.string(), options, report);
}

std::string format_csv_series(const Series& series) {
  std::string out = "timestamp,value\n";
  out.reserve(out.size() + series.size() * 40);
  char number[64];
  for (std::size_t i = 0; i < series.size(); ++i) {
    out += format_rfc3339(series.time_at(i));
    out += ',';
    const double v = series.values[i];
    if (std::isnan(v)) {
      out += "NaN";
    } else {
      auto [ptr, ec] = std::to_chars(number, number + sizeof number, v);
      out.append(number, ptr);
    }
    out += '\n';
  }
  return out;
}

Status write_csv_series(const std::filesystem::path& path, const Series& series) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(path.string() + ": cannot open for writing");
  const std::string text = format_csv_series(series);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return make_error(path.string() + ": write failed");
  return Status::ok();
}

}  // namespace prescale::file
