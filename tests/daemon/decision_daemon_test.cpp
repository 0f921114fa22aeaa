// The daemon's decision file across a restart: `prescale serve` run twice on
// the same decisions.file appends; every record of the first run is still
// there, in order, before the second run's (issue 10: "survives a restart").
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prescale/simulate/replay.hpp"
#include "test_support.hpp"

using namespace prescale;
using namespace prescale::autoscaler;
using namespace prescale::daemon;
using namespace prescale::simulate;

namespace {

// A temp directory named like this suite's.
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("prescale-decisions") {}
};

using test::wait_for;

// Runs the daemon from `start_unix` until its first fit is recorded; returns what GET /decisions
// held.
std::vector<DecisionRecord> run_until_refit(const std::filesystem::path& config,
                                            const forecast::Series& trace, double start_unix) {
  AcceleratedClock clock(start_unix, 60);
  DaemonOptions options;
  options.config_path = config;
  options.listen_port = 0;  // any free port
  options.clock = &clock;
  options.sources = [&](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(std::make_unique<RecordedSource>(trace, clock));
  };
  Daemon daemon(options);
  REQUIRE(daemon.start().has_value());
  REQUIRE(wait_for([&] {
    for (const auto& r : daemon.decisions().query("payments", 0))
      if (r.kind == DecisionKind::refit) return true;
    return false;
  }));
  daemon.stop();
  return daemon.decisions().query("", 0);
}

}  // namespace

TEST_CASE("the daemon's decisions file survives a restart: the second run appends",
          "[decisions][daemon]") {
  TempDir dir;
  auto certs = write_demo_certificates(dir.path);
  REQUIRE(certs.has_value());
  TraceOptions trace_options;
  trace_options.days = 16;
  trace_options.step_seconds = 600;
  const auto trace = generate_trace(trace_options);
  REQUIRE(trace.has_value());
  const auto file = dir.path / "state" / "decisions.jsonl";
  const auto config = dir.path / "prescale.yaml";
  std::ofstream(config)
      << "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: " << certs->server_cert.string()
      << "\n  tlsKeyFile: " << certs->server_key.string()
      << "\ndecisions:\n  file: " << file.string()
      << "\ndefaults:\n  step: 10m\n  history: 14d\n  timezone: America/New_York\n  leadTime: 30m\n"
         "targets:\n  - metric: payments\n    query: payments\n";

  const auto first =
      run_until_refit(config, *trace, static_cast<double>(trace->end_unix() - 2 * 86400));
  auto after_first = read_decision_files(file);
  REQUIRE(after_first.has_value());
  REQUIRE(after_first->size() == first.size());  // the file holds what the daemon recorded
  const auto second =
      run_until_refit(config, *trace, static_cast<double>(trace->end_unix() - 86400));
  REQUIRE_FALSE(second.empty());
  auto all = read_decision_files(file);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == first.size() + second.size());
  for (std::size_t i = 0; i < all->size(); ++i) {
    const auto& expected = i < first.size() ? first[i] : second[i - first.size()];
    CHECK(to_json((*all)[i]) == to_json(expected));
  }
  CHECK(all->front().time_unix < all->back().time_unix);
}
