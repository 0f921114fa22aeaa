// FrontierOptions::holdout: a setting chosen on the first half of the
// stretch, judged on the second. The cheapest setting on a history sits at
// the SLO line by construction; this is the honest check of a tuned one.
#include <tuple>
#include <type_traits>
#include <utility>

#include "frontier_runs.hpp"

namespace prescale::simulate {

namespace {

// The first `count` steps from `from` of a recorded replay.
PredictiveSeries slice(const PredictiveSeries& replayed, std::size_t from, std::size_t count) {
  PredictiveSeries out;
  out.start_unix = replayed.start_unix;
  out.quantile = replayed.quantile;
  auto cut = [&](const auto& values) {
    using Vector = std::decay_t<decltype(values)>;
    return Vector(values.begin() + static_cast<std::ptrdiff_t>(from),
                  values.begin() + static_cast<std::ptrdiff_t>(from + count));
  };
  out.served = cut(replayed.served);
  out.observed = cut(replayed.observed);
  out.windows = cut(replayed.windows);
  return out;
}

// One setting simulated on its own.
Expected<FrontierPoint> simulate_setting(const SimulationConfig& config,
                                         std::span<const double> demand,
                                         const PredictiveSeries* predictive,
                                         const FrontierPoint& setting,
                                         const FrontierOptions& options) {
  SimulationConfig at = config;
  at.target_per_replica = setting.target_fraction * config.capacity_per_replica;
  std::vector<RunSpec> runs;
  if (setting.run == "predictive") {
    auto run = setting_run(demand, served_at_quantile(*predictive, setting.quantile),
                           setting.observed_fraction(), setting.target_fraction, options);
    at.target_per_replica = run.simulated_at * config.capacity_per_replica;
    runs.push_back(std::move(run.run));
  } else {
    runs.push_back(reactive_run(demand, options.observation_lag));
  }
  auto simulated = simulate(at, demand, runs);
  if (!simulated) return make_error(simulated.error().message);
  FrontierPoint out = setting;
  out.violation_minutes = simulated->summaries[0].slo_violation_minutes;
  out.replica_hours = simulated->summaries[0].replica_hours;
  out.on_frontier = false;
  add_daily(out, simulated->timelines[0], config.step_seconds);
  return out;
}

}  // namespace

Expected<HoldoutCheck> holdout_check(const SimulationConfig& config, std::span<const double> demand,
                                     const PredictiveSeries* predictive,
                                     const FrontierOptions& options) {
  const std::size_t half = demand.size() / 2;
  FrontierOptions tuning = options;
  tuning.holdout = false;
  tuning.quiet_steps.clear();  // marks the whole stretch, not a half
  std::optional<PredictiveSeries> first, second;
  if (predictive) {
    first = slice(*predictive, 0, half);
    second = slice(*predictive, half, demand.size() - half);
  }
  auto tuned = sweep_frontier(config, demand.subspan(0, half), first ? &*first : nullptr, tuning);
  if (!tuned) return make_error("holdout, first half: " + tuned.error().message);
  SimulationConfig later = config;
  later.start_unix += static_cast<std::int64_t>(half) * config.step_seconds;
  const auto rest = demand.subspan(half);
  HoldoutCheck check;
  check.slo_minutes = options.slo_short_fraction * known_minutes(rest, config.step_seconds);
  check.tuning_slo_minutes = tuned->headline.slo_minutes * (1 - options.tuning_margin);
  for (auto [run, into, met] :
       {std::tuple{"reactive", &check.reactive, &check.reactive_met_in_tuning},
        std::tuple{"predictive", &check.predictive, &check.predictive_met_in_tuning}}) {
    const auto chosen = choose_setting(tuned->points, run, check.tuning_slo_minutes);
    if (!chosen) continue;
    auto judged = simulate_setting(later, rest, second ? &*second : nullptr,
                                   tuned->points[chosen->point], options);
    if (!judged) return make_error("holdout, second half: " + judged.error().message);
    *into = *judged;
    *met = chosen->meets_slo;
  }
  if (check.reactive && check.predictive && check.reactive->replica_hours > 0 &&
      check.reactive->violation_minutes <= check.slo_minutes &&
      check.predictive->violation_minutes <= check.slo_minutes)
    check.saved_percent =
        100 * (1 - check.predictive->replica_hours / check.reactive->replica_hours);
  auto hindsight = sweep_frontier(later, rest, nullptr, tuning);
  if (!hindsight) return make_error("holdout, second half: " + hindsight.error().message);
  if (const auto at = hindsight->headline.reactive_at_slo)
    check.hindsight_reactive = hindsight->points[*at];
  if (check.predictive) {
    check.reactive_minutes_at_equal_cost =
        frontier_minutes_at(hindsight->points, "reactive", check.predictive->replica_hours);
    if (check.reactive_minutes_at_equal_cost && *check.reactive_minutes_at_equal_cost > 0)
      check.violation_ratio =
          check.predictive->violation_minutes / *check.reactive_minutes_at_equal_cost;
  }
  return check;
}

}  // namespace prescale::simulate
