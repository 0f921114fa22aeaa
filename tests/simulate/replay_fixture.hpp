#pragma once
// The trace and target the engine's replay is tested on (simulate's band and
// the frontier's quantile sweep replay the same engine run).
#include <cmath>
#include <string>

#include "prescale/config/config.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::test {

/// Five days of 10-minute load from 2026-01-01T00:00Z: a daily cycle around
/// 1000 with a little deterministic wobble, so that intervals are not empty.
inline forecast::Series five_daily_cycles() {
  forecast::Series series;
  series.start_unix = 1767225600;  // 2026-01-01T00:00Z
  series.step_seconds = 600;
  for (std::size_t i = 0; i < 5 * 144; ++i) {
    const double phase = 2 * M_PI * static_cast<double>(i % 144) / 144.0;
    series.values.push_back(1000 + 300 * std::sin(phase) +
                            20 * std::sin(static_cast<double>(i) * 1.7));
  }
  return series;
}

/// A target replaying it: three days of history (the last two days are
/// decided), a daily refit, a lead time of 3 steps (the window is steps 0..3), q0.9.
inline config::TargetConfig daily_cycle_target(const std::string& metric) {
  config::TargetConfig target;
  target.metric = metric;
  target.query = "trace";
  target.step_seconds = 600;
  target.history_seconds = 3 * 86400;
  target.timezone = "UTC";
  target.seasonality_seconds = {86400};
  target.lead_time_seconds = 1800;
  target.refit_interval_seconds = 86400;
  target.backtest_origins = 8;
  target.quantile = 0.9;
  return target;
}

/// A target with `slo:` (its defaults) at 1-minute steps, 100 per pod and
/// a 5-minute lead (pods ready 3m45s after they are created), as the SLO
/// tuning's tests record decisions for it.
inline config::TargetConfig slo_target(const std::string& metric = "slo-test") {
  config::TargetConfig target;
  target.metric = metric;
  target.query = "trace";
  target.step_seconds = 60;
  target.lead_time_seconds = 300;
  target.capacity_per_replica = 100;
  target.slo = config::SloConfig{};
  return target;
}

}  // namespace prescale::test
