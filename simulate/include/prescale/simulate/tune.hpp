#pragma once
// Settings for a declared SLO, chosen on a target's own history: the served
// quantile and per-pod target (headroom) of the cheapest predictive setting
// that keeps violation minutes within the SLO less a safety margin, found by
// replaying the history through the cost/SLO frontier (frontier.hpp).
//
// The margin is there because a setting chosen on past minutes is judged on
// later ones: tuned to the limit on one half of a trace it misses the SLO
// on the other about as often as it meets it (docs/targets.md, "Declare an
// SLO and let prescale tune").
#include <optional>
#include <span>

#include "prescale/autoscaler/slo.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/config/config.hpp"
#include "prescale/simulate/frontier.hpp"
#include "prescale/simulate/predictive.hpp"
#include "prescale/simulate/simulation.hpp"

namespace prescale::simulate {

struct TuneResult {
  /// The sweep over the history (its headline at the SLO itself; with
  /// FrontierOptions::holdout, the check on the history's second half).
  FrontierResult frontier;
  double slo_minutes = 0;         ///< violation minutes the SLO allows on this history
  double tuning_slo_minutes = 0;  ///< what the choice had to meet: SLO x (1 - margin)
  /// The chosen settings (choose_setting at tuning_slo_minutes); unset
  /// without that run.
  std::optional<SettingChoice> reactive, predictive;

  /// The chosen point of a run.
  [[nodiscard]] const FrontierPoint& at(const SettingChoice& choice) const {
    return frontier.points[choice.point];
  }
};

/// Sweeps `options` over `demand` (as sweep_frontier) and chooses each run's
/// setting for options.slo_short_fraction less options.tuning_margin.
/// Errors name the bad option. Deterministic.
[[nodiscard]] Expected<TuneResult> tune_for_slo(const SimulationConfig& config,
                                                std::span<const double> demand,
                                                const PredictiveSeries* predictive,
                                                const FrontierOptions& options);

/// The pod start-up a target's leadTime implies: lead = start-up + the HPA's
/// 15 s sync + one step (the rule `simulate` and `tune` use), never below 0.
[[nodiscard]] std::int64_t startup_for_lead(const config::TargetConfig& target);

/// The daemon's tuner for a target's `slo:` (autoscaler::SloTuner): replays
/// the decisions recorded in `history` through the HPA model (the target's
/// capacityPerReplica, min/max replicas, startup_for_lead, the HPA without
/// `behavior`) at every swept quantile and per-pod target. Once 13 days are
/// recorded it chooses one setting for the busy hours of the week and one
/// for the quiet ones (the hours whose median recorded load is below the
/// median hour's; the same setting when that is cheapest), each pair
/// simulated as served before it is chosen; before, one setting. It moves
/// from `in_force` (none: the configured quantile at 100 %) with
/// hysteresis: when the pair in force missed the SLO less its margin there,
/// at once to the cheapest pair within it (the safest one, flagged, when
/// none is); when it met it, to a cheaper pair within it that gives up at
/// most 5 % of the replica-hours (else the nearest cheaper; with one
/// setting, the next cheaper swept one), at most once a day; otherwise it
/// keeps it. Returned as quantiles and headroom = 1 / target. The error
/// names what is missing (no capacityPerReplica, no `slo:`).
[[nodiscard]] Expected<autoscaler::SloSetting> tune_target_for_slo(
    const config::TargetConfig& target, const autoscaler::SloHistory& history,
    const std::optional<autoscaler::SloSetting>& in_force = std::nullopt);

}  // namespace prescale::simulate
