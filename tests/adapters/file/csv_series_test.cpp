#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "prescale/calendar/timestamp.hpp"
#include "prescale/file/csv_series.hpp"
#include "prescale/file/file_source.hpp"
#include "test_support.hpp"

using namespace prescale::file;
using prescale::calendar::parse_timestamp;
using prescale::calendar::TimeZone;

namespace {
constexpr std::int64_t kJan5_2026 = 1767571200;  // 2026-01-05T00:00:00Z (a Monday)

std::filesystem::path temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("prescale_csv_test_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}
}  // namespace

TEST_CASE("a regular file with a header comes out unchanged", "[file]") {
  CsvReadReport report;
  auto s = parse_csv_series(
      "timestamp,value\n2026-01-05T00:04:00Z,1\n2026-01-05T00:09:00Z,2.5\n2026-01-05T00:14:00Z,3\n",
      "a.csv", {}, &report);
  REQUIRE(s.has_value());
  CHECK(report.header);
  CHECK(report.step_detected);
  CHECK_FALSE(report.grid_realigned);
  CHECK(s->start_unix == kJan5_2026 + 240);
  CHECK(s->step_seconds == 300);
  REQUIRE(s->size() == 3);
  CHECK(s->values[1] == 2.5);
}

TEST_CASE("no header, unsorted rows, duplicates and gaps", "[file]") {
  CsvReadReport report;
  auto s =
      parse_csv_series("1767571500,4\n1767571200,1\n1767571200,3\n1767572100,7\r\n1767571800,\n",
                       "b.csv", {}, &report);
  REQUIRE(s.has_value());
  CHECK_FALSE(report.header);
  CHECK(report.unsorted);
  CHECK(report.duplicate_timestamps == 1);
  CHECK(report.rows == 5);
  REQUIRE(s->size() == 4);
  CHECK(s->start_unix == kJan5_2026);
  CHECK(s->values[0] == 2.0);  // the duplicates are averaged
  CHECK(s->values[1] == 4.0);
  CHECK(std::isnan(s->values[2]));  // an empty value is a known gap
  CHECK(s->values[3] == 7.0);
  CHECK(report.empty_buckets == 1);
}

TEST_CASE("irregular timestamps are averaged per bucket on an epoch-aligned grid", "[file]") {
  CsvReadOptions options;
  options.step_seconds = 300;
  CsvReadReport report;
  auto s = parse_csv_series(
      "2026-01-05T00:01:13Z,10\n2026-01-05T00:03:59Z,20\n2026-01-05T00:06:00Z,5\n"
      "2026-01-05T00:17:30Z,1\n",
      "c.csv", options, &report);
  REQUIRE(s.has_value());
  CHECK(report.grid_realigned);
  CHECK(s->start_unix == kJan5_2026);
  REQUIRE(s->size() == 4);
  CHECK(s->values[0] == 15.0);
  CHECK(s->values[1] == 5.0);
  CHECK(std::isnan(s->values[2]));
  CHECK(s->values[3] == 1.0);
  CHECK(report.merged_samples == 2);
}

TEST_CASE("bad rows are errors naming the file and the line", "[file]") {
  auto bad_value =
      parse_csv_series("timestamp,value\n1767571200,1\n\n1767571500,abc\n", "load.csv");
  REQUIRE_FALSE(bad_value.has_value());
  CHECK_THAT(bad_value.error().message, Catch::StartsWith("load.csv:4: value 'abc'"));

  auto bad_time = parse_csv_series("1767571200,1\n2026-13-01 00:00:00,2\n", "load.csv");
  REQUIRE_FALSE(bad_time.has_value());
  CHECK_THAT(bad_time.error().message, Catch::StartsWith("load.csv:2: timestamp '2026-13-01"));

  auto columns = parse_csv_series("1767571200,1\n1767571500,2,3\n", "load.csv");
  REQUIRE_FALSE(columns.has_value());
  CHECK_THAT(columns.error().message, Catch::Contains("load.csv:2: expected 2 columns"));
  CHECK_THAT(columns.error().message, Catch::Contains("found 3"));

  auto one_column = parse_csv_series("1767571200\n", "load.csv");
  REQUIRE_FALSE(one_column.has_value());
  CHECK_THAT(one_column.error().message, Catch::Contains("load.csv:1: expected 2 columns"));

  auto infinite = parse_csv_series("1767571200,inf\n", "load.csv");
  REQUIRE_FALSE(infinite.has_value());
  CHECK_THAT(infinite.error().message, Catch::Contains("not finite"));

  auto header_only = parse_csv_series("timestamp,value\n", "load.csv");
  REQUIRE_FALSE(header_only.has_value());
  CHECK_THAT(header_only.error().message, Catch::Contains("no data rows"));

  auto single = parse_csv_series("1767571200,1\n", "load.csv");
  REQUIRE_FALSE(single.has_value());
  CHECK_THAT(single.error().message, Catch::Contains("step"));

  CsvReadOptions tiny_step;
  tiny_step.step_seconds = 1;
  tiny_step.max_points = 1000;
  auto too_big = parse_csv_series("0,1\n100000,2\n", "load.csv", tiny_step);
  REQUIRE_FALSE(too_big.has_value());
  CHECK_THAT(too_big.error().message, Catch::Contains("larger step"));
}

TEST_CASE("empty and missing files are errors naming the file", "[file]") {
  const auto empty = temp_file("empty.csv", "\n  \n");
  auto s = read_csv_series(empty);
  REQUIRE_FALSE(s.has_value());
  CHECK_THAT(s.error().message, Catch::Contains("empty.csv: the file is empty"));
  std::filesystem::remove(empty);
  auto missing = read_csv_series("/nonexistent/dir/load.csv");
  REQUIRE_FALSE(missing.has_value());
  CHECK_THAT(missing.error().message, Catch::Contains("/nonexistent/dir/load.csv"));
}

TEST_CASE("written CSV reads back to the same series", "[file]") {
  prescale::forecast::Series series;
  series.start_unix = kJan5_2026;
  series.step_seconds = 300;
  series.values = {1.5, prescale::forecast::kMissing, 0.1, 1e-300, -42};
  const auto path = temp_file("roundtrip.csv", "");
  REQUIRE(write_csv_series(path, series).has_value());
  auto back = read_csv_series(path);
  std::filesystem::remove(path);
  REQUIRE(back.has_value());
  CHECK(back->start_unix == series.start_unix);
  CHECK(back->step_seconds == 300);
  REQUIRE(back->size() == series.size());
  CHECK(std::isnan(back->values[1]));
  for (std::size_t i : {0, 2, 3, 4}) CHECK(back->values[i] == series.values[i]);
  CHECK(format_csv_series(series).rfind("timestamp,value\n2026-01-05T00:00:00Z,1.5\n", 0) == 0);
}

TEST_CASE("FileSource slices and coarsens its grid", "[file]") {
  prescale::forecast::Series series;
  series.start_unix = kJan5_2026;
  series.step_seconds = 300;
  series.values = {1, 2, 3, 4, 5, 6};
  FileSource source(series);
  auto same = source.fetch(kJan5_2026 - 300, kJan5_2026 + 900, 300).value();
  REQUIRE(same.size() == 4);
  CHECK(std::isnan(same.values[0]));
  CHECK(same.values[1] == 1);
  CHECK(same.values[3] == 3);
  auto coarse = source.fetch(kJan5_2026, kJan5_2026 + 1800, 900).value();
  REQUIRE(coarse.size() == 2);
  CHECK(coarse.values[0] == 2);
  CHECK(coarse.values[1] == 5);
}

TEST_CASE("NAB traces: regular files keep their grid, Twitter volumes align to 5 min",
          "[file][shared-data]") {
  PRESCALE_REQUIRE_SHARED_DATA(data);
  const std::optional<TimeZone> utc;
  auto taxi = read_csv_series(data / "nab" / "nyc_taxi.csv");
  REQUIRE(taxi.has_value());
  CHECK(taxi->step_seconds == 1800);
  CHECK(taxi->size() == 10320);
  CHECK(taxi->start_unix == parse_timestamp("2014-07-01 00:00:00", utc).value());
  CHECK(taxi->missing_count() == 0);

  for (const char* name :
       {"Twitter_volume_AAPL.csv", "Twitter_volume_GOOG.csv", "Twitter_volume_IBM.csv"}) {
    CAPTURE(name);
    CsvReadReport report;
    // The Twitter files are exactly 300 s apart but at hh:mm:53: read as is,
    // the grid keeps that offset; aligned, each sample lands in its bucket.
    auto as_is = read_csv_series(data / "nab" / name).value();
    CHECK(as_is.step_seconds == 300);
    CHECK(as_is.start_unix % 300 == 173);
    CsvReadOptions align;
    align.align_to_step = true;
    const auto started = std::chrono::steady_clock::now();
    auto s = read_csv_series(data / "nab" / name, align, &report);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    REQUIRE(s.has_value());
    WARN(name << ": " << report.rows << " rows read and resampled in " << seconds * 1000 << " ms");
    CHECK(report.header);
    CHECK(report.grid_realigned);
    CHECK(s->step_seconds == 300);
    CHECK(s->start_unix % 300 == 0);
    CHECK(s->start_unix == parse_timestamp("2015-02-26 21:40:00", utc).value());
    CHECK(s->size() == as_is.size());
    CHECK(s->values == as_is.values);
  }
}

TEST_CASE("50k rows parse and resample quickly", "[file]") {
  std::string text = "timestamp,value\n";
  for (int i = 0; i < 50000; ++i) {
    text += std::to_string(kJan5_2026 + i * 300 + (i % 7) * 11) + "," +
            std::to_string(i % 97 * 1.25) + "\n";
  }
  const auto started = std::chrono::steady_clock::now();
  CsvReadOptions options;
  options.step_seconds = 300;
  auto s = parse_csv_series(text, "big.csv", options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(s.has_value());
  CHECK(s->step_seconds == 300);
  CHECK(s->size() == 50000);
  CHECK(s->missing_count() == 0);
  WARN("50k irregular rows parsed and resampled in " << seconds * 1000
                                                     << " ms (measured, not asserted)");
}
