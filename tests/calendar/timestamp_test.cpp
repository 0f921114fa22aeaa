// The one timestamp parser (CSV rows, --start/--end, generate --start,
// explain --at): RFC 3339, local wall-clock times, Unix seconds.
#include <catch2/catch.hpp>

#include <optional>

#include "prescale/calendar/timestamp.hpp"

using prescale::calendar::parse_timestamp;
using prescale::calendar::TimeZone;

namespace {
constexpr std::int64_t kJan5_2026 = 1767571200;  // 2026-01-05T00:00:00Z (a Monday)
}  // namespace

TEST_CASE("timestamps in RFC 3339, naive and Unix forms", "[timestamp]") {
  const std::optional<TimeZone> utc;
  CHECK(parse_timestamp("2026-01-05T00:00:00Z", utc).value() == kJan5_2026);
  CHECK(parse_timestamp("2026-01-05 00:00:00", utc).value() == kJan5_2026);
  CHECK(parse_timestamp("2026-01-05T00:00", utc).value() == kJan5_2026);
  CHECK(parse_timestamp("2026-01-04T19:00:00-05:00", utc).value() == kJan5_2026);
  CHECK(parse_timestamp("2026-01-05T05:30:00+0530", utc).value() == kJan5_2026);
  CHECK(parse_timestamp("2026-01-05T00:00:00.250Z", utc).value() == Approx(kJan5_2026 + 0.25));
  CHECK(parse_timestamp("1767571200", utc).value() == kJan5_2026);
  CHECK(parse_timestamp("1767571200.5", utc).value() == Approx(kJan5_2026 + 0.5));
  CHECK(parse_timestamp("2024-02-29T12:00:00Z", utc).has_value());
  CHECK_FALSE(parse_timestamp("2026-02-29T12:00:00Z", utc).has_value());
  CHECK_FALSE(parse_timestamp("2026-01-05T25:00:00Z", utc).has_value());
  CHECK_FALSE(parse_timestamp("2026-01-05X00:00:00", utc).has_value());
  CHECK_FALSE(parse_timestamp("yesterday", utc).has_value());
  CHECK_FALSE(parse_timestamp("2026-01-05T00:00:00+5", utc).has_value());
  // Found by fuzz/csv_fuzzer: Unix seconds past year 9999 overflowed the grid.
  CHECK_THAT(parse_timestamp("9999999999999990", utc).error().message, Catch::Contains("9999"));
}

TEST_CASE("naive timestamps are local in the input zone, DST included", "[timestamp]") {
  const std::optional<TimeZone> ny = TimeZone::find("America/New_York").value();
  // 09:30 New York is 14:30Z in January and 13:30Z in July.
  CHECK(parse_timestamp("2026-01-05 09:30:00", ny).value() == kJan5_2026 + 14 * 3600 + 1800);
  CHECK(parse_timestamp("2026-07-06 09:30:00", ny).value() ==
        parse_timestamp("2026-07-06T13:30:00Z", std::nullopt).value());
  // An explicit offset wins over the input zone.
  CHECK(parse_timestamp("2026-01-05T00:00:00Z", ny).value() == kJan5_2026);
}
