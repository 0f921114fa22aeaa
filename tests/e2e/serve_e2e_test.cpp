// End to end, with every component real: Prometheus backfilled with five
// weeks of the payments trace whose last sample is "now", `prescale serve`
// pointed at it, and kubectl reading both external metrics over TLS with a
// client certificate. The served value must equal what the engine computes
// from the same data (replayed in-process) and never be below the observed
// value; killing Prometheus must make the target fall back to the last
// observed value, saying why, and it must recover when Prometheus returns.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "prescale/autoscaler/demo.hpp"
#include "prescale/autoscaler/policy.hpp"
#include "prescale/autoscaler/replay.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/prometheus/prometheus_source.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"

using namespace prescale;

namespace {

constexpr std::int64_t kStep = 15;  // short, so that "stale" (> 3 steps) comes within a minute

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
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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

std::optional<Served> kubectl_get(const std::filesystem::path& kubeconfig, const std::string& metric) {
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

// JSON log lines of the daemon with the given message.
std::vector<nlohmann::json> log_events(const std::filesystem::path& log, const std::string& message) {
  std::vector<nlohmann::json> events;
  std::istringstream lines(read_file(log));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '{') continue;
    auto event = nlohmann::json::parse(line, nullptr, false);
    if (!event.is_discarded() && event.value("msg", "") == message) events.push_back(event);
  }
  return events;
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
  // Five weeks of the payments trace, the last sample at the current step.
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  autoscaler::TraceOptions trace_options;
  trace_options.days = 35;
  trace_options.step_seconds = kStep;
  trace_options.start_unix = now / kStep * kStep - 35 * 86400 + kStep;
  const auto trace = autoscaler::generate_trace(trace_options);
  REQUIRE(trace.has_value());
  REQUIRE(trace->time_at(trace->size() - 1) == now / kStep * kStep);

  // A lookback of an hour keeps answering the last backfilled value while the
  // test runs, as a live scrape would keep the data fresh.
  test::PrometheusFixture::Options prometheus_options;
  prometheus_options.lookback_delta = "1h";
  auto prometheus = std::make_unique<test::PrometheusFixture>(
      std::vector<test::MetricSeries>{{"payments_rps", {{"app", "payments"}}, *trace}}, prometheus_options);

  const auto dir = prometheus->dir() / "prescale";
  auto certs = autoscaler::write_demo_certificates(dir, "e2e-user", "payments-team");
  REQUIRE(certs.has_value());
  const int port = test::PrometheusFixture::free_port();
  const auto config_path = dir / "prescale.yaml";
  std::ofstream(config_path) << fmt::format(R"(prometheus:
  url: {url}
  timeout: 5s
server:
  address: 127.0.0.1:{port}
  tlsCertFile: {cert}
  tlsKeyFile: {key}
  clientCAFile: {ca}
  authorization: {{mode: always-allow}}
targets:
  - metric: payments-rps-forecast
    namespace: payments
    labels: {{app: payments}}
    query: payments_rps{{app="payments"}}
    step: {step}s
    history: 35d
    timezone: America/New_York
    seasonality: [1d, 1w]
    leadTime: 5m
    quantile: 0.9
    capacityPerReplica: 120
    minReplicas: 2
    maxReplicas: 200
)",
                                           fmt::arg("url", prometheus->url()), fmt::arg("port", port),
                                           fmt::arg("cert", certs->server_cert.string()),
                                           fmt::arg("key", certs->server_key.string()),
                                           fmt::arg("ca", certs->ca_cert.string()), fmt::arg("step", kStep));
  const auto kubeconfig = dir / "kubeconfig";
  std::ofstream(kubeconfig) << fmt::format(R"(apiVersion: v1
kind: Config
clusters: [{{name: e2e, cluster: {{server: "https://127.0.0.1:{port}", certificate-authority: "{ca}"}}}}]
users: [{{name: e2e, user: {{client-certificate: "{cert}", client-key: "{key}"}}}}]
contexts: [{{name: e2e, context: {{cluster: e2e, user: e2e}}}}]
current-context: e2e
)",
                                           fmt::arg("port", port), fmt::arg("ca", certs->ca_cert.string()),
                                           fmt::arg("cert", certs->client_cert.string()),
                                           fmt::arg("key", certs->client_key.string()));

  const auto log = dir / "serve.log";
  const pid_t serve = spawn({test::prescale_bin().string(), "serve", "--config", config_path.string(),
                             "--log-format", "json"},
                            log);
  struct Guard {
    pid_t pid;
    ~Guard() {
      if (pid > 0) stop_process(pid, SIGKILL);
    }
  } guard{serve};
  INFO("prescale serve log:\n" << read_file(log));

  // 1. The forecast is served, and equals the engine's own computation.
  std::optional<Served> served;
  REQUIRE(eventually(
      [&] {
        served = kubectl_get(kubeconfig, "payments-rps-forecast");
        return served && !log_events(log, "forecasting").empty() && !log_events(log, "refit").empty();
      },
      240));
  // Read again after the forecast is in use (the first read may predate it).
  served = kubectl_get(kubeconfig, "payments-rps-forecast");
  REQUIRE(served);
  const auto replicas = kubectl_get(kubeconfig, "payments-rps-forecast-replicas");
  REQUIRE(replicas);
  const auto refit = log_events(log, "refit").front();
  CHECK(refit.at("fit_seconds").get<double>() >= 0);
  CHECK(refit.contains("backtest_mase"));
  CHECK_FALSE(refit.at("model").get<std::string>().empty());

  // The engine, replayed in-process on the very samples Prometheus answers,
  // from the daemon's first fit to the decision the kubectl read shows.
  const std::int64_t fit_end = refit.at("data_end_unix").get<std::int64_t>();
  const std::int64_t decision = served->timestamp / kStep * kStep;
  REQUIRE(decision >= fit_end);
  prometheus::ClientOptions client;
  client.url = prometheus->url();
  prometheus::QueryOptions query;
  query.query = "payments_rps{app=\"payments\"}";
  prometheus::PrometheusSource source(client, query);
  auto seen = source.fetch(fit_end - 35 * 86400, decision, kStep);
  REQUIRE(seen.has_value());
  auto target = config::parse_config(read_file(config_path)).targets.at(0);
  autoscaler::ReplayOptions replay_options;
  replay_options.start_unix = fit_end;
  replay_options.end_unix = decision + kStep;
  auto replayed = autoscaler::replay(*seen, target, replay_options);
  REQUIRE(replayed.has_value());
  REQUIRE_FALSE(replayed->steps.empty());
  const auto& expected = replayed->steps.back();
  REQUIRE(expected.time_unix == decision);
  CHECK(expected.fallback_reason.empty());
  CHECK(served->value == Approx(expected.served).margin(0.001));
  CHECK(served->value >= expected.observed - 0.001);
  CHECK(replicas->value == autoscaler::replicas_for(served->value, 120, 2, 200));

  // 2. A bad config on SIGHUP is rejected (logged with its YAML path) and
  // the running config keeps serving.
  const std::string good_config = read_file(config_path);
  {
    std::string bad = good_config;
    bad.replace(bad.find("leadTime: 5m"), 12, "leadTime: 5x");
    std::ofstream(config_path) << bad;
  }
  ::kill(serve, SIGHUP);
  REQUIRE(eventually(
      [&] {
        for (const auto& e : log_events(log, "config reload rejected; the running config keeps serving"))
          if (e.value("why", "") == "SIGHUP" &&
              e.value("error", "").find("targets[0].leadTime: bad duration '5x'") != std::string::npos)
            return true;
        return false;
      },
      30));
  int wait_status = 0;
  REQUIRE(::waitpid(serve, &wait_status, WNOHANG) == 0);  // still running
  REQUIRE(kubectl_get(kubeconfig, "payments-rps-forecast"));
  std::ofstream(config_path) << good_config;

  // 3. Prometheus goes away: after more than 3 steps the target falls back
  // to the last observed value and the log says why.
  const double last_observed = expected.observed;
  const auto prometheus_dir = prometheus->dir();
  const int prometheus_port = prometheus->port();
  const auto prometheus_url = prometheus->url();
  prometheus->stop();
  REQUIRE(eventually(
      [&] {
        for (const auto& e : log_events(log, "fallback: serving the observed value"))
          if (e.value("reason", "").find("data stale") != std::string::npos) return true;
        return false;
      },
      120));
  served = kubectl_get(kubeconfig, "payments-rps-forecast");
  REQUIRE(served);
  CHECK(served->value == Approx(last_observed).margin(0.001));

  // 4. Prometheus returns on the same address: forecasting resumes.
  const auto forecasting_before = log_events(log, "forecasting").size();
  const pid_t restarted = spawn({"/usr/bin/prometheus", "--config.file=" + (prometheus_dir / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (prometheus_dir / "data").string(),
                                 "--storage.tsdb.retention.time=10y",
                                 fmt::format("--web.listen-address=127.0.0.1:{}", prometheus_port),
                                 "--query.lookback-delta=1h", "--log.level=warn"},
                                prometheus_dir / "prometheus-restarted.log");
  struct PrometheusGuard {
    pid_t pid;
    ~PrometheusGuard() { stop_process(pid); }
  } prometheus_guard{restarted};
  REQUIRE(eventually([&] { return log_events(log, "forecasting").size() > forecasting_before; }, 120));
  served = kubectl_get(kubeconfig, "payments-rps-forecast");
  REQUIRE(served);
  CHECK(served->value >= last_observed - 0.001);

  // 5. SIGTERM stops the daemon gracefully (exit status 0).
  CHECK(stop_process(serve) == 0);
  guard.pid = -1;
  CHECK_FALSE(log_events(log, "stopped").empty());
  (void)prometheus_url;
}
