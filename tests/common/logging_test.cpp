// Log records as text and JSON lines: what operators grep and what the
// cluster's log pipeline parses.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "prescale/common/logging.hpp"

using namespace prescale;

TEST_CASE("log records format as text and as JSON lines", "[logging]") {
  LogRecord record{LogLevel::info, "refit", {}};
  record.with("target", "payments-rps-forecast")
      .with("model", "holt-winters(A,Ad,A;1440,10080)")
      .with("backtest_mase", 0.731)
      .with("samples", std::int64_t{50400})
      .with("why", "drift \"x\"")
      .with("nan", std::nan(""));
  const std::int64_t millis = 1767623400123;  // 2026-01-05T14:30:00.123Z
  CHECK(format_text(record, millis) ==
        "2026-01-05T14:30:00.123Z info    refit target=payments-rps-forecast "
        "model=holt-winters(A,Ad,A;1440,10080) backtest_mase=0.731 samples=50400 why=\"drift "
        "\\\"x\\\"\" nan=nan");
  CHECK(format_json(record, millis) ==
        "{\"ts\":\"2026-01-05T14:30:00.123Z\",\"level\":\"info\",\"msg\":\"refit\",\"target\":"
        "\"payments-rps-forecast\","
        "\"model\":\"holt-winters(A,Ad,A;1440,10080)\",\"backtest_mase\":0.731,\"samples\":50400,"
        "\"why\":\"drift \\\"x\\\"\",\"nan\":null}");
}

TEST_CASE("a log line is valid JSON whatever bytes a message or field carries", "[logging]") {
  // A Prometheus error body or a label can carry bytes that are not UTF-8.
  LogRecord record{LogLevel::warning, "fetch failed: \xff\xfe body", {}};
  record.with("target", "payments\xc3")
      .with("bell", std::string("a\x07z"))
      .with("why", "quote \" and backslash \\");
  const std::string line = format_json(record, 1767623400123);
  nlohmann::json parsed;
  REQUIRE_NOTHROW(parsed = nlohmann::json::parse(line));
  CHECK(parsed["msg"] == "fetch failed: \xef\xbf\xbd\xef\xbf\xbd body");  // U+FFFD each
  CHECK(parsed["target"] == "payments\xef\xbf\xbd");
  CHECK(parsed["bell"] == std::string("a\x07z"));
  CHECK(parsed["why"] == "quote \" and backslash \\");
  CHECK(parsed["ts"] == "2026-01-05T14:30:00.123Z");
}

TEST_CASE("log time stamps before 1970 round down to the millisecond", "[logging]") {
  const LogRecord record{LogLevel::info, "x", {}};
  CHECK(format_text(record, -1) == "1969-12-31T23:59:59.999Z info    x");
}
