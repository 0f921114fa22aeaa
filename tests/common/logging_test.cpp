// Log records as text and JSON lines: what operators grep and what the
// cluster's log pipeline parses.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

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
