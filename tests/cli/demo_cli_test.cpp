// `prescale demo` and `prescale --version` run as a newcomer would: the demo
// ends by itself when its trace does, with a summary and a report, exit 0;
// `serve` and `demo` hand over to prescale-server (the one suite that needs
// it: the sanitizer pass builds the unit suites and prescale, not the server).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "run_prescale.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using prescale::test::Run;
using prescale::test::run_prescale;
using prescale::test::slurp;

}  // namespace

TEST_CASE("prescale --version and prescale version print the version", "[cli][version]") {
  prescale::test::TempDir dir("prescale-version");
  const auto flag = run_prescale("--version", dir.path);
  const auto command = run_prescale("version", dir.path);
  REQUIRE(flag.exit_code == 0);
  REQUIRE(command.exit_code == 0);
  CHECK(std::regex_search(flag.out, std::regex(R"(^prescale [0-9]+\.[0-9]+\.[0-9]+)")));
  CHECK(command.out.rfind(flag.out.substr(0, flag.out.find('\n')), 0) == 0);
}

TEST_CASE("prescale demo ends by itself when its trace does, with a summary and a report",
          "[cli][demo]") {
  prescale::test::TempDir dir("prescale-demo");
  // Two simulated days at 20000x: about 8 s. The default (600x) takes 4 min.
  const auto run = run_prescale("demo --speed 20000 --dir " + dir.path.string(), dir.path);
  INFO(run.out.substr(run.out.size() > 1500 ? run.out.size() - 1500 : 0));
  INFO(run.err.substr(run.err.size() > 1500 ? run.err.size() - 1500 : 0));
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("prescale demo: stopped by the end of the trace.") != std::string::npos);
  std::smatch steps;
  REQUIRE(std::regex_search(run.out, steps,
                            std::regex(R"(steps served +([0-9]+) \(([0-9]+) from a forecast, )"
                                       R"(([0-9]+) in fallback\))")));
  CHECK(std::stoi(steps[1]) > 100);  // 2 days less the 6 hours skipped = 504 steps of 5 min
  CHECK(std::stoi(steps[1]) == std::stoi(steps[2]) + std::stoi(steps[3]));
  CHECK(std::regex_search(run.out, std::regex(R"(surges +[0-9]+ where an HPA on the observed )"
                                              R"(load ran short of ready pods; pre-scaled in )"
                                              R"(time by prescale: [0-9]+)")));
  // Beside the reactive HPA at the pods' capacity, the fair yardstick: the
  // same replica-hours spent on a lower target.
  CHECK(std::regex_search(run.out,
                          std::regex(R"(at equal cost +(a reactive HPA with its per-pod target )"
                                     R"(lowered to [0-9]+ % of capacity spends prescale's )"
                                     R"([0-9.]+ replica-hours: [0-9]+ minutes short, with )"
                                     R"(prescale [0-9]+|prescale spent less than))")));
  const fs::path report = dir.path / "demo-report.html";
  CHECK(run.out.find("report              " + report.string() + " ") != std::string::npos);
  REQUIRE(fs::exists(report));
  const std::string html = slurp(report);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("predictive") != std::string::npos);
  // No fallback for stale data: the demo stops before its trace runs out.
  CHECK(run.out.find("data stale") == std::string::npos);
}

TEST_CASE("prescale demo --slo declares an SLO on the demo's target, and says so", "[cli][demo]") {
  prescale::test::TempDir dir("prescale-demo-slo");
  const auto run =
      run_prescale("demo --slo 0.1 --speed 20000 --dir " + dir.path.string(), dir.path);
  INFO(run.out.substr(run.out.size() > 1500 ? run.out.size() - 1500 : 0));
  INFO(run.err.substr(run.err.size() > 1500 ? run.err.size() - 1500 : 0));
  REQUIRE(run.exit_code == 0);
  // The config it writes is the one a user would copy: the key as documented.
  CHECK(slurp(dir.path / "prescale-demo.yaml").find("    slo: {maxShortPercent: 0.1}") !=
        std::string::npos);
  // The first fit replays decisions from the five weeks before to tune on (at
  // this speed the trace may end first; tests/monitoring/dashboard_test.cpp
  // reads the tuning's figures at 600x).
  CHECK(run.err.find("slo: decisions replayed from history") != std::string::npos);
  CHECK(run.out.find("two days tuned for at most 0.1 % of minutes short") != std::string::npos);
  // Out of range: refused, naming the flag.
  const Run refused = run_prescale("demo --slo 100 --dir " + dir.path.string(), dir.path);
  CHECK(refused.exit_code != 0);
  CHECK(refused.err.find("--slo") != std::string::npos);
}

TEST_CASE("serve and demo hand over to prescale-server with every argument", "[cli][serve]") {
  // --help is the server's: it lists the daemon's own options.
  const Run help = run_prescale("serve --help");
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("--config") != std::string::npos);
  CHECK(help.out.find("--fit-threads") != std::string::npos);
  const Run demo_help = run_prescale("demo --help");
  CHECK(demo_help.exit_code == 0);
  CHECK(demo_help.out.find("--duration") != std::string::npos);
  // A bad argument is reported by the server, naming it.
  const Run missing = run_prescale("serve --config /nonexistent/prescale.yaml");
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("/nonexistent/prescale.yaml") != std::string::npos);
}

TEST_CASE("serve and demo refuse the flags that describe a target: their targets are YAML",
          "[cli][serve]") {
  // serve fits what its config file says and demo what the config it writes
  // says (tests/daemon/target_options_daemon_test.cpp): a fit flag given to
  // them is refused by name, never dropped.
  const std::string config = (prescale::test::source_dir() / "config" / "example.yaml").string();
  for (const std::string& flag : std::vector<std::string>{
           "--model auto", "--horizon 1h", "--lead-time 10m", "--seasonality 1d",
           "--timezone America/New_York", "--calendar " + config, "--quantile 0.95", "--origins 2",
           "--keep-outliers", "--history 7d", "--step 5m"}) {
    for (const std::string& command : {"serve --config " + config, std::string("demo")}) {
      INFO(command << " " << flag);
      const Run refused = run_prescale(command + " " + flag);
      CHECK(refused.exit_code != 0);
      CHECK_THAT(refused.err, Catch::Contains("not expected") &&
                                  Catch::Contains(flag.substr(0, flag.find(' '))));
    }
  }
}
