// Start-up errors of `prescale serve` name what is wrong, before anything runs.
#include <catch2/catch.hpp>

#include <fstream>

#include "prescale/autoscaler/daemon.hpp"
#include "prescale/autoscaler/logging.hpp"

using namespace prescale;
using namespace prescale::autoscaler;

namespace {

std::string start_error(const std::string& yaml) {
  const auto path = std::filesystem::temp_directory_path() / "prescale-daemon-test.yaml";
  std::ofstream(path) << yaml;
  DaemonOptions options;
  options.config_path = path;
  try {
    Daemon daemon(options);
  } catch (const std::exception& e) {
    std::filesystem::remove(path);
    return e.what();
  }
  std::filesystem::remove(path);
  return "";
}

}  // namespace

TEST_CASE("the daemon refuses a config it cannot serve, naming the problem", "[daemon]") {
  CHECK_THAT(
      start_error("targets:\n  - metric: a\n    query: up\n    leadTime: 5x\n"),
      Catch::Contains("targets[0].leadTime: bad duration '5x'") && Catch::Contains("(line 4)"));
  CHECK_THAT(start_error("targets:\n  - metric: a\n    query: up\n"),
             Catch::Contains("server.tlsCertFile and server.tlsKeyFile are required"));
}

TEST_CASE("log records format as text and as JSON lines", "[daemon]") {
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
