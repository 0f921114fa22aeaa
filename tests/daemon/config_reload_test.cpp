// Hot reload of `prescale serve`'s config: a good new file is applied, a bad
// one is rejected with a logged error while the running config keeps serving.
// The daemon runs its real HTTPS server; the load comes from a recorded trace.
#include <catch2/catch.hpp>

#include <fstream>
#include <mutex>
#include <thread>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prescale/prometheus/client.hpp"
#include "prescale/simulate/replay.hpp"
#include "test_support.hpp"

using namespace prescale;
using namespace prescale::autoscaler;
using namespace prescale::daemon;
using namespace prescale::simulate;

namespace {

// A temp directory named like this suite's.
struct TempDir : test::TempDir {
  TempDir() : test::TempDir("prescale-reload") {}
};

void write(const std::filesystem::path& path, const std::string& text) {
  // Write-then-rename, as a ConfigMap update does: the watcher never sees half a file.
  const auto tmp = path.string() + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);
}

std::string config_text(const DemoCertificates& certs, const std::string& targets) {
  return "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: " + certs.server_cert.string() +
         "\n  tlsKeyFile: " + certs.server_key.string() +
         "\n  clientCAFile: " + certs.ca_cert.string() +
         "\n  authorization: {mode: always-allow}\n"
         "defaults:\n  step: 10m\n  history: 14d\n  timezone: America/New_York\n  leadTime: 30m\n"
         "targets:\n" +
         targets;
}

const char* kTargetA = "  - metric: payments-a\n    namespace: payments\n    query: a\n";
const char* kTargetB =
    "  - metric: payments-b\n    namespace: payments\n    query: b\n    capacityPerReplica: 100\n";

bool wait_for(const std::function<bool()>& condition) {
  return test::wait_for(condition, std::chrono::seconds(30));
}

std::vector<std::string> served_metrics(const Daemon& daemon) {
  std::vector<std::string> names;
  // Hold the snapshot: a range-for over current()->metrics would drop the
  // temporary shared_ptr first, and the engine's next publish frees it.
  const auto snapshot = daemon.snapshots().current();
  for (const auto& m : snapshot->metrics) names.push_back(m.metric);
  return names;
}

}  // namespace

TEST_CASE("a bad config reload is rejected and the old config keeps serving", "[config_reload]") {
  TempDir dir;
  auto certs = write_demo_certificates(dir.path);
  REQUIRE(certs.has_value());
  TraceOptions trace_options;
  trace_options.days = 16;
  trace_options.step_seconds = 600;
  const auto trace = generate_trace(trace_options);
  REQUIRE(trace.has_value());
  AcceleratedClock clock(static_cast<double>(trace->end_unix() - 3600), 1.0);

  std::mutex log_mutex;
  std::vector<LogRecord> logs;
  DaemonOptions options;
  options.config_path = dir.path / "prescale.yaml";
  options.watch_interval = std::chrono::milliseconds(50);
  options.listen_port = 0;  // any free port
  options.clock = &clock;
  options.sources = [&](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(std::make_unique<RecordedSource>(*trace, clock));
  };
  options.log = [&](const LogRecord& r) {
    std::lock_guard lock(log_mutex);
    logs.push_back(r);
  };
  write(options.config_path, config_text(*certs, kTargetA));
  Daemon daemon(options);
  REQUIRE(daemon.start().has_value());
  REQUIRE(
      wait_for([&] { return served_metrics(daemon) == std::vector<std::string>{"payments-a"}; }));

  // The served metric over the real HTTPS server, with a client certificate.
  prometheus::ClientOptions client_options;
  client_options.url = "https://127.0.0.1:" + std::to_string(daemon.port());
  client_options.ca_file = certs->ca_cert.string();
  client_options.client_cert_file = certs->client_cert.string();
  client_options.client_key_file = certs->client_key.string();
  prometheus::Client client(client_options);
  auto get_a = [&] {
    auto r = client.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/payments-a", {});
    REQUIRE(r.has_value());
    return r->status;
  };
  CHECK(get_a() == 200);

  // A bad duration, and ports too large for any integer type (a 25-digit
  // port once threw std::out_of_range out of the parser: SIGHUP ended the
  // process, the file watcher aborted it).
  std::string huge_port = config_text(*certs, kTargetA);
  huge_port.replace(huge_port.find("127.0.0.1:6443"), 14, "127.0.0.1:9999999999999999999999999");
  const std::vector<std::pair<std::string, std::string>> bad_files = {
      {config_text(*certs, "  - metric: payments-a\n    query: a\n    leadTime: 5x\n"),
       "targets[0].leadTime: bad duration '5x'"},
      {huge_port, "server.address: '127.0.0.1:9999999999999999999999999' is not host:port"},
      {config_text(*certs, std::string(kTargetA) + "  - metric: b\n    query: b\n    minReplicas: "
                                                   "99999999999999999999\n"),
       "targets[1].minReplicas: '99999999999999999999' is out of range"},
  };
  SECTION("by SIGHUP (reload called directly)") {
    for (const auto& [text, error] : bad_files) {
      write(options.config_path, text);
      CHECK_FALSE(daemon.reload("SIGHUP"));
    }
    CHECK(daemon.reloads_rejected() >= bad_files.size());  // the watcher may see them too
  }
  SECTION("by the file changing on disk") {
    for (std::size_t i = 0; i < bad_files.size(); ++i) {
      write(options.config_path, bad_files[i].first);
      REQUIRE(wait_for([&] { return daemon.reloads_rejected() >= i + 1; }));
    }
  }
  // Each rejection is logged with the YAML path and line...
  for (const auto& [text, error] : bad_files) {
    std::lock_guard lock(log_mutex);
    bool found = false;
    for (const auto& r : logs) {
      if (r.level != LogLevel::error) continue;
      for (const auto& [k, v] : r.fields)
        if (k == "error" && std::get<std::string>(v).find(error) != std::string::npos) found = true;
    }
    INFO(error);
    CHECK(found);
  }
  // ...and the old config keeps serving.
  CHECK(daemon.current_config().targets.at(0).lead_time_seconds == 1800);
  CHECK(served_metrics(daemon) == std::vector<std::string>{"payments-a"});
  CHECK(get_a() == 200);

  // A good file is applied: target A keeps its state (same fit), B starts.
  REQUIRE(wait_for([&] {
    const auto s = daemon.snapshots().current();
    return !s->targets.empty() && s->targets[0].last_fit_unix > 0;
  }));
  const auto a_fit = daemon.snapshots().current()->targets[0].last_fit_unix;
  write(options.config_path, config_text(*certs, std::string(kTargetA) + kTargetB));
  REQUIRE(wait_for([&] { return daemon.reloads_applied() >= 1; }));
  REQUIRE(wait_for([&] {
    return served_metrics(daemon) ==
           std::vector<std::string>{"payments-a", "payments-b", "payments-b-replicas"};
  }));
  CHECK(get_a() == 200);
  CHECK(daemon.snapshots().current()->targets[0].last_fit_unix == a_fit);
  daemon.stop();
}
