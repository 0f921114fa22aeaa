#include "slo_served.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "frontier_runs.hpp"

namespace prescale::simulate {

Expected<ServedOutcome> served_outcome(const SimulationConfig& config,
                                       const autoscaler::SloHistory& history,
                                       const FrontierOptions& options) {
  ServedOutcome out;
  const std::size_t n = history.demand.size();
  if (history.served.size() != n) return out;
  std::size_t first = 0;
  while (first < n && !std::isfinite(history.served[first])) ++first;
  if (first == n) return out;

  SimulationConfig from = config;
  from.start_unix = history.start_unix + static_cast<std::int64_t>(first) * history.step_seconds;
  from.target_per_replica.reset();  // the headroom is in the served values
  // The pods the first served value asks for are there at its start: "as
  // few as the load needs" would count the start-up of pods that the HPA,
  // reading the served values, had asked for before the window.
  from.initial_replicas = static_cast<std::int32_t>(
      std::clamp(std::ceil(history.served[first] / config.capacity_per_replica),
                 static_cast<double>(std::max(config.min_replicas, 1)),
                 static_cast<double>(config.max_replicas)));
  const std::span<const double> demand = std::span(history.demand).subspan(first);
  const std::vector<double> served(history.served.begin() + static_cast<std::ptrdiff_t>(first),
                                   history.served.end());
  FrontierOptions daemon = options;
  daemon.headroom_in_served = true;
  std::vector<RunSpec> runs{setting_run(demand, served, options.observed_target, 1.0, daemon).run};
  // Beside them, a reactive HPA retuned the same way: the target each
  // refit chose, from the first one known on (as the bench's reactive-tuned run).
  if (history.reactive_targets.size() == n) {
    if (auto reactive =
            tuned_reactive_run(demand, std::span(history.reactive_targets).subspan(first), options))
      runs.push_back(std::move(reactive->run));
  }
  auto result = simulate(from, demand, runs);
  if (!result) return result.error();
  const RunTimeline& timeline = result->timelines.front();
  const RunTimeline* reactive = runs.size() > 1 ? &result->timelines[1] : nullptr;
  if (reactive) out.reactive_short_minutes = out.reactive_replica_hours = 0.0;
  const double step_minutes = static_cast<double>(history.step_seconds) / 60;
  double served_steps = 0, known = 0;
  for (std::size_t i = 0; i < served.size(); ++i) {
    if (!std::isfinite(served[i])) continue;
    ++served_steps;
    if (!std::isfinite(demand[i])) continue;
    known += step_minutes;
    out.short_minutes += timeline.violation_seconds[i] / 60;
    out.replica_hours += timeline.pods[i] * step_minutes / 60;
    if (!reactive) continue;
    *out.reactive_short_minutes += reactive->violation_seconds[i] / 60;
    *out.reactive_replica_hours += reactive->pods[i] * step_minutes / 60;
  }
  out.days = served_steps * step_minutes / (24 * 60);
  out.allowed_minutes = options.slo_short_fraction * known;
  return out;
}

void add_served_figures(autoscaler::SloSetting& setting, const SimulationConfig& config,
                        const autoscaler::SloHistory& history, const FrontierOptions& options) {
  const auto served = served_outcome(config, history, options);
  if (!served || served->days <= 0) return;
  setting.figures.served_days = served->days;
  setting.figures.served_allowed_minutes = served->allowed_minutes;
  setting.figures.served_short_minutes = served->short_minutes;
  setting.figures.served_replica_hours = served->replica_hours;
  setting.summary += fmt::format(
      "; as served on the last {:.1f} days: {:.0f} minutes short ({:.0f} allowed), {:.0f} "
      "replica-hours",
      served->days, served->short_minutes, served->allowed_minutes, served->replica_hours);
  if (!served->reactive_replica_hours) return;
  setting.figures.served_reactive = true;
  setting.figures.served_reactive_short_minutes = *served->reactive_short_minutes;
  setting.figures.served_reactive_replica_hours = *served->reactive_replica_hours;
  setting.summary +=
      fmt::format(", a reactive HPA tuned the same way {:.0f} minutes short, {:.0f} replica-hours",
                  *served->reactive_short_minutes, *served->reactive_replica_hours);
}

}  // namespace prescale::simulate
