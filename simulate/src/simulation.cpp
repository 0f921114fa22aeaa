#include "prescale/simulate/simulation.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

namespace prescale::simulate {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Status check_inputs(const SimulationConfig& config, std::span<const double> demand,
                    std::span<const RunSpec> runs, const ForecastBand& forecast) {
  if (config.step_seconds <= 0) {
    return make_error(fmt::format("step: {} s must be positive", config.step_seconds));
  }
  if (!(config.capacity_per_replica > 0) || !std::isfinite(config.capacity_per_replica)) {
    return make_error(fmt::format("capacity per replica: {} must be a positive number",
                                  config.capacity_per_replica));
  }
  if (config.target_per_replica &&
      (!(*config.target_per_replica > 0) || !std::isfinite(*config.target_per_replica))) {
    return make_error(fmt::format("target per replica: {} must be a positive number",
                                  *config.target_per_replica));
  }
  if (config.startup_seconds < 0) {
    return make_error(fmt::format("startup: {} s must not be negative", config.startup_seconds));
  }
  if (config.sync_period_seconds <= 0) {
    return make_error(
        fmt::format("sync period: {} s must be positive", config.sync_period_seconds));
  }
  if (demand.empty()) return make_error("demand: the trace is empty");
  if (runs.empty()) return make_error("runs: nothing to simulate");
  for (const auto& run : runs) {
    if (run.metrics.empty()) return make_error(fmt::format("run '{}': it has no metric", run.name));
    for (std::size_t k = 0; k < run.metrics.size(); ++k) {
      if (run.metrics[k].size() != demand.size()) {
        return make_error(fmt::format("run '{}': metric {} has {} values for {} demand steps",
                                      run.name, k, run.metrics[k].size(), demand.size()));
      }
    }
  }
  for (const auto* band : {&forecast.mean, &forecast.lower, &forecast.upper}) {
    if (!band->empty() && band->size() != demand.size()) {
      return make_error(
          fmt::format("forecast: {} values for {} demand steps", band->size(), demand.size()));
    }
  }
  return Status::ok();
}

std::int32_t initial_replicas(const SimulationConfig& config, std::span<const double> demand) {
  const std::int32_t floor = std::max(config.min_replicas, 0);
  if (config.initial_replicas > 0)
    return std::clamp(config.initial_replicas, floor, config.max_replicas);
  for (double value : demand) {
    if (std::isfinite(value)) {
      const double needed = std::ceil(std::max(0.0, value) / config.capacity_per_replica);
      const double bounded = std::min(needed, static_cast<double>(config.max_replicas));
      return std::clamp(static_cast<std::int32_t>(bounded), floor, config.max_replicas);
    }
  }
  return std::max(floor, 1);
}

struct RunOutcome {
  RunSummary summary;
  RunTimeline timeline;
};

RunOutcome replay(const SimulationConfig& config, std::span<const double> demand,
                  const RunSpec& run, HpaController controller) {
  const std::size_t steps = demand.size();
  const std::int64_t start = config.start_unix;
  const std::int64_t step = config.step_seconds;
  const std::int64_t end = start + static_cast<std::int64_t>(steps) * step;

  RunOutcome out;
  out.summary.name = run.name;
  auto& timeline = out.timeline;
  timeline.served.assign(steps, kNaN);
  timeline.replicas.assign(steps, 0);
  timeline.ready.assign(steps, 0.0);
  timeline.violation_seconds.assign(steps, 0.0);
  timeline.pods.assign(steps, 0.0);
  for (std::size_t i = 0; i < steps; ++i) {
    for (const auto& metric : run.metrics) {
      if (std::isfinite(metric[i]) && !(metric[i] <= timeline.served[i]))
        timeline.served[i] = metric[i];
    }
  }

  const std::int32_t initial = initial_replicas(config, demand);
  PodPool pool(config.startup_seconds, initial, start);
  std::int32_t spec_replicas = initial;
  out.summary.peak_replicas = initial;
  CapacityTotals totals;
  std::vector<double> metric_values(run.metrics.size());

  std::int64_t t = start;
  std::int64_t next_sync = start;
  while (t < end) {
    const auto i = static_cast<std::size_t>((t - start) / step);
    if (t == next_sync) {
      for (std::size_t k = 0; k < run.metrics.size(); ++k) metric_values[k] = run.metrics[k][i];
      const ScaleObservation observation{spec_replicas, pool.replicas(), pool.ready(t),
                                         metric_values};
      const HpaDecision decision = controller.reconcile(t, observation);
      if (decision.rescale) {
        ++out.summary.scale_events;
        if (decision.desired_replicas > spec_replicas) {
          ++out.summary.scale_ups;
        } else {
          ++out.summary.scale_downs;
        }
        spec_replicas = decision.desired_replicas;
        pool.scale_to(spec_replicas, t);
        out.summary.peak_replicas = std::max(out.summary.peak_replicas, spec_replicas);
      }
      next_sync += config.sync_period_seconds;
    }
    // The next instant anything changes: a sync, a step boundary, a pod ready.
    const std::int64_t step_end = start + static_cast<std::int64_t>(i + 1) * step;
    std::int64_t segment_end = std::min({next_sync, step_end, end});
    if (const auto ready_time = pool.next_ready_after(t); ready_time && *ready_time < segment_end) {
      segment_end = *ready_time;
    }
    const auto seconds = static_cast<double>(segment_end - t);
    const std::int32_t ready = pool.ready(t);
    account(totals, demand[i], pool.replicas(), ready, config.capacity_per_replica, seconds);
    timeline.ready[i] += ready * seconds / static_cast<double>(step);
    timeline.pods[i] += pool.replicas() * seconds / static_cast<double>(step);
    if (std::isfinite(demand[i]) && demand[i] > ready * config.capacity_per_replica) {
      timeline.violation_seconds[i] += seconds;
    }
    t = segment_end;
    if (t == step_end || t == end) timeline.replicas[i] = pool.replicas();
  }

  out.summary.slo_violation_minutes = totals.violation_seconds / 60.0;
  out.summary.unserved_requests = totals.unserved_requests;
  out.summary.replica_hours = totals.replica_seconds / 3600.0;
  out.summary.overprovisioned_replica_hours = totals.overprovisioned_replica_seconds / 3600.0;
  return out;
}

}  // namespace

Expected<SimulationResult> simulate(const SimulationConfig& config, std::span<const double> demand,
                                    std::span<const RunSpec> runs, ForecastBand forecast) {
  if (auto status = check_inputs(config, demand, runs, forecast); !status) return status.error();

  SimulationResult result;
  result.config = config;
  result.demand.assign(demand.begin(), demand.end());
  result.forecast = std::move(forecast);
  result.missing_steps = static_cast<std::size_t>(
      std::count_if(demand.begin(), demand.end(), [](double v) { return std::isnan(v); }));

  for (const auto& run : runs) {
    HpaSpec spec;
    spec.min_replicas = config.min_replicas;
    spec.max_replicas = config.max_replicas;
    spec.behavior = config.behavior;
    spec.tolerance = config.tolerance;
    for (std::size_t k = 0; k < run.metrics.size(); ++k) {
      ExternalMetricSpec metric;
      metric.name = k < run.metric_names.size() ? run.metric_names[k] : fmt::format("metric{}", k);
      metric.target_type = MetricTargetType::average_value;
      metric.target = config.target_per_replica.value_or(config.capacity_per_replica);
      spec.metrics.push_back(std::move(metric));
    }
    auto controller = HpaController::make(std::move(spec));
    if (!controller)
      return make_error(fmt::format("run '{}': {}", run.name, controller.error().message));
    auto outcome = replay(config, demand, run, std::move(*controller));
    result.summaries.push_back(std::move(outcome.summary));
    result.timelines.push_back(std::move(outcome.timeline));
  }
  return result;
}

std::vector<double> observed_metric(std::span<const double> demand, std::size_t lag_steps) {
  std::vector<double> observed(demand.size(), kNaN);
  for (std::size_t i = lag_steps; i < demand.size(); ++i) observed[i] = demand[i - lag_steps];
  return observed;
}

std::vector<double> oracle_metric(std::span<const double> demand, std::int64_t step_seconds,
                                  std::int64_t lookahead_seconds) {
  const std::size_t n = demand.size();
  const auto ahead = static_cast<std::size_t>(std::max<std::int64_t>(
      0, (lookahead_seconds + step_seconds - 1) / std::max<std::int64_t>(1, step_seconds)));
  // Sliding-window max from the right with a monotonic deque of indices.
  std::vector<double> oracle(n, kNaN);
  std::deque<std::size_t> window;
  for (std::size_t back = n; back-- > 0;) {
    if (std::isfinite(demand[back])) {
      while (!window.empty() && demand[window.back()] <= demand[back]) window.pop_back();
      window.push_back(back);
    }
    while (!window.empty() && window.front() > back + ahead) window.pop_front();
    if (!window.empty()) oracle[back] = demand[window.front()];
  }
  return oracle;
}

RunSpec reactive_run(std::span<const double> demand, std::size_t lag_steps) {
  return RunSpec{"reactive", {"observed"}, {observed_metric(demand, lag_steps)}};
}

RunSpec predictive_run(std::span<const double> demand, std::vector<double> served,
                       std::size_t lag_steps) {
  return RunSpec{"predictive",
                 {"observed", "forecast"},
                 {observed_metric(demand, lag_steps), std::move(served)}};
}

RunSpec oracle_run(std::span<const double> demand, const SimulationConfig& config) {
  return RunSpec{"oracle",
                 {"future max"},
                 {oracle_metric(demand, config.step_seconds,
                                config.startup_seconds + config.sync_period_seconds)}};
}

}  // namespace prescale::simulate
