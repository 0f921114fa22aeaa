#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "prescale/config/config.hpp"
#include "test_support.hpp"

using prescale::config::ConfigError;
using prescale::config::parse_config;

namespace {

// The message a bad document produces (empty if it parses).
std::string error_of(const std::string& yaml) {
  try {
    (void)parse_config(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

const char* kMinimal = R"(targets:
  - metric: payments-rps-forecast
    query: sum(rate(http_requests_total{app="payments"}[1m]))
)";

}  // namespace

TEST_CASE("a minimal config resolves every default", "[config]") {
  const auto config = parse_config(kMinimal);
  REQUIRE(config.targets.size() == 1);
  const auto& t = config.targets[0];
  CHECK(t.metric == "payments-rps-forecast");
  CHECK(t.namespace_name == "*");
  CHECK(t.step_seconds == 60);
  CHECK(t.history_seconds == 35 * 86400);
  CHECK(t.timezone == "UTC");
  CHECK(t.seasonality_seconds == std::vector<std::int64_t>{86400, 604800});
  CHECK(t.model == "auto");
  CHECK(t.lead_time_seconds == 300);
  CHECK(t.lead_steps() == 5);
  CHECK(t.quantile == Approx(0.9));
  CHECK_FALSE(t.capacity_per_replica.has_value());
  CHECK(t.refit_interval_seconds == 3600);
  CHECK(t.line == 2);
  CHECK(config.prometheus.url == "http://127.0.0.1:9090");
  CHECK(config.server.address == "0.0.0.0:6443");
  CHECK(config.server.authorization_mode == prescale::config::AuthorizationMode::always_allow);
}

TEST_CASE("the shipped example is valid and documents the issue's target", "[config]") {
  const auto config =
      prescale::config::load_config_file(prescale::test::source_dir() / "config" / "example.yaml");
  REQUIRE_FALSE(config.targets.empty());
  const auto& t = config.targets[0];
  CHECK(t.metric == "payments-rps-forecast");
  CHECK(t.namespace_name == "payments");
  CHECK(t.labels.at("app") == "payments");
  CHECK(t.timezone == "America/New_York");
  CHECK(t.lead_time_seconds == 300);
  CHECK(t.capacity_per_replica == Approx(120));
  CHECK(t.min_replicas == 2);
  CHECK(t.max_replicas == 200);
}

TEST_CASE("defaults apply to targets, and targets override them", "[config]") {
  const auto config = parse_config(R"(defaults:
  step: 30s
  timezone: Europe/London
  leadTime: 2m
targets:
  - metric: a
    query: up
  - metric: b
    query: up
    leadTime: 10m
)");
  CHECK(config.targets[0].step_seconds == 30);
  CHECK(config.targets[0].timezone == "Europe/London");
  CHECK(config.targets[0].lead_time_seconds == 120);
  CHECK(config.targets[1].lead_time_seconds == 600);
  CHECK(config.targets[1].lead_steps() == 20);
}

TEST_CASE("a bad duration names the YAML path and the line", "[config]") {
  const std::string yaml = std::string(kMinimal) + R"(  - metric: b
    query: up
  - metric: c
    query: up
    leadTime: 5x
)";
  CHECK_THAT(error_of(yaml), Catch::StartsWith("targets[2].leadTime: bad duration '5x'") &&
                                 Catch::EndsWith("(line 8)"));
}

TEST_CASE("every kind of mistake is named with its path", "[config]") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"targets:\n  - metric: a\n    query: up\n    leadtime: 5m\n",
       "targets[0].leadtime: unknown key; did you mean 'leadTime'? (line 4)"},
      {"targets:\n  - metric: a\n    query: up\n    quantile: high\n",
       "targets[0].quantile: expected a number, got 'high' (line 4)"},
      {"targets:\n  - metric: a\n    query: up\n    quantile: 1.5\n",
       "targets[0].quantile: quantile 1.5 is not between 0 and 1"},
      {"targets:\n  - metric: a\n    query: up\n    timezone: Mars/Olympus\n",
       "targets[0].timezone: unknown time zone 'Mars/Olympus'"},
      {"targets:\n  - metric: a\n    query: up\n  - metric: a\n    query: down\n",
       "targets[1].metric: duplicate metric name 'a' (already served by targets[0] (line 2)) (line "
       "4)"},
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n  - metric: "
       "a-replicas\n    query: x\n",
       "targets[1].metric: duplicate metric name 'a-replicas'"},
      {"targets:\n  - metric: Payments\n    query: up\n",
       "targets[0].metric: 'Payments' is not a valid metric name"},
      {"targets:\n  - query: up\n", "targets[0]: missing 'metric'"},
      {"targets:\n  - metric: a\n    query: up\n    seasonality: [1d, 7m]\n    step: 2m\n",
       "targets[0].seasonality: season 7m is not a multiple of step 2m"},
      {"targets:\n  - metric: a\n    query: up\n    seasonality: 1d\n",
       "targets[0].seasonality: expected a list, got '1d' (line 4)"},
      {"targets:\n  - metric: a\n    query: up\n    model: prophet\n",
       "targets[0].model: unknown model 'prophet'"},
      {"targets:\n  - metric: a\n    query: up\n    calendars: [nyse]\n",
       "targets[0].calendars[0]: unknown calendar 'nyse'"},
      {"targets:\n  - metric: a\n    query: up\n    minReplicas: 5\n    maxReplicas: 2\n",
       "targets[0].maxReplicas: maxReplicas 2 is below minReplicas 5 (line 5)"},
      {"targets:\n  - metric: a\n    query: up\n    labels: {app: [x]}\n",
       "targets[0].labels.app: expected a string, got a list"},
      {"prometheus:\n  url: localhost:9090\ntargets: []\n",
       "prometheus.url: 'localhost:9090' is not an http:// or https:// URL (line 2)"},
      {"server:\n  authorization:\n    mode: allow-all\ntargets: []\n",
       "server.authorization.mode: unknown authorization mode 'allow-all'"},
      {"server:\n  tlsCertFile: a.crt\ntargets: []\n",
       "server: set both tlsCertFile and tlsKeyFile"},
      {"target:\n  - metric: a\n", "target: unknown key; did you mean 'targets'? (line 1)"},
      {"targets: []\n", "targets: no targets"},
      {"", "(top level): the file is empty"},
      {"targets:\n  - metric: a\n    query: up\n    step: 1m\n    step: 2m\n",
       "targets[0].step: key given twice (line 5)"},
      {"targets: [\n", "YAML syntax error"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    CHECK_THAT(error_of(c.yaml), Catch::Contains(c.expected));
  }
}

TEST_CASE("the resolved config prints as YAML that parses back the same", "[config]") {
  const auto config = parse_config(R"(prometheus:
  url: https://thanos.example:9091/
  headers: {X-Scope-OrgID: secret-tenant}
targets:
  - metric: payments-rps-forecast
    namespace: payments
    labels: {app: payments}
    query: sum(rate(x[1m]))
    timezone: America/New_York
    capacityPerReplica: 120
    minReplicas: 2
    maxReplicas: 200
)");
  const auto yaml = prescale::config::to_yaml(config);
  CHECK_THAT(yaml, Catch::Contains("leadTime: 5m"));
  CHECK_THAT(yaml, Catch::Contains("url: https://thanos.example:9091\n"));
  // Header values may be credentials: printed as set, never shown.
  CHECK_THAT(yaml, !Catch::Contains("secret-tenant"));
  const auto back = parse_config(yaml);
  REQUIRE(back.targets.size() == 1);
  CHECK(back.targets[0].same_as(config.targets[0]));
}

TEST_CASE("an unreadable file is a ConfigError naming it", "[config]") {
  auto loaded = prescale::config::try_load_config_file("/nonexistent/prescale.yaml");
  REQUIRE_FALSE(loaded.has_value());
  CHECK_THAT(loaded.error().message, Catch::Contains("/nonexistent/prescale.yaml: cannot read"));
}

TEST_CASE("targets name calendars from the calendars section, resolved by the calendar loader",
          "[config]") {
  const auto config = parse_config(R"(calendars:
  nyse:
    timezone: America/New_York
    sessions:
      - {name: market-open, days: [mon, tue, wed, thu, fri], start: "09:30", end: "16:00"}
targets:
  - metric: a
    query: up
    calendars: [nyse]
)");
  CHECK(config.calendar_names == std::vector<std::string>{"nyse"});
  REQUIRE(config.calendars.find("nyse") != nullptr);
  CHECK(config.targets[0].calendars == std::vector<std::string>{"nyse"});
  // A mistake inside the section keeps the loader's path and line.
  CHECK_THAT(error_of("calendars:\n  nyse:\n    timezone: Mars/Olympus\ntargets: []\n"),
             Catch::Contains("calendars.nyse.timezone") && Catch::Contains("line 3"));
  CHECK_THAT(error_of("targets:\n  - metric: a\n    query: up\n    calendars: [nasdaq]\n"),
             Catch::Contains("targets[0].calendars[0]: unknown calendar 'nasdaq' (known: none)"));
}

TEST_CASE("model names follow the forecast library's vocabulary", "[config]") {
  for (const char* model :
       {"auto", "seasonal-naive", "holt-winters", "holt-winters:damped-additive", "arima"}) {
    INFO(model);
    CHECK(
        error_of(std::string("targets:\n  - metric: a\n    query: up\n    model: ") + model + "\n")
            .empty());
  }
}

TEST_CASE("server.probeAddress: a plain-HTTP probe port, off by default", "[config]") {
  CHECK(parse_config(kMinimal).server.probe_address.empty());
  const auto config =
      parse_config(std::string("server:\n  probeAddress: 0.0.0.0:8081\n") + kMinimal);
  CHECK(config.server.probe_address == "0.0.0.0:8081");
  CHECK(parse_config(prescale::config::to_yaml(config)).server == config.server);
  for (const char* bad :
       {"8081", "host:", "host:80a", "host:70000", "host:123456789012345678901"}) {
    INFO(bad);
    CHECK_THAT(error_of(std::string("server:\n  probeAddress: '") + bad + "'\n" + kMinimal),
               Catch::Contains("server.probeAddress") && Catch::Contains("is not host:port"));
  }
}

TEST_CASE("server.keda and requestHeader.fromCluster, as the Helm chart writes them", "[config]") {
  const auto config = parse_config(std::string(R"(server:
  address: 0.0.0.0:6443
  tlsCertFile: /etc/prescale/tls/tls.crt
  tlsKeyFile: /etc/prescale/tls/tls.key
  requestHeader:
    fromCluster: true
  keda:
    enabled: true
    address: 0.0.0.0:9443
    certFile: /etc/prescale/tls/tls.crt
    keyFile: /etc/prescale/tls/tls.key
)") + kMinimal);
  CHECK(config.server.request_header.from_cluster);
  CHECK(config.server.keda.enabled);
  CHECK(config.server.keda.address == "0.0.0.0:9443");
  CHECK(config.server.keda.cert_file == "/etc/prescale/tls/tls.crt");
  CHECK_FALSE(parse_config(kMinimal).server.keda.enabled);

  const auto back = parse_config(prescale::config::to_yaml(config));
  CHECK(back.server == config.server);

  CHECK_THAT(error_of(std::string("server:\n  keda:\n    address: nine\n") + kMinimal),
             Catch::Contains("server.keda.address") && Catch::Contains("'nine'"));
  CHECK_THAT(error_of(std::string("server:\n  keda:\n    certFile: a.crt\n") + kMinimal),
             Catch::Contains("server.keda") && Catch::Contains("keyFile"));
  CHECK_THAT(error_of(std::string("server:\n  keda:\n    enable: true\n") + kMinimal),
             Catch::Contains("enable"));
}
