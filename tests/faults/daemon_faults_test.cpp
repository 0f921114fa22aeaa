// Fault injection against the real `prescale serve` binary: a misbehaving
// Prometheus (killed, hung, slow, 500s, garbage, 100 MB, cut replies, no
// series), the config file replaced with garbage or deleted, the serving
// certificate rotated. Through every fault the daemon must stay up, keep
// answering the External Metrics API (read with curl and a client
// certificate) with a finite, non-negative value, say why it falls back in
// /status and /metrics, and recover by itself when the fault ends.
#include <fmt/core.h>

#include <nlohmann/json.hpp>
#include <optional>

// Before httplib.h (in fault_support.hpp): its <resolv.h> defines a macro
// `_res` that Eigen, pulled in by demo.hpp, uses as a parameter name.
#include "prescale/daemon/demo.hpp"
#include "test_support.hpp"
// clang-format off
#include "fault_support.hpp"
// clang-format on

using namespace prescale;
using faults::FakePrometheus;

namespace {

constexpr int kStep = 2;  // seconds: "stale" (> 3 steps) comes within ~8 s

// Kubernetes quantities as the server writes them: 1500m, 2k, 12, 1.5M, 3e3.
std::optional<double> parse_quantity(const std::string& q) {
  if (q.empty() || q[0] == '-') return std::nullopt;
  std::size_t used = 0;
  double number = 0;
  try {
    number = std::stod(q, &used);
  } catch (...) {
    return std::nullopt;
  }
  const std::string suffix = q.substr(used);
  const double scale = suffix.empty()  ? 1
                       : suffix == "m" ? 1e-3
                       : suffix == "k" ? 1e3
                       : suffix == "M" ? 1e6
                       : suffix == "G" ? 1e9
                       : suffix == "T" ? 1e12
                                       : NAN;
  return number * scale;
}

struct Daemon {
  std::filesystem::path dir;
  daemon::DemoCertificates certs;
  std::filesystem::path config_path, log;
  int port = 0;
  pid_t pid = -1;

  std::string config(const std::string& prometheus_url, double quantile = 0.9) const {
    return fmt::format(R"(prometheus:
  url: {url}
  timeout: 3s
server:
  address: 127.0.0.1:{port}
  tlsCertFile: {cert}
  tlsKeyFile: {key}
  clientCAFile: {ca}
  authorization: {{mode: always-allow}}
targets:
  - metric: fault-forecast
    namespace: default
    labels: {{app: fault}}
    query: load{{app="fault"}}
    step: {step}s
    history: 1h
    seasonality: [10m]
    model: auto
    backtestOrigins: 1
    leadTime: 10s
    quantile: {quantile}
    refitInterval: 10m
)",
                       fmt::arg("url", prometheus_url), fmt::arg("port", port),
                       fmt::arg("cert", certs.server_cert.string()),
                       fmt::arg("key", certs.server_key.string()),
                       fmt::arg("ca", certs.ca_cert.string()), fmt::arg("step", kStep),
                       fmt::arg("quantile", quantile));
  }

  std::string curl(const std::string& path, const std::filesystem::path& ca) const {
    return fmt::format(
        "curl -sS --max-time 5 --cacert {} --cert {} --key {} 'https://127.0.0.1:{}{}'",
        ca.string(), certs.client_cert.string(), certs.client_key.string(), port, path);
  }

  /// The value served to the HPA, read through the External Metrics API.
  /// nullopt when the request failed; FAILs on a negative or non-finite value.
  std::optional<double> served(const std::filesystem::path& ca) const {
    const auto result =
        faults::run(curl("/apis/external.metrics.k8s.io/v1beta1/namespaces/default/"
                         "fault-forecast?labelSelector=app%3Dfault",
                         ca));
    if (result.status != 0) return std::nullopt;
    const auto body = nlohmann::json::parse(result.output, nullptr, false);
    if (body.is_discarded() || body.value("kind", "") != "ExternalMetricValueList")
      return std::nullopt;
    REQUIRE(body.at("items").size() == 1);
    const auto quantity = body.at("items").at(0).at("value").get<std::string>();
    const auto value = parse_quantity(quantity);
    INFO("served quantity " << quantity);
    REQUIRE(value.has_value());
    REQUIRE(std::isfinite(*value));
    REQUIRE(*value >= 0);
    return value;
  }

  /// The target's entry of GET /status; null while the server does not answer.
  nlohmann::json status() const {
    const auto result = faults::run(curl("/status", certs.ca_cert));
    if (result.status != 0) return nullptr;
    const auto body = nlohmann::json::parse(result.output, nullptr, false);
    if (body.is_discarded() || !body.contains("targets") || body.at("targets").size() != 1)
      return nullptr;
    return body.at("targets").at(0);
  }

  std::string fallback_reason() const {
    const auto target = status();
    REQUIRE(target.is_object());  // the daemon answers /status through every fault
    return target.at("fallback_reason").get<std::string>();
  }

  /// The reason label of prescale_target_fallback when it is 1, else "".
  std::string metrics_fallback() const {
    const auto result = faults::run(curl("/metrics", certs.ca_cert));
    REQUIRE(result.status == 0);
    std::istringstream lines(result.output);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("prescale_target_fallback{", 0) != 0 || line.back() != '1') continue;
      const auto at = line.find("reason=\"");
      if (at != std::string::npos) return line.substr(at + 8, line.find('"', at + 8) - at - 8);
    }
    return "";
  }

  std::size_t log_count(const std::string& message) const {
    std::size_t n = 0;
    std::istringstream lines(faults::read_file(log));
    std::string line;
    while (std::getline(lines, line)) {
      const auto event = nlohmann::json::parse(line, nullptr, false);
      if (!event.is_discarded() && event.is_object() && event.value("msg", "") == message) ++n;
    }
    return n;
  }
};

// Healthy: a forecast (not a fallback) is served.
bool forecasting(const Daemon& daemon) {
  const auto status = daemon.status();
  if (!status.is_object()) return false;
  return status.at("has_forecast").get<bool>() &&
         status.at("fallback_reason").get<std::string>().empty() &&
         daemon.served(daemon.certs.ca_cert).has_value();
}

// One fault: while it lasts the daemon keeps serving a sane value and comes
// to say why it serves the observed value alone; when it ends, it recovers.
// `cause`: a part of the reason that names the fault (empty: not checked).
void survive(Daemon& daemon, FakePrometheus& prometheus, FakePrometheus::Mode mode,
             const std::string& name, const std::string& cause = "") {
  INFO("fault: " << name << "\nprescale serve log (tail):\n"
                 << [&] {
                      const auto text = faults::read_file(daemon.log);
                      return text.substr(text.size() > 4000 ? text.size() - 4000 : 0);
                    }());
  const int requests_before = prometheus.requests();
  prometheus.set_mode(mode);
  std::string reason;
  const bool fell_back = faults::eventually(
      [&] {
        REQUIRE(faults::running(daemon.pid));
        REQUIRE(daemon.served(daemon.certs.ca_cert).has_value());  // still served, finite, >= 0
        reason = daemon.fallback_reason();
        return reason.find("data stale") != std::string::npos;
      },
      40);
  INFO("fallback reason: " << reason);
  REQUIRE(fell_back);
  if (!cause.empty()) {
    // The cause shows once a failed fetch is in; the staleness may come first.
    CHECK(faults::eventually(
        [&] { return daemon.fallback_reason().find(cause) != std::string::npos; }, 15));
  }
  CHECK(prometheus.requests() > requests_before);  // the fault was met, not skipped
  CHECK(daemon.metrics_fallback() == "data_stale");
  prometheus.set_mode(FakePrometheus::Mode::ok);
  REQUIRE(faults::eventually([&] { return forecasting(daemon); }, 40));
  CHECK(daemon.metrics_fallback().empty());
}

std::string sha256_fingerprint_served(int port) {
  return faults::
      run(fmt::format(
              "openssl s_client -connect 127.0.0.1:{} -servername localhost </dev/null 2>/dev/null "
              "| openssl x509 -noout -fingerprint -sha256",
              port))
          .output;
}

std::string sha256_fingerprint_file(const std::filesystem::path& cert) {
  return faults::run(fmt::format("openssl x509 -in {} -noout -fingerprint -sha256", cert.string()))
      .output;
}

}  // namespace

TEST_CASE("prescale serve survives a misbehaving Prometheus, config and certificate faults",
          "[faults]") {
  FakePrometheus prometheus;
  Daemon daemon;
  daemon.dir =
      std::filesystem::temp_directory_path() / fmt::format("prescale-faults-{}", ::getpid());
  std::filesystem::remove_all(daemon.dir);
  std::filesystem::create_directories(daemon.dir);
  auto certs = daemon::write_demo_certificates(daemon.dir / "tls", "fault-user", "fault-team");
  REQUIRE(certs.has_value());
  daemon.certs = *certs;
  daemon.port = faults::free_port();
  daemon.config_path = daemon.dir / "prescale.yaml";
  daemon.log = daemon.dir / "serve.log";
  std::ofstream(daemon.config_path) << daemon.config(prometheus.url());

  daemon.pid = faults::spawn({test::prescale_bin().string(), "serve", "--config",
                              daemon.config_path.string(), "--log-format", "json"},
                             daemon.log);
  struct Guard {
    pid_t pid;
    ~Guard() {
      if (pid > 0) faults::stop_process(pid, SIGKILL);
    }
  } guard{daemon.pid};
  INFO("prescale serve log: " << daemon.log);
  REQUIRE(
      faults::eventually([&] { return faults::running(daemon.pid) && forecasting(daemon); }, 120));

  SECTION("Prometheus faults: each one falls back to the observed value, then recovers") {
    survive(daemon, prometheus, FakePrometheus::Mode::error500, "HTTP 500");
    survive(daemon, prometheus, FakePrometheus::Mode::garbage, "garbage body");
    survive(daemon, prometheus, FakePrometheus::Mode::partial, "reply cut in the middle");
    survive(daemon, prometheus, FakePrometheus::Mode::empty, "no series");
    survive(daemon, prometheus, FakePrometheus::Mode::hang, "hung");
    survive(daemon, prometheus, FakePrometheus::Mode::slow, "10 s replies against a 3 s timeout");
    survive(daemon, prometheus, FakePrometheus::Mode::huge, "100 MB reply", "reply larger than");
    CHECK(prometheus.huge_bytes_sent() > 0);
  }

  SECTION("Prometheus killed (connections reset, then refused), then restarted on its port") {
    prometheus.kill();
    std::string reason;
    REQUIRE(faults::eventually(
        [&] {
          REQUIRE(faults::running(daemon.pid));
          REQUIRE(daemon.served(daemon.certs.ca_cert).has_value());
          reason = daemon.fallback_reason();
          return reason.find("data stale") != std::string::npos &&
                 reason.find("onnect") != std::string::npos;
        },
        40));
    INFO("fallback reason: " << reason);
    CHECK(daemon.metrics_fallback() == "data_stale");
    prometheus.revive();
    REQUIRE(faults::eventually([&] { return forecasting(daemon); }, 40));
    CHECK(daemon.metrics_fallback().empty());
  }

  SECTION("the config file replaced with garbage, then deleted: the running config keeps serving") {
    const auto rejected = "config reload rejected; the running config keeps serving";
    faults::replace_file(daemon.config_path,
                         "targets: [ {metric: \x01\xff, query: ::: \n  - ]]]\n");
    REQUIRE(faults::eventually([&] { return daemon.log_count(rejected) >= 1; }, 15));
    REQUIRE(forecasting(daemon));
    std::filesystem::remove(daemon.config_path);
    REQUIRE(faults::eventually([&] { return daemon.log_count(rejected) >= 2; }, 15));
    REQUIRE(faults::running(daemon.pid));
    REQUIRE(forecasting(daemon));
    // A good file again (a new quantile) is picked up by itself.
    const auto reloads = daemon.log_count("config reloaded");
    faults::replace_file(daemon.config_path, daemon.config(prometheus.url(), 0.8));
    REQUIRE(faults::eventually([&] { return daemon.log_count("config reloaded") > reloads; }, 15));
    // The new target forecasts: until its snapshot is published, /status
    // still shows the old one forecasting at 0.9.
    REQUIRE(faults::eventually(
        [&] {
          const auto target = daemon.status();
          return target.is_object() && target.value("quantile", 0.0) == 0.8 && forecasting(daemon);
        },
        60));
  }

  SECTION("the serving certificate rotated in place is picked up without a restart") {
    const auto before = sha256_fingerprint_served(daemon.port);
    REQUIRE(before == sha256_fingerprint_file(daemon.certs.server_cert));
    auto fresh =
        daemon::write_demo_certificates(daemon.dir / "tls-next", "fault-user", "fault-team");
    REQUIRE(fresh.has_value());
    // Key first, then certificate, as a secret volume's swap lands both.
    faults::replace_file(daemon.certs.server_key, faults::read_file(fresh->server_key));
    faults::replace_file(daemon.certs.server_cert, faults::read_file(fresh->server_cert));
    const auto expected = sha256_fingerprint_file(fresh->server_cert);
    REQUIRE(expected != before);
    REQUIRE(
        faults::eventually([&] { return sha256_fingerprint_served(daemon.port) == expected; }, 30));
    // Clients trusting the new CA read the metric; the client CA is unchanged.
    REQUIRE(faults::eventually([&] { return daemon.served(fresh->ca_cert).has_value(); }, 10));
    REQUIRE_FALSE(
        daemon.served(daemon.certs.ca_cert).has_value());  // the old chain no longer verifies
    REQUIRE(faults::running(daemon.pid));
  }

  // Whatever happened, SIGTERM still stops it cleanly.
  CHECK(faults::stop_process(daemon.pid) == 0);
  guard.pid = -1;
  std::filesystem::remove_all(daemon.dir);
}

TEST_CASE("a port too large for any integer is a config error naming its key, not a crash",
          "[faults]") {
  // It used to escape as std::out_of_range: check-config printed "internal
  // error: stol" and exited 70, and `serve` exited 70 at start-up (a crash
  // loop in a cluster) instead of saying which key is wrong.
  test::TempDir dir("prescale-faults-port");
  const auto path = dir.path / "prescale.yaml";
  for (const char* section : {"server:\n  address: 127.0.0.1:9999999999999999999999999\n",
                              "server:\n  keda:\n    address: :9999999999999999999999999\n"}) {
    std::ofstream(path) << section << "targets:\n  - metric: a\n    query: up\n";
    const std::string key =
        std::string(section).find("keda") != std::string::npos
            ? "server.keda.address: ':9999999999999999999999999' is not host:port"
            : "server.address: '127.0.0.1:9999999999999999999999999' is not host:port";
    for (const char* command : {"check-config", "serve --config"}) {
      // faults::run drops stderr; the message is there, so fold it into stdout.
      const auto result = faults::run(fmt::format(
          "{{ {} {} {} 2>&1; }}", test::prescale_bin().string(), command, path.string()));
      INFO(command << ": " << result.output);
      CHECK(result.status == 1);
      CHECK_THAT(result.output, Catch::Contains(key) && Catch::Contains("out of range"));
      CHECK_THAT(result.output, !Catch::Contains("internal error"));
    }
  }
}
