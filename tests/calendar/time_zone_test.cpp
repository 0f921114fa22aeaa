#include <catch2/catch.hpp>

#include "prescale/calendar/time_zone.hpp"

using prescale::calendar::seasonal_positions;
using prescale::calendar::TimeZone;

namespace {
// 2026-03-08 is the US spring-forward day (02:00 EST -> 03:00 EDT),
// 2026-11-01 the fall-back day (02:00 EDT -> 01:00 EST).
constexpr std::int64_t kMar7_2026_0500Z = 1772859600;  // 2026-03-07T05:00:00Z = 00:00 EST
}  // namespace

TEST_CASE("unknown zones are errors that name the zone", "[calendar]") {
  auto zone = TimeZone::find("Mars/Olympus");
  REQUIRE_FALSE(zone.has_value());
  CHECK_THAT(zone.error().message, Catch::Contains("Mars/Olympus"));
}

TEST_CASE("New York offsets follow DST", "[calendar]") {
  auto ny = TimeZone::find("America/New_York");
  REQUIRE(ny.has_value());
  CHECK(ny->utc_offset(1767225600) == -5 * 3600);  // 2026-01-01T00:00Z, EST
  CHECK(ny->utc_offset(1782864000) == -4 * 3600);  // 2026-07-01T00:00Z, EDT
  // 09:30 local is 14:30Z in winter and 13:30Z in summer.
  CHECK(ny->to_utc(1767225600 + 9 * 3600 + 1800) == 1767225600 + 14 * 3600 + 1800);
  CHECK(ny->to_utc(1782864000 + 9 * 3600 + 1800) == 1782864000 + 13 * 3600 + 1800);
}

TEST_CASE("daily positions follow local wall-clock time across a 23-hour day", "[calendar]") {
  auto ny = TimeZone::find("America/New_York").value();
  const std::int64_t step = 3600;
  // 72 hourly samples from 2026-03-07 00:00 EST.
  auto pos = seasonal_positions(ny, kMar7_2026_0500Z, step, 72, 86400);
  CHECK(pos[0] == 0);
  CHECK(pos[23] == 23);
  CHECK(pos[24] == 0);  // 2026-03-08 00:00 EST
  CHECK(pos[25] == 1);
  CHECK(pos[26] == 3);  // 02:00 does not exist: 01:00 EST is followed by 03:00 EDT
  CHECK(pos[47] == 0);  // 23 samples later it is midnight again
}

TEST_CASE("daily positions repeat the doubled hour on a 25-hour day", "[calendar]") {
  auto ny = TimeZone::find("America/New_York").value();
  const std::int64_t nov1_0000_edt = 1793505600;  // 2026-11-01T04:00:00Z
  auto pos = seasonal_positions(ny, nov1_0000_edt, 3600, 26, 86400);
  CHECK(pos[0] == 0);
  CHECK(pos[1] == 1);  // 01:00 EDT
  CHECK(pos[2] == 1);  // 01:00 EST: the hour comes twice
  CHECK(pos[3] == 2);
  CHECK(pos[25] == 0);  // next midnight after 25 hours
}

TEST_CASE("weekly positions start on Monday 00:00 local", "[calendar]") {
  auto tokyo = TimeZone::find("Asia/Tokyo").value();
  const std::int64_t mon_2026_01_05_0000_jst = 1767538800;  // 2026-01-04T15:00:00Z
  auto pos = seasonal_positions(tokyo, mon_2026_01_05_0000_jst, 3600, 170, 7 * 86400);
  CHECK(pos[0] == 0);
  CHECK(pos[167] == 167);
  CHECK(pos[168] == 0);
}
