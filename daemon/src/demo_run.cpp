#include "prescale/daemon/demo_run.hpp"

#include <fmt/core.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/version.hpp"
#include "prescale/report/report.hpp"
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
    std::ofstream out(report_path, std::ios::binary);
    out << report::render_report_html(*result, options);
    if (!out) return make_error("cannot write the demo report " + report_path.string());
    summary.report = report_path;
  }
  return summary;
}

}  // namespace prescale::daemon
