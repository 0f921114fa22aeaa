// What `serve` hands its HTTPS server from the config, seen from outside:
// server.publicMetrics (false puts /metrics behind the API's authentication)
// and the KEDA scaler's certificates in prescale_certificate_expiry_seconds
// beside the server's own, and server.authorization.tokenAudiences in the
// TokenReviews it sends (to the kube-apiserver stand-in). The daemon runs its
// real HTTPS server and KEDA gRPC service; the load comes from a recorded trace.

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <string>
#include <thread>

#include "free_port.hpp"
#include "prescale/autoscaler/step_trail.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prescale/prometheus/client.hpp"
#include "prescale/simulate/replay.hpp"
#include "test_support.hpp"
// Last: cpp-httplib brings <resolv.h>, whose _res macro breaks Eigen headers after it.
#include "apiserver_standin.hpp"

using namespace prescale;

namespace {

// A daemon as `serve` runs it, on demo certificates, its one target's load
// replayed from a 16-day trace at 10-minute steps; the test writes the config.
struct WiredDaemon {
  test::TempDir dir;
  daemon::DemoCertificates certs;
  std::string cert, key;
  forecast::Series trace;
  std::unique_ptr<autoscaler::AcceleratedClock> clock;
  daemon::DaemonOptions options;

  explicit WiredDaemon(const std::string& prefix) : dir(prefix) {
    auto written = daemon::write_demo_certificates(dir.path);
    REQUIRE(written.has_value());
    certs = *written;
    cert = certs.server_cert.string();
    key = certs.server_key.string();
    autoscaler::TraceOptions trace_options;
    trace_options.days = 16;
    trace_options.step_seconds = 600;
    auto generated = autoscaler::generate_trace(trace_options);
    REQUIRE(generated.has_value());
    trace = std::move(*generated);
    clock = std::make_unique<autoscaler::AcceleratedClock>(
        static_cast<double>(trace.end_unix() - 3600), 1.0);
    options.config_path = dir.path / "prescale.yaml";
    options.listen_port = 0;
    options.clock = clock.get();
    options.sources =
        [this](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
      return std::unique_ptr<source::Source>(
          std::make_unique<simulate::RecordedSource>(trace, *clock));
    };
  }

  // The one target every test serves, after the server section.
  static constexpr const char* kTarget =
      "defaults:\n  step: 10m\n  history: 14d\n"
      "targets:\n  - metric: payments-a\n    namespace: payments\n    query: a\n";
};

}  // namespace

TEST_CASE("serve: publicMetrics false guards /metrics; KEDA certificates are on it",
          "[daemon][server]") {
  WiredDaemon wired("prescale-wiring");
  const auto& certs = wired.certs;
  const std::string &cert = wired.cert, &key = wired.key;
  std::ofstream(wired.options.config_path)
      << "server:\n  address: 127.0.0.1:6443\n  publicMetrics: false\n  tlsCertFile: " << cert
      << "\n  tlsKeyFile: " << key << "\n  clientCAFile: " << certs.ca_cert.string()
      << "\n  authorization: {mode: always-allow}\n  keda: {enabled: true, address: "
         "\"127.0.0.1:"
      << test::free_port() << "\", certFile: " << cert << ", keyFile: " << key << "}\n"
      << WiredDaemon::kTarget;
  daemon::Daemon daemon(wired.options);
  REQUIRE(daemon.start().has_value());

  prometheus::ClientOptions anonymous_options;
  anonymous_options.url = "https://127.0.0.1:" + std::to_string(daemon.port());
  anonymous_options.ca_file = certs.ca_cert.string();
  anonymous_options.retry.max_attempts = 1;
  prometheus::Client anonymous(anonymous_options);
  auto refused = anonymous.get("/metrics", {});
  REQUIRE(refused.has_value());
  CHECK(refused->status == 401);

  auto with_cert_options = anonymous_options;
  with_cert_options.client_cert_file = certs.client_cert.string();
  with_cert_options.client_key_file = certs.client_key.string();
  prometheus::Client with_cert(with_cert_options);
  auto scraped = with_cert.get("/metrics", {});
  REQUIRE(scraped.has_value());
  REQUIRE(scraped->status == 200);
  INFO(scraped->body);
  for (const auto& [role, file] : {std::pair{"serving", cert}, std::pair{"keda-serving", cert},
                                   std::pair{"client-ca", certs.ca_cert.string()}}) {
    INFO(role);
    CHECK(scraped->body.find("prescale_certificate_expiry_seconds{certificate=\"" +
                             std::string(role) + "\",source=\"" + file + "\"}") !=
          std::string::npos);
  }

  // Each snapshot the engine publishes lands in the step trail behind
  // GET /decisions?steps=1, with the target's settings for the HPA replay.
  std::vector<autoscaler::TargetTrail> trails;
  for (int attempt = 0; attempt < 100 && trails.empty(); ++attempt) {
    auto steps = with_cert.get("/decisions", {{"steps", "1"}, {"since", "0"}});
    REQUIRE(steps.has_value());
    REQUIRE(steps->status == 200);
    auto parsed = autoscaler::parse_step_list(steps->body);
    REQUIRE(parsed.has_value());
    trails = std::move(*parsed);
    if (trails.empty() || trails[0].steps.empty()) {
      trails.clear();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  REQUIRE(trails.size() == 1);
  CHECK(trails[0].target == "payments-a");
  CHECK(trails[0].step_seconds == 600);
  CHECK(trails[0].lead_seconds == 300);
  CHECK(trails[0].steps.back().time_unix % 600 == 0);
  CHECK(std::isfinite(trails[0].steps.back().served));
}

TEST_CASE("serve: server.authorization.tokenAudiences is what a bearer token must be for",
          "[daemon][server]") {
  WiredDaemon wired("prescale-audiences");
  const auto& certs = wired.certs;
  kubernetes::test::ReviewServer apiserver(wired.cert, wired.key);
  {
    std::lock_guard lock(apiserver.mutex);
    apiserver.tokens["alice-prescale-token"] = apiserver.tokens["alice-token"];
    apiserver.token_audiences["alice-prescale-token"] = {"prescale"};
  }
  const auto kubeconfig = wired.dir.path / "kubeconfig";
  std::ofstream(kubeconfig) << kubernetes::test::kubeconfig(certs.ca_cert.string(), apiserver.port);
  std::ofstream(wired.options.config_path)
      << "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: " << wired.cert
      << "\n  tlsKeyFile: " << wired.key
      << "\n  authorization:\n    mode: webhook\n    kubeconfig: " << kubeconfig.string()
      << "\n    tokenAudiences: [prescale]\n"
      << WiredDaemon::kTarget;
  daemon::Daemon daemon(wired.options);
  REQUIRE(daemon.start().has_value());

  const auto status_with = [&](const std::string& token) {
    prometheus::ClientOptions client_options;
    client_options.url = "https://127.0.0.1:" + std::to_string(daemon.port());
    client_options.ca_file = certs.ca_cert.string();
    client_options.retry.max_attempts = 1;
    client_options.bearer_token = token;
    auto reply = prometheus::Client(client_options).get("/status", {});
    REQUIRE(reply.has_value());
    return reply->status;
  };
  // A token made for prescale's audience: the review asks for it, alice reads /status.
  CHECK(status_with("alice-prescale-token") == 200);
  {
    std::lock_guard lock(apiserver.mutex);
    CHECK(apiserver.last_token_review["spec"]["audiences"] == nlohmann::json::array({"prescale"}));
  }
  // The same user with a token made for the apiserver only: refused.
  CHECK(status_with("alice-token") == 401);
}
