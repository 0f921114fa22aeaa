// The real HTTPS server with certificates made by the openssl CLI, probed by
// kubectl and curl as the aggregator, the HPA and kubelet would probe it.
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "apiserver_standin.hpp"
#include "delegation.hpp"
#include "prescale/kubernetes/server.hpp"
#include "server_fixture.hpp"

using namespace prescale;
using namespace prescale::kubernetes;
using nlohmann::json;
namespace fs = std::filesystem;

using namespace prescale::kubernetes::test;

TEST_CASE("kubectl with a client-CA certificate reads discovery and the metric as the HPA would",
          "[server][integration]") {
  Fixture fixture;
  Server server(fixture.options(), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();
  REQUIRE(port > 0);

  const auto discovery = fixture.kubectl(port, "alice", kBase);
  INFO(discovery.output);
  REQUIRE(discovery.exit_code == 0);
  const json resources = json::parse(discovery.output);
  CHECK(resources["kind"] == "APIResourceList");
  CHECK(resources["groupVersion"] == "external.metrics.k8s.io/v1beta1");
  CHECK(resources["resources"][0]["name"] == "orders-rps");
  CHECK(resources["resources"][0]["namespaced"] == true);

  const auto metric = fixture.kubectl(port, "alice", kMetric);
  INFO(metric.output);
  REQUIRE(metric.exit_code == 0);
  const json list = json::parse(metric.output);
  CHECK(list["kind"] == "ExternalMetricValueList");
  REQUIRE(list["items"].size() == 1);
  CHECK(list["items"][0]["value"] == "1234568m");
  CHECK(list["items"][0]["timestamp"] == "2026-01-05T14:30:00Z");

  const auto groups = fixture.kubectl(port, "alice", "/apis");
  REQUIRE(groups.exit_code == 0);
  CHECK(json::parse(groups.output)["kind"] == "APIGroupList");

  const auto missing = fixture.kubectl(port, "alice", kBase + "/namespaces/shop/unknown");
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.output, Catch::Contains("NotFound") || Catch::Contains("not found") ||
                                 Catch::Contains("could not find"));
}

TEST_CASE("request-header identity is trusted only from the allowed front-proxy certificate",
          "[server][integration]") {
  Fixture fixture;
  Server server(fixture.options(), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();
  const std::string as_bob = "-H 'X-Remote-User: bob' -H 'X-Remote-Group: team-b'";

  const auto proxied = fixture.curl(port, kMetric, "front-proxy-client", as_bob);
  INFO(proxied.output);
  CHECK(proxied.http_status == 200);
  CHECK(json::parse(proxied.output)["items"][0]["value"] == "1234568m");

  // Without a certificate, from another CA, or with a CN not allowed, the
  // headers mean nothing: 401 Status.
  for (const std::string client : {"", "other-proxy", "front-proxy-intruder"}) {
    const auto denied = fixture.curl(port, kMetric, client, as_bob);
    INFO("client certificate: " << (client.empty() ? "none" : client) << " -> " << denied.output);
    CHECK(denied.http_status == 401);
    CHECK(json::parse(denied.output)["reason"] == "Unauthorized");
  }
  // The front proxy must name a user.
  CHECK(fixture.curl(port, kMetric, "front-proxy-client").http_status == 401);
  // A client-CA user ignores X-Remote-* (it is not the front proxy) but is itself authenticated.
  CHECK(fixture.curl(port, kMetric, "alice", as_bob).http_status == 200);
}

TEST_CASE("probes need no certificate; /metrics is Prometheus text", "[server][integration]") {
  Fixture fixture;
  Server server(fixture.options(), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();
  for (const char* probe : {"/healthz", "/livez", "/readyz"}) {
    const auto result = fixture.curl(port, probe, "");
    INFO(probe);
    CHECK(result.http_status == 200);
    CHECK(result.output == "ok");
  }
  REQUIRE(fixture.curl(port, kMetric, "alice").http_status == 200);
  const auto metrics = fixture.curl(port, "/metrics", "");
  CHECK(metrics.http_status == 200);
  CHECK_THAT(metrics.output, Catch::Contains("prescale_api_requests_total{"));
  CHECK_THAT(metrics.output,
             Catch::Contains("route=\"/apis/{group}/{version}/namespaces/{namespace}/{metric}\""));
  CHECK_THAT(metrics.output, Catch::Contains("prescale_api_request_duration_seconds_bucket"));
  CHECK_THAT(metrics.output,
             Catch::Contains("prescale_target_served{target=\"orders\"} 1234.5678"));
  CHECK_THAT(metrics.output,
             Catch::Contains("prescale_target_fallback{target=\"orders\",reason=\"\"} 0"));

  fixture.store.publish(std::make_shared<Snapshot>());  // not ready
  CHECK(fixture.curl(port, "/readyz", "").http_status == 500);
  CHECK(fixture.curl(port, "/healthz", "").http_status == 200);
  CHECK(fixture.curl(port, "/openapi/v2", "alice").http_status == 404);
}

namespace {

// /metrics of a server started on `snapshot`.
std::string metrics_serving(Fixture& fixture, std::shared_ptr<Snapshot> snapshot) {
  fixture.store.publish(std::move(snapshot));
  Server server(fixture.options(), fixture.store);
  REQUIRE(server.start().has_value());
  const auto metrics = fixture.curl(server.port(), "/metrics", "");
  REQUIRE(metrics.http_status == 200);
  return metrics.output;
}

}  // namespace

TEST_CASE("/metrics carries what the shipped dashboard and alerts read", "[server][integration]") {
  // charts/prescale/files/prometheus-rules.yaml divides the data age by the
  // step, compares the share of samples outside the band with the quantile
  // and counts failed fits; the dashboard draws the band.
  Fixture fixture;
  auto snapshot = std::make_shared<Snapshot>(*fixture.store.current());
  TargetStatus stale;
  stale.target = "payments";
  stale.fallback_reason = "data stale: newest sample is 900s old (more than 3 steps)";
  stale.fallback_kind = "data_stale";
  stale.data_age_seconds = 900;
  stale.step_seconds = 60;
  stale.quantile = 0.95;
  stale.fit_failures = 3;
  stale.interval_lower = 80.5;
  stale.interval_upper = 120.25;
  snapshot->targets.push_back(stale);
  TargetStatus unscored = stale;
  unscored.target = "refunds";
  unscored.interval_lower = std::numeric_limits<double>::quiet_NaN();
  snapshot->targets.push_back(unscored);
  const std::string text = metrics_serving(fixture, snapshot);
  CHECK_THAT(text, Catch::Contains(
                       "prescale_target_fallback{target=\"payments\",reason=\"data_stale\"} 1"));
  CHECK_THAT(text, Catch::Contains("prescale_target_step_seconds{target=\"payments\"} 60"));
  CHECK_THAT(text, Catch::Contains("prescale_target_quantile{target=\"payments\"} 0.95"));
  CHECK_THAT(text, Catch::Contains("# TYPE prescale_target_fit_failures_total counter"));
  CHECK_THAT(text, Catch::Contains("prescale_target_fit_failures_total{target=\"payments\"} 3"));
  CHECK_THAT(text,
             Catch::Contains("prescale_target_interval{target=\"payments\",bound=\"lower\"} 80.5"));
  CHECK_THAT(text, Catch::Contains(
                       "prescale_target_interval{target=\"payments\",bound=\"upper\"} 120.25"));
  // No interval before a model has scored a sample (an absent series, not a
  // NaN one, is what PromQL's `and` and the dashboard's band expect).
  CHECK_THAT(text, !Catch::Contains("prescale_target_interval{target=\"refunds\""));
  CHECK_THAT(text, !Catch::Contains("prescale_target_interval{target=\"orders\""));
}

TEST_CASE(
    "/metrics carries a tuned SLO's figures, and the interval's quantile beside the served one",
    "[server][integration][slo]") {
  // PrescaleSloOutOfReach and PrescaleForecastCostsMoreThanReactive read
  // the tuning's figures; PrescaleForecastOffTrack holds the band to the
  // quantile it was calibrated at, not the one an SLO's tuning serves.
  Fixture fixture;
  auto snapshot = std::make_shared<Snapshot>(*fixture.store.current());
  TargetStatus tuned;
  tuned.target = "payments";
  tuned.quantile = 0.99;
  tuned.interval_quantile = 0.9;
  tuned.headroom = 2.5;
  tuned.slo_figures = tuned_slo_figures();
  snapshot->targets.push_back(tuned);
  TargetStatus untuned = tuned;  // no slo:, or not tuned yet: no prescale_target_slo_* series
  untuned.target = "refunds";
  untuned.slo_figures.reset();
  snapshot->targets.push_back(untuned);
  const std::string text = metrics_serving(fixture, snapshot);
  CHECK_THAT(text, Catch::Contains("prescale_target_quantile{target=\"payments\"} 0.99"));
  CHECK_THAT(text, Catch::Contains("prescale_target_interval_quantile{target=\"payments\"} 0.9"));
  CHECK_THAT(text, Catch::Contains("prescale_target_headroom{target=\"payments\"} 2.5"));
  CHECK_THAT(text,
             Catch::Contains("prescale_target_slo_met{target=\"payments\",hpa=\"prescale\"} 1"));
  CHECK_THAT(text,
             Catch::Contains("prescale_target_slo_met{target=\"payments\",hpa=\"reactive\"} 0"));
  CHECK_THAT(text,
             Catch::Contains(
                 "prescale_target_slo_short_minutes{target=\"payments\",hpa=\"prescale\"} 24"));
  CHECK_THAT(text,
             Catch::Contains(
                 "prescale_target_slo_short_minutes{target=\"payments\",hpa=\"reactive\"} 63"));
  CHECK_THAT(text, Catch::Contains("prescale_target_slo_replica_hours{target=\"payments\","
                                   "hpa=\"prescale\"} 25466"));
  CHECK_THAT(text, Catch::Contains("prescale_target_slo_replica_hours{target=\"payments\","
                                   "hpa=\"reactive\"} 34775"));
  CHECK_THAT(text,
             Catch::Contains("prescale_target_slo_allowed_minutes{target=\"payments\"} 49.25"));
  CHECK_THAT(text, Catch::Contains("prescale_target_slo_history_days{target=\"payments\"} 34.2"));
  // What the values served did, beside the tuning's in-sample figures.
  CHECK_THAT(text, Catch::Contains("prescale_target_slo_served_days{target=\"payments\"} 12.5"));
  CHECK_THAT(text,
             Catch::Contains("prescale_target_slo_served_allowed_minutes{target=\"payments\"} 18"));
  CHECK_THAT(text,
             Catch::Contains("prescale_target_slo_served_short_minutes{target=\"payments\"} 31"));
  CHECK_THAT(text,
             Catch::Contains("prescale_target_slo_served_replica_hours{target=\"payments\"} 9400"));
  CHECK_THAT(
      text,
      Catch::Contains("prescale_target_slo_served_reactive_short_minutes{target=\"payments\"} 40"));
  CHECK_THAT(text, Catch::Contains(
                       "prescale_target_slo_served_reactive_replica_hours{target=\"payments\"} "
                       "12300"));
  CHECK_THAT(text, Catch::Contains("prescale_target_headroom{target=\"refunds\"} 2.5"));
  CHECK_THAT(text, !Catch::Contains("prescale_target_slo_met{target=\"refunds\""));
  CHECK_THAT(text, !Catch::Contains("prescale_target_slo_served_days{target=\"refunds\""));
}

TEST_CASE("rotated certificates and CAs are picked up without a restart", "[server][integration]") {
  Fixture fixture;
  Server server(fixture.options(), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();
  REQUIRE(fixture.curl(port, "/healthz", "").http_status == 200);

  // A new serving CA and certificate, and a new client CA with a user.
  fixture.pki->make_ca("serving2");
  fixture.pki->make_cert("server2", "serving2", "/CN=prescale.prescale.svc", "serverAuth",
                         "IP:127.0.0.1");
  fixture.pki->make_ca("client2");
  fixture.pki->make_cert("dave", "client2", "/CN=dave", "clientAuth");
  CHECK(fixture.curl(port, "/healthz", "", "", "serving2").http_status == 0);  // not trusted yet
  CHECK(fixture.curl(port, kMetric, "dave").http_status == 401);

  // Rotate by renaming complete files into place, as kubelet's secret volumes do.
  const auto replace = [](const std::string& from, const std::string& to) {
    fs::copy_file(from, to + ".tmp", fs::copy_options::overwrite_existing);
    fs::rename(to + ".tmp", to);
  };
  replace(fixture.pki->key("server2"), fixture.pki->key("server"));
  replace(fixture.pki->cert("server2"), fixture.pki->cert("server"));
  replace(fixture.pki->cert("client2"), fixture.pki->cert("client"));

  // Waits for all three: a reload that falls between two renames serves the
  // new certificate with the old client CA until the next one, so the new
  // certificate alone (/healthz) can be in before dave's CA is.
  int status = 0;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = fixture.curl(port, kMetric, "dave", "", "serving2").http_status;
  }
  CHECK(status == 200);
  CHECK(fixture.curl(port, "/healthz", "", "", "serving2").http_status == 200);
  CHECK(fixture.curl(port, kMetric, "alice", "", "serving2").http_status ==
        401);  // the old client CA is gone
}

TEST_CASE("webhook authorization: allow, deny with Kubernetes' message, cache, system:masters",
          "[server][integration]") {
  Fixture fixture;
  ReviewServer reviewer(fixture.pki->cert("server"), fixture.pki->key("server"));
  Server server(delegated(fixture, write_kubeconfig(fixture, reviewer.port), Tokens::refused),
                fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  const auto allowed = fixture.kubectl(port, "alice", kMetric);
  INFO(allowed.output);
  CHECK(allowed.exit_code == 0);
  {
    std::lock_guard lock(reviewer.mutex);
    const auto& spec = reviewer.last_review["spec"];
    CHECK(reviewer.last_review["kind"] == "SubjectAccessReview");
    CHECK(reviewer.last_review["apiVersion"] == "authorization.k8s.io/v1");
    CHECK(spec["user"] == "alice");
    CHECK(spec["resourceAttributes"] == json::parse(R"({"namespace":"shop","verb":"list",
        "group":"external.metrics.k8s.io","version":"v1beta1","resource":"orders-rps"})"));
    CHECK(std::find(spec["groups"].begin(), spec["groups"].end(), "team-a") !=
          spec["groups"].end());
  }

  const auto denied = fixture.curl(port, kMetric, "carol");
  CHECK(denied.http_status == 403);
  const json status = json::parse(denied.output);
  CHECK(status["reason"] == "Forbidden");
  CHECK(status["message"] ==
        "orders-rps.external.metrics.k8s.io is forbidden: User \"carol\" cannot list resource "
        "\"orders-rps\" in API "
        "group \"external.metrics.k8s.io\" in the namespace \"shop\": no RBAC policy matched");

  // Answers are cached (~10 s): the same question is not asked again.
  const int before = reviewer.reviews.load();
  CHECK(fixture.curl(port, kMetric, "carol").http_status == 403);
  CHECK(fixture.curl(port, kMetric, "alice").http_status == 200);
  CHECK(reviewer.reviews.load() == before);

  // system:masters skips the review.
  CHECK(fixture.curl(port, kMetric, "admin").http_status == 200);
  CHECK(reviewer.reviews.load() == before);

  // Non-resource paths are reviewed as such (discovery for carol is denied by this reviewer).
  CHECK(fixture.curl(port, kBase, "carol").http_status == 403);
  {
    std::lock_guard lock(reviewer.mutex);
    CHECK(reviewer.last_review["spec"]["nonResourceAttributes"] ==
          json::parse(R"({"path":"/apis/external.metrics.k8s.io/v1beta1","verb":"get"})"));
  }
}

TEST_CASE("an unreachable apiserver is a 500 InternalError, not an allow",
          "[server][integration]") {
  Fixture fixture;
  const int closed = closed_port();
  Server server(delegated(fixture, write_kubeconfig(fixture, closed), Tokens::refused,
                          std::chrono::milliseconds(2000)),
                fixture.store);
  REQUIRE(server.start().has_value());
  const auto result = fixture.curl(server.port(), kMetric, "alice");
  CHECK(result.http_status == 500);
  const json status = json::parse(result.output);
  CHECK(status["reason"] == "InternalError");
  CHECK(status["code"] == 500);
  CHECK_THAT(status["message"].get<std::string>(),
             Catch::Contains("127.0.0.1:" + std::to_string(closed)));
}

TEST_CASE("start errors name the file or the address", "[server][integration]") {
  Fixture fixture;
  auto options = fixture.options();
  options.cert_file = (fixture.dir / "missing.crt").string();
  Server missing(options, fixture.store);
  const auto status = missing.start();
  REQUIRE_FALSE(status.has_value());
  CHECK_THAT(status.error().message, Catch::Contains("missing.crt"));

  Server first(fixture.options(), fixture.store);
  REQUIRE(first.start().has_value());
  auto same_port = fixture.options();
  same_port.port = first.port();
  Server second(same_port, fixture.store);
  const auto busy = second.start();
  REQUIRE_FALSE(busy.has_value());
  CHECK_THAT(busy.error().message, Catch::Contains("127.0.0.1:" + std::to_string(first.port())));

  auto wrong_key = fixture.options();
  wrong_key.key_file = fixture.pki->key("alice");
  Server mismatched(wrong_key, fixture.store);
  const auto mismatch = mismatched.start();
  REQUIRE_FALSE(mismatch.has_value());
  CHECK_THAT(mismatch.error().message, Catch::Contains("does not match"));

  CHECK_THROWS_WITH(Server(ServerOptions{}, fixture.store), Catch::Contains("cert_file"));
}

TEST_CASE("stop() closes idle keep-alive connections", "[server][integration]") {
  Fixture fixture;
  auto options = fixture.options();
  // The idle connection would stay open for a day on its own.
  options.limits.keep_alive_timeout = std::chrono::hours(24);
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  httplib::SSLClient client("127.0.0.1", server.port(), fixture.pki->cert("alice"),
                            fixture.pki->key("alice"));
  client.set_ca_cert_path(fixture.pki->cert("serving").c_str());
  client.set_keep_alive(true);
  auto first = client.Get(kMetric.c_str());
  REQUIRE(first);
  CHECK(first->status == 200);
  // stop() closes the idle connection instead of waiting for its client: the
  // grace period outlasts ctest's timeout, so a stop() that waited would hang
  // (the failure; no clock is read). Then nothing listens any more.
  server.stop(std::chrono::hours(24));
  CHECK_FALSE(client.Get(kMetric.c_str()));
  CHECK(fixture.curl(server.port(), "/healthz", "").http_status == 0);
}

TEST_CASE("request limits: URI length, header bytes, connection cap", "[server][integration]") {
  Fixture fixture;
  auto options = fixture.options();
  options.limits.max_connections = 2;
  options.limits.keep_alive_timeout = std::chrono::seconds(10);
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  CHECK(fixture.curl(port, "/healthz?pad=" + std::string(5000, 'a'), "").http_status == 414);
  std::string big_headers;
  for (int i = 0; i < 3; ++i)
    big_headers += " -H 'X-Pad-" + std::to_string(i) + ": " + std::string(6000, 'b') + "'";
  const auto too_big = fixture.curl(port, "/healthz", "", big_headers);
  CHECK(too_big.http_status == 431);
  CHECK(json::parse(too_big.output)["reason"] == "RequestHeaderFieldsTooLarge");

  // Two keep-alive connections with a verified client certificate fill the
  // cap; a third is refused at accept until one closes. (Idle connections
  // without one would make room for it: hostile_clients_test.cpp.)
  std::vector<std::unique_ptr<httplib::SSLClient>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<httplib::SSLClient>(
        "127.0.0.1", port, fixture.pki->cert("alice"), fixture.pki->key("alice")));
    held.back()->set_ca_cert_path(fixture.pki->cert("serving").c_str());
    held.back()->set_keep_alive(true);
    auto response = held.back()->Get("/healthz");
    REQUIRE(response);
    CHECK(response->status == 200);
  }
  CHECK(fixture.curl(port, "/healthz", "").http_status == 0);  // no HTTP response at all
  held.front()->stop();
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = fixture.curl(port, "/healthz", "").http_status;
  }
  CHECK(status == 200);
  const auto metrics = fixture.curl(port, "/metrics", "");
  CHECK_THAT(metrics.output, Catch::Contains("prescale_api_refused_connections"));
  CHECK_THAT(
      metrics.output,
      Catch::Contains("prescale_api_connection_limits_total{limit=\"evicted_unverified\"} 0"));
}

TEST_CASE("/metrics can require the same authentication as the API", "[server][integration]") {
  Fixture fixture;
  auto options = fixture.options();
  options.public_prometheus_metrics = false;
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  CHECK(fixture.curl(server.port(), "/metrics", "").http_status == 401);
  const auto scraped = fixture.curl(server.port(), "/metrics", "alice");
  CHECK(scraped.http_status == 200);
  CHECK_THAT(scraped.output, Catch::Contains("prescale_target_served"));
  CHECK(fixture.curl(server.port(), "/healthz", "").http_status == 200);  // probes stay open
}

TEST_CASE("stop() lets an in-flight request finish", "[server][integration]") {
  Fixture fixture;
  ReviewServer reviewer(fixture.pki->cert("server"), fixture.pki->key("server"));
  reviewer.delay_ms = 1500;
  Server server(delegated(fixture, write_kubeconfig(fixture, reviewer.port), Tokens::refused),
                fixture.store);
  REQUIRE(server.start().has_value());
  HttpResult in_flight;
  std::thread request([&] { in_flight = fixture.curl(server.port(), kMetric, "alice"); });
  while (reviewer.reviews.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server.stop(std::chrono::seconds(5));  // the review is still running
  request.join();
  CHECK(in_flight.http_status == 200);
  CHECK(json::parse(in_flight.output)["items"][0]["value"] == "1234568m");
}

TEST_CASE("kubeconfig with inline CA data works; exec plugins are refused by name",
          "[server][integration]") {
  Fixture fixture;
  ReviewServer reviewer(fixture.pki->cert("server"), fixture.pki->key("server"));
  const auto ca_data = run("base64 -w0 " + fixture.pki->cert("serving"));
  REQUIRE(ca_data.exit_code == 0);
  std::string config = kubeconfig(fixture.pki->cert("serving"), reviewer.port);
  const std::string file_line = "certificate-authority: " + fixture.pki->cert("serving");
  config.replace(config.find(file_line), file_line.size(),
                 "certificate-authority-data: " + ca_data.output);
  write_file(fixture.dir / "kubeconfig", config);
  Server server(delegated(fixture, (fixture.dir / "kubeconfig").string(), Tokens::refused),
                fixture.store);
  REQUIRE(server.start().has_value());
  CHECK(fixture.curl(server.port(), kMetric, "alice").http_status == 200);
  CHECK(reviewer.reviews.load() == 1);

  write_file(
      fixture.dir / "exec-kubeconfig",
      "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    "
      "server: "
      "https://127.0.0.1:1\nusers:\n- name: u\n  user:\n    exec:\n      command: get-token\n"
      "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n");
  Server refused(delegated(fixture, (fixture.dir / "exec-kubeconfig").string(), Tokens::refused),
                 fixture.store);
  const auto status = refused.start();
  REQUIRE_FALSE(status.has_value());
  CHECK_THAT(status.error().message, Catch::Contains("users[u].exec is not supported"));
}

namespace {
std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
json authentication_configmap(const Fixture& fixture, const std::string& allowed_name) {
  return {
      {"apiVersion", "v1"},
      {"kind", "ConfigMap"},
      {"metadata", {{"name", "extension-apiserver-authentication"}, {"namespace", "kube-system"}}},
      {"data",
       {{"client-ca-file", read_text(fixture.pki->cert("client"))},
        {"requestheader-client-ca-file", read_text(fixture.pki->cert("front-proxy"))},
        {"requestheader-allowed-names", "[\"" + allowed_name + "\"]"},
        {"requestheader-username-headers", "[\"X-Remote-User\"]"},
        {"requestheader-group-headers", "[\"X-Remote-Group\"]"},
        {"requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]"}}}};
}
}  // namespace

TEST_CASE(
    "front-proxy trust read from kube-system/extension-apiserver-authentication and refreshed",
    "[server][integration]") {
  Fixture fixture;
  ReviewServer apiserver(fixture.pki->cert("server"), fixture.pki->key("server"));
  {
    std::lock_guard lock(apiserver.mutex);
    apiserver.configmap = authentication_configmap(fixture, "front-proxy-client");
  }
  write_file(fixture.dir / "kubeconfig", kubeconfig(fixture.pki->cert("serving"), apiserver.port));
  auto options = fixture.options();
  options.requestheader_client_ca_file.clear();
  options.requestheader_allowed_names.clear();
  options.client_ca_file.clear();
  options.authentication_from_cluster = true;
  options.authentication_apiserver.kubeconfig_file = (fixture.dir / "kubeconfig").string();
  options.cluster_authentication_refresh = std::chrono::seconds(1);
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();
  const std::string as_bob = "-H 'X-Remote-User: bob'";
  CHECK(fixture.curl(port, kMetric, "front-proxy-client", as_bob).http_status == 200);
  CHECK(fixture.curl(port, kMetric, "front-proxy-intruder", as_bob).http_status == 401);
  CHECK(fixture.curl(port, kMetric, "alice").http_status ==
        200);  // client-ca-file from the ConfigMap too

  {
    std::lock_guard lock(apiserver.mutex);
    apiserver.configmap = authentication_configmap(fixture, "someone-else");
  }
  int status = 0;
  for (int attempt = 0; attempt < 60 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = fixture.curl(port, kMetric, "front-proxy-intruder", as_bob).http_status;
  }
  CHECK(status == 200);
  CHECK(fixture.curl(port, kMetric, "front-proxy-client", as_bob).http_status == 401);

  // Without the ConfigMap the server does not start, and says why.
  {
    std::lock_guard lock(apiserver.mutex);
    apiserver.configmap = nullptr;
  }
  Server without(options, fixture.store);
  const auto refused = without.start();
  REQUIRE_FALSE(refused.has_value());
  CHECK_THAT(refused.error().message,
             Catch::Contains("extension-apiserver-authentication") && Catch::Contains("404"));
}

TEST_CASE("/metrics says when each certificate expires", "[server][integration]") {
  Fixture fixture;
  auto options = fixture.options();
  options.more_certificates = [] {
    return std::vector<CertificateExpiry>{
        {"keda-serving", "/etc/prescale/tls/tls.crt", 1900000000}};
  };
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const auto metrics = fixture.curl(server.port(), "/metrics", "");
  REQUIRE(metrics.http_status == 200);
  // The gauge's value for one certificate label, as Prometheus would read it.
  const auto gauge = [&](const std::string& certificate, const std::string& source) {
    const std::string prefix = "prescale_certificate_expiry_seconds{certificate=\"" + certificate +
                               "\",source=\"" + source + "\"} ";
    const auto at = metrics.output.find(prefix);
    return at == std::string::npos ? -1.0 : std::stod(metrics.output.substr(at + prefix.size()));
  };
  // openssl's own reading of each file's notAfter.
  const auto not_after = [](const std::string& file) {
    const auto result =
        run("date -u -d \"$(openssl x509 -noout -enddate -in " + file + " | cut -d= -f2)\" +%s");
    return std::stod(result.output);
  };
  CHECK(gauge("serving", fixture.pki->cert("server")) == not_after(fixture.pki->cert("server")));
  CHECK(gauge("client-ca", fixture.pki->cert("client")) == not_after(fixture.pki->cert("client")));
  CHECK(gauge("requestheader-ca", fixture.pki->cert("front-proxy")) ==
        not_after(fixture.pki->cert("front-proxy")));
  CHECK(gauge("keda-serving", "/etc/prescale/tls/tls.crt") == 1900000000);
}
