// End to end, with every component real: Prometheus backfilled with 15
// days of the payments trace whose last sample is "now", `prescale serve`
// pointed at it, and kubectl reading both external metrics over TLS with a
// client certificate. The served value must equal what the engine computes
// from the same data (replayed in-process) and never be below the observed
// value; killing Prometheus must make the target fall back to the last
// observed value, saying why, and it must recover when Prometheus returns.
// Over the same TLS: the anomaly gauges on /metrics, the opt-in -anomaly
// external metric (404 for a target that did not opt in), GET /decisions
// (refused without a client certificate), `prescale explain --server`, and
// the decisions file holding what /decisions answered.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <variant>
#include <vector>

#include "prescale/autoscaler/anomaly.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/policy.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/daemon/demo.hpp"
#include "prescale/kubernetes/quantity.hpp"
#include "prescale/prometheus/prometheus_source.hpp"
#include "prescale/simulate/replay.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"

using namespace prescale;

namespace {

constexpr std::int64_t kStep = 15;  // short, so that "stale" (> 3 steps) comes within a minute
// Two weekly cycles and a day: the least history that keeps the weekly season
// (seasonality [1d, 1w]) with a backtest before it. At 15 s steps that is
// 86,400 samples, fitted twice (the daemon, the in-process replay).
constexpr std::int64_t kDays = 15;

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fd);
  REQUIRE(pid > 0);
  return pid;
}

int stop_process(pid_t pid, int signal = SIGTERM) {
  ::kill(pid, signal);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Command {
  int status = -1;
  std::string output;
};

Command run(const std::string& command) {
  Command out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.output.append(buffer, n);
  const int status = ::pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// Kubernetes quantities as our server writes them: 1500m, 2k, 12, 1.5M, 3e3.
double parse_quantity(const std::string& q) {
  std::size_t used = 0;
  const double number = std::stod(q, &used);
  const std::string suffix = q.substr(used);
  if (suffix.empty()) return number;
  if (suffix == "m") return number / 1000;
  if (suffix == "k") return number * 1e3;
  if (suffix == "M") return number * 1e6;
  if (suffix == "G") return number * 1e9;
  if (suffix == "T") return number * 1e12;
  FAIL("unexpected quantity suffix in " << q);
  return 0;
}

std::int64_t parse_rfc3339(const std::string& text) {
  std::tm tm{};
  REQUIRE(::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
  return static_cast<std::int64_t>(::timegm(&tm));
}

struct Served {
  double value = 0;
  std::int64_t timestamp = 0;
};

std::optional<Served> kubectl_get(const std::filesystem::path& kubeconfig,
                                  const std::string& metric) {
  const auto result = run(fmt::format(
      "kubectl --kubeconfig {} get --raw "
      "'/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/{}?labelSelector=app%3Dpayments'",
      kubeconfig.string(), metric));
  if (result.status != 0) return std::nullopt;
  const auto body = nlohmann::json::parse(result.output);
  REQUIRE(body.at("kind") == "ExternalMetricValueList");
  REQUIRE(body.at("items").size() == 1);  // the HPA sums items: exactly one
  const auto& item = body.at("items").at(0);
  CHECK(item.at("metricName") == metric);
  return Served{parse_quantity(item.at("value").get<std::string>()),
                parse_rfc3339(item.at("timestamp").get<std::string>())};
}

// JSON log lines of the daemon with the given message (and target, when given).
std::vector<nlohmann::json> log_events(const std::filesystem::path& log, const std::string& message,
                                       const std::string& target = {}) {
  std::vector<nlohmann::json> events;
  std::istringstream lines(read_file(log));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_discarded() && event.value("msg", "") == message &&
        (target.empty() || event.value("target", "") == target))
      events.push_back(event);
  }
  return events;
}

// An HTTPS GET with curl: status code and body. `tls` holds --cacert and,
// for an authenticated request, --cert/--key.
struct Http {
  int code = 0;
  std::string body;
};
Http curl_get(const std::string& tls, const std::string& url) {
  const auto result =
      run(fmt::format("curl -sS --max-time 10 -w '\\n%{{http_code}}' {} '{}'", tls, url));
  REQUIRE(result.status == 0);
  const auto newline = result.output.rfind('\n');
  REQUIRE(newline != std::string::npos);
  return Http{std::stoi(result.output.substr(newline + 1)), result.output.substr(0, newline)};
}

// The value of one sample line of Prometheus text, e.g. `name{target="x"} 1.5`.
std::optional<double> sample_value(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line))
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

template <class F>
bool eventually(F condition, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

}  // namespace

TEST_CASE("serve: Prometheus -> engine -> External Metrics API read by kubectl over TLS", "[e2e]") {
  // Fifteen days of the payments trace, the last sample at the current step.
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  autoscaler::TraceOptions trace_options;
  trace_options.days = kDays;
  trace_options.step_seconds = kStep;
  trace_options.start_unix = now / kStep * kStep - kDays * 86400 + kStep;
  const auto trace = autoscaler::generate_trace(trace_options);
  REQUIRE(trace.has_value());
  REQUIRE(trace->time_at(trace->size() - 1) == now / kStep * kStep);

  // A lookback of an hour keeps answering the last backfilled value while the
  // test runs, as a live scrape would keep the data fresh.
  test::PrometheusFixture::Options prometheus_options;
  prometheus_options.lookback_delta = "1h";
  // Beside the load, what a process before this one served for the slo
  // target (the load and 25 % more), as Prometheus scraped it from its
  // /metrics: the restarted daemon reads it back (slo.servedQuery).
  forecast::Series served_before = *trace;
  for (auto& v : served_before.values) v *= 1.25;
  auto prometheus = std::make_unique<test::PrometheusFixture>(
      std::vector<test::MetricSeries>{
          {"payments_rps", {{"app", "payments"}}, *trace},
          {"prescale_target_served", {{"target", "payments-rps-slo"}}, served_before}},
      prometheus_options);

  const auto dir = prometheus->dir() / "prescale";
  auto certs = daemon::write_demo_certificates(dir, "e2e-user", "payments-team");
  REQUIRE(certs.has_value());
  const int port = test::PrometheusFixture::free_port();
  const auto config_path = dir / "prescale.yaml";
  std::ofstream(config_path) << fmt::format(
      R"(prometheus:
  url: {url}
  timeout: 5s
server:
  address: 127.0.0.1:{port}
  tlsCertFile: {cert}
  tlsKeyFile: {key}
  clientCAFile: {ca}
  authorization: {{mode: always-allow}}
decisions:
  file: {decisions}
targets:
  - metric: payments-rps-forecast
    namespace: payments
    labels: {{app: payments}}
    query: payments_rps{{app="payments"}}
    step: {step}s
    history: {days}d
    timezone: America/New_York
    seasonality: [1d, 1w]
    leadTime: 5m
    quantile: 0.9
    capacityPerReplica: 120
    minReplicas: 2
    maxReplicas: 200
    anomaly: {{externalMetric: true}}
  - metric: payments-rps-recent
    namespace: payments
    labels: {{app: payments}}
    query: payments_rps{{app="payments"}}
    step: {step}s
    history: 1d
    timezone: America/New_York
    seasonality: [1h]
    model: seasonal-naive
    leadTime: 5m
  - metric: payments-rps-slo
    namespace: payments
    labels: {{app: payments}}
    query: payments_rps{{app="payments"}}
    step: 300s
    history: {days}d
    timezone: America/New_York
    seasonality: [1d]
    model: seasonal-naive
    leadTime: 10m
    capacityPerReplica: 120
    minReplicas: 2
    maxReplicas: 200
    slo: {{maxShortPercent: 0.1, servedQuery: 'max(prescale_target_served{{target="payments-rps-slo"}})'}}
)",
      fmt::arg("url", prometheus->url()), fmt::arg("port", port),
      fmt::arg("cert", certs->server_cert.string()), fmt::arg("key", certs->server_key.string()),
      fmt::arg("ca", certs->ca_cert.string()), fmt::arg("step", kStep),
      fmt::arg("decisions", (dir / "decisions.jsonl").string()), fmt::arg("days", kDays));
  const auto kubeconfig = dir / "kubeconfig";
  std::ofstream(kubeconfig) << fmt::format(
      R"(apiVersion: v1
kind: Config
clusters: [{{name: e2e, cluster: {{server: "https://127.0.0.1:{port}", certificate-authority: "{ca}"}}}}]
users: [{{name: e2e, user: {{client-certificate: "{cert}", client-key: "{key}"}}}}]
contexts: [{{name: e2e, context: {{cluster: e2e, user: e2e}}}}]
current-context: e2e
)",
      fmt::arg("port", port), fmt::arg("ca", certs->ca_cert.string()),
      fmt::arg("cert", certs->client_cert.string()), fmt::arg("key", certs->client_key.string()));

  const auto log = dir / "serve.log";
  const pid_t serve = spawn({test::prescale_bin().string(), "serve", "--config",
                             config_path.string(), "--log-format", "json"},
                            log);
  struct Guard {
    pid_t pid;
    ~Guard() {
      if (pid > 0) stop_process(pid, SIGKILL);
    }
  } guard{serve};

  // The fallback kind of payments-rps-forecast in the snapshot the server
  // answers from ("" while forecasting; nullopt before it is listed). A log
  // line is written during the tick, before its snapshot is published: a
  // read right after the line can still get the snapshot before it, so a
  // wait on the log is followed by a wait on this.
  const auto published_fallback = [&]() -> std::optional<std::string> {
    const auto metrics = curl_get(fmt::format("--cacert {}", certs->ca_cert.string()),
                                  fmt::format("https://127.0.0.1:{}/metrics", port));
    if (metrics.code != 200) return std::nullopt;
    const std::string prefix =
        "prescale_target_fallback{target=\"payments-rps-forecast\",reason=\"";
    std::istringstream lines(metrics.body);
    std::string line;
    while (std::getline(lines, line))
      if (line.rfind(prefix, 0) == 0)
        return line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size());
    return std::nullopt;
  };

  // 1. The forecast is served, and equals the engine's own computation.
  // The log is read first: kubectl (a Go binary) runs once the first fit is
  // in, not twice a second beside the fit it would slow on a 2-core machine.
  std::optional<Served> served;
  const bool first_fit = eventually(
      [&] {
        if (log_events(log, "forecasting", "payments-rps-forecast").empty() ||
            log_events(log, "refit", "payments-rps-forecast").empty())
          return false;
        served = kubectl_get(kubeconfig, "payments-rps-forecast");
        return served.has_value();
      },
      240);
  {
    INFO("prescale serve log:\n" << read_file(log));
    REQUIRE(first_fit);
  }
  // Read again once the snapshot answered shows the forecast in use (the
  // first read may predate it). The fits logged before the read: a later one
  // cannot have served it.
  REQUIRE(eventually([&] { return published_fallback() == std::string(); }, 60));
  auto refits = log_events(log, "refit", "payments-rps-forecast");
  served = kubectl_get(kubeconfig, "payments-rps-forecast");
  REQUIRE(served);
  const auto refit = refits.front();
  CHECK(refit.at("fit_seconds").get<double>() >= 0);
  CHECK(refit.contains("backtest_mase"));
  CHECK_FALSE(refit.at("model").get<std::string>().empty());
  // A first fit still running when the target's hourly refit phase came is
  // followed at once by the scheduled refit, which the daemon serves once it
  // is in: compare with that one. The tick after a refit is logged adopts
  // it, so a read one step after the log shows it.
  std::int64_t fit_end = refits.back().at("data_end_unix").get<std::int64_t>();
  if (served->timestamp >= fit_end + 3600) {
    REQUIRE(eventually(
        [&] {
          refits = log_events(log, "refit", "payments-rps-forecast");
          return refits.back().at("data_end_unix").get<std::int64_t>() > fit_end;
        },
        240));
    fit_end = refits.back().at("data_end_unix").get<std::int64_t>();
  }
  if (refits.size() > 1) {
    const std::int64_t logged = parse_rfc3339(refits.back().at("ts").get<std::string>());
    REQUIRE(eventually(
        [&] {
          served = kubectl_get(kubeconfig, "payments-rps-forecast");
          return served && served->timestamp >= logged + kStep;
        },
        60));
  }
  const auto replicas = kubectl_get(kubeconfig, "payments-rps-forecast-replicas");
  REQUIRE(replicas);

  // The engine, replayed in-process on the very samples Prometheus answers,
  // at the decision the kubectl read shows. Started there, the replay's
  // first fit takes the cutoff of the daemon's fit in use (the target's
  // refit phase before the decision, less the settling steps), hence its
  // samples, and its model then follows the samples since. Started at
  // fit_end, the replay would first fit at the phase an hour earlier, then
  // refit at fit_end carrying the first model's anomaly state (forecasts
  // held for the next samples, evidence) into the second: not what the
  // daemon ran, and twice the fitting.
  const std::int64_t decision = served->timestamp / kStep * kStep;
  REQUIRE(decision >= fit_end);
  REQUIRE(decision < fit_end + 3600);  // within the refit interval of the fit it serves
  prometheus::ClientOptions client;
  client.url = prometheus->url();
  prometheus::QueryOptions query;
  query.query = "payments_rps{app=\"payments\"}";
  prometheus::PrometheusSource source(client, query);
  auto seen = source.fetch(fit_end - kDays * 86400, decision, kStep);
  REQUIRE(seen.has_value());
  auto target = config::parse_config(read_file(config_path)).targets.at(0);
  simulate::ReplayOptions replay_options;
  replay_options.start_unix = decision;
  replay_options.end_unix = decision + kStep;
  // On a mismatch, what the replayed engine did beside the daemon's log.
  std::string replay_log;
  std::vector<std::int64_t> replay_fit_ends;
  replay_options.log = [&](const LogRecord& record) {
    replay_log += format_text(record, 0) + "\n";
    for (const auto& [key, value] : record.fields)
      if (record.message == "refit" && key == "data_end_unix")
        replay_fit_ends.push_back(std::get<std::int64_t>(value));
  };
  auto replayed = simulate::replay(*seen, target, replay_options);
  REQUIRE(replayed.has_value());
  REQUIRE_FALSE(replayed->steps.empty());
  const auto& expected = replayed->steps.back();
  {
    INFO("prescale serve log:\n" << read_file(log));
    INFO("in-process replay log:\n" << replay_log);
    CHECK(replay_fit_ends == std::vector<std::int64_t>{fit_end});  // the daemon's samples, once
    REQUIRE(expected.time_unix == decision);
    CHECK(expected.fallback_reason.empty());
    CHECK(served->value == Approx(expected.served).margin(0.001));
    CHECK(served->value >= expected.observed - 0.001);
    CHECK(replicas->value == autoscaler::replicas_for(served->value, 120, 2, 200));
  }

  // 1b. Anomaly signals and the decision trail, over the same HTTPS server.
  const std::string base = fmt::format("https://127.0.0.1:{}", port);
  const std::string anonymous = fmt::format("--cacert {}", certs->ca_cert.string());
  const std::string with_cert = fmt::format(
      "{} --cert {} --key {}", anonymous, certs->client_cert.string(), certs->client_key.string());
  const std::string anomaly_metric = "payments-rps-forecast-anomaly";
  // /metrics has both gauges for the target; the -anomaly metric kubectl reads
  // is |prescale_anomaly_score| rounded up to a milli-unit, compared within
  // one snapshot (the same generation time and score before and after the read).
  bool compared = false;
  for (int attempt = 0; attempt < 8 && !compared; ++attempt) {
    const auto before = curl_get(anonymous, base + "/metrics");
    REQUIRE(before.code == 200);
    const auto score =
        sample_value(before.body, "prescale_anomaly_score{target=\"payments-rps-forecast\"}");
    const auto outside =
        sample_value(before.body, "prescale_outside_interval{target=\"payments-rps-forecast\"}");
    const auto fallback = sample_value(
        before.body, "prescale_target_fallback{target=\"payments-rps-forecast\",reason=\"\"}");
    INFO(before.body);
    REQUIRE(score);
    REQUIRE(outside);
    CHECK(std::isfinite(*score));
    CHECK((*outside == 0 || *outside == 1));
    // prescale_anomaly is the rule of the records; the evidence is at least 1 while it is 1.
    const auto in_anomaly =
        sample_value(before.body, "prescale_anomaly{target=\"payments-rps-forecast\"}");
    REQUIRE(in_anomaly);
    CHECK((*in_anomaly == 1 ? std::abs(*score) >= 1 : std::abs(*score) <= 1));
    CHECK(sample_value(before.body, "prescale_residual_z{target=\"payments-rps-forecast\"}"));
    CHECK(sample_value(before.body, "prescale_anomaly_score{target=\"payments-rps-recent\"}"));
    CHECK(sample_value(before.body, "prescale_outside_interval{target=\"payments-rps-recent\"}"));
    const auto served_anomaly = kubectl_get(kubeconfig, anomaly_metric);
    REQUIRE(served_anomaly);
    CHECK(served_anomaly->value >= 0);
    const auto after = curl_get(anonymous, base + "/metrics");
    const auto generated = "prescale_snapshot_generated_timestamp_seconds";
    if (!fallback || sample_value(before.body, generated) != sample_value(after.body, generated) ||
        sample_value(after.body, "prescale_anomaly_score{target=\"payments-rps-forecast\"}") !=
            score)
      continue;  // a tick came between the reads
    const double expected_value = std::min(std::abs(*score), autoscaler::kMaxServedAnomalyScore);
    CHECK(served_anomaly->value >= expected_value - 1e-6);
    CHECK(served_anomaly->value <= expected_value + 0.001 + 1e-6);
    compared = true;
  }
  CHECK(compared);
  {
    const auto raw =
        run(fmt::format("kubectl --kubeconfig {} get --raw "
                        "'/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/"
                        "{}?labelSelector=app%3Dpayments'",
                        kubeconfig.string(), anomaly_metric));
    REQUIRE(raw.status == 0);
    const auto list = nlohmann::json::parse(raw.output);
    CHECK(list.at("apiVersion") == "external.metrics.k8s.io/v1beta1");
    REQUIRE(list.at("items").size() == 1);
    const auto& item = list.at("items").at(0);
    CHECK(item.at("metricLabels") == nlohmann::json{{"app", "payments"}});
    CHECK(item.at("window") == kStep);
    const auto value = item.at("value").get<std::string>();
    auto canonical = kubernetes::canonical_quantity(value);  // a valid quantity, already canonical
    REQUIRE(canonical.has_value());
    CHECK(*canonical == value);
  }
  // The target that did not opt in: its forecast is served, its -anomaly is a 404 Status.
  REQUIRE(
      eventually([&] { return kubectl_get(kubeconfig, "payments-rps-recent").has_value(); }, 60));
  {
    const std::string path =
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/payments-rps-recent-anomaly";
    const auto refused =
        run(fmt::format("kubectl --kubeconfig {} get --raw '{}'", kubeconfig.string(), path));
    CHECK(refused.status != 0);
    CHECK(refused.output.find("NotFound") != std::string::npos);
    const auto status = curl_get(with_cert, base + path);
    CHECK(status.code == 404);
    const auto body = nlohmann::json::parse(status.body);
    CHECK(body.at("kind") == "Status");
    CHECK(body.at("status") == "Failure");
    CHECK(body.at("reason") == "NotFound");
    CHECK(body.at("code") == 404);
    CHECK(body.at("message").get<std::string>().find("payments-rps-recent-anomaly") !=
          std::string::npos);
    const auto discovery =
        run(fmt::format("kubectl --kubeconfig {} get --raw /apis/external.metrics.k8s.io/v1beta1",
                        kubeconfig.string()));
    REQUIRE(discovery.status == 0);
    std::set<std::string> names;
    const auto resources = nlohmann::json::parse(discovery.output);
    for (const auto& resource : resources.at("resources"))
      names.insert(resource.at("name").get<std::string>());
    CHECK(names == std::set<std::string>{"payments-rps-forecast", "payments-rps-forecast-replicas",
                                         anomaly_metric, "payments-rps-recent", "payments-rps-slo",
                                         "payments-rps-slo-replicas"});
  }
  // GET /decisions with the client certificate; refused without one, as the metrics API is.
  std::vector<autoscaler::DecisionRecord> answered;
  {
    const auto listed =
        curl_get(with_cert, base + "/decisions?target=payments-rps-forecast&since=0");
    REQUIRE(listed.code == 200);
    CHECK(nlohmann::json::parse(listed.body).at("kind") == "DecisionList");
    auto records = autoscaler::parse_decision_list(listed.body);
    REQUIRE(records.has_value());
    REQUIRE_FALSE(records->empty());
    bool refit_recorded = false;
    for (const auto& r : *records) {
      CHECK(r.target == "payments-rps-forecast");
      CHECK_FALSE(r.reason.empty());
      refit_recorded = refit_recorded || r.kind == autoscaler::DecisionKind::refit;
    }
    CHECK(refit_recorded);
    answered = *records;
    const auto later =
        curl_get(with_cert, fmt::format("{}/decisions?target=payments-rps-forecast&since={}", base,
                                        answered.back().time_unix + 1));
    REQUIRE(later.code == 200);
    auto none = autoscaler::parse_decision_list(later.body);
    REQUIRE(none.has_value());
    for (const auto& r : *none)
      CHECK(r.time_unix > answered.back().time_unix);  // only newer ticks, if any
    CHECK(curl_get(with_cert, base + "/decisions?since=yesterday").code == 400);
    for (const std::string& path :
         {std::string("/decisions?target=payments-rps-forecast&since=0"),
          "/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/" + anomaly_metric}) {
      const auto refused = curl_get(anonymous, base + path);
      INFO(path << ": " << refused.body);
      CHECK(refused.code == 401);
      CHECK(nlohmann::json::parse(refused.body).at("reason") == "Unauthorized");
    }
    // `prescale explain --server` reads the same records over the same TLS.
    const auto explained =
        run(fmt::format("{} explain --server {} {} --target payments-rps-forecast",
                        test::prescale_bin().string(), base, with_cert));
    INFO(explained.output);
    CHECK(explained.status == 0);
    CHECK(explained.output.find("payments-rps-forecast") != std::string::npos);
  }

  // 1c. A target with `slo:` tunes at its first fit, on decisions replayed
  // from the history it fetched, and /metrics and /status carry the
  // tuning's figures (what the alerts and a FinOps dashboard read).
  std::string slo_metrics;
  const std::string slo_met = "prescale_target_slo_met{target=\"payments-rps-slo\",hpa=";
  const bool tuned = eventually(
      [&] {
        const auto metrics = curl_get(anonymous, base + "/metrics");
        if (metrics.code != 200 || !sample_value(metrics.body, slo_met + "\"prescale\"}"))
          return false;
        slo_metrics = metrics.body;
        return true;
      },
      180);
  {
    INFO("prescale serve log:\n" << read_file(log));
    REQUIRE(tuned);
  }
  {
    INFO(slo_metrics);
    const auto value = [&](const std::string& series) {
      const auto v = sample_value(slo_metrics, series);
      REQUIRE(v);
      return *v;
    };
    const std::string t = "{target=\"payments-rps-slo\"}";
    const double met = value(slo_met + "\"prescale\"}");
    CHECK((met == 0 || met == 1));
    const double reactive_met = value(slo_met + "\"reactive\"}");
    CHECK((reactive_met == 0 || reactive_met == 1));
    // Up to two thirds of the 15 days fetched are replayed as decisions.
    const double days = value("prescale_target_slo_history_days" + t);
    CHECK(days >= 5);
    CHECK(days <= 10.1);
    CHECK(value("prescale_target_slo_allowed_minutes" + t) ==
          Approx(days * 1440 * 0.001).epsilon(0.05));
    const std::string hours = "prescale_target_slo_replica_hours{target=\"payments-rps-slo\",hpa=";
    // At least minReplicas (2) every hour of those days.
    CHECK(value(hours + "\"prescale\"}") >= 2 * 24 * days * 0.99);
    CHECK(value(hours + "\"reactive\"}") >= 2 * 24 * days * 0.99);
    CHECK(value("prescale_target_headroom" + t) >= 1);
    CHECK(value("prescale_target_slo_served_days" + t) >= days - 0.1);
    bool read_back = false;
    for (const auto& e : log_events(log, "slo: served values read back", "payments-rps-slo"))
      read_back = read_back || e.value("found", 0) >= static_cast<int>(days * 288 * 0.99);
    CHECK(read_back);
    CHECK(value("prescale_target_interval_quantile" + t) == 0.9);
    // The target without `slo:` has no such series.
    CHECK(!sample_value(
        slo_metrics, "prescale_target_slo_met{target=\"payments-rps-forecast\",hpa=\"prescale\"}"));

    // /status: the record's words, and the same figures as numbers.
    const auto status = curl_get(with_cert, base + "/status");
    REQUIRE(status.code == 200);
    INFO(status.body);
    bool found = false;
    const auto status_json = nlohmann::json::parse(status.body);
    for (const auto& entry : status_json.at("targets")) {
      if (entry.at("target") != "payments-rps-slo") {
        CHECK(entry.at("slo_figures").is_null());
        continue;
      }
      found = true;
      CHECK_THAT(entry.at("slo").get<std::string>(),
                 Catch::StartsWith("SLO 0.1% of minutes short"));
      const auto& figures = entry.at("slo_figures");
      CHECK(figures.at("days").get<double>() >= days);  // a tick may have recorded one more
      CHECK(figures.at("meets_slo").is_boolean());
      CHECK(figures.at("replica_hours").get<double>() > 0);
      CHECK(figures.at("reactive").at("replica_hours").get<double>() > 0);
      // What the values served did: the decisions replayed from history
      // carry what the process before served, read back from Prometheus,
      // so the figures as served do not start again from nothing.
      const auto& served = figures.at("served");
      REQUIRE(served.is_object());
      CHECK(served.at("days").get<double>() >= days - 0.1);
      CHECK(served.at("replica_hours").get<double>() >= 2 * 24 * days * 0.99);
    }
    CHECK(found);
  }

  // 2. A bad config on SIGHUP is rejected (logged with its YAML path) and
  // the running config keeps serving.
  const std::string good_config = read_file(config_path);
  // Write-then-rename, as a ConfigMap update does: the daemon's file watcher
  // never reads half a file (a prefix of the config may parse, with fewer
  // targets, and drop their state).
  const auto replace_config = [&](const std::string& text) {
    const auto aside = config_path.string() + ".new";
    std::ofstream(aside) << text;
    std::filesystem::rename(aside, config_path);
  };
  {
    std::string bad = good_config;
    bad.replace(bad.find("leadTime: 5m"), 12, "leadTime: 5x");
    replace_config(bad);
  }
  ::kill(serve, SIGHUP);
  REQUIRE(eventually(
      [&] {
        for (const auto& e :
             log_events(log, "config reload rejected; the running config keeps serving"))
          if (e.value("why", "") == "SIGHUP" &&
              e.value("error", "").find("targets[0].leadTime: bad duration '5x'") !=
                  std::string::npos)
            return true;
        return false;
      },
      30));
  int wait_status = 0;
  REQUIRE(::waitpid(serve, &wait_status, WNOHANG) == 0);  // still running
  REQUIRE(kubectl_get(kubeconfig, "payments-rps-forecast"));
  replace_config(good_config);

  // 3. Prometheus goes away: after more than 3 steps the target falls back
  // to the last observed value and the log says why.
  // The value the daemon holds when Prometheus stops is the trace's newest
  // sample (the trace ends when the test starts; many ticks have read it
  // since), not necessarily the one step 1's decision read: that decision
  // may fall on the trace's last step, before its sample is visible.
  const auto newest = source.fetch(decision, std::time(nullptr) / kStep * kStep + kStep, kStep);
  REQUIRE(newest.has_value());
  double last_observed = std::nan("");
  for (double v : newest->values)
    if (std::isfinite(v)) last_observed = v;
  REQUIRE(std::isfinite(last_observed));
  const auto prometheus_dir = prometheus->dir();
  const int prometheus_port = prometheus->port();
  const auto prometheus_url = prometheus->url();
  // Only a fallback logged after the stop counts: on a loaded machine a slow
  // tick during the first fit can log "data stale" long before this point.
  const auto stale_fallbacks = [&] {
    std::size_t n = 0;
    for (const auto& e : log_events(log, "fallback: serving the observed value"))
      if (e.value("reason", "").find("data stale") != std::string::npos) ++n;
    return n;
  };
  const std::size_t stale_before = stale_fallbacks();
  prometheus->stop();
  REQUIRE(eventually([&] { return stale_fallbacks() > stale_before; }, 120));
  REQUIRE(eventually([&] { return published_fallback() == std::string("data_stale"); }, 60));
  served = kubectl_get(kubeconfig, "payments-rps-forecast");
  REQUIRE(served);
  CHECK(served->value == Approx(last_observed).margin(0.001));

  // 4. Prometheus returns on the same address: forecasting resumes.
  const auto forecasting_before = log_events(log, "forecasting", "payments-rps-forecast").size();
  const pid_t restarted =
      spawn({"/usr/bin/prometheus", "--config.file=" + (prometheus_dir / "prometheus.yml").string(),
             "--storage.tsdb.path=" + (prometheus_dir / "data").string(),
             "--storage.tsdb.retention.time=10y",
             fmt::format("--web.listen-address=127.0.0.1:{}", prometheus_port),
             "--query.lookback-delta=1h", "--log.level=warn"},
            prometheus_dir / "prometheus-restarted.log");
  struct PrometheusGuard {
    pid_t pid;
    ~PrometheusGuard() { stop_process(pid); }
  } prometheus_guard{restarted};
  REQUIRE(eventually(
      [&] {
        return log_events(log, "forecasting", "payments-rps-forecast").size() > forecasting_before;
      },
      120));
  REQUIRE(eventually([&] { return published_fallback() == std::string(); }, 60));
  served = kubectl_get(kubeconfig, "payments-rps-forecast");
  REQUIRE(served);
  CHECK(served->value >= last_observed - 0.001);

  // 5. SIGTERM stops the daemon gracefully (exit status 0).
  CHECK(stop_process(serve) == 0);
  guard.pid = -1;
  {
    INFO("prescale serve log:\n" << read_file(log));
    CHECK_FALSE(log_events(log, "stopped").empty());
  }
  // Every record /decisions answered is in the decisions file, in order.
  auto on_disk = autoscaler::read_decision_files(dir / "decisions.jsonl");
  REQUIRE(on_disk.has_value());
  std::size_t found = 0;
  for (const auto& r : *on_disk)
    if (found < answered.size() && autoscaler::to_json(r) == autoscaler::to_json(answered[found]))
      ++found;
  CHECK(found == answered.size());
  (void)prometheus_url;
}
