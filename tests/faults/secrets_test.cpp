// Secrets never leave: a password planted in a basic-auth password file (and
// a real Prometheus that asks for it), the same password planted in a
// `prometheus.url` (refused at start-up, by check-config and by a reload),
// and a marker planted in every query. Every unauthenticated response of the
// real `prescale serve` (/metrics, /healthz, /livez, /readyz, discovery,
// error Statuses, the plain-HTTP probe port) and every line it logs is
// searched for the password;
// unauthenticated responses also for the query marker and the Prometheus
// URL (a fallback reason used to carry both onto /metrics).
#include <fmt/core.h>

#include <nlohmann/json.hpp>

// Before httplib.h (in fault_support.hpp): its <resolv.h> defines a macro
// `_res` that Eigen, pulled in by demo.hpp, uses as a parameter name.
#include "prescale/daemon/demo.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"
// clang-format off
#include "fault_support.hpp"
// clang-format on

using namespace prescale;

namespace {

constexpr const char* kSecret = "pw-7Qz!planted-secret";
// bcrypt (cost 10) of kSecret, as Prometheus' web config wants it
// (python3: crypt.crypt(kSecret, "$2b$10$prescaleplantedsecretA")).
constexpr const char* kSecretBcrypt =
    "$2b$10$prescaleplantedsecret.oaiUIPPyFZ1gC8.dWD1RkrUpFRJV0HK";
constexpr const char* kUser = "prescale";
constexpr const char* kQueryMarker = "qmark7f3a";
constexpr std::int64_t kStep = 15;

std::string config_text(const std::string& url, int port, int probe_port,
                        const daemon::DemoCertificates& certs,
                        const std::filesystem::path& password_file) {
  return fmt::format(
      R"(prometheus:
  url: {url}
  timeout: 5s
  basicAuth:
    username: {user}
    passwordFile: {password_file}
server:
  address: 127.0.0.1:{port}
  probeAddress: 127.0.0.1:{probe_port}
  tlsCertFile: {cert}
  tlsKeyFile: {key}
  clientCAFile: {ca}
  authorization: {{mode: always-allow}}
defaults:
  step: {step}s
  history: 2h
  seasonality: [10m]
  leadTime: 30s
  backtestOrigins: 1
targets:
  # Fetches through basic auth: data, then a forecast or a declared fallback.
  - metric: secret-ok
    namespace: default
    labels: {{app: secret}}
    query: load{{token="{marker}"}}
  # Prometheus refuses the query (HTTP 400 quoting it): a fallback whose
  # reason carries the server's words.
  - metric: secret-broken
    namespace: default
    labels: {{app: secret}}
    query: load{{token="{marker}"}} +
  # Two series: an error that names their labels (the marker among them).
  - metric: secret-several
    namespace: default
    labels: {{app: secret}}
    query: load{{token=~"{marker}|{marker}-b"}}
)",
      fmt::arg("url", url), fmt::arg("user", kUser),
      fmt::arg("password_file", password_file.string()), fmt::arg("port", port),
      fmt::arg("probe_port", probe_port), fmt::arg("cert", certs.server_cert.string()),
      fmt::arg("key", certs.server_key.string()), fmt::arg("ca", certs.ca_cert.string()),
      fmt::arg("step", kStep), fmt::arg("marker", kQueryMarker));
}

struct Http {
  int code = 0;
  std::string text;  ///< headers and body
};

// Code 0 when no answer came (not listening yet).
Http curl(const std::string& tls, const std::string& url) {
  const auto result = faults::run(
      fmt::format("curl -sS -i --max-time 10 -w '\\n%{{http_code}}' {} '{}'", tls, url));
  if (result.status != 0) return Http{};
  const auto newline = result.output.rfind('\n');
  REQUIRE(newline != std::string::npos);
  return Http{std::stoi(result.output.substr(newline + 1)), result.output.substr(0, newline)};
}

// Which of the planted strings `text` contains.
std::vector<std::string> leaks(const std::string& text, const std::vector<std::string>& planted) {
  std::vector<std::string> found;
  for (const auto& p : planted)
    if (text.find(p) != std::string::npos) found.push_back(p);
  return found;
}

}  // namespace

TEST_CASE("no password, query or Prometheus URL on unauthenticated endpoints or in the log",
          "[faults][secrets]") {
  test::TempDir dir("prescale-secrets");
  // A real Prometheus behind basic auth, holding the load series of the last hours.
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  forecast::Series series;
  series.step_seconds = kStep;
  series.start_unix = now / kStep * kStep - 3 * 3600;
  for (std::int64_t t = series.start_unix; t <= now - kStep; t += kStep)
    series.values.push_back(faults::healthy_load(static_cast<double>(t)));
  std::ofstream(dir.path / "web.yml")
      << "basic_auth_users:\n  " << kUser << ": " << kSecretBcrypt << "\n";
  test::PrometheusFixture::Options prometheus_options;
  prometheus_options.extra_args = {"--web.config.file=" + (dir.path / "web.yml").string()};
  prometheus_options.basic_auth_user = kUser;
  prometheus_options.basic_auth_password = kSecret;
  test::PrometheusFixture prometheus(
      {{"load", {{"token", kQueryMarker}}, series}, {"load", {{"token", "qmark7f3a-b"}}, series}},
      prometheus_options);
  // It does ask for the password.
  REQUIRE(
      faults::run(fmt::format("curl -s -o /dev/null -w '%{{http_code}}' '{}/api/v1/query?query=up'",
                              prometheus.url()))
          .output == "401");

  auto certs = daemon::write_demo_certificates(dir.path / "tls", "secret-user", "secret-team");
  REQUIRE(certs.has_value());
  const auto password_file = dir.path / "prometheus-password";
  std::ofstream(password_file) << kSecret << "\n";
  const int port = faults::free_port();
  const int probe_port = faults::free_port();
  const auto config_path = dir.path / "prescale.yaml";
  const auto good = config_text(prometheus.url(), port, probe_port, *certs, password_file);
  // The same password written into the URL, as the probe found it accepted.
  std::string with_credentials_url = prometheus.url();
  with_credentials_url.insert(with_credentials_url.find("://") + 3,
                              fmt::format("{}:{}@", kUser, kSecret));
  const auto bad = config_text(with_credentials_url, port, probe_port, *certs, password_file);
  const auto bad_path = dir.path / "with-credentials.yaml";
  std::ofstream(bad_path) << bad;

  const std::vector<std::string> planted_secret = {kSecret};
  const std::vector<std::string> planted_unauthenticated = {
      kSecret, kQueryMarker, prometheus.url(), fmt::format("127.0.0.1:{}", prometheus.port())};

  // check-config and a start-up refuse the URL, saying where the password goes.
  {
    // faults::run drops stderr: fold it into stdout, the messages are there.
    const auto checked = faults::run(fmt::format("{{ {} check-config {} 2>&1; }}",
                                                 test::prescale_bin().string(), bad_path.string()));
    INFO(checked.output);
    CHECK(checked.status == 1);
    CHECK_THAT(checked.output,
               Catch::Contains("prometheus.url") && Catch::Contains("basicAuth.passwordFile"));
    CHECK(leaks(checked.output, planted_secret).empty());
    const auto started = faults::run(fmt::format("{{ {} serve --config {} 2>&1; }}",
                                                 test::prescale_bin().string(), bad_path.string()));
    INFO(started.output);
    CHECK(started.status == 1);
    CHECK_THAT(started.output, Catch::Contains("credentials in the URL are not accepted"));
    CHECK(leaks(started.output, planted_secret).empty());
    // The good file prints resolved without the password (only its file name).
    std::ofstream(config_path) << good;
    const auto resolved = faults::run(
        fmt::format("{} check-config {}", test::prescale_bin().string(), config_path.string()));
    CHECK(resolved.status == 0);
    CHECK_THAT(resolved.output, Catch::Contains(password_file.string()));
    CHECK(leaks(resolved.output, planted_secret).empty());
  }

  const auto log = dir.path / "serve.log";
  const pid_t pid = faults::spawn({test::prescale_bin().string(), "serve", "--config",
                                   config_path.string(), "--log-format", "json"},
                                  log);
  struct Guard {
    pid_t pid;
    ~Guard() {
      if (pid > 0) faults::stop_process(pid, SIGKILL);
    }
  } guard{pid};
  INFO("prescale serve log: " << faults::read_file(log));

  const std::string base = fmt::format("https://127.0.0.1:{}", port);
  const std::string anonymous = "--cacert " + certs->ca_cert.string();
  const std::string authenticated =
      fmt::format("--cacert {} --cert {} --key {}", certs->ca_cert.string(),
                  certs->client_cert.string(), certs->client_key.string());
  // Wait for every target's state: secret-ok fetched through basic auth,
  // the other two in fallback with Prometheus' error in the reason.
  nlohmann::json status;
  const auto target_of = [&](const std::string& name) {
    for (const auto& t : status.at("targets"))
      if (t.at("target") == name) return t;
    return nlohmann::json();
  };
  REQUIRE(faults::eventually(
      [&] {
        REQUIRE(faults::running(pid));
        const auto got = curl(authenticated, base + "/status");
        if (got.code != 200) return false;
        status =
            nlohmann::json::parse(got.text.substr(got.text.find("\r\n\r\n") + 4), nullptr, false);
        if (status.is_discarded() || status.at("targets").size() != 3) return false;
        const auto ok = target_of("secret-ok");
        const auto broken = target_of("secret-broken");
        const auto several = target_of("secret-several");
        return ok.at("observed").get<double>() > 0 &&
               broken.at("fallback_reason").get<std::string>().find("HTTP 400") !=
                   std::string::npos &&
               several.at("fallback_reason").get<std::string>().find("2 series") !=
                   std::string::npos;
      },
      90));
  INFO("status: " << status.dump(2));

  // A reload to the URL with credentials is refused; the running config keeps serving.
  faults::replace_file(config_path, bad);
  ::kill(pid, SIGHUP);
  const auto rejected = [&] {
    return faults::read_file(log).find("config reload rejected") != std::string::npos;
  };
  REQUIRE(faults::eventually(rejected, 20));
  REQUIRE(faults::running(pid));
  faults::replace_file(config_path, good);

  // Every unauthenticated response: probes, discovery, /metrics, and the
  // Statuses of refused and unknown requests.
  const std::string metric_path =
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/secret-broken?labelSelector=app%3D"
      "secret";
  const std::vector<std::string> unauthenticated_paths = {
      "/metrics",
      "/healthz",
      "/livez",
      "/readyz",
      "/readyz?verbose",
      "/apis",
      "/apis/external.metrics.k8s.io",
      "/apis/external.metrics.k8s.io/v1beta1",
      metric_path,
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/secret-missing",
      "/status",
      "/decisions",
      "/openapi/v2",
      "/no-such-path",
  };
  bool metrics_seen = false;
  for (const auto& path : unauthenticated_paths) {
    const auto got = curl(anonymous, base + path);
    INFO(path << " -> " << got.code << "\n" << got.text);
    CHECK(got.code != 0);
    CHECK(leaks(got.text, planted_unauthenticated).empty());
    if (path == "/metrics" && got.code == 200) {
      metrics_seen = true;
      // The fallback is there, as a kind.
      CHECK_THAT(got.text,
                 Catch::Contains(
                     "prescale_target_fallback{target=\"secret-broken\",reason=\"no_data\"} 1"));
    }
  }
  CHECK(metrics_seen);
  // The plain-HTTP probe port (kubelet's), every path it answers and one it does not.
  for (const auto& path : {"/healthz", "/livez", "/readyz", "/readyz?verbose", "/metrics"}) {
    const auto got = curl("", fmt::format("http://127.0.0.1:{}{}", probe_port, path));
    INFO(path << " on the probe port -> " << got.code << "\n" << got.text);
    CHECK(got.code != 0);
    CHECK(leaks(got.text, planted_unauthenticated).empty());
  }
  // Authenticated answers may name the query's server, never the password.
  for (const auto& path : {std::string("/status"), std::string("/decisions"), metric_path}) {
    const auto got = curl(authenticated, base + path);
    INFO(path << " -> " << got.code << "\n" << got.text);
    CHECK(leaks(got.text, planted_secret).empty());
  }

  CHECK(faults::stop_process(pid) == 0);
  guard.pid = -1;
  // Every line it logged, from start-up to shutdown.
  const auto text = faults::read_file(log);
  REQUIRE(text.find("config reload rejected") != std::string::npos);
  std::istringstream lines(text);
  std::size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    INFO("log line: " << line);
    CHECK(leaks(line, planted_secret).empty());
  }
  CHECK(count > 5);
}
