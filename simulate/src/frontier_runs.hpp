#pragma once
// What the frontier's sweep (frontier.cpp) and its holdout check
// (frontier_holdout.cpp) share, and the served figures (slo_served.cpp): a
// setting turned into the run the HPA model simulates, a reactive HPA
// retuned at each refit, and a run's figures per day. Internal to the simulate library.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "prescale/simulate/frontier.hpp"

namespace prescale::simulate {

/// A run's violation minutes and replica-hours per 24 h block of the stretch.
void add_daily(FrontierPoint& point, const RunTimeline& timeline, std::int64_t step_seconds);

/// A predictive setting as the HPA reads it: `served` (at the setting's
/// quantile) against `forecast_target`, the observed load against
/// `observed_target` (fractions of capacity). Simulated at the forecast
/// target, the observed metric scaled by forecast / observed target as the
/// HPA's ratio reads it, or with headroom_in_served at capacity, the
/// headroom in the served value, as the daemon applies a tuned setting.
struct SettingRun {
  RunSpec run;
  double simulated_at = 1;  ///< the HPA's per-pod target, fraction of capacity
};
[[nodiscard]] SettingRun setting_run(std::span<const double> demand, std::vector<double> served,
                                     double observed_target, double forecast_target,
                                     const FrontierOptions& options);

/// A reactive HPA whose per-pod target follows `targets` (fractions of
/// capacity, per step; NaN before the first tuning takes the first one
/// known): the observed load scaled by each step's inverse, read at
/// capacity. Its label carries the mean target over the steps. Empty when no
/// target is known.
struct TunedReactiveRun {
  RunSpec run;
  double mean_target = 1;
};
[[nodiscard]] std::optional<TunedReactiveRun> tuned_reactive_run(std::span<const double> demand,
                                                                 std::span<const double> targets,
                                                                 const FrontierOptions& options);

/// Minutes with a known load in `demand`: what the SLO's share is of.
[[nodiscard]] double known_minutes(std::span<const double> demand, std::int64_t step_seconds);

/// FrontierOptions::holdout: tune on the first half of the stretch (the SLO
/// less the margin), judge the chosen settings on the second, and draw the
/// second half's own reactive frontier to judge against.
[[nodiscard]] Expected<HoldoutCheck> holdout_check(const SimulationConfig& config,
                                                   std::span<const double> demand,
                                                   const PredictiveSeries* predictive,
                                                   const FrontierOptions& options);

}  // namespace prescale::simulate
