// RFC 3339 in UTC: what the API, logs, CSV files and the CLI print.
#include <catch2/catch.hpp>

#include <cstdint>

#include "prescale/common/integer.hpp"
#include "prescale/common/time.hpp"

using namespace prescale;

namespace {
constexpr std::int64_t kJan5_2026 = 1767571200;  // 2026-01-05T00:00:00Z (a Monday)
}  // namespace

TEST_CASE("RFC 3339 in UTC, whole seconds and milliseconds", "[time]") {
  CHECK(format_rfc3339(kJan5_2026 + 3661) == "2026-01-05T01:01:01Z");
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59Z");
  CHECK(format_rfc3339(1767623400) == "2026-01-05T14:30:00Z");
  CHECK(format_rfc3339(951782400) == "2000-02-29T00:00:00Z");  // leap day of a leap century
  CHECK(format_rfc3339(253402300799) == "9999-12-31T23:59:59Z");
  CHECK(format_rfc3339_millis(1767623400123) == "2026-01-05T14:30:00.123Z");
  CHECK(format_rfc3339_millis(0) == "1970-01-01T00:00:00.000Z");
  // Before 1970 the second and the millisecond round down, not toward zero.
  CHECK(format_rfc3339_millis(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339_millis(-1500) == "1969-12-31T23:59:58.500Z");
}

TEST_CASE("day numbers and civil dates are inverse", "[time]") {
  for (std::int64_t day = -800000; day <= 800000; day += 997) {
    CHECK(days_from_civil(civil_from_days(day)) == day);
  }
  CHECK(days_from_civil({1970, 1, 1}) == 0);
  CHECK(days_from_civil({2026, 1, 5}) * 86400 == kJan5_2026);
  CHECK(civil_from_days(-1) == CivilDate{1969, 12, 31});
}

TEST_CASE("integer division rounds toward minus infinity", "[integer]") {
  CHECK(floor_div(7, 3) == 2);
  CHECK(floor_div(-7, 3) == -3);
  CHECK(floor_div(-6, 3) == -2);
  CHECK(floor_mod(-7, 3) == 2);
  CHECK(floor_mod(7, 3) == 1);
  CHECK(ceil_div(7, 3) == 3);
  CHECK(ceil_div(-7, 3) == -2);
  CHECK(floor_to(-1, 60) == -60);
  CHECK(floor_to(119, 60) == 60);
  CHECK(ceil_to(61, 60) == 120);
  CHECK(ceil_to(120, 60) == 120);
  CHECK(ceil_to(-59, 60) == 0);
}
