// The Prometheus client against servers that misbehave: refused connections,
// hangs, 503/429 then success, 4xx, invalid JSON, status error, several
// series; the client settings from a `prometheus:` section and from the
// commands' flags. The servers are cpp-httplib in this process on 127.0.0.1:
// they play broken servers, real Prometheus is in real_prometheus_test.cpp.
#include <fmt/core.h>
#include <httplib.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "prescale/config/config.hpp"
#include "prescale/prometheus/client_config.hpp"
#include "prescale/prometheus/prometheus_source.hpp"
#include "prescale/source/incremental_history.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"

using namespace prescale::prometheus;
using namespace std::chrono_literals;

namespace {

class FakeServer {
 public:
  explicit FakeServer(const std::function<void(httplib::Server&)>& routes) {
    server_.set_keep_alive_timeout(1);
    routes(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~FakeServer() {
    server_.stop();
    thread_.join();
  }
  [[nodiscard]] std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// Answers query_range like Prometheus for value(t) = t / 60 on the asked grid.
std::string clock_matrix(const httplib::Request& request, const std::string& labels = "{}") {
  const std::int64_t start = std::stoll(request.get_param_value("start"));
  const std::int64_t end = std::stoll(request.get_param_value("end"));
  const std::int64_t step = std::stoll(request.get_param_value("step"));
  std::string values;
  for (std::int64_t t = start; t <= end; t += step) {
    values +=
        fmt::format("{}[{},\"{}\"]", values.empty() ? "" : ",", t, static_cast<double>(t) / 60.0);
  }
  return fmt::format(
      R"({{"status":"success","data":{{"resultType":"matrix","result":[{{"metric":{},"values":[{}]}}]}}}})",
      labels, values);
}

// Routes answering query_range with clock_matrix, keeping each request's headers.
std::function<void(httplib::Server&)> clock_recording_headers(std::mutex& mutex,
                                                              std::vector<httplib::Headers>& seen) {
  return [&mutex, &seen](httplib::Server& s) {
    s.Get("/api/v1/query_range",
          [&mutex, &seen](const httplib::Request& request, httplib::Response& response) {
            {
              std::lock_guard lock(mutex);
              seen.push_back(request.headers);
            }
            response.set_content(clock_matrix(request), "application/json");
          });
  };
}

// Fast tests: retries sleep through this recorder, not the clock.
struct SleepRecorder {
  std::vector<std::chrono::milliseconds> sleeps;
  std::function<void(std::chrono::milliseconds)> hook() {
    return [this](std::chrono::milliseconds delay) { sleeps.push_back(delay); };
  }
};

ClientOptions client_for(const std::string& url, SleepRecorder& recorder) {
  ClientOptions options;
  options.url = url;
  options.sleep = recorder.hook();
  options.retry.max_attempts = 3;
  options.retry.initial_backoff = 100ms;
  options.retry.max_backoff = 2000ms;
  options.connect_timeout = 1000ms;
  options.total_timeout = 5000ms;
  options.jitter_seed = 42;
  return options;
}

QueryOptions query(std::string promql) {
  QueryOptions options;
  options.query = std::move(promql);
  return options;
}

}  // namespace

TEST_CASE("Prometheus not running: retried, then a clear error", "[prometheus][http]") {
  SleepRecorder recorder;
  const int port = prescale::test::PrometheusFixture::free_port();  // nobody listens there
  PrometheusSource source(client_for(fmt::format("http://127.0.0.1:{}", port), recorder),
                          query("up"));
  auto series = source.fetch(1'699'999'980, 1'700'003'580, 60);
  REQUIRE_FALSE(series.has_value());
  const std::string& message = series.error().message;
  INFO(message);
  // Errors name the server, not the query: they reach /status and decision records.
  CHECK(message.find(fmt::format("prometheus http://127.0.0.1:{}: query_range", port)) !=
        std::string::npos);
  CHECK(message.find("'up'") == std::string::npos);
  CHECK(message.find("Couldn't connect") != std::string::npos);
  CHECK(message.find("attempt 3 of 3") != std::string::npos);
  REQUIRE(recorder.sleeps.size() == 2);
  // 100 ms then 200 ms, each within the +-20 % jitter.
  CHECK(recorder.sleeps[0] >= 80ms);
  CHECK(recorder.sleeps[0] <= 120ms);
  CHECK(recorder.sleeps[1] >= 160ms);
  CHECK(recorder.sleeps[1] <= 240ms);
}

TEST_CASE("a server that hangs times out with a clear error", "[prometheus][http]") {
  std::atomic<bool> release{false};
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [&](const httplib::Request&, httplib::Response& response) {
      for (int i = 0; i < 500 && !release; ++i) std::this_thread::sleep_for(10ms);
      response.set_content("{}", "application/json");
    });
  });
  SleepRecorder recorder;
  ClientOptions options = client_for(server.url(), recorder);
  options.total_timeout = 200ms;
  options.retry.max_attempts = 2;
  PrometheusSource source(options, query("up"));
  auto series = source.fetch(1'699'999'980, 1'700'003'580, 60);
  release = true;
  REQUIRE_FALSE(series.has_value());
  INFO(series.error().message);
  CHECK(series.error().message.find("timed out") != std::string::npos);
  CHECK(series.error().message.find("attempt 2 of 2") != std::string::npos);
  CHECK(recorder.sleeps.size() == 1);
}

TEST_CASE("cancel() ends a fetch stuck on a hung server, and every later one",
          "[prometheus][http]") {
  // A reload that removes a target, or SIGTERM, must not wait for a hung
  // server's timeout (here 60 s a try, 4 tries with real backoff sleeps).
  std::atomic<bool> release{false};
  std::atomic<int> requests{0};
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [&](const httplib::Request&, httplib::Response& response) {
      ++requests;
      for (int i = 0; i < 6000 && !release; ++i) std::this_thread::sleep_for(10ms);
      response.status = 503;
    });
  });
  ClientOptions options;
  options.url = server.url();
  options.total_timeout = 60s;
  options.retry.max_attempts = 4;
  PrometheusSource source(options, query("up"));
  const auto started = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    while (requests == 0) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(200ms);
    source.cancel();
  });
  auto series = source.fetch(1'699'999'980, 1'700'003'580, 60);
  const auto took = std::chrono::steady_clock::now() - started;
  canceller.join();
  release = true;
  REQUIRE_FALSE(series.has_value());
  INFO(series.error().message);
  CHECK(series.error().message.find("cancelled") != std::string::npos);
  CHECK(requests == 1);  // not retried
  CHECK(took < 30s);     // functional: far below one try's 60 s timeout
  // Later fetches fail at once, without a request.
  auto again = source.fetch(1'699'999'980, 1'700'003'580, 60);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().message.find("cancelled") != std::string::npos);
  CHECK(requests == 1);
}

TEST_CASE("503 then 200: retried and succeeds; Retry-After is honoured", "[prometheus][http]") {
  std::atomic<int> calls{0};
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [&](const httplib::Request& request, httplib::Response& response) {
      if (++calls == 1) {
        response.status = 503;
        response.set_header("Retry-After", "1");
        response.set_content("Service Unavailable", "text/plain");
        return;
      }
      response.set_content(clock_matrix(request), "application/json");
    });
  });
  SleepRecorder recorder;
  PrometheusSource source(client_for(server.url(), recorder), query("up"));
  auto series = source.fetch(1'699'999'980, 1'700'003'580, 60);
  REQUIRE(series.has_value());
  CHECK(calls == 2);
  REQUIRE(recorder.sleeps.size() == 1);
  CHECK(recorder.sleeps[0] == 1000ms);
  CHECK(series->size() == 60);
  CHECK(series->values[0] == 1'699'999'980 / 60.0);
  CHECK(source.requests_made() == 2);
}

TEST_CASE("429 is retried; other 4xx are not, and Prometheus' message is shown",
          "[prometheus][http]") {
  std::atomic<int> calls{0};
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [&](const httplib::Request&, httplib::Response& response) {
      ++calls;
      response.status = 400;
      response.set_content(
          R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"})",
          "application/json");
    });
    s.Get("/api/v1/query", [&](const httplib::Request&, httplib::Response& response) {
      ++calls;
      response.status = 429;
      response.set_content("slow down", "text/plain");
    });
  });
  SleepRecorder recorder;
  PrometheusSource source(client_for(server.url(), recorder), query("sum("));
  auto series = source.fetch(1'699'999'980, 1'700'003'580, 60);
  REQUIRE_FALSE(series.has_value());
  INFO(series.error().message);
  CHECK(calls == 1);
  CHECK(recorder.sleeps.empty());
  CHECK(series.error().message.find("HTTP 400 after 1 attempt: Prometheus answered status error: "
                                    "bad_data: 1:5: parse error") != std::string::npos);

  calls = 0;
  auto latest = source.latest();
  REQUIRE_FALSE(latest.has_value());
  CHECK(calls == 3);
  CHECK(recorder.sleeps.size() == 2);
  CHECK(latest.error().message.find("HTTP 429 after 3 attempts: slow down") != std::string::npos);
}

TEST_CASE("invalid JSON and status error are clear errors", "[prometheus][http]") {
  FakeServer server([&](httplib::Server& s) {
    s.Get("/html/api/v1/query_range", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("<html><body>Login required</body></html>", "text/html");
    });
    s.Get("/truncated/api/v1/query_range",
          [](const httplib::Request& request, httplib::Response& response) {
            const std::string full = clock_matrix(request);
            response.set_content(full.substr(0, full.size() / 2), "application/json");
          });
    s.Get("/error/api/v1/query_range", [](const httplib::Request&, httplib::Response& response) {
      response.status = 422;
      response.set_content(
          R"({"status":"error","errorType":"execution","error":"query processing would load too many samples into memory"})",
          "application/json");
    });
  });
  SleepRecorder recorder;
  for (const auto& [prefix, expected] : std::vector<std::pair<std::string, std::string>>{
           {"/html", "not JSON"},
           {"/truncated", "invalid reply from Prometheus"},
           {"/error",
            "HTTP 422 after 1 attempt: Prometheus answered status error: execution: query "
            "processing would "
            "load too many samples"}}) {
    PrometheusSource source(client_for(server.url() + prefix, recorder), query("up"));
    auto series = source.fetch(1'699'999'980, 1'700'003'580, 60);
    REQUIRE_FALSE(series.has_value());
    INFO(series.error().message);
    CHECK(series.error().message.find(expected) != std::string::npos);
  }
}

TEST_CASE("several series: an error naming them, unless told how to combine",
          "[prometheus][http]") {
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [](const httplib::Request& request, httplib::Response& response) {
      std::string body = clock_matrix(request, R"({"__name__":"load","pod":"a"})");
      const std::string second = clock_matrix(request, R"({"__name__":"load","pod":"b"})");
      // Splice b's series object into a's result array.
      const auto from = second.find("[{") + 1;
      const auto to = second.rfind("}]}");
      body.insert(body.rfind("]}}"), "," + second.substr(from, to - from + 1));
      response.set_content(body, "application/json");
    });
  });
  SleepRecorder recorder;
  PrometheusSource plain(client_for(server.url(), recorder), query("load"));
  auto error = plain.fetch(1'699'999'980, 1'700'000'600, 60);
  REQUIRE_FALSE(error.has_value());
  INFO(error.error().message);
  CHECK(error.error().message.find(R"(returned 2 series (load{pod="a"}, load{pod="b"}))") !=
        std::string::npos);
  CHECK(error.error().message.find("combine: sum|max|min") != std::string::npos);

  QueryOptions summed = query("load");
  summed.combine = Combine::sum;
  PrometheusSource sum(client_for(server.url(), recorder), summed);
  auto series = sum.fetch(1'699'999'980, 1'700'000'600, 60);
  REQUIRE(series.has_value());
  CHECK(series->values[0] == 2.0 * 1'699'999'980 / 60.0);
}

TEST_CASE("long ranges are split in chunks that tile the grid exactly", "[prometheus][http]") {
  std::mutex mutex;
  std::vector<std::tuple<std::int64_t, std::int64_t, std::int64_t>> asked;
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [&](const httplib::Request& request, httplib::Response& response) {
      {
        std::lock_guard lock(mutex);
        asked.emplace_back(std::stoll(request.get_param_value("start")),
                           std::stoll(request.get_param_value("end")),
                           std::stoll(request.get_param_value("step")));
      }
      response.set_content(clock_matrix(request), "application/json");
    });
  });
  SleepRecorder recorder;
  QueryOptions options = query("up");
  options.max_points_per_request = 1000;
  std::vector<std::size_t> progress;
  options.progress = [&](std::size_t done, std::size_t total) {
    progress.push_back(done);
    CHECK(total == 2500);
  };
  PrometheusSource source(client_for(server.url(), recorder), options);
  // Unaligned start and end: aligned down and up to the step.
  auto series = source.fetch(1'700'000'010, 1'700'149'980 - 30, 60);
  REQUIRE(series.has_value());
  CHECK(series->start_unix == 1'699'999'980);
  CHECK(series->size() == 2500);
  for (std::size_t i = 0; i < series->size(); ++i) {
    if (series->values[i] != static_cast<double>(series->time_at(i)) / 60.0)
      FAIL("step " << i << " differs");
  }
  REQUIRE(asked.size() == 3);
  std::int64_t next = series->start_unix;
  for (const auto& [start, end, step] : asked) {
    CHECK(start == next);
    CHECK(step == 60);
    CHECK((end - start) / step + 1 <= 1000);
    next = end + step;
  }
  CHECK(next == series->end_unix());
  CHECK(progress == std::vector<std::size_t>{1000, 2000, 2500});
}

TEST_CASE("auth and headers: rotating bearer token file, basic auth, tenant header, gzip",
          "[prometheus][http]") {
  std::mutex mutex;
  std::vector<httplib::Headers> seen;
  FakeServer server(clock_recording_headers(mutex, seen));
  const auto token_file =
      std::filesystem::temp_directory_path() / fmt::format("prescale-token-{}", ::getpid());
  std::ofstream(token_file) << "first-token\n";
  SleepRecorder recorder;
  ClientOptions options = client_for(server.url(), recorder);
  options.bearer_token_file = token_file.string();
  options.headers = {{"X-Scope-OrgID", "tenant-7"}};
  PrometheusSource source(options, query("up"));
  REQUIRE(source.fetch(1'699'999'980, 1'700'003'580, 60).has_value());
  // The kubelet swaps projected tokens by replacing the file.
  const auto rotated = token_file.string() + ".new";
  std::ofstream(rotated) << "second-token-after-rotation";
  std::filesystem::rename(rotated, token_file);
  auto second = source.fetch(1'699'999'980, 1'700'003'580, 60);
  REQUIRE(second.has_value());
  std::filesystem::remove(token_file);
  REQUIRE(seen.size() == 2);
  CHECK(seen[0].find("Authorization")->second == "Bearer first-token");
  CHECK(seen[1].find("Authorization")->second == "Bearer second-token-after-rotation");
  CHECK(seen[0].find("X-Scope-OrgID")->second == "tenant-7");
  // httplib gzips JSON when asked: the values above parsed, so it was decoded.
  CHECK(seen[0].find("Accept-Encoding")->second.find("gzip") != std::string::npos);
  CHECK(second->values[0] == 1'699'999'980 / 60.0);

  ClientOptions basic = client_for(server.url(), recorder);
  basic.basic_auth_user = "prescale";
  basic.basic_auth_password = "s3cret";
  PrometheusSource with_basic(basic, query("up"));
  REQUIRE(with_basic.fetch(1'699'999'980, 1'700'003'580, 60).has_value());
  CHECK(seen.back().find("Authorization")->second ==
        "Basic cHJlc2NhbGU6czNjcmV0");  // base64 of prescale:s3cret

  ClientOptions missing = client_for(server.url(), recorder);
  missing.bearer_token_file = "/nonexistent/token";
  PrometheusSource without_token(missing, query("up"));
  auto error = without_token.fetch(1'699'999'980, 1'700'003'580, 60);
  REQUIRE_FALSE(error.has_value());
  CHECK(error.error().message.find("cannot read bearer token file /nonexistent/token") !=
        std::string::npos);
}

// `prescale serve` reads its client settings from the `prometheus:` section,
// the commands from flags; both go through prometheus::client_options, and
// the same settings must send the same request.
TEST_CASE("a prometheus: section and the same command-line flags send the same request",
          "[prometheus][http]") {
  std::mutex mutex;
  std::vector<httplib::Headers> seen;
  FakeServer server(clock_recording_headers(mutex, seen));
  prescale::test::TempDir dir("prescale-client-config");
  const auto password = dir.path / "password";
  std::ofstream(password) << "s3cret\n";  // as `echo` writes it: the newline is not the password's
  const auto token = dir.path / "token";
  std::ofstream(token) << "a-token\n";
  const auto headers_of = [&](const std::string& yaml_auth, const std::vector<std::string>& flags) {
    // The daemon's path: YAML -> config -> client_options -> a target's source.
    const auto config = prescale::config::parse_config(fmt::format(
        "prometheus:\n  url: {}\n  timeout: 5s\n  headers: {{X-Scope-OrgID: team-a}}\n{}"
        "targets:\n  - metric: m\n    query: up\n",
        server.url(), yaml_auth));
    auto client = client_options(config.prometheus);
    REQUIRE(client.has_value());
    PrometheusSource source(std::move(*client), query("up"));
    REQUIRE(source.fetch(1'699'999'980, 1'700'003'580, 60).has_value());
    // The command's path: flags -> the same section -> client_options.
    std::vector<std::string> args = {prescale::test::prescale_bin().string(),
                                     "fetch",
                                     "--prometheus",
                                     server.url(),
                                     "--query",
                                     "up",
                                     "--history",
                                     "10m",
                                     "--timeout",
                                     "5s",
                                     "--header",
                                     "X-Scope-OrgID: team-a",
                                     "--quiet",
                                     "--output",
                                     (dir.path / "out.csv").string()};
    args.insert(args.end(), flags.begin(), flags.end());
    std::string command;
    for (const auto& arg : args) command += "'" + arg + "' ";
    const auto log = dir.path / "fetch.log";
    const int status = std::system((command + "> '" + log.string() + "' 2>&1").c_str());
    std::stringstream output;
    output << std::ifstream(log).rdbuf();
    INFO(command << "\n" << output.str());
    REQUIRE(status == 0);
    std::lock_guard lock(mutex);
    REQUIRE(seen.size() >= 2);
    const auto pick = [](const httplib::Headers& h) {
      std::vector<std::string> out;
      for (const char* name : {"Authorization", "X-Scope-OrgID"}) {
        const auto found = h.find(name);
        out.push_back(found == h.end() ? "" : found->second);
      }
      return out;
    };
    const auto daemon_headers = pick(seen.front());
    CHECK(pick(seen.back()) == daemon_headers);
    seen.clear();
    return daemon_headers;
  };
  CHECK(
      headers_of(
          fmt::format("  basicAuth: {{username: prescale, passwordFile: {}}}\n", password.string()),
          {"--basic-auth-user", "prescale", "--basic-auth-password-file", password.string()}) ==
      std::vector<std::string>{"Basic cHJlc2NhbGU6czNjcmV0", "team-a"});  // prescale:s3cret
  CHECK(headers_of(fmt::format("  bearerTokenFile: {}\n", token.string()),
                   {"--bearer-token-file", token.string()}) ==
        std::vector<std::string>{"Bearer a-token", "team-a"});
}

TEST_CASE("warnings from the server are kept", "[prometheus][http]") {
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [](const httplib::Request& request, httplib::Response& response) {
      std::string body = clock_matrix(request);
      body.insert(body.size() - 1,
                  R"(,"warnings":["partial response: store-gateway 2 unavailable"])");
      response.set_content(body, "application/json");
    });
  });
  SleepRecorder recorder;
  PrometheusSource source(client_for(server.url(), recorder), query("up"));
  REQUIRE(source.fetch(1'699'999'980, 1'700'003'580, 60).has_value());
  REQUIRE(source.last_warnings().size() == 1);
  CHECK(source.last_warnings()[0] == "partial response: store-gateway 2 unavailable");
}

TEST_CASE("IncrementalHistory over HTTP: last good data and its age when the server breaks",
          "[prometheus][http][history]") {
  std::atomic<bool> broken{false};
  std::atomic<int> calls{0};
  FakeServer server([&](httplib::Server& s) {
    s.Get("/api/v1/query_range", [&](const httplib::Request& request, httplib::Response& response) {
      ++calls;
      if (broken) {
        response.status = 503;
        response.set_content("upstream connect error", "text/plain");
        return;
      }
      response.set_content(clock_matrix(request), "application/json");
    });
  });
  SleepRecorder recorder;
  PrometheusSource source(client_for(server.url(), recorder), query("up"));
  prescale::source::IncrementalHistory history(source, {60, 6 * 3600, 2});
  const std::int64_t now = 1'699'999'980;
  REQUIRE(history.refresh(now));
  CHECK(history.series().size() == 360);
  broken = true;
  const prescale::Status failed = history.refresh(now + 180);
  REQUIRE_FALSE(failed);
  CHECK(history.last_error().find("HTTP 503 after 3 attempts: upstream connect error") !=
        std::string::npos);
  CHECK(history.series().size() == 360);
  CHECK(*history.data_age_seconds(now + 180) == 180 + now % 60);
  broken = false;
  REQUIRE(history.refresh(now + 240));
  CHECK(history.last_fetched_points() == 6);
  CHECK(*history.data_age_seconds(now + 240) == now % 60);
  for (std::size_t i = 0; i < history.series().size(); ++i) {
    if (history.series().values[i] != static_cast<double>(history.series().time_at(i)) / 60.0)
      FAIL("step " << i);
  }
}
