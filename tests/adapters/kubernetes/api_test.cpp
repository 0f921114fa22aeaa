#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "prescale/kubernetes/api.hpp"

using namespace prescale;
using namespace prescale::kubernetes;
using nlohmann::json;

namespace {

Snapshot sample_snapshot() {
  Snapshot snapshot;
  snapshot.ready = true;
  snapshot.generated_unix = 1767623400;  // 2026-01-05T14:30:00Z
  snapshot.metrics.push_back({"orders-rps",
                              "shop",
                              {{"target", "orders"}, {"tier", "web"}},
                              1500,
                              1767623400,
                              60,
                              "orders"});
  snapshot.metrics.push_back(
      {"orders-rps-replicas", "shop", {{"target", "orders"}}, 7, 1767623400, 60, "orders"});
  snapshot.metrics.push_back(
      {"payroll-jobs", "*", {{"target", "payroll"}}, 0.5, 1767623400, 300, "payroll"});
  return snapshot;
}

ApiResponse get(const Snapshot& snapshot, const std::string& target) {
  return serve_api(snapshot, "GET", parse_target(target));
}

json body(const ApiResponse& response) {
  return json::parse(response.body);
}

const std::string kBase = "/apis/external.metrics.k8s.io/v1beta1";

}  // namespace

TEST_CASE("a metric request returns exactly one ExternalMetricValue", "[api]") {
  const auto response =
      get(sample_snapshot(), kBase + "/namespaces/shop/orders-rps?labelSelector=target%3Dorders");
  CHECK(response.status == 200);
  CHECK(response.content_type == "application/json");
  const json expected = json::parse(R"({
    "kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},
    "items":[{"metricName":"orders-rps","metricLabels":{"target":"orders","tier":"web"},
              "timestamp":"2026-01-05T14:30:00Z","window":60,"value":"1500"}]})");
  CHECK(body(response) == expected);
}

TEST_CASE("values are Kubernetes quantities and '*' namespaces match any namespace", "[api]") {
  const auto response = get(sample_snapshot(), kBase + "/namespaces/batch/payroll-jobs");
  REQUIRE(response.status == 200);
  CHECK(body(response)["items"][0]["value"] == "500m");
  CHECK(body(response)["items"][0]["window"] == 300);
}

TEST_CASE("several matches serve the largest, never a sum or an empty list", "[api]") {
  auto snapshot = sample_snapshot();
  snapshot.metrics.push_back(
      {"orders-rps", "shop", {{"target", "orders-eu"}}, 2000, 1767623400, 60, "orders-eu"});
  const auto response = get(snapshot, kBase + "/namespaces/shop/orders-rps");
  REQUIRE(response.status == 200);
  CHECK(body(response)["items"].size() == 1);
  CHECK(body(response)["items"][0]["value"] == "2k");
  CHECK(body(response)["items"][0]["metricLabels"]["target"] == "orders-eu");
}

TEST_CASE("unknown metrics, other namespaces and unmatched selectors are 404 Status", "[api]") {
  const auto snapshot = sample_snapshot();
  for (const auto& target :
       {kBase + "/namespaces/shop/nope", kBase + "/namespaces/other/orders-rps",
        kBase + "/namespaces/shop/orders-rps?labelSelector=target+in+%28billing%29"}) {
    INFO(target);
    const auto response = get(snapshot, target);
    CHECK(response.status == 404);
    const json status = body(response);
    CHECK(status["kind"] == "Status");
    CHECK(status["apiVersion"] == "v1");
    CHECK(status["status"] == "Failure");
    CHECK(status["reason"] == "NotFound");
    CHECK(status["code"] == 404);
  }
  CHECK_THAT(
      get(snapshot, kBase + "/namespaces/shop/orders-rps?labelSelector=target+in+%28billing%29")
          .body,
      Catch::Contains("target in (billing)"));
}

TEST_CASE("a malformed selector is a 400 Status naming the problem", "[api]") {
  const auto response =
      get(sample_snapshot(), kBase + "/namespaces/shop/orders-rps?labelSelector=x+nott+in+%28y%29");
  CHECK(response.status == 400);
  const json status = body(response);
  CHECK(status["reason"] == "BadRequest");
  CHECK(status["code"] == 400);
  CHECK_THAT(status["message"].get<std::string>(),
             Catch::Contains("x nott in (y)") && Catch::Contains("found 'nott'"));
}

TEST_CASE("discovery documents list the group and the served metrics", "[api]") {
  const auto snapshot = sample_snapshot();
  const json groups = body(get(snapshot, "/apis"));
  CHECK(groups["kind"] == "APIGroupList");
  CHECK(groups["groups"][0]["name"] == "external.metrics.k8s.io");
  CHECK(groups["groups"][0]["preferredVersion"]["groupVersion"] ==
        "external.metrics.k8s.io/v1beta1");
  const json group = body(get(snapshot, "/apis/external.metrics.k8s.io"));
  CHECK(group["kind"] == "APIGroup");
  CHECK(group["versions"][0]["version"] == "v1beta1");
  const auto list_response = get(snapshot, kBase);
  CHECK(list_response.status == 200);
  const json list = body(list_response);
  CHECK(list["kind"] == "APIResourceList");
  CHECK(list["apiVersion"] == "v1");
  CHECK(list["groupVersion"] == "external.metrics.k8s.io/v1beta1");
  REQUIRE(list["resources"].size() == 3);
  CHECK(list["resources"][0] ==
        json::parse(R"({"name":"orders-rps","singularName":"","namespaced":true,
                                                "kind":"ExternalMetricValueList","verbs":["get"]})"));
  CHECK(list["resources"][2]["name"] == "payroll-jobs");
}

TEST_CASE("openapi and unknown paths are 404, other methods 405", "[api]") {
  const auto snapshot = sample_snapshot();
  CHECK(get(snapshot, "/openapi/v2").status == 404);
  CHECK(get(snapshot, "/openapi/v3").status == 404);
  CHECK(get(snapshot, "/apis/other.group").status == 404);
  CHECK(get(snapshot, kBase + "/namespaces/shop").status == 404);
  CHECK(serve_api(snapshot, "POST", parse_target(kBase)).status == 405);
}

TEST_CASE("metric paths are 'list' resource requests; others are non-resource 'get'", "[api]") {
  const auto metric = request_attributes("GET", kBase + "/namespaces/shop/orders-rps");
  CHECK(metric.resource_request);
  CHECK(metric.verb == "list");
  CHECK(metric.namespace_name == "shop");
  CHECK(metric.resource == "orders-rps");
  const auto discovery = request_attributes("GET", kBase);
  CHECK_FALSE(discovery.resource_request);
  CHECK(discovery.verb == "get");
  CHECK(discovery.path == kBase);
}

// Message format of kube-apiserver's responsewriters.Forbidden + apierrors.NewForbidden.
TEST_CASE("403 names user, verb, resource, group and namespace as Kubernetes does", "[api]") {
  const auto attributes = request_attributes("GET", kBase + "/namespaces/ns/m");
  const auto response = forbidden_response({"x", {}, {}, {}}, attributes, "");
  CHECK(response.status == 403);
  const json status = body(response);
  CHECK(status["reason"] == "Forbidden");
  CHECK(
      status["message"] ==
      "m.external.metrics.k8s.io is forbidden: User \"x\" cannot list resource \"m\" in API group "
      "\"external.metrics.k8s.io\" in the namespace \"ns\"");
  CHECK(status["details"] == json::parse(R"({"group":"external.metrics.k8s.io","kind":"m"})"));
  const json with_reason =
      body(forbidden_response({"x", {}, {}, {}}, attributes, "no RBAC policy matched"));
  CHECK_THAT(with_reason["message"].get<std::string>(),
             Catch::EndsWith("\"ns\": no RBAC policy matched"));
  const json path =
      body(forbidden_response({"x", {}, {}, {}}, request_attributes("GET", "/apis"), ""));
  CHECK(path["message"] == "forbidden: User \"x\" cannot get path \"/apis\"");
}

TEST_CASE("401 and 500 are Status objects", "[api]") {
  const json unauthorized = body(unauthorized_response());
  CHECK(unauthorized ==
        json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                                        "message":"Unauthorized","reason":"Unauthorized","code":401})"));
  const auto internal = internal_error_response("/apis", "connection refused");
  CHECK(internal.status == 500);
  CHECK(body(internal)["reason"] == "InternalError");
  CHECK_THAT(body(internal)["message"].get<std::string>(),
             Catch::StartsWith("Internal error occurred: connection refused"));
}

TEST_CASE("query strings are form-decoded", "[api]") {
  const auto target = parse_target("/a%2Fb?x=1+2&y=%41&flag&=v");
  CHECK(target.path == "/a/b");
  CHECK(target.query.find("x")->second == "1 2");
  CHECK(target.query.find("y")->second == "A");
  CHECK(target.query.find("flag")->second.empty());
  CHECK(url_decode("%zz%4", true) == "%zz%4");  // malformed escapes stay as they are
}

TEST_CASE("/status reports each target's model, fit and fallback for prescale status", "[api]") {
  Snapshot snapshot = sample_snapshot();
  TargetStatus forecasting;
  forecasting.target = "orders-rps";
  forecasting.model = "holt-winters(A,Ad,A;288,2016)";
  forecasting.parameters = {{"alpha", 0.2}, {"phi", 0.98}};
  forecasting.observed = 1200;
  forecasting.forecast = 1500;
  forecasting.served = 1500;
  forecasting.replicas = 13;
  forecasting.backtest_mase = 0.62;
  forecasting.last_fit_unix = 1767620000;
  forecasting.has_forecast = true;
  forecasting.quantile = 0.75;
  forecasting.headroom = 1.25;
  forecasting.slo = "SLO 0.1% of minutes short (margin 50%): quantile 0.75, headroom x1.25";
  forecasting.interval_quantile = 0.9;
  SloFigures figures;
  figures.days = 34.5;
  figures.allowed_minutes = 49.5;
  figures.tuned_for_minutes = 24.75;
  figures.meets_slo = true;
  figures.short_minutes = 21;
  figures.replica_hours = 3900;
  figures.reactive_swept = true;
  figures.reactive_meets_slo = true;
  figures.reactive_short_minutes = 22;
  figures.reactive_replica_hours = 5400;
  figures.served_days = 6.5;
  figures.served_allowed_minutes = 9.25;
  figures.served_short_minutes = 4;
  figures.served_replica_hours = 710;
  figures.served_reactive = true;
  figures.served_reactive_short_minutes = 12;
  figures.served_reactive_replica_hours = 1010;
  forecasting.slo_figures = figures;
  TargetStatus fallback;
  fallback.target = "payroll-jobs";
  fallback.observed = 0.5;
  fallback.served = 0.5;
  fallback.data_age_seconds = 240;
  fallback.fallback_reason = "data stale 4m";
  snapshot.targets = {forecasting, fallback};

  const ApiResponse response = serve_status(snapshot);
  REQUIRE(response.status == 200);
  CHECK(response.content_type == "application/json");
  const json status = body(response);
  CHECK(status["ready"] == true);
  CHECK(status["generated"] == "2026-01-05T14:30:00Z");
  REQUIRE(status["targets"].size() == 2);
  const json& first = status["targets"][0];
  CHECK(first["model"] == "holt-winters(A,Ad,A;288,2016)");
  CHECK(first["parameters"]["phi"] == 0.98);
  CHECK(first["backtest_mase"] == 0.62);
  CHECK(first["replicas"] == 13);
  CHECK(first["fallback_reason"] == "");
  const json& second = status["targets"][1];
  CHECK(second["fallback_reason"] == "data stale 4m");
  CHECK(second["data_age_seconds"] == 240);
  CHECK(second["backtest_mase"].is_null());
  CHECK(second["replicas"].is_null());
  // A declared SLO's tuning in force; null without `slo:`.
  CHECK(first["quantile"] == 0.75);
  CHECK(first["headroom"] == 1.25);
  CHECK(first["slo"] == forecasting.slo);
  CHECK(second["slo"].is_null());
  CHECK(second["headroom"] == 1);
  // The tuning's figures as numbers (null before a tuning or without `slo:`).
  CHECK(first["interval_quantile"] == 0.9);
  const json& figures_json = first["slo_figures"];
  CHECK(figures_json["days"] == 34.5);
  CHECK(figures_json["allowed_minutes"] == 49.5);
  CHECK(figures_json["tuned_for_minutes"] == 24.75);
  CHECK(figures_json["meets_slo"] == true);
  CHECK(figures_json["short_minutes"] == 21);
  CHECK(figures_json["replica_hours"] == 3900);
  CHECK(figures_json["reactive"]["meets_slo"] == true);
  CHECK(figures_json["reactive"]["short_minutes"] == 22);
  CHECK(figures_json["reactive"]["replica_hours"] == 5400);
  CHECK(figures_json["served"]["days"] == 6.5);
  CHECK(figures_json["served"]["allowed_minutes"] == 9.25);
  CHECK(figures_json["served"]["short_minutes"] == 4);
  CHECK(figures_json["served"]["replica_hours"] == 710);
  // Over the same decisions, a reactive HPA retuned at the same refits.
  CHECK(figures_json["served"]["reactive"]["short_minutes"] == 12);
  CHECK(figures_json["served"]["reactive"]["replica_hours"] == 1010);
  CHECK(second["slo_figures"].is_null());
}
