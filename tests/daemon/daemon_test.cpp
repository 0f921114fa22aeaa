// Start-up errors of `prescale serve` name what is wrong, before anything runs.
#include <catch2/catch.hpp>

#include <fstream>

#include "prescale/daemon/daemon.hpp"

using namespace prescale;
using namespace prescale::daemon;

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
