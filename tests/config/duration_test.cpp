#include <catch2/catch.hpp>

#include "prescale/config/duration.hpp"

using prescale::config::format_duration;
using prescale::config::parse_duration_seconds;

TEST_CASE("durations parse as Prometheus writes them", "[config]") {
  CHECK(parse_duration_seconds("30s").value() == 30);
  CHECK(parse_duration_seconds("5m").value() == 300);
  CHECK(parse_duration_seconds("1h30m").value() == 5400);
  CHECK(parse_duration_seconds("35d").value() == 35 * 86400);
  CHECK(parse_duration_seconds("1w").value() == 604800);
}

TEST_CASE("bad durations name the text", "[config]") {
  for (const char* bad : {"", "5", "m", "5x", "1.5h", "-1m", "10ms"}) {
    auto parsed = parse_duration_seconds(bad);
    INFO(bad);
    REQUIRE_FALSE(parsed.has_value());
  }
  CHECK_THAT(parse_duration_seconds("5x").error().message, Catch::Contains("'5x'"));
  // Found by fuzz/duration_fuzzer: the product overflowed int64 and came back negative.
  CHECK_THAT(parse_duration_seconds("555555555555y50s").error().message,
             Catch::Contains("too large"));
  CHECK_FALSE(parse_duration_seconds("99y99y").has_value());
}

TEST_CASE("durations format in their shortest form", "[config]") {
  CHECK(format_duration(5400) == "1h30m");
  CHECK(format_duration(604800) == "1w");
  CHECK(format_duration(90061) == "1d1h1m1s");
}
