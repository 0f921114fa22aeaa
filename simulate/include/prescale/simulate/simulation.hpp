#pragma once
// Replays a demand trace through the HPA model: for each run (reactive,
// predictive, oracle, ...) the HPA syncs every 15 s on the metric series that
// run serves, pods turn ready after their start-up time, and ready capacity
// is held against demand. The simulator does not forecast: the predictive
// run's served series comes from replaying the engine (only data before t)
// and is passed in like any other metric series.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/simulate/capacity.hpp"
#include "prescale/simulate/hpa.hpp"

namespace prescale::simulate {

/// The deployment, its HPA and the trace grid.
struct SimulationConfig {
  std::int64_t start_unix = 0;      ///< UTC seconds of demand[0]
  std::int64_t step_seconds = 60;   ///< grid spacing of demand and metric series
  double capacity_per_replica = 1;  ///< requests/s one ready pod serves
  /// The HPA's AverageValue target per pod; unset = capacity_per_replica. A
  /// lower target buys headroom: the HPA ignores ratios within its tolerance.
  std::optional<double> target_per_replica;
  std::int64_t startup_seconds = 180;  ///< pod creation -> ready
  std::int32_t min_replicas = 1;
  std::int32_t max_replicas = 100;
  std::optional<HpaBehavior> behavior;  ///< unset = the HPA without `behavior`
  std::int64_t sync_period_seconds = kHpaSyncPeriodSeconds;
  double tolerance = kHpaTolerance;
  /// Replicas (all ready) at the start; 0 = enough for the first known demand.
  std::int32_t initial_replicas = 0;
};

/// One strategy to replay: the External metric(s) its HPA reads, each with an
/// AverageValue target of capacity_per_replica. metrics[k][i] is the value
/// metric k reports during step i (NaN: the metric cannot be fetched).
struct RunSpec {
  std::string name;
  std::vector<std::string> metric_names;
  std::vector<std::vector<double>> metrics;
};

/// What a run cost and how it served, over the whole trace.
struct RunSummary {
  std::string name;
  double slo_violation_minutes = 0;          ///< demand above ready capacity
  double unserved_requests = 0;              ///< requests above ready capacity (area)
  double replica_hours = 0;                  ///< every pod, ready or starting
  double overprovisioned_replica_hours = 0;  ///< ready capacity above demand, in replicas
  std::size_t scale_events = 0;
  std::size_t scale_ups = 0;
  std::size_t scale_downs = 0;
  std::int32_t peak_replicas = 0;
};

/// Per step of the trace, for one run.
struct RunTimeline {
  std::vector<double> served;             ///< max of the run's metrics during the step (NaN: none)
  std::vector<std::int32_t> replicas;     ///< pods at the end of the step
  std::vector<double> ready;              ///< mean ready pods over the step
  std::vector<double> violation_seconds;  ///< seconds of the step with demand above capacity
  std::vector<double> pods;  ///< mean pods over the step, ready or starting (replica-hours' share)
};

/// The forecast behind a predictive run, for plots and the timeline (optional).
struct ForecastBand {
  std::vector<double>
      mean;  ///< the forecast line (simulate: the served quantile, max over the lead window)
  std::vector<double>
      lower;  ///< interval for the step (simulate: forecast one lead time earlier, lead_time_band)
  std::vector<double> upper;
};

struct SimulationResult {
  SimulationConfig config;
  std::vector<double> demand;
  ForecastBand forecast;  ///< empty vectors when no forecast was given
  std::vector<RunSummary> summaries;
  std::vector<RunTimeline> timelines;
  std::size_t missing_steps = 0;  ///< demand NaN: not held against capacity

  [[nodiscard]] std::size_t steps() const { return demand.size(); }
  [[nodiscard]] std::int64_t time_at(std::size_t i) const {
    return config.start_unix + static_cast<std::int64_t>(i) * config.step_seconds;
  }
};

/// Runs every RunSpec over the trace. Errors name the bad input (a metric
/// series of the wrong length, a non-positive capacity, an invalid HPA).
/// Deterministic; O(syncs x window) time.
[[nodiscard]] Expected<SimulationResult> simulate(const SimulationConfig& config,
                                                  std::span<const double> demand,
                                                  std::span<const RunSpec> runs,
                                                  ForecastBand forecast = {});

// --- Metric series for the standard runs. ---

/// The load as a reactive HPA reads it during step i: demand[i - lag_steps]
/// (NaN before the trace). lag 0 is the kindest assumption for reactive.
std::vector<double> observed_metric(std::span<const double> demand, std::size_t lag_steps = 0);
/// Perfect knowledge of the future: max demand over [t_i, t_i + lookahead]
/// (the steps i .. i + ceil(lookahead / step)); NaN demand is skipped.
std::vector<double> oracle_metric(std::span<const double> demand, std::int64_t step_seconds,
                                  std::int64_t lookahead_seconds);

/// "reactive": one metric, the observed load.
RunSpec reactive_run(std::span<const double> demand, std::size_t lag_steps = 0);
/// "predictive": the observed load and the served forecast value as two
/// metrics, so the HPA takes their max (the forecast is purely additive).
/// `served[i]` must use only data before the end of step i's observation.
RunSpec predictive_run(std::span<const double> demand, std::vector<double> served,
                       std::size_t lag_steps = 0);
/// "oracle": the max demand over the next start-up + sync period.
RunSpec oracle_run(std::span<const double> demand, const SimulationConfig& config);

}  // namespace prescale::simulate
