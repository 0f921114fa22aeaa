// PrometheusSource and IncrementalHistory against a real Prometheus (Debian's
// /usr/bin/prometheus) backfilled with five weeks of one-minute history: what
// is read back must equal what was written, every step, across chunk edges,
// gaps preserved.
#include <fmt/core.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "prescale/file/csv_series.hpp"
#include "prescale/prometheus/prometheus_source.hpp"
#include "prescale/source/incremental_history.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"

using namespace prescale::prometheus;
using prescale::forecast::Series;

namespace {

constexpr std::int64_t kStep = 60;
constexpr std::size_t kPoints = 35 * 1440;

// Five weeks ending two hours before the top of the current hour (older than
// the head block, which backfilling must not touch).
std::int64_t history_start() {
  static const std::int64_t start = [] {
    const std::int64_t now = std::time(nullptr);
    return now - now % 3600 - 2 * 3600 - static_cast<std::int64_t>(kPoints) * kStep;
  }();
  return start;
}

// A daily cycle plus noise with full double precision (bit-exact round trip
// is part of the test), gaps at and across chunk edges, and zeros.
Series written_load() {
  Series series{history_start(), kStep, {}};
  std::mt19937_64 random(20261129);
  std::normal_distribution<double> noise(0.0, 7.5);
  for (std::size_t i = 0; i < kPoints; ++i) {
    const double day = 2.0 * M_PI * static_cast<double>(series.time_at(i) % 86400) / 86400.0;
    series.values.push_back(std::max(0.0, 400.0 + 250.0 * std::sin(day) + noise(random)));
  }
  const double gap = prescale::forecast::kMissing;
  series.values[0] = gap;                                              // the very first step
  series.values[10999] = gap;                                          // last point of chunk 1
  series.values[11000] = gap;                                          // first point of chunk 2
  for (std::size_t i = 21990; i < 22030; ++i) series.values[i] = gap;  // across the edge at 22000
  series.values[kPoints - 1] = gap;                                    // the very last step
  for (std::size_t i = 30000; i < 30010; ++i) series.values[i] = 0.0;  // x/x = NaN there
  return series;
}

prescale::test::PrometheusFixture& prometheus() {
  static const auto instance = [] {
    std::vector<prescale::test::MetricSeries> metrics{
        {"prescale_test_load", {{"job", "api"}}, written_load()}};
    Series small{history_start(), kStep, std::vector<double>(kPoints, 1.0)};
    metrics.push_back({"prescale_test_pods", {{"pod", "a"}}, small});
    for (double& value : small.values) value = 2.0;
    metrics.push_back({"prescale_test_pods", {{"pod", "b"}}, small});
    prescale::test::PrometheusFixture::Options options;
    options.lookback_delta = "30s";  // under the step: a missing step reads back as a gap
    return std::make_unique<prescale::test::PrometheusFixture>(metrics, options);
  }();
  return *instance;
}

ClientOptions client() {
  ClientOptions options;
  options.url = prometheus().url();
  return options;
}

QueryOptions query(std::string promql, std::size_t max_points = 11000) {
  QueryOptions options;
  options.query = std::move(promql);
  options.max_points_per_request = max_points;
  return options;
}

void require_equal(const Series& read, const Series& written, std::size_t offset = 0) {
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < read.size(); ++i) {
    const double want = written.values[offset + i];
    const double got = read.values[i];
    const bool same = (std::isnan(want) && std::isnan(got)) || want == got;
    if (!same && ++mismatches <= 5) {
      UNSCOPED_INFO(
          fmt::format("step {} ({}): wrote {} read {}", offset + i, read.time_at(i), want, got));
    }
  }
  REQUIRE(mismatches == 0);
}

}  // namespace

TEST_CASE("35 days at 1 minute read back exactly, across chunk edges, gaps kept",
          "[prometheus][real]") {
  const Series written = written_load();
  for (const std::size_t max_points : {std::size_t{11000}, std::size_t{997}}) {
    PrometheusSource source(client(), query(R"(prescale_test_load{job="api"})", max_points));
    auto read = source.fetch(written.start_unix, written.end_unix(), kStep);
    REQUIRE(read.has_value());
    CHECK(read->start_unix == written.start_unix);
    REQUIRE(read->size() == written.size());
    require_equal(*read, written);
    CHECK(read->missing_count() == written.missing_count());
    CHECK(source.requests_made() == (kPoints + max_points - 1) / max_points);
  }
}

TEST_CASE("NaN and infinities from PromQL arithmetic", "[prometheus][real]") {
  const Series written = written_load();
  PrometheusSource ratio(client(), query(R"(prescale_test_load / prescale_test_load)"));
  auto read = ratio.fetch(written.time_at(29990), written.time_at(30020), kStep);
  REQUIRE(read.has_value());
  CHECK(read->values[0] == 1.0);
  CHECK(std::isnan(read->values[10]));  // 0/0: Prometheus writes "NaN"
  PrometheusSource infinite(client(), query(R"(-prescale_test_load / 0)"));
  auto minus_inf = infinite.fetch(written.time_at(29990), written.time_at(29991), kStep);
  REQUIRE(minus_inf.has_value());
  CHECK(minus_inf->values[0] == -std::numeric_limits<double>::infinity());  // "-Inf"
}

TEST_CASE("several series from real Prometheus: named, or combined", "[prometheus][real]") {
  const std::int64_t start = history_start() + 86400;
  PrometheusSource plain(client(), query("prescale_test_pods"));
  auto error = plain.fetch(start, start + 3600, kStep);
  REQUIRE_FALSE(error.has_value());
  INFO(error.error().message);
  CHECK(error.error().message.find(R"(prescale_test_pods{pod="a"}, prescale_test_pods{pod="b"})") !=
        std::string::npos);
  QueryOptions summed = query("prescale_test_pods");
  summed.combine = Combine::max;
  PrometheusSource max(client(), summed);
  auto read = max.fetch(start, start + 3600, kStep);
  REQUIRE(read.has_value());
  CHECK(read->values[0] == 2.0);
}

TEST_CASE("a PromQL error from real Prometheus names its type", "[prometheus][real]") {
  PrometheusSource source(client(), query("sum(prescale_test_load"));
  auto read = source.fetch(history_start(), history_start() + 3600, kStep);
  REQUIRE_FALSE(read.has_value());
  INFO(read.error().message);
  CHECK(read.error().message.find(
            "HTTP 400 after 1 attempt: Prometheus answered status error: bad_data:") !=
        std::string::npos);
}

TEST_CASE("latest value through /api/v1/query", "[prometheus][real]") {
  const Series written = written_load();
  PrometheusSource source(client(), query(R"(prescale_test_load{job="api"})"));
  auto sample = source.latest(written.time_at(12345));
  REQUIRE(sample.has_value());
  CHECK(sample->value == written.values[12345]);
  CHECK(sample->time_unix == static_cast<double>(written.time_at(12345)));
}

TEST_CASE("IncrementalHistory on real Prometheus: full load, then only the tail",
          "[prometheus][real][history]") {
  const Series written = written_load();
  PrometheusSource source(client(), query(R"(prescale_test_load{job="api"})"));
  prescale::source::IncrementalHistory history(source, {kStep, 28 * 86400, 2});
  // "now" is a week before the end of the data: the daemon replays it.
  const std::int64_t now = written.time_at(kPoints - 7 * 1440) + 15;
  REQUIRE(history.refresh(now));
  CHECK(history.series().size() == 28 * 1440);
  const std::size_t requests = source.requests_made();
  CHECK(requests == 4);
  const auto offset =
      static_cast<std::size_t>((history.series().start_unix - written.start_unix) / kStep);
  require_equal(history.series(), written, offset);

  REQUIRE(history.refresh(now + 3600));
  CHECK(source.requests_made() == requests + 1);
  CHECK(history.last_fetched_points() == 62);
  const auto slid =
      static_cast<std::size_t>((history.series().start_unix - written.start_unix) / kStep);
  require_equal(history.series(), written, slid);
  CHECK(*history.data_age_seconds(now + 3600) == 15);
}

namespace {

// Runs the prescale binary through the shell; returns its exit status.
int run_prescale(const std::string& arguments, const std::filesystem::path& stderr_file) {
  const std::string command = fmt::format("'{}' {} 2>'{}'", prescale::test::prescale_bin().string(),
                                          arguments, stderr_file.string());
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("prescale fetch exports 35 days at 1 minute exactly as backfilled",
          "[prometheus][real][cli]") {
  const Series written = written_load();
  const auto dir = prometheus().dir();
  const auto csv = dir / "export.csv";
  const auto log = dir / "fetch.log";
  const int status = run_prescale(
      fmt::format("fetch --prometheus {} --query 'prescale_test_load{{job=\"api\"}}' --start {} "
                  "--end {} --step 1m "
                  "--output '{}'",
                  prometheus().url(), written.start_unix, written.end_unix(), csv.string()),
      log);
  INFO(slurp(log));
  REQUIRE(status == 0);
  CHECK(slurp(log).find("fetch: 50400/50400 points (100%)") != std::string::npos);
  prescale::file::CsvReadOptions options;
  options.step_seconds = kStep;
  auto read = prescale::file::read_csv_series(csv, options);
  REQUIRE(read.has_value());
  CHECK(read->start_unix == written.start_unix);
  REQUIRE(read->size() == written.size());
  require_equal(*read, written);
}

TEST_CASE("prescale fetch: a server that is down is a clear error, exit 1",
          "[prometheus][real][cli]") {
  const auto log = prometheus().dir() / "down.log";
  const int port = prescale::test::PrometheusFixture::free_port();
  const int status = run_prescale(fmt::format("fetch --prometheus http://127.0.0.1:{} --query up "
                                              "--history 1h --retries 1 --output /dev/null",
                                              port),
                                  log);
  CHECK(status == 1);
  const std::string message = slurp(log);
  INFO(message);
  CHECK(message.find(fmt::format("prescale: prometheus http://127.0.0.1:{}: query_range", port)) !=
        std::string::npos);
  CHECK(message.find("Couldn't connect to server") != std::string::npos);
}

TEST_CASE("TLS: a real Prometheus behind a certificate from our own CA",
          "[prometheus][real][tls]") {
  // openssl (real) makes a CA and a server certificate for IP 127.0.0.1.
  std::string pattern = (std::filesystem::temp_directory_path() / "prescale-tls-XXXXXX").string();
  REQUIRE(::mkdtemp(pattern.data()) != nullptr);
  const std::filesystem::path dir = pattern;
  const std::string script = fmt::format(
      "cd '{}' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout ca.key "
      "-out ca.crt -days 2 -subj /CN=prescale-test-ca && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out "
      "server.csr "
      "-subj /CN=127.0.0.1 && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
      "-days 2 "
      "-extfile san.ext",
      dir.string());
  REQUIRE(std::system((script + " >openssl.log 2>&1").c_str()) == 0);
  std::ofstream(dir / "web.yml") << fmt::format(
      "tls_server_config:\n  cert_file: {}\n  key_file: {}\n", (dir / "server.crt").string(),
      (dir / "server.key").string());
  Series hour{history_start(), kStep, {}};
  for (int i = 0; i < 60; ++i) hour.values.push_back(i * 1.5);
  prescale::test::PrometheusFixture::Options options;
  options.scheme = "https";
  options.extra_args = {"--web.config.file=" + (dir / "web.yml").string()};
  prescale::test::PrometheusFixture secure({{"prescale_tls_load", {}, hour}}, options);
  REQUIRE(secure.url().rfind("https://", 0) == 0);

  ClientOptions verified;
  verified.url = secure.url();
  verified.ca_file = (dir / "ca.crt").string();
  PrometheusSource with_ca(verified, query("prescale_tls_load"));
  auto read = with_ca.fetch(hour.start_unix, hour.end_unix(), kStep);
  REQUIRE(read.has_value());
  require_equal(*read, hour);

  ClientOptions unverified;
  unverified.url = secure.url();
  unverified.retry.max_attempts = 3;
  PrometheusSource without_ca(unverified, query("prescale_tls_load"));
  auto refused = without_ca.fetch(hour.start_unix, hour.end_unix(), kStep);
  REQUIRE_FALSE(refused.has_value());
  INFO(refused.error().message);
  CHECK(refused.error().message.find("certificate") != std::string::npos);
  CHECK(refused.error().message.find("attempt 1 of 3, not retried") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("prescale forecast --prometheus equals forecast --input on the exported CSV",
          "[prometheus][real][cli]") {
  const Series written = written_load();
  const auto dir = prometheus().dir();
  // The last two weeks, so that the fit stays quick.
  const std::int64_t start = written.end_unix() - 14 * 86400;
  const std::string range = fmt::format("--start {} --end {} --step 1m", start, written.end_unix());
  const std::string promql = "--query 'prescale_test_load{job=\"api\"}'";
  const std::string model =
      "--model holt-winters:additive-additive --seasonality 1d --horizon 2h --format json";
  const auto csv = dir / "two-weeks.csv";
  REQUIRE(run_prescale(fmt::format("fetch --prometheus {} {} {} --quiet --output '{}'",
                                   prometheus().url(), promql, range, csv.string()),
                       dir / "fetch2.log") == 0);
  const auto from_csv = dir / "from-csv.json";
  const auto from_prometheus = dir / "from-prometheus.json";
  REQUIRE(run_prescale(fmt::format("forecast --input '{}' --step 1m {} > '{}'", csv.string(), model,
                                   from_csv.string()),
                       dir / "forecast-csv.log") == 0);
  const int status =
      run_prescale(fmt::format("forecast --prometheus {} {} {} {} > '{}'", prometheus().url(),
                               promql, range, model, from_prometheus.string()),
                   dir / "forecast-prometheus.log");
  INFO(slurp(dir / "forecast-prometheus.log"));
  REQUIRE(status == 0);
  const auto csv_json = nlohmann::json::parse(slurp(from_csv));
  const auto prometheus_json = nlohmann::json::parse(slurp(from_prometheus));
  CHECK(csv_json["model"] == prometheus_json["model"]);
  CHECK(csv_json["parameters"] == prometheus_json["parameters"]);
  REQUIRE(csv_json["points"].size() == 120);
  CHECK(csv_json["points"] == prometheus_json["points"]);
}

TEST_CASE("Prometheus goes away: IncrementalHistory keeps the last good data and its age",
          "[prometheus][real][history]") {
  Series day{history_start(), kStep, {}};
  for (int i = 0; i < 1440; ++i) day.values.push_back(100.0 + i % 60);
  prescale::test::PrometheusFixture::Options options;
  options.lookback_delta = "30s";
  prescale::test::PrometheusFixture short_lived({{"prescale_outage_load", {}, day}}, options);
  ClientOptions client_options;
  client_options.url = short_lived.url();
  client_options.retry.max_attempts = 2;
  client_options.sleep = [](std::chrono::milliseconds) {};  // no waiting in tests
  PrometheusSource source(client_options, query("prescale_outage_load"));
  prescale::source::IncrementalHistory history(source, {kStep, 12 * 3600, 2});
  const std::int64_t now = day.time_at(1439) + 30;  // the last sample is 30 s old
  REQUIRE(history.refresh(now));
  const Series before = history.series();
  CHECK(*history.data_age_seconds(now) == 30);

  short_lived.stop();
  const prescale::Status failed = history.refresh(now + 300);
  REQUIRE_FALSE(failed);
  INFO(history.last_error());
  CHECK(history.last_error().find("Couldn't connect to server") != std::string::npos);
  CHECK(history.last_error().find("attempt 2 of 2") != std::string::npos);
  CHECK(history.consecutive_failures() == 1);
  CHECK(history.series().values == before.values);
  CHECK(*history.data_age_seconds(now + 300) == 330);
  CHECK(*history.last_success_unix() == now);
}
