// A KEDA trigger carrying its own target (server.keda.selfService): its
// metadata is read through the target field table, so every key of a
// `targets:` entry is accepted with the file's checks, and each error names
// the metadata key as the file's names the YAML path.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "config/one_target_yaml.hpp"
#include "prescale/config/config.hpp"
#include "prescale/config/trigger_target.hpp"

using prescale::config::Config;
using prescale::config::parse_config;
using prescale::config::target_from_trigger;
using prescale::config::TargetConfig;
using Metadata = std::map<std::string, std::string>;

namespace {

const Config& central() {
  static const Config config = parse_config(prescale::test::kOneCalendarYaml +
                                            "defaults:\n  step: 10m\n  history: 14d\n"
                                            "targets:\n  - metric: a\n    query: up\n");
  return config;
}

Metadata trigger(Metadata extra) {
  Metadata metadata = {{"scalerAddress", "prescale.prescale.svc:9443"},
                       {"metricName", "checkout-rps"},
                       {"targetValue", "100"},
                       {"query", "sum(rate(http_requests_total{app=\"checkout\"}[1m]))"}};
  for (auto& [key, value] : extra) metadata[key] = value;
  return metadata;
}

std::string error_of(const Metadata& metadata) {
  auto target = target_from_trigger(metadata, central(), "shop.checkout.checkout-rps", "shop");
  REQUIRE_FALSE(target.has_value());
  return target.error().message;
}

// Settings without where the target is served (the trigger decides that).
std::string settings(const TargetConfig& t) {
  TargetConfig copy = t;
  copy.metric = "x";
  copy.namespace_name = "*";
  copy.query = "q";
  return copy.settings_text();
}

}  // namespace

TEST_CASE("trigger metadata: every target key, as the file reads it", "[config][trigger]") {
  for (const auto& key : prescale::config::target_keys()) {
    const std::string name(key.key);
    if (name == "metric" || name == "namespace" || name == "labels" || name == "query") continue;
    INFO(name << ": " << key.example);
    Metadata extra = {{name, std::string(key.example)}};
    std::string lines = "    " + name + ": " + std::string(key.example) + "\n";
    if (name == "slo") {
      extra["capacityPerReplica"] = "100";
      lines += "    capacityPerReplica: 100\n";
    }
    auto from_trigger = target_from_trigger(trigger(extra), central(), "shop.so.m", "shop");
    REQUIRE(from_trigger.has_value());
    const Config file =
        parse_config(prescale::test::kOneCalendarYaml +
                     "defaults:\n  step: 10m\n  history: 14d\ntargets:\n  - metric: a\n"
                     "    query: up\n" +
                     lines);
    CHECK(settings(*from_trigger) == settings(file.targets[0]));
  }
}

TEST_CASE("trigger metadata: served where the trigger is, from the file's defaults",
          "[config][trigger]") {
  auto target = target_from_trigger(trigger({{"leadTime", "20m"},
                                             {"quantile", "0.75"},
                                             {"seasonality", "1d, 7d"},
                                             {"timezone", "America/New_York"},
                                             {"calendars", "nyse"}}),
                                    central(), "shop.checkout.checkout-rps", "shop");
  REQUIRE(target.has_value());
  CHECK(target->metric == "shop.checkout.checkout-rps");
  CHECK(target->namespace_name == "shop");
  CHECK(target->query == "sum(rate(http_requests_total{app=\"checkout\"}[1m]))");
  CHECK(target->step_seconds == 600);  // defaults: step 10m
  CHECK(target->history_seconds == 14 * 86400);
  CHECK(target->lead_time_seconds == 1200);
  CHECK(target->quantile == 0.75);
  CHECK(target->timezone == "America/New_York");
  CHECK(target->seasonality_seconds == std::vector<std::int64_t>{86400, 7 * 86400});
  CHECK(target->calendars == std::vector<std::string>{"nyse"});
  // The YAML flow form reads the same.
  auto flow = target_from_trigger(trigger({{"seasonality", "[1d, 7d]"}}), central(), "s.o.m", "s");
  REQUIRE(flow.has_value());
  CHECK(flow->seasonality_seconds == target->seasonality_seconds);
}

TEST_CASE("trigger metadata: a bad key is named as the file names its path", "[config][trigger]") {
  const std::string lead = error_of(trigger({{"leadTime", "5x"}}));
  CHECK(lead.rfind("trigger metadata 'leadTime': bad duration '5x'", 0) == 0);
  CHECK(lead.find("(line") == std::string::npos);
  CHECK(error_of(trigger({{"leadtime", "5m"}})) ==
        "trigger metadata 'leadtime': unknown key; did you mean 'leadTime'?");
  CHECK(error_of(trigger({{"quantile", "1.5"}})) ==
        "trigger metadata 'quantile': quantile 1.5 is not between 0 and 1 (e.g. 0.9)");
  CHECK(error_of(trigger({{"timezone", "Mars/Olympus"}}))
            .rfind("trigger metadata 'timezone': unknown time zone 'Mars/Olympus'", 0) == 0);
  CHECK(error_of(trigger({{"calendars", "nyse, lse"}})) ==
        "trigger metadata 'calendars[1]': unknown calendar 'lse' (known: nyse)");
  // Checks across keys name the key the file's check names.
  CHECK(error_of(trigger({{"seasonality", "25m"}})) ==
        "trigger metadata 'seasonality': season 25m is not a multiple of step 10m (at least two "
        "steps)");
  CHECK(error_of(trigger({{"slo", "{maxShortPercent: 0.5}"}}))
            .rfind("trigger metadata 'slo': slo needs capacityPerReplica", 0) == 0);
  CHECK(error_of(trigger({{"slo", "{maxShortPercent: 200}"}, {"capacityPerReplica", "10"}}))
            .rfind("trigger metadata 'slo.maxShortPercent': maxShortPercent 200", 0) == 0);
  CHECK(error_of(trigger({{"query", " "}})) == "trigger metadata 'query': empty query");
  CHECK(error_of(trigger({{"query", std::string(17 * 1024, 'x')}}))
            .rfind("trigger metadata 'query': query is 17408 bytes", 0) == 0);
}

TEST_CASE("trigger metadata: what the ScaledObject decides, and hostile values, are refused",
          "[config][trigger]") {
  CHECK(error_of(trigger({{"namespace", "other"}})).rfind("trigger metadata 'namespace'", 0) == 0);
  CHECK(error_of(trigger({{"metric", "x"}})).rfind("trigger metadata 'metric'", 0) == 0);
  CHECK(error_of(trigger({{"labels", "{a: b}"}})).rfind("trigger metadata 'labels'", 0) == 0);
  CHECK(error_of(trigger({{"seasonality", "[[[[[1d]]]]]"}})) ==
        "trigger metadata 'seasonality': nested too deep (a flat list or map is expected)");
  CHECK(error_of(trigger({{"seasonality", "[" + std::string(5000, '1') + "]"}}))
            .rfind("trigger metadata 'seasonality': 5002 bytes", 0) == 0);
  CHECK(
      error_of(trigger({{"slo", "{maxShortPercent: [0.5"}}))
          .rfind("trigger metadata 'slo': '{maxShortPercent: [0.5' is not a YAML flow list or map",
                 0) == 0);
  CHECK(error_of(trigger({{"anomaly", "externalMetric"}})).rfind("trigger metadata 'anomaly'", 0) ==
        0);
  // The served name must be a metric name (the caller composes it).
  auto bad = target_from_trigger(trigger({}), central(), "shop.Checkout.x", "shop");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message.rfind("trigger metadata 'metricName': the target's name", 0) == 0);
  // A PromQL query is taken as written, never as YAML.
  auto query = target_from_trigger(trigger({{"query", "a: b # {c} [d]"}}), central(), "s.o.m", "s");
  REQUIRE(query.has_value());
  CHECK(query->query == "a: b # {c} [d]");
}

TEST_CASE("server.keda.selfService: keys, bounds, and a file of triggers only",
          "[config][trigger]") {
  const std::string keda = "server:\n  keda:\n    enabled: true\n    selfService:\n";
  Config config = parse_config(keda +
                               "      enabled: true\n      idleTimeout: 30m\n      "
                               "maxPerNamespace: 3\n      maxTargets: 20\n      namespaces: "
                               "[shop, payments]\n");
  const auto& s = config.server.keda.self_service;
  CHECK(s.enabled);
  CHECK(s.idle_timeout_seconds == 1800);
  CHECK(s.max_per_namespace == 3);
  CHECK(s.max_targets == 20);
  CHECK(s.namespaces == std::vector<std::string>{"shop", "payments"});
  CHECK(config.targets.empty());  // every target from triggers
  // Round trip through check-config's output.
  CHECK(parse_config(prescale::config::to_yaml(config)).server == config.server);

  auto error = [&](const std::string& yaml) {
    try {
      parse_config(yaml);
    } catch (const prescale::config::ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(error(keda + "      enabled: true\n      idleTimeout: 10s\n")
            .find("server.keda.selfService.idleTimeout") != std::string::npos);
  CHECK(error(keda + "      maxPerNamespace: 30\n      maxTargets: 20\n")
            .find("maxPerNamespace 30 is above maxTargets 20") != std::string::npos);
  CHECK(error(keda + "      namespaces: [Shop]\n").find("server.keda.selfService.namespaces[0]") !=
        std::string::npos);
  CHECK(error("server:\n  keda:\n    selfService: {enabled: true}\n")
            .find("set server.keda.enabled too") != std::string::npos);
  // Without self-service a file still needs targets.
  CHECK(error("server:\n  keda: {enabled: true}\n").find("missing 'targets:'") !=
        std::string::npos);
}
