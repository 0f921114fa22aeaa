// Living beside another adapter that owns external.metrics.k8s.io: a real
// Prometheus scrapes two prescale replicas (the real HTTPS server, public
// /metrics), and the queries of the shipped examples —
// deploy/examples/keda-prometheus-scaledobject.yaml (KEDA's `prometheus`
// trigger) and deploy/examples/prometheus-adapter-rules.yaml
// (prometheus-adapter's external rule) — are run against it as those
// components run them. Each must give exactly one series (KEDA refuses more;
// an HPA needs one value) equal to what prescale's own External Metrics API
// serves for the same target, within the API's milli-unit rounding.
#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "../adapters/kubernetes/server_fixture.hpp"
#include "../adapters/prometheus/prometheus_fixture.hpp"
#include "prescale/kubernetes/server.hpp"
#include "prescale/prometheus/client.hpp"
#include "test_support.hpp"

using namespace prescale;
using nlohmann::json;

namespace {

constexpr double kServed = 187.2504;
const std::string kTarget = "payments-rps-forecast";
// The API serves quantities in milli-units, rounded up as Kubernetes'
// resource.Quantity rounds (187.2504 -> "187251m").
constexpr double kMilli = 0.001;

json instant_query(prometheus::Client& client, const std::string& query) {
  // As KEDA's prometheus scaler asks: /api/v1/query with query and time.
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto response = client.get("/api/v1/query", {{"query", query}, {"time", std::to_string(now)}});
  INFO(query);
  REQUIRE(response.has_value());
  INFO(response->body);
  REQUIRE(response->status == 200);
  return json::parse(response->body)["data"]["result"];
}

double only_value(const json& result) {
  INFO(result.dump());
  REQUIRE(result.size() == 1);  // KEDA: "prometheus query returned multiple elements" otherwise
  return std::stod(result[0]["value"][1].get<std::string>());
}

}  // namespace

TEST_CASE(
    "KEDA's prometheus trigger and prometheus-adapter read the served forecast as the API serves "
    "it",
    "[monitoring][integration]") {
  kubernetes::test::Fixture fixture;
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->ready = true;
  snapshot->generated_unix = 1767623400;
  snapshot->metrics.push_back(
      {kTarget, "shop", {{"app", "payments"}}, kServed, 1767623400, 60, kTarget});
  TargetStatus status;
  status.target = kTarget;
  status.observed = 150;
  status.forecast = kServed;
  status.served = kServed;
  snapshot->targets.push_back(status);
  fixture.store.publish(snapshot);
  // Two replicas serving the same snapshot, as replicas that agree do.
  kubernetes::Server first(fixture.options(), fixture.store);
  kubernetes::Server second(fixture.options(), fixture.store);
  REQUIRE(first.start().has_value());
  REQUIRE(second.start().has_value());

  test::PrometheusFixture::Options options;
  options.scrape_interval = "1s";
  options.scrape_configs = fmt::format(
      "[{{job_name: prescale, scheme: https, tls_config: {{ca_file: '{}'}}, "
      "static_configs: [{{targets: ['127.0.0.1:{}', '127.0.0.1:{}']}}]}}]",
      fixture.pki->cert("serving"), first.port(), second.port());
  test::PrometheusFixture prom({}, options);
  prometheus::ClientOptions client_options;
  client_options.url = prom.url();
  prometheus::Client client(client_options);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (instant_query(client, "prescale_target_served").size() < 2) {
    INFO(prom.log());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  // What prescale's own API serves (the value an HPA reading it would get).
  const auto api = fixture.curl(
      first.port(), "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/" + kTarget, "alice");
  REQUIRE(api.http_status == 200);
  // The API's quantities here are whole units or milli-units ("187250m").
  const auto text = json::parse(api.output)["items"][0]["value"].get<std::string>();
  const double served_by_api =
      text.back() == 'm' ? std::stod(text.substr(0, text.size() - 1)) / 1000 : std::stod(text);
  CHECK(std::abs(served_by_api - kServed) <= kMilli);

  // KEDA: the example's forecast trigger, its query as written.
  const auto keda = YAML::LoadFile(
      (test::source_dir() / "deploy/examples/keda-prometheus-scaledobject.yaml").string());
  std::string keda_query;
  for (const auto& trigger : keda["spec"]["triggers"]) {
    const auto query = trigger["metadata"]["query"].as<std::string>();
    if (query.find("prescale_target_served") != std::string::npos) keda_query = query;
  }
  REQUIRE_FALSE(keda_query.empty());
  CHECK(std::abs(only_value(instant_query(client, keda_query)) - served_by_api) <= kMilli);

  // prometheus-adapter: discovery by seriesQuery (one metric name whatever
  // the replicas), then metricsQuery with the HPA's selector
  // (target=payments-rps-forecast) as its LabelMatchers.
  const auto adapter = YAML::LoadFile(
      (test::source_dir() / "deploy/examples/prometheus-adapter-rules.yaml").string());
  const auto rule = adapter["rules"]["external"][0];
  auto series = client.get("/api/v1/series", {{"match[]", rule["seriesQuery"].as<std::string>()}});
  REQUIRE(series.has_value());
  const auto found = json::parse(series->body)["data"];
  CHECK(found.size() == 2);  // one per replica: hence the aggregation
  for (const auto& labels : found) CHECK(labels["__name__"] == "prescale_target_served");
  std::string metrics_query = rule["metricsQuery"].as<std::string>();
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = metrics_query.find(from);
    REQUIRE(at != std::string::npos);
    metrics_query.replace(at, from.size(), to);
  };
  replace("<<.Series>>", "prescale_target_served");
  replace("<<.LabelMatchers>>", "target=\"" + kTarget + "\"");
  CHECK(std::abs(only_value(instant_query(client, metrics_query)) - served_by_api) <= kMilli);

  // Without the aggregation both replicas answer: KEDA would refuse it.
  CHECK(instant_query(client, "prescale_target_served{target=\"" + kTarget + "\"}").size() == 2);
}
