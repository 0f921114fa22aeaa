// Reload churn against a hung Prometheus, with the real `prescale serve`:
// 2,000 targets whose queries hang (the server accepts and never answers)
// and one whose queries are answered. A reload down to that one target must
// stop fetching the others at once (fetches in flight cancelled, queued
// ticks dropped) and let the remaining target tick and serve; back up to
// 2,001 targets, SIGTERM must end the process well inside Kubernetes' 30 s
// grace period, without waiting for the hung fetches.
#include <fmt/core.h>

#include <chrono>
#include <iostream>

// Before httplib.h (in fault_support.hpp): its <resolv.h> defines a macro
// `_res` that Eigen, pulled in by demo.hpp, uses as a parameter name.
#include "prescale/daemon/demo.hpp"
#include "test_support.hpp"
// clang-format off
#include "fault_support.hpp"
// clang-format on

using namespace prescale;

namespace {

constexpr int kHungTargets = 2000;

std::string config_text(const std::string& url, int port, const daemon::DemoCertificates& certs,
                        int hung_targets) {
  std::string text = fmt::format(
      R"(prometheus:
  url: {url}
  timeout: 30s
server:
  address: 127.0.0.1:{port}
  tlsCertFile: {cert}
  tlsKeyFile: {key}
  clientCAFile: {ca}
  authorization: {{mode: always-allow}}
defaults:
  step: 5s
  history: 10m
  seasonality: [1m]
  leadTime: 10s
  backtestOrigins: 1
targets:
  - metric: survivor
    namespace: default
    labels: {{app: survivor}}
    query: load{{app="survivor"}}
)",
      fmt::arg("url", url), fmt::arg("port", port), fmt::arg("cert", certs.server_cert.string()),
      fmt::arg("key", certs.server_key.string()), fmt::arg("ca", certs.ca_cert.string()));
  for (int i = 0; i < hung_targets; ++i)
    text += fmt::format("  - {{metric: hung-{0}, query: 'hung{{i=\"{0}\"}}'}}\n", i);
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("a reload from 2,000 hung targets to 1 stops their fetches; SIGTERM is quick",
          "[faults][reload]") {
  faults::FakePrometheus prometheus;
  prometheus.set_hang_if(
      [](const std::string& query) { return query.find("hung{") != std::string::npos; });
  test::TempDir dir("prescale-reload-churn");
  auto certs = daemon::write_demo_certificates(dir.path / "tls", "churn-user", "churn-team");
  REQUIRE(certs.has_value());
  const int port = faults::free_port();
  const auto config_path = dir.path / "prescale.yaml";
  const auto many = config_text(prometheus.url(), port, *certs, kHungTargets);
  const auto one = config_text(prometheus.url(), port, *certs, 0);
  std::ofstream(config_path) << many;

  const auto log = dir.path / "serve.log";
  const pid_t pid = faults::spawn({test::prescale_bin().string(), "serve", "--config",
                                   config_path.string(), "--log-format", "json"},
                                  log);
  struct Guard {
    pid_t pid;
    ~Guard() {
      if (pid > 0) faults::stop_process(pid, SIGKILL);
    }
  } guard{pid};
  INFO("prescale serve log (tail): " << [&] {
    const auto text = faults::read_file(log);
    return text.substr(text.size() > 6000 ? text.size() - 6000 : 0);
  }());
  const auto reloads = [&] {
    const auto text = faults::read_file(log);
    std::size_t n = 0;
    for (auto at = text.find("\"config reloaded\""); at != std::string::npos;
         at = text.find("\"config reloaded\"", at + 1))
      ++n;
    return n;
  };
  const std::string metric = fmt::format(
      "curl -sS --max-time 5 -o /dev/null -w '%{{http_code}}' --cacert {} --cert {} "
      "--key {} 'https://127.0.0.1:{}/apis/external.metrics.k8s.io/v1beta1/namespaces/"
      "default/survivor?labelSelector=app%3Dsurvivor'",
      certs->ca_cert.string(), certs->client_cert.string(), certs->client_key.string(), port);
  const auto survivor_served = [&] { return faults::run(metric).output == "200"; };

  // Every tick thread is stuck on a hung query.
  REQUIRE(faults::eventually(
      [&] {
        REQUIRE(faults::running(pid));
        return prometheus.hanging_now() >= 2;
      },
      60, 100));

  // Down to one target.
  faults::replace_file(config_path, one);
  const auto reload_started = std::chrono::steady_clock::now();
  REQUIRE(faults::eventually([&] { return reloads() >= 1; }, 20, 100));
  REQUIRE(faults::eventually(survivor_served, 30, 200));
  const double served_after = seconds_since(reload_started);
  // The removed targets are no longer fetched, and the survivor keeps ticking
  // (5 s steps): over the time the survivor takes to fetch twice more (about
  // 10 s; waited for, not slept, so a loaded machine's late ticks cannot fail
  // it), no removed target asks again.
  const int hung_before = prometheus.hung_requests();
  const int survivor_before = prometheus.requests_for("survivor");
  CHECK(faults::eventually(
      [&] { return prometheus.requests_for("survivor") >= survivor_before + 2; }, 60, 200));
  CHECK(prometheus.hung_requests() == hung_before);
  CHECK(survivor_served());
  CHECK(faults::running(pid));

  // Back up to 2,001 targets: the hangs resume; SIGTERM in the middle of them.
  faults::replace_file(config_path, many);
  REQUIRE(faults::eventually([&] { return reloads() >= 2; }, 20, 100));
  REQUIRE(faults::eventually([&] { return prometheus.hanging_now() >= 2; }, 30, 100));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto stop_started = std::chrono::steady_clock::now();
  ::kill(pid, SIGTERM);
  int status = 0;
  bool exited = false;
  while (seconds_since(stop_started) < 30) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double stop_seconds = seconds_since(stop_started);
  REQUIRE(exited);  // within the 30 s Kubernetes grants by default
  guard.pid = -1;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // It stopped by itself, not by the 8 s shutdown deadline.
  CHECK(faults::read_file(log).find("shutdown deadline passed") == std::string::npos);
  std::cout << fmt::format(
      "reload churn: survivor served {:.1f} s after the reload to 1 target; SIGTERM with {} hung "
      "targets took {:.2f} s\n",
      served_after, kHungTargets, stop_seconds);
}
