#pragma once
// The cost/SLO frontier: violation minutes (demand above ready capacity)
// against replica-hours, for the reactive HPA swept over its per-pod target,
// the predictive run swept over its own settings (served quantile, per-pod
// targets) and the oracle as the limit, all on the same stretch of a trace.
//
// The predictive HPA reads two metrics, each with its own per-pod target
// (averageValue): the observed load (the reactive metric) and the served
// forecast. One target for both is the diagonal of that plane; at the cheap
// end the misses are noise in the load, which a lower observed target buys
// more cheaply than forecast capacity, so the sweep can pair every observed
// target with every forecast target (observed_targets).
//
// A lower reactive target buys fewer violations with more replicas, so a
// predictive run is judged against the reactive frontier, never against one
// reactive setting: the replica-hours each needs to meet an SLO (at most a
// fraction of minutes short) and the violation minutes the reactive frontier
// has at the predictive run's cost.
//
// The engine is replayed once (its fits are the expensive part); every
// predictive setting is then applied to the forecasts that replay recorded
// (PredictiveSeries::windows), through the same policy function `serve`
// uses. A quantile other than the replayed one reads the same fitted models
// and the interval calibrated at the replayed quantile, rescaled by z_p.
//
// When the replayed target declared an `slo:`, its served series is what the
// daemon's own at-refit tuning chose: the "daemon" run, one point at the
// HPA target = capacity, judged against the reactive frontier like the rest.
// The swept predictive settings are then fixed settings picked with
// hindsight; the daemon point is the product's operating point.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/simulate/predictive.hpp"
#include "prescale/simulate/simulation.hpp"

namespace prescale::simulate {

/// One simulated setting and what it cost. Value type.
/// Steps of `step_seconds` in a 24 h block (at least 1): how FrontierPoint's
/// daily_* split a stretch into days.
[[nodiscard]] std::size_t steps_per_day(std::int64_t step_seconds);

struct FrontierPoint {
  std::string run;  ///< reactive | predictive | oracle | daemon
  /// The HPA's per-pod target as a fraction of capacity (predictive, daemon:
  /// the target of its forecast metric).
  double target_fraction = 1;
  /// Predictive and daemon: the per-pod target of the HPA's observed-load
  /// metric (unset: target_fraction, as the reactive HPA reads it).
  std::optional<double> observed_target;
  double quantile = 0;  ///< predictive: the served quantile (0 for the others)
  double violation_minutes = 0;
  double replica_hours = 0;
  bool on_frontier = false;  ///< no other point of its run is as cheap and as good
  /// The same per day of the stretch (24 h blocks from its start, the last
  /// one possibly shorter): what a bootstrap over days resamples to judge
  /// whether a difference between two points is more than noise.
  std::vector<double> daily_violation_minutes, daily_replica_hours;
  /// The same over the steps FrontierOptions::quiet_steps marks (0 without
  /// them): what a tuning that serves quiet steps another setting reads.
  double quiet_violation_minutes = 0, quiet_replica_hours = 0;
  /// The same per day (as daily_*; zeros without quiet steps): what the
  /// tuning's check of its own margin on held-out days reads.
  std::vector<double> daily_quiet_violation_minutes, daily_quiet_replica_hours;

  /// The per-pod target the HPA reads the observed load at.
  [[nodiscard]] double observed_fraction() const {
    return observed_target.value_or(target_fraction);
  }
  /// The observed load and the forecast read at different per-pod targets.
  [[nodiscard]] bool two_targets() const { return observed_fraction() != target_fraction; }
};

struct FrontierOptions {
  /// Per-pod targets (fractions of capacity) for the reactive HPA and the oracle.
  std::vector<double> reactive_targets = {1.1,  1.0,  0.95, 0.9,  0.85, 0.8, 0.75,
                                          0.70, 0.65, 0.6,  0.55, 0.5,  0.45};
  /// Per-pod targets and served quantiles for the predictive run (every pair).
  /// The targets are the forecast metric's; the observed-load metric is read
  /// at the same target unless observed_targets are given.
  std::vector<double> predictive_targets = {1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7};
  /// Swept as predictive_targets are, but not part of their grid (the
  /// tuning's settings in force): one below the grid that meets the SLO
  /// does not stop the sweep below the grid (sweep_floor) above it, so a
  /// tuning can move back from it to a cheaper target.
  std::vector<double> also_predictive_targets;
  /// Per-pod targets for the predictive run's observed-load metric, each
  /// swept beside every predictive (forecast) target at every quantile.
  /// Empty: the observed load at the forecast's own target (with
  /// headroom_in_served: at observed_target), the diagonal alone.
  std::vector<double> observed_targets;
  std::vector<double> quantiles = {0.5, 0.75, 0.9, 0.95, 0.99};
  /// The SLO: at most this fraction of the observed minutes short of capacity.
  double slo_short_fraction = 0.001;
  std::size_t observation_lag = 0;  ///< as simulate's --observation-lag
  /// Also tune on the first half of the stretch and judge the chosen
  /// settings on the second (FrontierResult::holdout): the settings picked on
  /// the same minutes they are judged on flatter themselves.
  bool holdout = false;
  /// Share of the SLO held back when a setting is chosen on history (the
  /// holdout's first half, tune_for_slo): the choice must meet
  /// (1 - margin) x the SLO there, so that it still meets the SLO on later
  /// minutes a little worse than those it was chosen on. In [0, 1).
  double tuning_margin = 0;
  /// Predictive settings as the daemon applies a tuned one (`slo:`): the
  /// HPA's per-pod target stays at capacity and the served value is scaled
  /// by 1 / target instead, so the observed metric the HPA also reads gets
  /// no headroom. Off (as `prescale tune` recommends an HPA averageValue):
  /// both metrics are read at the per-pod target.
  bool headroom_in_served = false;
  /// With headroom_in_served: the per-pod target (fraction of capacity) at
  /// which the HPA reads its own observed-load metric (slo:
  /// reactiveTargetPercent). Below 1 that metric carries headroom the
  /// served value cannot: the HPA reads this step's load at each sync, the
  /// daemon's newest sample is the step before.
  double observed_target = 1;
  /// Per demand step (empty: none): the steps every point also sums its
  /// violation minutes and replica-hours over (FrontierPoint::quiet_*).
  std::vector<bool> quiet_steps;
  /// The reactive HPA's and the oracle's cheapest target within the SLO
  /// (and within the SLO less tuning_margin), and the cheapest predictive
  /// setting's forecast target, are refined in steps of this fraction of
  /// capacity between the swept target that meets it and the next cheaper
  /// swept one (0: the swept targets only). An HPA's averageValue can be
  /// any number: a coarse grid leaves replica-hours on the table and
  /// flatters every saving counted against it.
  double refine_step = 0.01;
  /// With refine_step: the reactive HPA's crossing only, not the oracle's
  /// nor the predictive setting's. The daemon's own tuning reads no oracle
  /// point, and its pairs, margin check and moves choose among the same
  /// swept settings at every refit.
  bool refine_reactive_only = false;
  /// With refine_step and a tuning_margin: the reactive HPA's crossing is
  /// also refined at the SLO less every multiple of this step below
  /// tuning_margin, the margins a tuning may learn from the reactive
  /// targets' own held-out days (tune.cpp). 0: the SLO and the SLO less
  /// tuning_margin only.
  double refine_margin_step = 0;
  /// When no swept target of a run meets the SLO (less tuning_margin), the
  /// sweep goes on below the run's lowest target, each 5 % below the one
  /// before (at least a whole percent of capacity lower), down to this
  /// fraction of capacity, and stops at the first target that meets it (0:
  /// the listed targets only): the reactive HPA's per-pod target, and the
  /// predictive setting's forecast target beside each observed-load target
  /// at each quantile. A grid ending at 45 % says
  /// a reactive HPA cannot meet an SLO that one at 44 % meets (NAB's
  /// cpu_utilization_asg_misconfiguration), and a tuning whose headroom
  /// ended at x1.43 served less than its SLO needed there.
  double sweep_floor = 0.1;
};

/// A setting chosen for an SLO on history: the cheapest point of its run
/// within the (tightened) SLO or, when none is, the one with the fewest
/// violation minutes (the cheaper on a tie): the safest swept. Value type.
struct SettingChoice {
  std::size_t point = 0;   ///< index into the points
  bool meets_slo = false;  ///< false: the safest setting, short of the SLO
};

/// Settings chosen on the first half of the stretch (cheapest meeting the
/// SLO there) and what they did on the second half. Value type.
struct HoldoutCheck {
  double slo_minutes = 0;         ///< the SLO on the second half
  double tuning_slo_minutes = 0;  ///< what a choice had to meet on the first (SLO less the margin)
  /// Chosen on the first half (choose_setting at tuning_slo_minutes), then
  /// simulated on the second; unset without that run.
  std::optional<FrontierPoint> reactive, predictive;
  bool reactive_met_in_tuning = false, predictive_met_in_tuning = false;
  /// 100 x (1 - predictive / reactive replica-hours), when both met the SLO on the second half.
  std::optional<double> saved_percent;
  /// The reactive frontier of the second half itself (hindsight: the best a
  /// reactive target could have done there): its cheapest target meeting the
  /// SLO, and its violation minutes at the chosen predictive setting's
  /// replica-hours with the ratio of the two (unset outside its range).
  std::optional<FrontierPoint> hindsight_reactive;
  std::optional<double> reactive_minutes_at_equal_cost, violation_ratio;
};

/// Where the predictive run stands against the reactive frontier. Value type.
struct FrontierHeadline {
  double observed_minutes = 0;  ///< minutes with a known demand
  double slo_minutes = 0;       ///< violation minutes the SLO allows
  /// The cheapest setting of each run that meets the SLO (index into points).
  std::optional<std::size_t> reactive_at_slo, predictive_at_slo, oracle_at_slo;
  /// 100 x (1 - predictive / reactive replica-hours at the SLO).
  std::optional<double> saved_percent;
  std::optional<double> oracle_saved_percent;
  /// The predictive operating point: the cheapest setting meeting the SLO,
  /// else the replayed setting at target 1.
  std::optional<std::size_t> operating_point;
  /// The reactive frontier's violation minutes at the operating point's
  /// replica-hours (linear between its points; unset outside its range),
  /// and the operating point's violation minutes over it.
  std::optional<double> reactive_minutes_at_equal_cost;
  std::optional<double> violation_ratio;
  /// The largest amount by which a predictive frontier point has more
  /// violation minutes than the reactive frontier at its cost (<= 0: never
  /// above), in minutes, and that point.
  std::optional<double> worst_excess_minutes;
  std::optional<std::size_t> worst_excess_point;
  /// The daemon's own operating point (a replay with `slo:`): the replayed
  /// served series at target = capacity; whether it meets the SLO, its
  /// saving against the cheapest reactive target meeting it (when both do),
  /// and its violation minutes over the reactive frontier's at its cost.
  std::optional<std::size_t> daemon_point;
  bool daemon_meets_slo = false;
  std::optional<double> daemon_saved_percent;
  std::optional<double> daemon_reactive_minutes_at_equal_cost;
  std::optional<double> daemon_violation_ratio;
  /// Beside it, a reactive HPA retuned the same way ("reactive-tuned"): its
  /// per-pod target follows each refit's reactive choice on the same
  /// recorded days and tuned SLO (PredictiveSeries::reactive_hpa_targets),
  /// where the headline's reactive target is picked in hindsight on the
  /// whole stretch. The daemon's saving against it when both meet the SLO.
  std::optional<std::size_t> tuned_reactive_point;
  bool tuned_reactive_meets_slo = false;
  std::optional<double> daemon_saved_vs_tuned_reactive_percent;
};

struct FrontierResult {
  std::vector<FrontierPoint> points;
  FrontierHeadline headline;
  double replayed_quantile = 0;         ///< 0 without a predictive run
  std::optional<HoldoutCheck> holdout;  ///< with FrontierOptions::holdout
};

/// What the predictive run serves at `quantile` on the recorded replay: the
/// policy (autoscaler::recommend) applied to each decision's observed value
/// and lead-window forecast. At the replayed quantile this is exactly the
/// replay's own served series.
[[nodiscard]] std::vector<double> served_at_quantile(const PredictiveSeries& replayed,
                                                     double quantile);

/// Indices of the points of `run` on its frontier (lower-left envelope),
/// by increasing replica-hours.
[[nodiscard]] std::vector<std::size_t> frontier_of(std::span<const FrontierPoint> points,
                                                   const std::string& run);

/// The `run` frontier at `replica_hours`: its violation minutes and per-pod
/// target, linear between its neighbouring points (past its most expensive
/// point, that point's); unset below its cheapest point. Value type.
struct FrontierReading {
  double violation_minutes = 0;
  double target_fraction = 1;
};
[[nodiscard]] std::optional<FrontierReading> frontier_at(std::span<const FrontierPoint> points,
                                                         const std::string& run,
                                                         double replica_hours);
/// frontier_at's violation minutes.
[[nodiscard]] std::optional<double> frontier_minutes_at(std::span<const FrontierPoint> points,
                                                        const std::string& run,
                                                        double replica_hours);

/// The setting of `run` to serve for at most `slo_minutes` (SettingChoice);
/// unset when `run` has no point.
[[nodiscard]] std::optional<SettingChoice> choose_setting(std::span<const FrontierPoint> points,
                                                          const std::string& run,
                                                          double slo_minutes);

/// Sweeps every run over `demand` (the simulated stretch; `config` is its
/// grid, pods and HPA). `predictive` may be null (then only reactive and
/// oracle); its series must cover the same steps as `demand`. Errors name
/// the bad option. Deterministic.
[[nodiscard]] Expected<FrontierResult> sweep_frontier(const SimulationConfig& config,
                                                      std::span<const double> demand,
                                                      const PredictiveSeries* predictive,
                                                      const FrontierOptions& options = {});

/// A run serving `served` (headroom included; NaN: no decision) simulated
/// as the daemon's: the HPA reads it at capacity and its own observed-load
/// metric at options.observed_target of capacity. Labelled `run` at
/// target 1; its quiet_* sums over options.quiet_steps.
[[nodiscard]] Expected<FrontierPoint> simulate_served(const SimulationConfig& config,
                                                      std::span<const double> demand,
                                                      std::vector<double> served,
                                                      const FrontierOptions& options,
                                                      const std::string& run = "daemon");

}  // namespace prescale::simulate
