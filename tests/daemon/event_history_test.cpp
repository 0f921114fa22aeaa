// The daemon's first fit learns a monthly event from months of Prometheus
// history, not from the one or two occurrences its regular window holds:
// a real Prometheus backfilled with 190 days of a 5-minute payments trace,
// `history: 35d`, `eventHistory: 183d`. The older payroll mornings come as
// sparse query_range calls (each window and the same hours a week before
// and after), counted in the "event history" log record. The fit job makes
// them, not the tick: behind a Prometheus that holds those calls, the
// target serves and ticks on, and a stop cancels the held call.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "free_port.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"

// After Eigen (through the daemon): resolv.h, which httplib includes, makes
// `_res` a macro, and Eigen names parameters `_res`.
#include <httplib.h>

using namespace prescale;

namespace {

// A field of a log record as a number (ints and doubles), nullopt when absent.
std::optional<double> number(const LogRecord& record, const std::string& key) {
  for (const auto& [name, value] : record.fields) {
    if (name != key) continue;
    if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
    if (const auto* d = std::get_if<double>(&value)) return *d;
  }
  return std::nullopt;
}

std::string text_of(const LogRecord& record) {
  std::string out = record.message;
  for (const auto& [name, value] : record.fields)
    out += " " + name + "=" + std::visit([](const auto& v) { return fmt::format("{}", v); }, value);
  return out;
}

// A slow Prometheus: a real HTTP server in front of the real one that
// forwards every query_range call but holds, until released, those whose
// range ends before `held_before` (the event history's older windows).
class HoldingProxy {
 public:
  HoldingProxy(const test::PrometheusFixture& upstream, std::int64_t held_before)
      : upstream_("127.0.0.1", upstream.port()),
        held_before_(held_before),
        port_(test::free_port()) {
    server_.Get("/api/v1/query_range",
                [this](const httplib::Request& request, httplib::Response& response) {
                  if (std::stoll(request.get_param_value("end")) < held_before_) {
                    std::unique_lock lock(mutex_);
                    ++holding_;
                    released_cv_.wait(lock, [this] { return released_; });
                    --holding_;
                  }
                  forward(request, response);
                });
    thread_ = std::thread([this] { server_.listen("127.0.0.1", port_); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~HoldingProxy() {
    release();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  HoldingProxy(const HoldingProxy&) = delete;
  HoldingProxy& operator=(const HoldingProxy&) = delete;

  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    released_cv_.notify_all();
  }
  [[nodiscard]] int holding() const {
    std::lock_guard lock(mutex_);
    return holding_;
  }
  [[nodiscard]] std::string url() const { return fmt::format("http://127.0.0.1:{}", port_); }

 private:
  void forward(const httplib::Request& request, httplib::Response& response) {
    std::lock_guard lock(upstream_mutex_);
    auto reply = upstream_.Get("/api/v1/query_range", request.params, httplib::Headers{});
    if (!reply) {
      response.status = 502;
      return;
    }
    response.status = reply->status;
    response.set_content(reply->body, "application/json");
  }

  httplib::Client upstream_;
  std::mutex upstream_mutex_;
  std::int64_t held_before_;
  int port_;
  httplib::Server server_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable released_cv_;
  bool released_ = false;
  int holding_ = 0;
};

std::string target_yaml(const std::string& prometheus_url, const daemon::DemoCertificates& certs,
                        const std::string& timeout, const std::string& history,
                        const std::string& event_history) {
  return fmt::format(
      "prometheus:\n  url: {}\n  timeout: {}\n"
      "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: {}\n  tlsKeyFile: {}\n"
      "  clientCAFile: {}\n  authorization: {{mode: always-allow}}\n"
      "targets:\n"
      "  - metric: payments-rps-forecast\n"
      "    query: payments{{job=\"api\"}}\n"
      "    step: 5m\n    history: {}\n    eventHistory: {}\n"
      "    timezone: America/New_York\n    seasonality: [1d, 7d]\n"
      "    calendars: [payroll]\n    model: events\n"
      "    leadTime: 15m\n    refitInterval: 6h\n{}",
      prometheus_url, timeout, certs.server_cert.string(), certs.server_key.string(),
      certs.ca_cert.string(), history, event_history, autoscaler::payments_calendars_yaml());
}

// The log records a daemon writes, kept for the test to read while it runs.
struct RecordedLog {
  mutable std::mutex mutex;
  std::vector<LogRecord> records;

  [[nodiscard]] std::vector<LogRecord> copy() const {
    std::lock_guard lock(mutex);
    return records;
  }
  // Each record on a line of its own: "\n<message> <fields>".
  [[nodiscard]] std::string text() const {
    std::string out = "\n";
    for (const auto& r : copy()) out += text_of(r) + "\n";
    return out;
  }
};

// A daemon serving the payroll target from `prometheus_url` on `clock`, its
// config and certificates in `dir`, its log into `log`.
daemon::DaemonOptions daemon_options(const std::filesystem::path& dir,
                                     const std::string& prometheus_url, const std::string& timeout,
                                     const std::string& history, const std::string& event_history,
                                     autoscaler::AcceleratedClock& clock, RecordedLog& log) {
  auto certs = daemon::write_demo_certificates(dir / "tls", "events", "events");
  REQUIRE(certs.has_value());
  const auto config_path = dir / "prescale.yaml";
  std::ofstream(config_path) << target_yaml(prometheus_url, *certs, timeout, history,
                                            event_history);
  daemon::DaemonOptions options;
  options.config_path = config_path;
  options.clock = &clock;
  options.listen_port = 0;
  options.log = [&log](const LogRecord& record) {
    std::lock_guard lock(log.mutex);
    log.records.push_back(record);
  };
  return options;
}

}  // namespace

TEST_CASE("the first fit learns payroll days from six months of Prometheus history",
          "[daemon][events]") {
  test::TempDir dir("prescale-event-history");
  const auto zone = calendar::TimeZone::find("America/New_York");
  REQUIRE(zone);
  autoscaler::TraceOptions trace;
  trace.start_unix = *autoscaler::parse_trace_time("2026-01-05", *zone);
  trace.days = 190;  // to Tue 2026-07-14
  trace.step_seconds = 300;
  trace.seed = 2;
  auto series = autoscaler::generate_trace(trace);
  REQUIRE(series);
  const std::int64_t now = series->end_unix();
  test::PrometheusFixture prometheus({{"payments", {{"job", "api"}}, *series}});

  RecordedLog log;
  autoscaler::AcceleratedClock clock(static_cast<double>(now), 1.0);
  daemon::Daemon server(
      daemon_options(dir.path, prometheus.url(), "10s", "35d", "183d", clock, log));
  REQUIRE(server.start());
  std::optional<LogRecord> history, fit;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!fit && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const auto& r : log.copy()) {
      if (r.message == "event history" && !history) history = r;
      if ((r.message == "refit" || r.message == "fit failed") && !fit) fit = r;
    }
  }
  server.stop();
  INFO(log.text());
  REQUIRE(history);
  REQUIRE(fit);
  REQUIRE(fit->message == "refit");
  std::cout << text_of(*history) << "\n";

  // Within 183 days and before the regular 35 (from 2026-06-09): payroll-mid
  // Jan 15, Feb 13, Mar 13, Apr 15, May 15; payroll-end Jan 30, Feb 27,
  // Mar 31, Apr 30, May 29; the one-off quad-witching day Mar 20.
  CHECK(number(*history, "occurrences") == 11);
  // The first fit learnt from all of them, beside Jun 15 and Jun 30 in its window.
  CHECK(number(*fit, "event_history_occurrences") == 11);
  CHECK(number(*fit, "events.payroll.payroll-mid.older_occurrences") == 5);
  CHECK(number(*fit, "events.payroll.payroll-end.older_occurrences") == 5);
  CHECK(number(*fit, "events.payroll.payroll-mid.occurrences") == 6);
  CHECK(number(*fit, "events.payroll.payroll-end.occurrences") == 6);
  // Sparse: at most three calls an occurrence, fewer points than the regular
  // 35 days (10,080 at 5 minutes) for five months more of event history.
  const auto calls = number(*history, "calls").value_or(0);
  const auto points = number(*history, "points").value_or(0);
  CHECK(calls >= 11);
  CHECK(calls <= 33);
  CHECK(points < 35 * 288);
  CHECK(number(*history, "deferred") == 0);
}

TEST_CASE("a target serves and ticks while its event history hangs, and stops at once",
          "[daemon][events]") {
  test::TempDir dir("prescale-event-history-held");
  const auto zone = calendar::TimeZone::find("America/New_York");
  REQUIRE(zone);
  autoscaler::TraceOptions trace;
  trace.start_unix = *autoscaler::parse_trace_time("2026-01-05", *zone);
  trace.days = 70;  // to Mon 2026-03-16; history 14d, event history 60d: Jan 15 .. Feb 27
  trace.step_seconds = 300;
  trace.seed = 1;
  auto series = autoscaler::generate_trace(trace);
  REQUIRE(series);
  const std::int64_t now = series->end_unix();
  test::PrometheusFixture prometheus({{"payments", {{"job", "api"}}, *series}});
  HoldingProxy proxy(prometheus, now - 7 * 86400);

  RecordedLog log;
  // 5-minute steps every 2.5 s: ticks go on while the call is held.
  autoscaler::AcceleratedClock clock(static_cast<double>(now), 120.0);
  // A timeout far beyond the test: only a cancellation ends the held call.
  auto server = std::make_unique<daemon::Daemon>(
      daemon_options(dir.path, proxy.url(), "5m", "14d", "60d", clock, log));
  REQUIRE(server->start());
  const auto log_text = [&] { return log.text(); };
  const auto wait_for = [](auto condition, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return condition();
  };
  // The first fit asks for the older payroll mornings: held.
  const bool held = wait_for([&] { return proxy.holding() > 0; }, std::chrono::seconds(60));
  INFO(log_text());
  REQUIRE(held);
  // Meanwhile the target serves its observed load, tick after tick.
  std::int64_t first_served = 0;
  const auto served_at = [&]() -> std::int64_t {
    const auto snapshot = server->snapshots().current();
    for (const auto& m : snapshot->metrics)
      if (m.metric == "payments-rps-forecast") return m.timestamp_unix;
    return 0;
  };
  CHECK(wait_for([&] { return (first_served = served_at()) > 0; }, std::chrono::seconds(30)));
  CHECK(wait_for([&] { return served_at() >= first_served + 2 * 300; }, std::chrono::seconds(30)));
  CHECK(proxy.holding() > 0);  // still held: the fit has not read the event history yet
  CHECK(log_text().find("\nrefit ") == std::string::npos);

  // A stop cancels the held call (its timeout is 5 minutes away).
  auto stopped = std::async(std::launch::async, [&] {
    server->stop();
    server.reset();
  });
  const bool stopped_soon = stopped.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
  proxy.release();  // lets a stop that missed the call finish, to fail cleanly
  stopped.wait();
  INFO(log_text());
  CHECK(stopped_soon);
  CHECK(log_text().find("\nfit cancelled ") != std::string::npos);
}
