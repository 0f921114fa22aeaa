#include "prescale/simulate/tune.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace prescale::simulate {

Expected<TuneResult> tune_for_slo(const SimulationConfig& config, std::span<const double> demand,
                                  const PredictiveSeries* predictive,
                                  const FrontierOptions& options) {
  auto swept = sweep_frontier(config, demand, predictive, options);
  if (!swept) return swept.error();
  TuneResult out;
  out.frontier = std::move(*swept);
  out.slo_minutes = out.frontier.headline.slo_minutes;
  out.tuning_slo_minutes = out.slo_minutes * (1 - options.tuning_margin);
  out.reactive = choose_setting(out.frontier.points, "reactive", out.tuning_slo_minutes);
  if (predictive)
    out.predictive = choose_setting(out.frontier.points, "predictive", out.tuning_slo_minutes);
  return out;
}

std::int64_t startup_for_lead(const config::TargetConfig& target) {
  return std::max<std::int64_t>(
      0, target.lead_time_seconds - kHpaSyncPeriodSeconds - target.step_seconds);
}

Expected<autoscaler::SloSetting> tune_target_for_slo(const config::TargetConfig& target,
                                                     const autoscaler::SloHistory& history) {
  if (!target.slo) return make_error("the target declares no slo");
  if (!target.capacity_per_replica)
    return make_error("slo needs capacityPerReplica (minutes short are counted against it)");
  const std::size_t n = history.demand.size();
  if (n == 0 || history.observed.size() != n || history.windows.size() != n ||
      history.decided.size() != n)
    return make_error("no recorded decisions to tune on");

  SimulationConfig config;
  config.start_unix = history.start_unix;
  config.step_seconds = history.step_seconds;
  config.capacity_per_replica = *target.capacity_per_replica;
  config.startup_seconds = startup_for_lead(target);
  config.min_replicas = static_cast<std::int32_t>(target.min_replicas);
  config.max_replicas = static_cast<std::int32_t>(target.max_replicas);

  // What the decisions read, as a replay would have recorded it: steps
  // without a decision serve nothing (NaN), as in the replay.
  PredictiveSeries recorded;
  recorded.start_unix = history.start_unix;
  recorded.quantile = target.quantile;
  recorded.observed = history.observed;
  recorded.windows = history.windows;
  recorded.served.assign(n, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < n; ++i)
    if (history.decided[i]) recorded.served[i] = 0;  // any number: "decided"

  FrontierOptions options;
  options.slo_short_fraction = target.slo->max_short_percent / 100;
  options.tuning_margin = target.slo->margin_percent / 100;
  auto tuned = tune_for_slo(config, history.demand, &recorded, options);
  if (!tuned) return tuned.error();
  if (!tuned->predictive) return make_error("no predictive setting was swept");
  const auto& chosen = tuned->at(*tuned->predictive);

  autoscaler::SloSetting out;
  out.quantile = chosen.quantile;
  out.headroom = 1 / chosen.target_fraction;
  out.meets_slo = tuned->predictive->meets_slo;
  const double days = static_cast<double>(history.recorded_seconds()) / 86400;
  out.summary = fmt::format(
      "SLO {:g}% of minutes short (margin {:g}%): quantile {:g}, headroom x{:.3g} (HPA target "
      "{:.0f}% of capacity) {} on the last {:.1f} days: {:.0f} minutes short (SLO {:.0f}, tuned "
      "for {:.0f}), {:.0f} replica-hours",
      target.slo->max_short_percent, target.slo->margin_percent, out.quantile, out.headroom,
      chosen.target_fraction * 100,
      out.meets_slo ? "met it" : "was the safest setting swept and missed it", days,
      chosen.violation_minutes, tuned->slo_minutes, tuned->tuning_slo_minutes,
      chosen.replica_hours);
  if (tuned->reactive) {
    const auto& reactive = tuned->at(*tuned->reactive);
    out.summary += fmt::format("; a reactive HPA {} at target {:.0f}% with {:.0f} replica-hours",
                               tuned->reactive->meets_slo ? "met it" : "came closest",
                               reactive.target_fraction * 100, reactive.replica_hours);
  }
  return out;
}

}  // namespace prescale::simulate
