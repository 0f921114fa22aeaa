#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "prescale/config/config.hpp"
#include "prescale/forecast/selection.hpp"
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
      // Kubernetes' subdomain rules: no empty label between dots.
      {"targets:\n  - metric: a..b\n    query: up\n",
       "targets[0].metric: 'a..b' is not a valid metric name: a lowercase RFC 1123 subdomain"},
      {"targets:\n  - metric: a\n    query: up\n    labels: {\"example..com/app\": x}\n",
       "'example..com/app' is not a valid label key: prefix part a lowercase RFC 1123 subdomain"},
      {"targets:\n  - query: up\n", "targets[0]: missing 'metric'"},
      {"targets:\n  - metric: a\n    query: up\n    seasonality: [1d, 7m]\n    step: 2m\n",
       "targets[0].seasonality: season 7m is not a multiple of step 2m"},
      {"targets:\n  - metric: a\n    query: up\n    seasonality: 1d\n",
       "targets[0].seasonality: expected a list, got '1d' (line 4)"},
      {"targets:\n  - metric: a\n    query: up\n    model: prophet\n",
       "targets[0].model: unknown model 'prophet'"},
      // A Holt-Winters variant must be one: forecast's list, as --model.
      {"targets:\n  - metric: a\n    query: up\n    model: holt-winters:sideways\n",
       "targets[0].model: unknown model 'holt-winters:sideways'"},
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
      // A declared SLO: its keys, their ranges, and what it needs.
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: "
       "{maxShortPercnt: 0.1}\n",
       "targets[0].slo.maxShortPercnt: unknown key; did you mean 'maxShortPercent'? (line 5)"},
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: "
       "{marginPercent: 100}\n",
       "targets[0].slo.marginPercent: marginPercent 100 is not a percentage of the SLO in [0, "
       "100)"},
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: "
       "{maxShortPercent: -1}\n",
       "targets[0].slo.maxShortPercent: maxShortPercent -1 is not a percentage of minutes"},
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: "
       "{history: 6h}\n",
       "targets[0].slo.history: history 6h is not between 1d and 5w"},
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: "
       "{reactiveTargetPercent: 120}\n",
       "targets[0].slo.reactiveTargetPercent: reactiveTargetPercent 120 is not a percentage of "
       "capacityPerReplica in [10, 100]"},
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: "
       "{servedQuery: ' '}\n",
       "targets[0].slo.servedQuery: servedQuery is empty: give the PromQL that reads back what "
       "prescale served"},
      {"targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: 0.1\n",
       "targets[0].slo: expected a map such as {maxShortPercent: 0.1}"},
      {"targets:\n  - metric: a\n    query: up\n    slo: {maxShortPercent: 0.1}\n",
       "targets[0].slo: slo needs capacityPerReplica"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    CHECK_THAT(error_of(c.yaml), Catch::Contains(c.expected));
  }
}

TEST_CASE("model: takes every model --model does", "[config]") {
  // A target forces the same models forecast and backtest can; the names
  // came from two lists, and serve refused theta, the calendar and log
  // variants and events.
  for (const std::string& model : prescale::forecast::model_choices()) {
    INFO(model);
    const auto config =
        parse_config("targets:\n  - metric: a\n    query: up\n    model: " + model + "\n");
    CHECK(config.targets.at(0).model == model);
  }
  CHECK(prescale::config::known_models() == prescale::forecast::model_choices());
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

TEST_CASE("slo.servedQuery: what the target served, read back after a restart", "[config]") {
  const auto config = parse_config(R"(targets:
  - metric: payments-rps-forecast
    query: sum(rate(x[1m]))
    capacityPerReplica: 120
    slo: {maxShortPercent: 0.1, servedQuery: 'max(prescale_target_served{target="payments-rps-forecast"})'}
  - metric: other
    query: up
    capacityPerReplica: 120
    slo: {maxShortPercent: 0.1}
)");
  REQUIRE(config.targets.size() == 2);
  REQUIRE(config.targets[0].slo.has_value());
  CHECK(config.targets[0].slo->served_query ==
        R"(max(prescale_target_served{target="payments-rps-forecast"}))");
  CHECK(config.targets[1].slo->served_query.empty());  // off unless given
  // Printed and read back the same; a changed query is a changed target (reload).
  const auto back = parse_config(prescale::config::to_yaml(config));
  CHECK(back.targets[0].same_as(config.targets[0]));
  CHECK(back.targets[1].same_as(config.targets[1]));
  auto changed = config.targets[0];
  changed.slo->served_query = "max(prescale_target_served)";
  CHECK_FALSE(changed.same_as(config.targets[0]));
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

TEST_CASE("server.publicMetrics: /metrics public by default, behind authn/authz when false",
          "[config]") {
  CHECK(parse_config(kMinimal).server.public_metrics);
  const auto config = parse_config(std::string("server:\n  publicMetrics: false\n") + kMinimal);
  CHECK_FALSE(config.server.public_metrics);
  CHECK(parse_config(prescale::config::to_yaml(config)).server == config.server);
  CHECK_THAT(error_of(std::string("server:\n  publicMetrics: sometimes\n") + kMinimal),
             Catch::Contains("server.publicMetrics"));
}

TEST_CASE("server.authorization.tokenAudiences: what a bearer token must be for", "[config]") {
  CHECK(parse_config(kMinimal).server.token_audiences.empty());
  const auto config = parse_config(std::string(R"(server:
  authorization:
    mode: webhook
    tokenAudiences: [prescale, "https://kubernetes.default.svc"]
)") + kMinimal);
  CHECK(config.server.token_audiences ==
        std::vector<std::string>{"prescale", "https://kubernetes.default.svc"});
  CHECK(parse_config(prescale::config::to_yaml(config)).server == config.server);
  const auto with = [](const std::string& authorization) {
    return error_of("server:\n  authorization:\n" + authorization + std::string(kMinimal));
  };
  // Tokens are reviewed only in webhook mode: an audience list without it is refused.
  CHECK_THAT(
      with("    tokenAudiences: [prescale]\n"),
      Catch::Contains("server.authorization.tokenAudiences") && Catch::Contains("mode: webhook"));
  CHECK_THAT(
      with("    mode: webhook\n    tokenAudiences: [prescale, '']\n"),
      Catch::Contains("server.authorization.tokenAudiences[1]") && Catch::Contains("non-empty"));
  CHECK_THAT(with("    mode: webhook\n    tokenAudiences: ['pre scale']\n"),
             Catch::Contains("tokenAudiences[0]") && Catch::Contains("without spaces"));
  CHECK_THAT(with("    mode: webhook\n    tokenAudiences: [a, b, a]\n"),
             Catch::Contains("tokenAudiences[2]") && Catch::Contains("'a' is listed twice"));
  CHECK_THAT(with("    mode: webhook\n    tokenAudiences: prescale\n"),
             Catch::Contains("server.authorization.tokenAudiences"));
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

// Every number in the file is range-checked where it is read: a value too
// large for its type is an error naming its key, never an exception from
// deep inside (a 25-digit port used to throw std::out_of_range out of
// std::stol, which killed the daemon on reload).
TEST_CASE("numbers out of range name their key instead of throwing", "[config]") {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::string huge = "9999999999999999999999999";  // 25 digits
  const auto target = [](const std::string& key_value) {
    return "targets:\n  - metric: a\n    query: up\n    " + key_value + "\n";
  };
  const Case cases[] = {
      {"server:\n  address: 127.0.0.1:" + huge + "\n" + target("step: 1m"),
       "server.address: '127.0.0.1:9999999999999999999999999' is not host:port: port "
       "9999999999999999999999999 is out of range (1 to 65535) (e.g. 0.0.0.0:6443) (line 2)"},
      {"server:\n  keda:\n    address: 0.0.0.0:" + huge + "\n" + target("step: 1m"),
       "server.keda.address: '0.0.0.0:9999999999999999999999999' is not host:port: port "
       "9999999999999999999999999 is out of range"},
      {"server:\n  address: 127.0.0.1:65536\n" + target("step: 1m"),
       "server.address: '127.0.0.1:65536' is not host:port: port 65536 is out of range"},
      {"server:\n  address: 127.0.0.1:0\n" + target("step: 1m"),
       "server.address: '127.0.0.1:0' is not host:port: port 0 is not an address clients can "
       "reach"},
      {"server:\n  keda:\n    address: 0.0.0.0:0\n" + target("step: 1m"),
       "server.keda.address: '0.0.0.0:0' is not host:port: port 0"},
      {"server:\n  address: 127.0.0.1:-1\n" + target("step: 1m"),
       "server.address: '127.0.0.1:-1' is not host:port"},
      {target("minReplicas: " + huge),
       "targets[0].minReplicas: '9999999999999999999999999' is out of range (between 1 and "
       "2147483647)"},
      {target("maxReplicas: 2147483648"),
       "targets[0].maxReplicas: 2147483648 is out of range (between 1 and 2147483647)"},
      {target("backtestOrigins: -" + huge),
       "targets[0].backtestOrigins: '-9999999999999999999999999' is out of range"},
      {target("quantile: 1e999"), "targets[0].quantile: expected a number, got '1e999'"},
      {target("quantile: 0x1p-1"), "targets[0].quantile: expected a number, got '0x1p-1'"},
      {target("capacityPerReplica: inf"), "targets[0].capacityPerReplica: expected a number"},
      {target("step: " + huge + "s"), "targets[0].step: duration '" + huge + "s' is too large"},
      {target("leadTime: 2d"), "targets[0].leadTime: duration '2d' must be at most 1d"},
      {target("history: 100y\n    step: 1s"),
       "at step 1s is 3153600000 samples, more than the 1000000 a target may hold"},
      {target("seasonality: [52w]\n    step: 1s\n    history: 1d"),
       "targets[0].seasonality: season 52w at step 1s is 31449600 steps, more than 1000000"},
      {"prometheus:\n  timeout: 2h\n" + target("step: 1m"),
       "prometheus.timeout: duration '2h' must be at most 1h"},
      {"prometheus:\n  maxReplySize: " + huge + "\n" + target("step: 1m"),
       "prometheus.maxReplySize: size '9999999999999999999999999' is out of range (between 64Ki "
       "and 1Gi)"},
      {"prometheus:\n  maxReplySize: 1Ti\n" + target("step: 1m"),
       "prometheus.maxReplySize: size '1Ti' is out of range"},
      {"prometheus:\n  maxReplySize: 64MB\n" + target("step: 1m"),
       "prometheus.maxReplySize: bad size '64MB'"},
      {"server:\n  authorization:\n    cacheTTL: 1d\n" + target("step: 1m"),
       "server.authorization.cacheTTL: duration '1d' must be at most 1h"},
      {"decisions:\n  anomalySteps: " + huge + "\n" + target("step: 1m"),
       "decisions.anomalySteps: '9999999999999999999999999' is out of range"},
      {"decisions:\n  maxBytes: " + huge + "\n" + target("step: 1m"),
       "decisions.maxBytes: size '9999999999999999999999999' is out of range"},
      {"decisions:\n  maxFiles: " + huge + "\n" + target("step: 1m"),
       "decisions.maxFiles: '9999999999999999999999999' is out of range (between 0 and 100)"},
      {"decisions:\n  keep: -1\n" + target("step: 1m"),
       "decisions.keep: -1 is out of range (between 0 and 1000000)"},
  };
  for (const auto& c : cases) {
    INFO(c.yaml);
    std::string message;
    try {
      (void)parse_config(c.yaml);
    } catch (const ConfigError& e) {
      message = e.what();
    }  // anything else escapes and fails the test
    CHECK_THAT(message, Catch::Contains(c.expected));
  }
  // Sizes as Kubernetes writes them, and plain bytes as before.
  const auto sized = parse_config(
      "prometheus:\n  maxReplySize: 8Mi\ndecisions:\n  maxBytes: "
      "1048576\n" +
      target("step: 1m"));
  CHECK(sized.prometheus.max_reply_bytes == 8 * 1024 * 1024);
  CHECK(sized.decisions.max_bytes == 1048576);
  CHECK_THAT(prescale::config::to_yaml(sized), Catch::Contains("maxReplySize: 8Mi"));
}

TEST_CASE("a query and a file have a size limit, named in the error", "[config]") {
  namespace limits = prescale::config::limits;
  const std::string long_query(limits::kMaxQueryBytes + 1, 'x');
  CHECK_THAT(error_of("targets:\n  - metric: a\n    query: " + long_query + "\n"),
             Catch::StartsWith("targets[0].query: query is 16385 bytes, longer than the 16 KiB"));
  const std::string at_limit(limits::kMaxQueryBytes, 'x');
  CHECK(error_of("targets:\n  - metric: a\n    query: " + at_limit + "\n").empty());

  // 50 MB of YAML is refused before yaml-cpp reads it (it took 8 s and 400 MB).
  std::string big = "targets:\n  - metric: a\n    query: up\n#";
  big.append(limits::kMaxFileBytes, 'x');
  CHECK_THAT(error_of(big), Catch::Contains("more than the 4 MiB a config may be"));
  prescale::test::TempDir dir("prescale-config-size");
  const auto path = dir.path / "big.yaml";
  std::ofstream(path) << big;
  auto loaded = prescale::config::try_load_config_file(path);
  REQUIRE_FALSE(loaded.has_value());
  CHECK_THAT(loaded.error().message, Catch::Contains("larger than the 4 MiB a config may be"));
}

TEST_CASE("URLs with credentials are refused without echoing the password", "[config]") {
  const auto url_error = [](const std::string& url) {
    return error_of("prometheus:\n  url: " + url + "\ntargets:\n  - metric: a\n    query: up\n");
  };
  const auto message = url_error("http://admin:S3cretPw@prometheus:9090");
  CHECK_THAT(message, Catch::StartsWith("prometheus.url: 'http://prometheus:9090': credentials in "
                                        "the URL are not accepted; set basicAuth.username and "
                                        "basicAuth.passwordFile"));
  CHECK_THAT(message, !Catch::Contains("S3cretPw") && !Catch::Contains("admin"));
  CHECK_THAT(url_error("https://token@mimir.example/prometheus"),
             Catch::Contains("credentials in the URL") && !Catch::Contains("token"));
  CHECK_THAT(url_error("ftp://admin:S3cretPw@host"),
             Catch::Contains("'ftp://host' is not an http:// or https:// URL") &&
                 !Catch::Contains("S3cretPw"));
  CHECK_THAT(url_error("http://prometheus:9090/?x=1"),
             Catch::Contains("a query string or fragment is not accepted"));
  // An '@' in the path is no user-info.
  CHECK(url_error("http://prometheus:9090/tenant@a").empty());
  CHECK(prescale::redact_url("https://u:p@h:1/x@y?z") == "https://h:1/x@y?z");
  CHECK(prescale::redact_url("http://h:9090") == "http://h:9090");
}
