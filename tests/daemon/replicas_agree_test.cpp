// Two replicas of `prescale serve` against one real Prometheus serve the same
// value for the same metric at the same time, though the second started hours
// after the first: the HPA reads whichever pod the Service picks. Both run on
// one accelerated clock (a simulated day in about half a minute), each with
// its own engine, Prometheus client and HTTPS server.
#include <fmt/core.h>
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prometheus_fixture.hpp"
#include "test_support.hpp"

using namespace prescale;

namespace {

constexpr std::int64_t kStep = 300;  // 5m
constexpr double kSpeed = 2400;      // a simulated day in 36 s

// A daily load with a morning peak and deterministic noise (a linear
// congruential generator, the same on every run).
forecast::Series daily_load(std::int64_t start, std::int64_t end) {
  forecast::Series series;
  series.step_seconds = kStep;
  series.start_unix = start;
  std::uint64_t state = 42;
  for (std::int64_t t = start; t < end; t += kStep) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double noise = static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
    const double day = 2 * M_PI * static_cast<double>(t % 86400) / 86400.0;
    series.values.push_back(400 + 150 * std::sin(day) + 60 * std::cos(2 * day) + 30 * noise);
  }
  return series;
}

std::string config_text(const std::string& url, const daemon::DemoCertificates& certs) {
  return "prometheus:\n  url: " + url +
         "\n  timeout: 10s\n"
         "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: " +
         certs.server_cert.string() + "\n  tlsKeyFile: " + certs.server_key.string() +
         "\n  clientCAFile: " + certs.ca_cert.string() +
         "\n  authorization: {mode: always-allow}\n"
         "targets:\n"
         "  - metric: api-rps-forecast\n    namespace: shop\n    query: load{job=\"api\"}\n"
         "    step: 5m\n    history: 3d\n    seasonality: [1d]\n    leadTime: 15m\n"
         "    refitInterval: 2h\n    capacityPerReplica: 50\n";
}

// What one replica served at one step.
struct Served {
  double value = 0;
  std::int64_t fit_data_end = 0;  // 0: no forecast (the observed value served)
};

// Reads a replica's snapshot: the served value per step (keyed by the step
// the tick belongs to; the tick itself lands a little after the boundary).
void record(const daemon::Daemon& replica, std::map<std::int64_t, Served>& served) {
  const auto snapshot = replica.snapshots().current();
  if (snapshot->metrics.empty() || snapshot->targets.empty()) return;
  const auto& metric = snapshot->metrics.front();
  const auto& status = snapshot->targets.front();
  const std::int64_t at = metric.timestamp_unix - metric.timestamp_unix % kStep;
  served[at] = Served{metric.value, status.has_forecast ? status.fit_data_end_unix : 0};
}

}  // namespace

TEST_CASE("two replicas started hours apart serve the same value at every step",
          "[daemon][replicas]") {
  test::TempDir dir("prescale-replicas");
  // The simulated day ended yesterday, so Prometheus holds all of it (and the
  // three days of history before it) as backfilled blocks.
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  const std::int64_t start = now / 86400 * 86400 - 86400 + 17 * 60;  // 00:17, off any boundary
  test::PrometheusFixture prometheus(
      {{"load", {{"job", "api"}}, daily_load(start - 5 * 86400, start + 86400)}});
  auto certs = daemon::write_demo_certificates(dir.path / "tls", "replicas", "replicas");
  REQUIRE(certs.has_value());
  const auto config_path = dir.path / "prescale.yaml";
  std::ofstream(config_path) << config_text(prometheus.url(), *certs);

  autoscaler::AcceleratedClock clock(static_cast<double>(start), kSpeed);
  auto options = [&] {
    daemon::DaemonOptions o;
    o.config_path = config_path;
    o.clock = &clock;
    o.listen_port = 0;
    return o;
  };
  daemon::Daemon first(options());
  REQUIRE(first.start());
  // The second replica starts 3 h 25 min later (a rollout, a node drain):
  // not on a refit boundary of its own start or the first's.
  std::map<std::int64_t, Served> a, b;
  const double second_starts = static_cast<double>(start + 3 * 3600 + 25 * 60);
  while (clock.now() < second_starts) {
    record(first, a);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  daemon::Daemon second(options());
  REQUIRE(second.start());
  const double end = static_cast<double>(start + 86400 - 3600);
  while (clock.now() < end) {
    record(first, a);
    record(second, b);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  second.stop();
  first.stop();

  // Every step both served a forecast at: the same fit gives the same value,
  // bit for bit. A step where their fits differ is one where a replica
  // adopted a refit a tick later (its fit thread was slower); those must be
  // few, and never in a row for long.
  std::size_t compared = 0, same_fit = 0, equal = 0, equal_any_fit = 0;
  std::int64_t fits_seen = 0, last_fit = 0;
  std::string mismatches;
  for (const auto& [at, x] : b) {
    const auto other = a.find(at);
    if (other == a.end() || x.fit_data_end == 0 || other->second.fit_data_end == 0) continue;
    const Served& y = other->second;
    ++compared;
    if (x.value == y.value) ++equal_any_fit;
    if (x.fit_data_end != last_fit) {
      ++fits_seen;
      last_fit = x.fit_data_end;
    }
    if (x.fit_data_end != y.fit_data_end) continue;
    ++same_fit;
    if (x.value == y.value) {
      ++equal;
    } else if (mismatches.size() < 2000) {
      mismatches += std::to_string(at - start) + "s: " + std::to_string(x.value) + " vs " +
                    std::to_string(y.value) + "\n";
    }
  }
  const std::string summary = fmt::format(
      "replicas: {} steps compared, {} on the same fit ({} of them equal), {} equal in all, {} "
      "fits seen by the second replica",
      compared, same_fit, equal, equal_any_fit, fits_seen);
  std::cout << summary << "\n";
  INFO(summary << "\n" << mismatches);
  // About 20 simulated hours of 5-minute steps with both forecasting.
  CHECK(compared >= 180);
  // Refits every 2 h: the second replica went through several, each the
  // first's too (the same data end).
  CHECK(fits_seen >= 8);
  CHECK(same_fit >= compared * 9 / 10);
  CHECK(equal == same_fit);
  CHECK(equal_any_fit >= compared * 9 / 10);
  // The refit schedule is the wall clock's, not the process start's: every
  // fit the second replica served from, the first served from too.
  std::set<std::int64_t> first_fits;
  for (const auto& [at, y] : a) first_fits.insert(y.fit_data_end);
  for (const auto& [at, x] : b) {
    if (x.fit_data_end == 0) continue;
    INFO("the second replica's fit on data up to " << x.fit_data_end - start << "s, served at "
                                                   << at - start << "s");
    CHECK(first_fits.count(x.fit_data_end) == 1);
  }
}
