#include "prescale/daemon/demo_run.hpp"

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/version.hpp"
#include "prescale/report/report.hpp"
#include "prescale/simulate/frontier.hpp"
#include "prescale/simulate/simulation.hpp"

namespace prescale::daemon {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Violation stretches of a run closer than an hour are one surge.
struct Stretch {
  std::size_t begin = 0, end = 0;
};

std::vector<Stretch> violation_stretches(const std::vector<double>& violation_seconds,
                                         std::size_t merge_gap_steps) {
  std::vector<Stretch> out;
  for (std::size_t i = 0; i < violation_seconds.size(); ++i) {
    if (!(violation_seconds[i] > 0)) continue;
    if (!out.empty() && i - out.back().end <= merge_gap_steps) {
      out.back().end = i + 1;
    } else {
      out.push_back({i, i + 1});
    }
  }
  return out;
}

// What a reactive HPA does when it spends `replica_hours` on headroom: its
// per-pod target swept from 100 % of capacity down in steps of 1 %, read on
// its frontier (no cheaper target is short for fewer minutes) where the cost
// crosses. A platform team lowers the target rather than buy a forecast, so
// this, not the HPA at 100 %, is what prescale's extra pods must beat.
Expected<std::optional<simulate::FrontierReading>> reactive_at_cost(
    const simulate::SimulationConfig& config, std::span<const double> load, double replica_hours) {
  simulate::FrontierOptions sweep;
  sweep.reactive_targets.clear();
  for (int percent = 100; percent >= 20; --percent)
    sweep.reactive_targets.push_back(percent / 100.0);
  sweep.refine_step = 0;
  sweep.sweep_floor = 0;
  sweep.observation_lag = 1;  // as the demo's reactive run reads it
  auto swept = simulate::sweep_frontier(config, load, nullptr, sweep);
  if (!swept) return make_error(swept.error().message);
  return simulate::frontier_at(swept->points, "reactive", replica_hours);
}

}  // namespace

void DemoRecorder::add(const Snapshot& snapshot) {
  if (snapshot.targets.empty() || snapshot.generated_unix == last_generated_) return;
  last_generated_ = snapshot.generated_unix;
  const TargetStatus& t = snapshot.targets.front();
  steps_.push_back(DemoStep{snapshot.generated_unix, t.observed, t.forecast, t.served, t.replicas,
                            t.fallback_reason});
}

Expected<DemoSummary> summarise_demo(std::span<const DemoStep> steps,
                                     std::span<const double> demand, std::int64_t demand_start_unix,
                                     const DemoDeployment& deployment,
                                     const std::filesystem::path& report_path) {
  DemoSummary summary;
  summary.steps = steps.size();
  for (const auto& step : steps) {
    if (step.fallback_reason.empty())
      ++summary.forecast_steps;
    else
      ++summary.fallbacks[step.fallback_reason.substr(0, step.fallback_reason.find(':'))];
  }
  const std::int64_t step_seconds = deployment.step_seconds;
  if (steps.size() < 2 || step_seconds <= 0)
    return make_error(
        fmt::format("the demo recorded {} steps; a summary needs at least 2", steps.size()));

  // The grid of the recorded stretch. A step the poll missed (a fast clock)
  // served what the step before it did: the API answers from the newest
  // snapshot until the next one. (Left NaN, it would read as a failed metric,
  // and an HPA with a failed metric never scales down.)
  const std::int64_t start = steps.front().unix_seconds / step_seconds * step_seconds;
  const std::int64_t end = steps.back().unix_seconds / step_seconds * step_seconds;
  const auto count = static_cast<std::size_t>((end - start) / step_seconds + 1);
  summary.grid_steps = count;
  std::vector<double> load(count, kNaN), served(count, kNaN), lower(count, kNaN),
      upper(count, kNaN), forecast(count, kNaN);
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t t = start + static_cast<std::int64_t>(i) * step_seconds;
    const std::int64_t index = (t - demand_start_unix) / step_seconds;
    if (t >= demand_start_unix && index < static_cast<std::int64_t>(demand.size()))
      load[i] = demand[static_cast<std::size_t>(index)];
  }
  for (const auto& step : steps) {
    const auto i = static_cast<std::size_t>(
        (step.unix_seconds / step_seconds * step_seconds - start) / step_seconds);
    served[i] = step.served;
    if (step.fallback_reason.empty()) forecast[i] = step.forecast;
  }
  for (std::size_t i = 1; i < count; ++i)
    if (std::isnan(served[i])) served[i] = served[i - 1];

  simulate::SimulationConfig config;
  config.start_unix = start;
  config.step_seconds = step_seconds;
  config.capacity_per_replica = deployment.capacity_per_replica;
  config.startup_seconds = deployment.startup_seconds;
  config.min_replicas = deployment.min_replicas;
  config.max_replicas = deployment.max_replicas;
  // The load a step's observation reports arrives during the step: a
  // reactive HPA reads it a step late, as the daemon's observed value.
  const std::vector<simulate::RunSpec> runs{simulate::reactive_run(load, 1),
                                            simulate::predictive_run(load, served, 1)};
  simulate::ForecastBand band;
  band.mean = forecast;
  auto result = simulate::simulate(config, load, runs, band);
  if (!result) return make_error("demo summary: " + result.error().message);

  const auto& reactive = result->timelines[0];
  const auto& predictive = result->timelines[1];
  const auto merge_steps = static_cast<std::size_t>(std::max<std::int64_t>(3600 / step_seconds, 1));
  for (const auto& surge : violation_stretches(reactive.violation_seconds, merge_steps)) {
    ++summary.surges;
    double short_seconds = 0;
    for (std::size_t i = surge.begin; i < surge.end; ++i)
      short_seconds += predictive.violation_seconds[i];
    if (short_seconds == 0) ++summary.surges_in_time;
  }
  summary.reactive_violation_minutes = result->summaries[0].slo_violation_minutes;
  summary.predictive_violation_minutes = result->summaries[1].slo_violation_minutes;
  summary.reactive_replica_hours = result->summaries[0].replica_hours;
  summary.predictive_replica_hours = result->summaries[1].replica_hours;
  auto equal_cost = reactive_at_cost(config, load, summary.predictive_replica_hours);
  if (!equal_cost) return make_error("demo summary: " + equal_cost.error().message);
  if (*equal_cost) {
    summary.equal_cost_reactive_minutes = (*equal_cost)->violation_minutes;
    summary.equal_cost_reactive_target = (*equal_cost)->target_fraction;
  }

  if (!report_path.empty()) {
    report::ReportOptions options;
    options.title = "prescale demo: what the HPA would have done";
    options.trace_name = "bundled payments trace (the stretch the demo played)";
    if (auto zone = calendar::TimeZone::find("America/New_York")) options.zone = *zone;
    options.hpa_description = "no behavior (Kubernetes defaults)";
    options.generator = "prescale " + std::string(prescale::version());
    options.notes.push_back(fmt::format(
        "predictive: the values the demo's External Metrics API served ({} of {} steps from a "
        "forecast); reactive: the observed load alone, on the same HPA.",
        summary.forecast_steps, summary.steps));
    if (summary.equal_cost_reactive_minutes)
      options.notes.push_back(fmt::format(
          "at equal cost: a reactive HPA with its per-pod target lowered to {:.0f} % of capacity "
          "spends the predictive run's {:.1f} replica-hours and is short {:.0f} minutes, where "
          "the predictive run is short {:.0f}.",
          100 * *summary.equal_cost_reactive_target, summary.predictive_replica_hours,
          *summary.equal_cost_reactive_minutes, summary.predictive_violation_minutes));
    std::ofstream out(report_path, std::ios::binary);
    out << report::render_report_html(*result, options);
    if (!out) return make_error("cannot write the demo report " + report_path.string());
    summary.report = report_path;
  }
  return summary;
}

}  // namespace prescale::daemon
