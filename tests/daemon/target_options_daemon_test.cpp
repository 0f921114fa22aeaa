// Each target key that shapes a fit, read by `serve` (and `demo`, which runs
// the same daemon on the config it writes) from its YAML, changes the fit the
// daemon serves. One daemon serves a base target and, per key, a twin with that
// key changed; all are fitted on the same samples of one recorded trace, and
// each twin's model, parameters, backtest score or served forecast differs
// from its base as the key says it should. forecast, backtest and simulate
// take the same keys as flags: tests/cli/target_options_cli_test.cpp.
#include <catch2/catch.hpp>

#include <cctype>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/config/config.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prescale/simulate/replay.hpp"
#include "test_support.hpp"

using namespace prescale;

namespace {

// Half-hour steps keep the fits small (a day is 48 samples). The trace runs
// from 2026-02-24 to 2026-03-12: its last 14 days hold a payroll-end day
// (Feb 27) and New York's change to summer time (Mar 8).
autoscaler::TraceOptions trace_options(std::int64_t step_seconds) {
  autoscaler::TraceOptions options;
  options.start_unix = calendar::days_from_civil({2026, 2, 24}) * 86400;
  options.days = 16;
  options.step_seconds = step_seconds;
  return options;
}

// The base every twin varies: daily and weekly seasons in UTC, Holt-Winters.
// A refit interval of one step: no per-target phase in the refit schedule
// (autoscaler::TargetWorker::schedule_cutoff), every first fit reads the
// samples up to the same step.
constexpr const char* kBase =
    "    refitInterval: 30m\n    step: 30m\n    history: 14d\n    timezone: UTC\n    seasonality: "
    "[1d, 1w]\n"
    "    model: holt-winters\n    leadTime: 30m\n    quantile: 0.9\n    backtestOrigins: 4\n"
    "    keepOutliers: false\n";
// The base with calendar regressors (the model that fits them).
constexpr const char* kCalendarBase =
    "    refitInterval: 30m\n    step: 30m\n    history: 14d\n    timezone: America/New_York\n    "
    "seasonality: [1d]\n"
    "    model: holt-winters+calendar\n    calendars: [nyse]\n";

struct Twin {
  std::string base;     ///< the base's keys
  std::string changed;  ///< the key as the twin has it (a later key wins)
};

// Per key: its twin. Keys that never reach a fit are served only.
const std::map<std::string, Twin> kTwins = {
    {"step", {kBase, "    step: 1h\n    refitInterval: 1h\n"}},
    {"history", {kBase, "    history: 10d\n"}},
    {"timezone", {kBase, "    timezone: America/New_York\n"}},
    {"seasonality", {kBase, "    seasonality: [1d]\n"}},
    {"calendars", {kCalendarBase, "    calendars: [nyse, payroll]\n"}},
    {"model", {kBase, "    model: seasonal-naive\n"}},
    {"leadTime", {kBase, "    leadTime: 2h\n"}},
    {"quantile", {kBase, "    quantile: 0.99\n"}},
    {"backtestOrigins", {kBase, "    backtestOrigins: 2\n"}},
    {"keepOutliers", {kBase, "    keepOutliers: true\n"}},
};
const std::set<std::string> kServingOnly = {
    "metric", "namespace", "labels", "query", "capacityPerReplica", "minReplicas", "maxReplicas",
    "refitInterval", "anomaly", "slo", "decisions.changeThreshold", "decisions.anomalySteps",
    "decisions.shiftSteps",
    // Reaches the fit only through event occurrences
    // older than history, which this 16-day trace
    // lacks: event_history_test.cpp checks it against
    // 190 days in a real Prometheus.
    "eventHistory"};

// The metric of a key's base or twin: a Kubernetes name (lower case).
std::string metric_of(const std::string& key, const std::string& which) {
  std::string name;
  for (const char c : key) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name + "-" + which;
}

// A YAML target entry: its metric, then `keys` (later keys override earlier ones).
std::string target_entry(const std::string& metric, const std::string& keys) {
  std::map<std::string, std::string> lines;
  std::vector<std::string> order;
  std::size_t at = 0;
  while (at < keys.size()) {
    const std::size_t end = keys.find('\n', at);
    const std::string line = keys.substr(at, end - at + 1);
    const std::string key = line.substr(4, line.find(':') - 4);
    if (lines.count(key) == 0) order.push_back(key);
    lines[key] = line;
    at = end + 1;
  }
  std::string entry = "  - metric: " + metric + "\n    query: q\n";
  for (const auto& key : order) entry += lines[key];
  return entry;
}

bool has_parameter_prefix(const TargetStatus& status, const std::string& prefix) {
  for (const auto& [name, value] : status.parameters)
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("serve: every target key that shapes a fit reaches the fit the daemon serves",
          "[daemon][target]") {
  // A new target key must say which it is.
  for (const auto& key : config::target_keys()) {
    INFO("key " << key.key << ": add it to kTwins (with a check below) or to kServingOnly");
    CHECK((kTwins.count(std::string(key.key)) + kServingOnly.count(std::string(key.key))) == 1);
  }

  test::TempDir dir("prescale-target-options");
  auto certs = daemon::write_demo_certificates(dir.path);
  REQUIRE(certs.has_value());
  const auto half_hourly = autoscaler::generate_trace(trace_options(1800));
  const auto hourly = autoscaler::generate_trace(trace_options(3600));
  REQUIRE(half_hourly.has_value());
  REQUIRE(hourly.has_value());
  // Mid-step, so that every target's first fetch sees the same samples.
  autoscaler::AcceleratedClock clock(static_cast<double>(half_hourly->end_unix() - 2700), 1.0);

  std::string targets;
  for (const auto& [key, twin] : kTwins) {
    targets += target_entry(metric_of(key, "base"), twin.base);
    targets += target_entry(metric_of(key, "twin"), twin.base + twin.changed);
  }
  daemon::DaemonOptions options;
  options.config_path = dir.path / "prescale.yaml";
  options.listen_port = 0;
  options.clock = &clock;
  options.sources =
      [&](const config::TargetConfig& target) -> Expected<std::unique_ptr<source::Source>> {
    const auto& trace = target.step_seconds == 3600 ? *hourly : *half_hourly;
    return std::unique_ptr<source::Source>(
        std::make_unique<simulate::RecordedSource>(trace, clock));
  };
  std::ofstream(options.config_path)
      << "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: " << certs->server_cert.string()
      << "\n  tlsKeyFile: " << certs->server_key.string() << "\n"
      << autoscaler::payments_calendars_yaml() << "targets:\n"
      << targets;
  daemon::Daemon daemon(options);
  REQUIRE(daemon.start().has_value());

  std::map<std::string, TargetStatus> fitted;
  const bool all_fitted = test::wait_for(
      [&] {
        const auto snapshot = daemon.snapshots().current();
        fitted.clear();
        for (const auto& status : snapshot->targets)
          if (status.has_forecast ||
              (status.in_fallback() && status.fallback_kind != "fit_pending"))
            fitted[status.target] = status;
        return fitted.size() == 2 * kTwins.size();
      },
      std::chrono::seconds(120));
  daemon.stop();
  for (const auto& [name, status] : fitted)
    UNSCOPED_INFO(name << ": " << status.model << ", backtest MASE "
                       << status.backtest_mase.value_or(-1) << ", forecast " << status.forecast
                       << ", samples to " << status.fit_data_end_unix << " "
                       << status.fallback_reason);
  REQUIRE(all_fitted);

  for (const auto& [key, twin] : kTwins) {
    INFO("key " << key);
    const TargetStatus& base = fitted.at(metric_of(key, "base"));
    const TargetStatus& changed = fitted.at(metric_of(key, "twin"));
    // A model fitted (a forced one that loses to seasonal naive is still
    // named and scored), both on the samples up to the same instant (the
    // step's own grid aside).
    REQUIRE_FALSE(base.model.empty());
    REQUIRE_FALSE(changed.model.empty());
    if (key != "step") REQUIRE(base.fit_data_end_unix == changed.fit_data_end_unix);
    if (key == "step") {
      // Seasons counted in steps: a day is 48 half hours, 24 hours.
      CHECK_THAT(base.model, Catch::EndsWith(";48,336)"));
      CHECK_THAT(changed.model, Catch::EndsWith(";24,168)"));
    } else if (key == "seasonality") {
      CHECK_THAT(base.model, Catch::EndsWith(";48,336)"));
      CHECK_THAT(changed.model, Catch::EndsWith(";48)"));
    } else if (key == "model") {
      CHECK_THAT(base.model, Catch::StartsWith("holt-winters("));
      CHECK_THAT(changed.model, Catch::StartsWith("seasonal-naive("));
    } else if (key == "leadTime" || key == "backtestOrigins") {
      // The backtest scores other windows (a longer horizon, fewer origins).
      CHECK(changed.backtest_mase != base.backtest_mase);
    } else {
      REQUIRE(base.has_forecast);
      REQUIRE(changed.has_forecast);
      if (key == "calendars") {
        CHECK(has_parameter_prefix(base, "calendar.nyse."));
        CHECK_FALSE(has_parameter_prefix(base, "calendar.payroll."));
        CHECK(has_parameter_prefix(changed, "calendar.payroll."));
      } else if (key == "quantile") {
        // The same fit, served at a higher quantile of the lead window.
        CHECK(changed.parameters == base.parameters);
        CHECK(changed.quantile == 0.99);
        CHECK(changed.forecast > base.forecast);
      } else {
        // history, timezone, keepOutliers: other samples or slots, other parameters.
        CHECK(changed.parameters != base.parameters);
      }
    }
  }
}
