// The daemon's first fit learns a monthly event from months of Prometheus
// history, not from the one or two occurrences its regular window holds:
// a real Prometheus backfilled with 190 days of a 5-minute payments trace,
// `history: 35d`, `eventHistory: 183d`. The older payroll mornings come as
// sparse query_range calls (each window and the same hours a week before
// and after), counted in the "event history" log record.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"

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

  auto certs = daemon::write_demo_certificates(dir.path / "tls", "events", "events");
  REQUIRE(certs.has_value());
  const auto config_path = dir.path / "prescale.yaml";
  std::ofstream(config_path) << "prometheus:\n  url: " << prometheus.url()
                             << "\n  timeout: 10s\n"
                                "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: "
                             << certs->server_cert.string()
                             << "\n  tlsKeyFile: " << certs->server_key.string()
                             << "\n  clientCAFile: " << certs->ca_cert.string()
                             << "\n  authorization: {mode: always-allow}\n"
                                "targets:\n"
                                "  - metric: payments-rps-forecast\n"
                                "    query: payments{job=\"api\"}\n"
                                "    step: 5m\n    history: 35d\n    eventHistory: 183d\n"
                                "    timezone: America/New_York\n    seasonality: [1d, 7d]\n"
                                "    calendars: [payroll]\n    model: events\n"
                                "    leadTime: 15m\n    refitInterval: 6h\n"
                             << autoscaler::payments_calendars_yaml();

  std::mutex mutex;
  std::vector<LogRecord> records;
  autoscaler::AcceleratedClock clock(static_cast<double>(now), 1.0);
  daemon::DaemonOptions options;
  options.config_path = config_path;
  options.clock = &clock;
  options.listen_port = 0;
  options.log = [&](const LogRecord& record) {
    std::lock_guard lock(mutex);
    records.push_back(record);
  };
  daemon::Daemon server(options);
  REQUIRE(server.start());
  std::optional<LogRecord> history, fit;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (!fit && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard lock(mutex);
    for (const auto& r : records) {
      if (r.message == "event history" && !history) history = r;
      if ((r.message == "refit" || r.message == "fit failed") && !fit) fit = r;
    }
  }
  server.stop();
  std::string log;
  for (const auto& r : records) log += text_of(r) + "\n";
  INFO(log);
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
