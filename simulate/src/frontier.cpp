#include "prescale/simulate/frontier.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "frontier_runs.hpp"
#include "prescale/autoscaler/policy.hpp"

namespace prescale::simulate {

std::size_t steps_per_day(std::int64_t step_seconds) {
  return std::max<std::size_t>(
      1, static_cast<std::size_t>(86400 / std::max<std::int64_t>(1, step_seconds)));
}

namespace {

Status check_options(const FrontierOptions& options, std::size_t demand_steps) {
  auto check_targets = [](const std::vector<double>& targets, const char* what) -> Status {
    if (targets.empty()) return make_error(fmt::format("{}: no target to sweep", what));
    for (double t : targets) {
      if (!(t > 0) || !std::isfinite(t) || t > 10)
        return make_error(fmt::format("{}: {} is not a fraction of capacity in (0, 10]", what, t));
    }
    return Status::ok();
  };
  if (auto s = check_targets(options.reactive_targets, "reactive targets"); !s) return s;
  if (auto s = check_targets(options.predictive_targets, "predictive targets"); !s) return s;
  if (!options.observed_targets.empty())
    if (auto s = check_targets(options.observed_targets, "observed targets"); !s) return s;
  if (options.quantiles.empty()) return make_error("quantiles: no quantile to sweep");
  for (double q : options.quantiles) {
    if (!(q > 0 && q < 1)) return make_error(fmt::format("quantiles: {} is not in (0, 1)", q));
  }
  if (!(options.observed_target > 0 && options.observed_target <= 1))
    return make_error(fmt::format("observed target: {} is not a fraction of capacity in (0, 1]",
                                  options.observed_target));
  if (!options.quiet_steps.empty() && options.quiet_steps.size() != demand_steps)
    return make_error(fmt::format("quiet steps: {} marks for {} demand steps",
                                  options.quiet_steps.size(), demand_steps));
  if (!(options.tuning_margin >= 0 && options.tuning_margin < 1))
    return make_error(fmt::format("tuning margin: {} is not a share of the SLO in [0, 1)",
                                  options.tuning_margin));
  if (!(options.slo_short_fraction >= 0 && options.slo_short_fraction < 1))
    return make_error(
        fmt::format("SLO: {} is not a fraction of minutes in [0, 1)", options.slo_short_fraction));
  if (!(options.refine_step == 0 || (options.refine_step >= 0.001 && options.refine_step < 1)))
    return make_error(
        fmt::format("refine step: {} is not 0 (off) or a fraction of capacity in [0.001, 1)",
                    options.refine_step));
  if (!(options.sweep_floor >= 0 && options.sweep_floor < 1))
    return make_error(fmt::format(
        "sweep floor: {} is not 0 (off) or a fraction of capacity in (0, 1)", options.sweep_floor));
  return Status::ok();
}

// The cheapest point of `run` within the SLO.
std::optional<std::size_t> cheapest_within(std::span<const FrontierPoint> points,
                                           const std::string& run, double slo_minutes) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (p.run != run || p.violation_minutes > slo_minutes) continue;
    if (!best || p.replica_hours < points[*best].replica_hours) best = i;
  }
  return best;
}

}  // namespace

void add_daily(FrontierPoint& point, const RunTimeline& timeline, std::int64_t step_seconds) {
  const std::size_t per_day = steps_per_day(step_seconds);
  const std::size_t steps = timeline.violation_seconds.size();
  const std::size_t days = (steps + per_day - 1) / per_day;
  point.daily_violation_minutes.assign(days, 0.0);
  point.daily_replica_hours.assign(days, 0.0);
  for (std::size_t i = 0; i < steps; ++i) {
    point.daily_violation_minutes[i / per_day] += timeline.violation_seconds[i] / 60;
    point.daily_replica_hours[i / per_day] +=
        timeline.pods[i] * static_cast<double>(step_seconds) / 3600;
  }
}

namespace {

// A run's violation minutes and replica-hours over the steps `quiet` marks.
void add_quiet(FrontierPoint& point, const RunTimeline& timeline, const std::vector<bool>& quiet,
               std::int64_t step_seconds) {
  point.quiet_violation_minutes = 0;
  point.quiet_replica_hours = 0;
  point.daily_quiet_violation_minutes.assign(point.daily_violation_minutes.size(), 0.0);
  point.daily_quiet_replica_hours.assign(point.daily_replica_hours.size(), 0.0);
  const std::size_t per_day = steps_per_day(step_seconds);
  const std::size_t steps = std::min(quiet.size(), timeline.violation_seconds.size());
  for (std::size_t i = 0; i < steps; ++i) {
    if (!quiet[i]) continue;
    const double minutes = timeline.violation_seconds[i] / 60;
    const double replica_hours = timeline.pods[i] * static_cast<double>(step_seconds) / 3600;
    point.quiet_violation_minutes += minutes;
    point.quiet_replica_hours += replica_hours;
    if (i / per_day < point.daily_quiet_violation_minutes.size()) {
      point.daily_quiet_violation_minutes[i / per_day] += minutes;
      point.daily_quiet_replica_hours[i / per_day] += replica_hours;
    }
  }
}

// `values` times `factor` (NaN stays NaN: no decision).
std::vector<double> scaled(std::vector<double> values, double factor) {
  for (double& v : values) v *= factor;
  return values;
}

// A predictive run as the daemon serves it: `served` (headroom included) at
// capacity, beside the HPA's own observed-load metric at `observed_target`
// of capacity (scaled by its inverse, as the HPA's ratio reads it).
RunSpec daemon_run(std::span<const double> demand, std::vector<double> served,
                   const FrontierOptions& options, double observed_target) {
  RunSpec run = predictive_run(demand, std::move(served), options.observation_lag);
  if (observed_target != 1.0)
    run.metrics[0] = scaled(std::move(run.metrics[0]), 1 / observed_target);
  return run;
}

}  // namespace

std::optional<TunedReactiveRun> tuned_reactive_run(std::span<const double> demand,
                                                   std::span<const double> targets,
                                                   const FrontierOptions& options) {
  const auto first = std::find_if(targets.begin(), targets.end(),
                                  [](double f) { return std::isfinite(f) && f > 0; });
  if (first == targets.end() || targets.size() != demand.size()) return std::nullopt;
  TunedReactiveRun out{reactive_run(demand, options.observation_lag), 0};
  out.run.name = "reactive-tuned";
  double in_force = *first;
  for (std::size_t i = 0; i < demand.size(); ++i) {
    if (std::isfinite(targets[i]) && targets[i] > 0) in_force = targets[i];
    out.run.metrics[0][i] /= in_force;
    out.mean_target += in_force;
  }
  out.mean_target /= static_cast<double>(demand.size());
  return out;
}

SettingRun setting_run(std::span<const double> demand, std::vector<double> served,
                       double observed_target, double forecast_target,
                       const FrontierOptions& options) {
  if (options.headroom_in_served)
    return {daemon_run(demand, scaled(std::move(served), 1 / forecast_target), options,
                       observed_target),
            1.0};
  RunSpec run = predictive_run(demand, std::move(served), options.observation_lag);
  if (observed_target != forecast_target)
    run.metrics[0] = scaled(std::move(run.metrics[0]), forecast_target / observed_target);
  return {std::move(run), forecast_target};
}

namespace {

// The observed-load targets swept beside forecast target `forecast`: every
// one of observed_targets, else the one target of the diagonal.
std::vector<double> observed_targets_for(const FrontierOptions& options, double forecast) {
  if (!options.observed_targets.empty()) return options.observed_targets;
  return {options.headroom_in_served ? options.observed_target : forecast};
}

}  // namespace

std::vector<double> served_at_quantile(const PredictiveSeries& replayed, double quantile) {
  std::vector<double> served(replayed.windows.size(), std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < served.size(); ++i) {
    const auto& window = replayed.windows[i];
    const double observed = i < replayed.observed.size() ? replayed.observed[i] : NAN;
    // A step the engine made no decision for keeps NaN, as in the replay.
    if (i < replayed.served.size() && std::isnan(replayed.served[i])) continue;
    autoscaler::PolicyInput input;
    input.observed = observed;
    input.forecast = window.size() == 0 ? nullptr : &window;
    input.window_steps = std::max<std::size_t>(1, window.size());
    input.quantile = quantile;
    // A decision without a forecast served the observed value alone (its
    // reason is in the replay's notes and decision records).
    if (window.size() == 0) input.fallback_reason = "no forecast";
    served[i] = autoscaler::recommend(input).served;
  }
  return served;
}

std::vector<std::size_t> frontier_of(std::span<const FrontierPoint> points,
                                     const std::string& run) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < points.size(); ++i)
    if (points[i].run == run) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (points[a].replica_hours != points[b].replica_hours)
      return points[a].replica_hours < points[b].replica_hours;
    return points[a].violation_minutes < points[b].violation_minutes;
  });
  std::vector<std::size_t> frontier;
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t i : order) {
    if (points[i].violation_minutes < best) {
      frontier.push_back(i);
      best = points[i].violation_minutes;
    }
  }
  return frontier;
}

std::optional<FrontierReading> frontier_at(std::span<const FrontierPoint> points,
                                           const std::string& run, double replica_hours) {
  const auto frontier = frontier_of(points, run);
  if (frontier.empty()) return std::nullopt;
  const auto& first = points[frontier.front()];
  const auto& last = points[frontier.back()];
  if (replica_hours < first.replica_hours) return std::nullopt;
  // Past the most expensive point the frontier stays at its minimum: more
  // replicas never add violations.
  if (replica_hours >= last.replica_hours)
    return FrontierReading{last.violation_minutes, last.target_fraction};
  for (std::size_t k = 1; k < frontier.size(); ++k) {
    const auto& a = points[frontier[k - 1]];
    const auto& b = points[frontier[k]];
    if (replica_hours > b.replica_hours) continue;
    const double span = b.replica_hours - a.replica_hours;
    const double w = span > 0 ? (replica_hours - a.replica_hours) / span : 0;
    return FrontierReading{a.violation_minutes + w * (b.violation_minutes - a.violation_minutes),
                           a.target_fraction + w * (b.target_fraction - a.target_fraction)};
  }
  return FrontierReading{last.violation_minutes, last.target_fraction};
}

std::optional<double> frontier_minutes_at(std::span<const FrontierPoint> points,
                                          const std::string& run, double replica_hours) {
  const auto reading = frontier_at(points, run, replica_hours);
  return reading ? std::optional<double>(reading->violation_minutes) : std::nullopt;
}

std::optional<SettingChoice> choose_setting(std::span<const FrontierPoint> points,
                                            const std::string& run, double slo_minutes) {
  if (auto cheapest = cheapest_within(points, run, slo_minutes))
    return SettingChoice{*cheapest, true};
  std::optional<SettingChoice> safest;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (p.run != run) continue;
    if (!safest) {
      safest = SettingChoice{i, false};
      continue;
    }
    const auto& best = points[safest->point];
    if (p.violation_minutes < best.violation_minutes ||
        (p.violation_minutes == best.violation_minutes && p.replica_hours < best.replica_hours))
      safest->point = i;
  }
  return safest;
}

double known_minutes(std::span<const double> demand, std::int64_t step_seconds) {
  std::size_t known = 0;
  for (double d : demand) known += std::isfinite(d) ? 1 : 0;
  return static_cast<double>(known) * static_cast<double>(step_seconds) / 60;
}

namespace {

/// The two headline numbers and the daemon's point, read off the swept
/// points: the cheapest run of each kind within the SLO, the saving against
/// the cheapest reactive one, and violation minutes at equal cost.
void fill_headline(FrontierResult& result, const SimulationConfig& config,
                   std::span<const double> demand, const PredictiveSeries* predictive,
                   const FrontierOptions& options) {
  auto& h = result.headline;
  h.observed_minutes = known_minutes(demand, config.step_seconds);
  h.slo_minutes = options.slo_short_fraction * h.observed_minutes;
  h.reactive_at_slo = cheapest_within(result.points, "reactive", h.slo_minutes);
  h.predictive_at_slo = cheapest_within(result.points, "predictive", h.slo_minutes);
  h.oracle_at_slo = cheapest_within(result.points, "oracle", h.slo_minutes);
  auto saved = [&](std::optional<std::size_t> point) -> std::optional<double> {
    if (!point || !h.reactive_at_slo) return std::nullopt;
    const double base = result.points[*h.reactive_at_slo].replica_hours;
    if (!(base > 0)) return std::nullopt;
    return 100 * (1 - result.points[*point].replica_hours / base);
  };
  h.saved_percent = saved(h.predictive_at_slo);
  h.oracle_saved_percent = saved(h.oracle_at_slo);
  for (std::size_t i = 0; i < result.points.size(); ++i) {
    if (result.points[i].run == "daemon") h.daemon_point = i;
    if (result.points[i].run == "reactive-tuned") h.tuned_reactive_point = i;
  }
  if (h.daemon_point) {
    const auto& p = result.points[*h.daemon_point];
    h.daemon_meets_slo = p.violation_minutes <= h.slo_minutes;
    if (h.daemon_meets_slo) h.daemon_saved_percent = saved(h.daemon_point);
    h.daemon_reactive_minutes_at_equal_cost =
        frontier_minutes_at(result.points, "reactive", p.replica_hours);
    if (h.daemon_reactive_minutes_at_equal_cost && *h.daemon_reactive_minutes_at_equal_cost > 0)
      h.daemon_violation_ratio = p.violation_minutes / *h.daemon_reactive_minutes_at_equal_cost;
  }
  if (h.daemon_point && h.tuned_reactive_point) {
    const auto& tuned = result.points[*h.tuned_reactive_point];
    h.tuned_reactive_meets_slo = tuned.violation_minutes <= h.slo_minutes;
    if (h.daemon_meets_slo && h.tuned_reactive_meets_slo && tuned.replica_hours > 0)
      h.daemon_saved_vs_tuned_reactive_percent =
          100 * (1 - result.points[*h.daemon_point].replica_hours / tuned.replica_hours);
  }

  if (!predictive) return;
  h.operating_point = h.predictive_at_slo;
  if (!h.operating_point) {
    for (std::size_t i = 0; i < result.points.size(); ++i) {
      const auto& p = result.points[i];
      if (p.run == "predictive" && p.target_fraction == 1.0 && !p.two_targets() &&
          p.quantile == predictive->quantile)
        h.operating_point = i;
    }
  }
  if (h.operating_point) {
    const auto& op = result.points[*h.operating_point];
    h.reactive_minutes_at_equal_cost =
        frontier_minutes_at(result.points, "reactive", op.replica_hours);
    if (h.reactive_minutes_at_equal_cost && *h.reactive_minutes_at_equal_cost > 0)
      h.violation_ratio = op.violation_minutes / *h.reactive_minutes_at_equal_cost;
  }
  for (std::size_t i : frontier_of(result.points, "predictive")) {
    const auto& p = result.points[i];
    const auto reactive = frontier_minutes_at(result.points, "reactive", p.replica_hours);
    if (!reactive) continue;
    const double excess = p.violation_minutes - *reactive;
    if (!h.worst_excess_minutes || excess > *h.worst_excess_minutes) {
      h.worst_excess_minutes = excess;
      h.worst_excess_point = i;
    }
  }
}

// Every per-pod target a sweep simulates at, highest first.
std::vector<double> swept_targets(const FrontierOptions& options, bool predictive, bool daemon) {
  std::vector<double> targets = options.reactive_targets;
  if (predictive)
    targets.insert(targets.end(), options.predictive_targets.begin(),
                   options.predictive_targets.end());
  if (daemon) targets.push_back(1.0);
  std::sort(targets.begin(), targets.end(), std::greater<>());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  return targets;
}

FrontierPoint label(const char* run, double fraction, double quantile,
                    std::optional<double> observed = std::nullopt) {
  FrontierPoint p;
  p.run = run;
  p.target_fraction = fraction;
  p.observed_target = observed;
  p.quantile = quantile;
  return p;
}

// The predictive settings at forecast target `fraction`: each observed
// target beside it at each quantile (`served_by_quantile[k]`: what the
// replay serves at options.quantiles[k]).
void add_predictive_settings(std::vector<RunSpec>& runs, std::vector<FrontierPoint>& labels,
                             std::span<const double> demand,
                             const std::vector<std::vector<double>>& served_by_quantile,
                             double fraction, const FrontierOptions& options) {
  for (double observed : observed_targets_for(options, fraction)) {
    for (std::size_t k = 0; k < options.quantiles.size(); ++k) {
      runs.push_back(setting_run(demand, served_by_quantile[k], observed, fraction, options).run);
      labels.push_back(label("predictive", fraction, options.quantiles[k], observed));
    }
  }
}

// Simulates `runs` at `at` and adds their points, labelled by `labels`.
Status add_points(FrontierResult& result, const SimulationConfig& at,
                  std::span<const double> demand, const std::vector<RunSpec>& runs,
                  const std::vector<FrontierPoint>& labels, const std::vector<bool>& quiet) {
  if (runs.empty()) return Status::ok();
  auto simulated = simulate(at, demand, runs);
  if (!simulated) return make_error(simulated.error().message);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    FrontierPoint point = labels[r];
    point.violation_minutes = simulated->summaries[r].slo_violation_minutes;
    point.replica_hours = simulated->summaries[r].replica_hours;
    add_daily(point, simulated->timelines[r], at.step_seconds);
    add_quiet(point, simulated->timelines[r], quiet, at.step_seconds);
    result.points.push_back(point);
  }
  return Status::ok();
}

// The per-pod targets strictly between `from` and the next higher one in
// `swept`, every `step` (none when `from` is the highest).
std::vector<double> finer_than(double from, const std::vector<double>& swept, double step) {
  double next = std::numeric_limits<double>::infinity();
  for (double t : swept)
    if (t > from + 1e-9) next = std::min(next, t);
  std::vector<double> out;
  for (int k = 1; std::isfinite(next); ++k) {
    const double f = std::round((from + k * step) * 1e6) / 1e6;
    if (f >= next - 1e-9) break;
    out.push_back(f);
  }
  return out;
}

bool swept_already(std::span<const FrontierPoint> points, double fraction, double observed,
                   double quantile) {
  return std::any_of(points.begin(), points.end(), [&](const FrontierPoint& p) {
    return p.run == "predictive" && std::abs(p.target_fraction - fraction) < 1e-9 &&
           std::abs(p.observed_fraction() - observed) < 1e-9 && p.quantile == quantile;
  });
}

// FrontierOptions::sweep_floor: the targets below `from`, each 5 % below
// the one before (at least one whole percent of capacity lower), in whole
// percents, down to `floor`. Steps of a fixed 5 % of capacity would cost
// more and more replica-hours each as the target falls (25 % after 30 % is
// a fifth more pods): on Twitter GOOG the daemon's tuning stopped at 25 %
// at every refit.
std::vector<double> below_grid(double from, double floor) {
  std::vector<double> out;
  for (double f = from;;) {
    f = std::round(std::min(f * 0.95, f - 0.01) * 100) / 100;
    if (f < floor - 1e-9) return out;
    out.push_back(f);
  }
}

// Whether `targets` holds `fraction` (a per-pod target computed as 1 /
// headroom may differ from a listed one in its last bits).
bool has_target(const std::vector<double>& targets, double fraction) {
  return std::any_of(targets.begin(), targets.end(),
                     [&](double t) { return std::abs(t - fraction) < 1e-9; });
}

// Whether a point of `run` at `fraction` of capacity or above is within `limit`.
bool met_at_or_above(std::span<const FrontierPoint> points, const std::string& run, double fraction,
                     double limit) {
  return std::any_of(points.begin(), points.end(), [&](const FrontierPoint& p) {
    return p.run == run && p.target_fraction >= fraction - 1e-9 && p.violation_minutes <= limit;
  });
}

// Sweeps below the grid (FrontierOptions::sweep_floor) each run none of
// whose grid targets (`grid`'s lists) meets the SLO less the tuning margin,
// from its lowest, and stops at the first target met by any point at or
// above it: a setting in force swept beside the grid and met stops it only
// once the sweep reaches it. Adds the targets swept to `swept`'s lists, so
// that the crossing is refined against them.
Status sweep_below_grid(FrontierResult& result, const SimulationConfig& config,
                        std::span<const double> demand, const FrontierOptions& grid,
                        FrontierOptions& swept,
                        const std::vector<std::vector<double>>* served_by_quantile) {
  if (!(swept.sweep_floor > 0)) return Status::ok();
  const double limit = swept.slo_short_fraction * known_minutes(demand, config.step_seconds) *
                       (1 - swept.tuning_margin);
  for (const std::string run : {"reactive", "predictive"}) {
    if (run == "predictive" && !served_by_quantile) break;
    const auto& listed = run == "reactive" ? grid.reactive_targets : grid.predictive_targets;
    auto& targets = run == "reactive" ? swept.reactive_targets : swept.predictive_targets;
    const auto lowest = std::min_element(listed.begin(), listed.end());
    if (met_at_or_above(result.points, run, *lowest, limit)) continue;
    for (double fraction : below_grid(*lowest, swept.sweep_floor)) {
      if (met_at_or_above(result.points, run, fraction, limit)) break;
      if (has_target(targets, fraction)) continue;  // beside the grid, and missed
      std::vector<RunSpec> runs;
      std::vector<FrontierPoint> labels;
      if (run == "reactive") {
        runs.push_back(reactive_run(demand, swept.observation_lag));
        labels.push_back(label("reactive", fraction, 0));
      } else {
        add_predictive_settings(runs, labels, demand, *served_by_quantile, fraction, swept);
      }
      SimulationConfig at = config;
      const bool at_capacity = run == "predictive" && swept.headroom_in_served;
      at.target_per_replica = (at_capacity ? 1.0 : fraction) * config.capacity_per_replica;
      if (auto added = add_points(result, at, demand, runs, labels, swept.quiet_steps); !added)
        return make_error(fmt::format("{} at {:g} x capacity, below the swept targets: {}", run,
                                      fraction, added.error().message));
      targets.push_back(fraction);
    }
  }
  return Status::ok();
}

// Refines the crossings: between the swept target that is the cheapest of
// a run within each limit (the SLO, and the SLO less the tuning margin) and
// the next cheaper swept target, every options.refine_step. On the
// payments bench (SLO 0.1 %, 5 % grid) the grid said 50 % of capacity for
// the reactive HPA where 54 % also met the SLO, 7 % fewer replica-hours: as
// much flattery in a saving counted against 50 %. The predictive setting's
// forecast target is refined the same way, beside its observed-load target
// and quantile (`served_by_quantile` null: no predictive run).
Status refine_crossings(FrontierResult& result, const SimulationConfig& config,
                        std::span<const double> demand, const FrontierOptions& options,
                        const std::vector<std::vector<double>>* served_by_quantile) {
  if (!(options.refine_step > 0)) return Status::ok();
  const double slo_minutes =
      options.slo_short_fraction * known_minutes(demand, config.step_seconds);
  std::vector<double> limits = {slo_minutes};
  if (options.tuning_margin > 0) limits.push_back(slo_minutes * (1 - options.tuning_margin));
  std::vector<double> reactive_limits = limits;
  if (options.refine_margin_step > 0)
    for (double m = options.tuning_margin - options.refine_margin_step; m > 1e-9;
         m -= options.refine_margin_step)
      reactive_limits.push_back(slo_minutes * (1 - m));
  for (const std::string run : {"reactive", "oracle"}) {
    if (run == "oracle" && options.refine_reactive_only) continue;
    std::vector<double> finer;
    for (double limit : run == "reactive" ? reactive_limits : limits) {
      const auto met = cheapest_within(result.points, run, limit);
      if (!met) continue;
      const auto more = finer_than(result.points[*met].target_fraction, options.reactive_targets,
                                   options.refine_step);
      finer.insert(finer.end(), more.begin(), more.end());
    }
    std::sort(finer.begin(), finer.end(), std::greater<>());
    finer.erase(std::unique(finer.begin(), finer.end()), finer.end());
    for (double fraction : finer) {
      SimulationConfig at = config;
      at.target_per_replica = fraction * config.capacity_per_replica;
      const RunSpec spec = run == "reactive" ? reactive_run(demand, options.observation_lag)
                                             : oracle_run(demand, at);
      if (auto added = add_points(result, at, demand, {spec}, {label(run.c_str(), fraction, 0)},
                                  options.quiet_steps);
          !added)
        return make_error(
            fmt::format("{} at {:g} x capacity: {}", run, fraction, added.error().message));
    }
  }
  if (!served_by_quantile || options.refine_reactive_only) return Status::ok();
  // On the diagonal the observed load is read at the forecast's own target.
  const bool diagonal = options.observed_targets.empty() && !options.headroom_in_served;
  for (double limit : limits) {
    const auto met = cheapest_within(result.points, "predictive", limit);
    if (!met) continue;
    const FrontierPoint chosen = result.points[*met];  // a copy: points grow below
    const auto k = static_cast<std::size_t>(
        std::find(options.quantiles.begin(), options.quantiles.end(), chosen.quantile) -
        options.quantiles.begin());
    if (k >= served_by_quantile->size()) continue;
    for (double fraction :
         finer_than(chosen.target_fraction, options.predictive_targets, options.refine_step)) {
      const double observed = diagonal ? fraction : chosen.observed_fraction();
      if (swept_already(result.points, fraction, observed, chosen.quantile)) continue;
      SettingRun setting =
          setting_run(demand, (*served_by_quantile)[k], observed, fraction, options);
      SimulationConfig at = config;
      at.target_per_replica = setting.simulated_at * config.capacity_per_replica;
      if (auto added = add_points(result, at, demand, {std::move(setting.run)},
                                  {label("predictive", fraction, chosen.quantile, observed)},
                                  options.quiet_steps);
          !added)
        return make_error(
            fmt::format("predictive at {:g} x capacity: {}", fraction, added.error().message));
    }
  }
  return Status::ok();
}

// `options` with its predictive targets beside the grid (the settings in
// force) swept as targets of the grid.
FrontierOptions with_targets_beside(const FrontierOptions& options) {
  FrontierOptions out = options;
  for (double f : options.also_predictive_targets)
    if (!has_target(out.predictive_targets, f)) out.predictive_targets.push_back(f);
  return out;
}

}  // namespace

Expected<FrontierResult> sweep_frontier(const SimulationConfig& config,
                                        std::span<const double> demand,
                                        const PredictiveSeries* predictive,
                                        const FrontierOptions& options) {
  if (auto status = check_options(options, demand.size()); !status) return status.error();
  if (predictive && predictive->windows.size() != demand.size())
    return make_error(fmt::format("predictive run: {} decisions for {} demand steps",
                                  predictive->windows.size(), demand.size()));

  FrontierResult result;
  if (options.holdout && demand.size() >= 4) {
    auto check = holdout_check(config, demand, predictive, options);
    if (!check) return check.error();
    result.holdout = std::move(*check);
  }
  FrontierOptions swept = with_targets_beside(options);
  // One simulation per per-pod target, every run at that target in it.
  const bool daemon = predictive && predictive->slo_tuned;
  const std::vector<double> targets = swept_targets(swept, predictive != nullptr, daemon);

  std::vector<std::vector<double>> served_by_quantile;
  if (predictive) {
    for (double q : options.quantiles)
      served_by_quantile.push_back(served_at_quantile(*predictive, q));
    result.replayed_quantile = predictive->quantile;
  }
  auto contains = [](const std::vector<double>& values, double v) {
    return std::find(values.begin(), values.end(), v) != values.end();
  };
  for (double fraction : targets) {
    SimulationConfig at = config;
    at.target_per_replica = fraction * config.capacity_per_replica;
    std::vector<RunSpec> runs;
    std::vector<FrontierPoint> labels;
    if (contains(options.reactive_targets, fraction)) {
      runs.push_back(reactive_run(demand, options.observation_lag));
      labels.push_back(label("reactive", fraction, 0));
      runs.push_back(oracle_run(demand, at));
      labels.push_back(label("oracle", fraction, 0));
    }
    std::vector<RunSpec> at_capacity;  // headroom_in_served: simulated at target = capacity
    std::vector<FrontierPoint> at_capacity_labels;
    if (predictive && contains(swept.predictive_targets, fraction)) {
      const bool here = !options.headroom_in_served;
      add_predictive_settings(here ? runs : at_capacity, here ? labels : at_capacity_labels, demand,
                              served_by_quantile, fraction, options);
    }
    // The daemon's own tuning already holds its headroom in what it served:
    // the HPA reads it at capacity, as docs/targets.md tells users to set,
    // and its observed-load metric at the target the slo declared.
    if (daemon && fraction == 1.0) {
      runs.push_back(daemon_run(demand, predictive->served, options, predictive->observed_target));
      labels.push_back(
          label("daemon", fraction, predictive->quantile, predictive->observed_target));
      if (auto tuned = tuned_reactive_run(demand, predictive->reactive_hpa_targets, options)) {
        runs.push_back(std::move(tuned->run));
        labels.push_back(label("reactive-tuned", tuned->mean_target, 0));
      }
    }
    if (auto added = add_points(result, at, demand, runs, labels, options.quiet_steps); !added)
      return make_error(fmt::format("target {:g} x capacity: {}", fraction, added.error().message));
    SimulationConfig at_one = config;
    at_one.target_per_replica = config.capacity_per_replica;
    if (auto added = add_points(result, at_one, demand, at_capacity, at_capacity_labels,
                                options.quiet_steps);
        !added)
      return make_error(fmt::format("headroom x{:.3g}: {}", 1 / fraction, added.error().message));
  }
  if (auto below = sweep_below_grid(result, config, demand, options, swept,
                                    predictive ? &served_by_quantile : nullptr);
      !below)
    return below.error();
  if (auto refined = refine_crossings(result, config, demand, swept,
                                      predictive ? &served_by_quantile : nullptr);
      !refined)
    return refined.error();
  for (const char* run : {"reactive", "predictive", "oracle", "daemon", "reactive-tuned"}) {
    for (std::size_t i : frontier_of(result.points, run)) result.points[i].on_frontier = true;
  }

  fill_headline(result, config, demand, predictive, swept);
  return result;
}

Expected<FrontierPoint> simulate_served(const SimulationConfig& config,
                                        std::span<const double> demand, std::vector<double> served,
                                        const FrontierOptions& options, const std::string& run) {
  if (auto status = check_options(options, demand.size()); !status) return status.error();
  if (served.size() != demand.size())
    return make_error(
        fmt::format("{} served values for {} demand steps", served.size(), demand.size()));
  SimulationConfig at = config;
  at.target_per_replica = config.capacity_per_replica;
  FrontierResult result;
  FrontierPoint label;
  label.run = run;
  if (auto added =
          add_points(result, at, demand,
                     {daemon_run(demand, std::move(served), options, options.observed_target)},
                     {label}, options.quiet_steps);
      !added)
    return added.error();
  return result.points.front();
}

}  // namespace prescale::simulate
