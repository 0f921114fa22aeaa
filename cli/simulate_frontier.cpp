#include "simulate_frontier.hpp"

#include <fmt/core.h>

#include <cmath>

#include "commands.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/config/slo_ranges.hpp"
#include "prescale/report/frontier.hpp"

namespace prescale::cli {
namespace {

std::vector<double> fractions(const std::vector<double>& percents, const std::string& option) {
  std::vector<double> out;
  for (double p : percents) {
    if (!(p > 0) || !(p <= 1000))
      throw Failure(fmt::format("{}: {} is not a percentage of capacity in (0, 1000]", option, p));
    out.push_back(p / 100);
  }
  return out;
}

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json point_json(const simulate::FrontierPoint& p) {
  nlohmann::json j = {{"run", p.run},
                      {"target_percent", 100 * p.target_fraction},
                      {"observed_target_percent", 100 * p.observed_fraction()},
                      {"violation_minutes", p.violation_minutes},
                      {"replica_hours", p.replica_hours},
                      {"on_frontier", p.on_frontier}};
  if (p.run == "predictive") j["quantile"] = p.quantile;
  if (!p.daily_violation_minutes.empty()) {
    j["daily_violation_minutes"] = p.daily_violation_minutes;
    j["daily_replica_hours"] = p.daily_replica_hours;
  }
  return j;
}

nlohmann::json index_json(const simulate::FrontierResult& f, const std::optional<std::size_t>& i) {
  return i ? point_json(f.points[*i]) : nlohmann::json(nullptr);
}

std::string quantity(double value) {
  // An HPA averageValue: whole units when whole, else milli-units.
  const double milli = std::ceil(value * 1000 - 1e-6);
  if (std::fmod(milli, 1000) == 0) return fmt::format("{:.0f}", milli / 1000);
  return fmt::format("{:.0f}m", milli);
}

nlohmann::json holdout_json(const simulate::FrontierResult& f) {
  if (!f.holdout) return nullptr;
  const auto& c = *f.holdout;
  auto judged = [&](const std::optional<simulate::FrontierPoint>& p,
                    std::optional<bool> met_in_tuning) -> nlohmann::json {
    if (!p) return nullptr;
    nlohmann::json j = point_json(*p);
    j.erase("on_frontier");
    j["meets_slo"] = p->violation_minutes <= c.slo_minutes;
    if (met_in_tuning) j["met_in_tuning"] = *met_in_tuning;
    return j;
  };
  return {{"slo_minutes", c.slo_minutes},
          {"tuning_slo_minutes", c.tuning_slo_minutes},
          {"reactive", judged(c.reactive, c.reactive_met_in_tuning)},
          {"predictive", judged(c.predictive, c.predictive_met_in_tuning)},
          {"replica_hours_saved_percent", optional_json(c.saved_percent)},
          {"hindsight_reactive", judged(c.hindsight_reactive, std::nullopt)},
          {"reactive_minutes_at_equal_cost", optional_json(c.reactive_minutes_at_equal_cost)},
          {"violation_ratio_at_equal_cost", optional_json(c.violation_ratio)}};
}

// The daemon's own operating point (simulate --slo-tuning); null without it.
nlohmann::json daemon_json(const simulate::FrontierResult& f) {
  const auto& h = f.headline;
  if (!h.daemon_point) return nullptr;
  nlohmann::json j = point_json(f.points[*h.daemon_point]);
  for (const char* key : {"on_frontier", "daily_violation_minutes", "daily_replica_hours"})
    j.erase(key);
  j["meets_slo"] = h.daemon_meets_slo;
  j["replica_hours_saved_percent"] = optional_json(h.daemon_saved_percent);
  j["reactive_minutes_at_equal_cost"] = optional_json(h.daemon_reactive_minutes_at_equal_cost);
  j["violation_ratio_at_equal_cost"] = optional_json(h.daemon_violation_ratio);
  // A reactive HPA retuned the same way at each refit (its point, with its
  // days, is among the points as run "reactive-tuned").
  nlohmann::json tuned = nullptr;
  if (h.tuned_reactive_point) {
    const auto& p = f.points[*h.tuned_reactive_point];
    tuned = {{"replica_hours", p.replica_hours},
             {"violation_minutes", p.violation_minutes},
             {"meets_slo", h.tuned_reactive_meets_slo},
             {"daemon_replica_hours_saved_percent",
              optional_json(h.daemon_saved_vs_tuned_reactive_percent)}};
  }
  j["tuned_reactive"] = tuned;
  return j;
}

}  // namespace

void add_frontier_options(CLI::App& command, FrontierArgs& args) {
  command.add_flag(
      "--frontier", args.frontier,
      "Also sweep the reactive HPA's per-pod target and the predictive run's settings (the\n"
      "per-pod targets of its observed-load and forecast metrics, the quantile) over the\n"
      "same stretch: violation minutes against replica-hours for each,\n"
      "each run's frontier, the replica-hours each needs to meet the SLO and the\n"
      "violation minutes at equal replica-hours (the engine is replayed once; every\n"
      "setting is applied to its forecasts)");
  command.add_flag("--recommend", args.recommend,
                   "--frontier, then print the cheapest reactive and predictive settings that "
                   "meet\nthe SLO on this trace and the YAML to apply them");
  command.add_flag("--frontier-holdout", args.holdout,
                   "--frontier: also pick each run's cheapest setting meeting the SLO on the\n"
                   "first half of the stretch and simulate it on the second (an honest check of\n"
                   "a setting tuned on history)");
  command
      .add_option("--slo-percent", args.slo_percent,
                  "--frontier: the SLO, as the largest share of minutes with demand above\n"
                  "ready capacity (0.1 = at most 0.1 % of minutes short)")
      ->capture_default_str();
  command
      .add_option("--frontier-targets", args.reactive_targets,
                  "--frontier: reactive (and oracle) per-pod targets, percent of capacity\n"
                  "(default 110,100,95,...,45)")
      ->delimiter(',');
  command
      .add_option("--frontier-predictive-targets", args.predictive_targets,
                  "--frontier: predictive per-pod targets (the forecast metric's), percent of\n"
                  "capacity (default 100,95,...,70; above 100 the forecast binds only where it\n"
                  "is well above the load, at announced surges)")
      ->delimiter(',');
  command
      .add_option("--frontier-observed-targets", args.observed_targets,
                  "--frontier: per-pod targets of the predictive HPA's observed-load metric,\n"
                  "percent of capacity, each swept beside every predictive (forecast) target\n"
                  "(default: the predictive targets)")
      ->delimiter(',');
  command
      .add_option("--frontier-quantiles", args.quantiles,
                  "--frontier: predictive served quantiles (default 0.5,0.75,0.9,0.95,0.99)")
      ->delimiter(',');
  command
      .add_option("--frontier-refine-percent", args.refine_percent,
                  "--frontier: between the cheapest reactive (and oracle) target meeting the\n"
                  "SLO and the next cheaper one swept, also sweep every this many percent of\n"
                  "capacity, and the same for the cheapest predictive setting's forecast target\n"
                  "(an HPA's averageValue can be any number; 0: the swept targets only)")
      ->capture_default_str();
  command
      .add_option(
          "--frontier-floor-percent", args.floor_percent,
          "--frontier: when no listed target of a run meets the SLO, go on below them,\n"
          "each 5 % below the one before, down to this and stop at the first that meets it, so\n"
          "that \"cannot meet the SLO\" is the load's answer, not the grid's (0: the\n"
          "listed targets only)")
      ->capture_default_str();
}

simulate::FrontierOptions frontier_options(const FrontierArgs& args, std::size_t observation_lag) {
  simulate::FrontierOptions options;
  if (!args.reactive_targets.empty())
    options.reactive_targets = fractions(args.reactive_targets, args.targets_flag);
  if (!args.predictive_targets.empty())
    options.predictive_targets = fractions(args.predictive_targets, args.predictive_targets_flag);
  // Both halves of the plane: on the payments traces (bench/frontier/run)
  // settings with the observed load above the forecast's target make the
  // predictive frontier near the SLO, those below it the middle. Forecast
  // targets above capacity (binding only at surges) add settings within a
  // few minutes of the reactive frontier there and, beside the observed
  // load at capacity, settings above it at the cheap end: on request only.
  options.observed_targets = args.observed_targets.empty()
                                 ? options.predictive_targets
                                 : fractions(args.observed_targets, args.observed_targets_flag);
  if (!args.quantiles.empty()) {
    for (double q : args.quantiles) {
      if (!(q > 0 && q < 1))
        throw Failure(fmt::format("{}: {} is not in (0, 1)", args.quantiles_flag, q));
    }
    options.quantiles = args.quantiles;
  }
  // slo.maxShortPercent's range and words (config/slo_ranges.hpp).
  if (auto problem = config::slo_ranges::max_short_percent_problem(
          "--slo-percent", fmt::format("{}", args.slo_percent), args.slo_percent);
      !problem.empty())
    throw Failure(problem);
  options.slo_short_fraction = args.slo_percent / 100;
  if (!(args.refine_percent == 0 || (args.refine_percent >= 0.1 && args.refine_percent < 100)))
    throw Failure(fmt::format("{}: {} is not 0 (off) or a percent of capacity in [0.1, 100)",
                              args.refine_flag, args.refine_percent));
  options.refine_step = args.refine_percent / 100;
  if (!(args.floor_percent >= 0 && args.floor_percent < 100))
    throw Failure(fmt::format("{}: {} is not 0 (off) or a percent of capacity in (0, 100)",
                              args.floor_flag, args.floor_percent));
  options.sweep_floor = args.floor_percent / 100;
  options.observation_lag = observation_lag;
  options.holdout = args.holdout;
  return options;
}

nlohmann::json frontier_json(const simulate::FrontierResult& f) {
  const auto& h = f.headline;
  nlohmann::json points = nlohmann::json::array();
  for (const auto& p : f.points) points.push_back(point_json(p));
  return {{"observed_minutes", h.observed_minutes},
          {"slo_minutes", h.slo_minutes},
          {"replayed_quantile", f.replayed_quantile},
          {"reactive_at_slo", index_json(f, h.reactive_at_slo)},
          {"predictive_at_slo", index_json(f, h.predictive_at_slo)},
          {"oracle_at_slo", index_json(f, h.oracle_at_slo)},
          {"replica_hours_saved_percent", optional_json(h.saved_percent)},
          {"oracle_replica_hours_saved_percent", optional_json(h.oracle_saved_percent)},
          {"operating_point", index_json(f, h.operating_point)},
          {"reactive_minutes_at_equal_cost", optional_json(h.reactive_minutes_at_equal_cost)},
          {"violation_ratio_at_equal_cost", optional_json(h.violation_ratio)},
          {"worst_excess_minutes", optional_json(h.worst_excess_minutes)},
          {"daemon", daemon_json(f)},
          {"holdout", holdout_json(f)},
          {"points", points}};
}

nlohmann::json recommendation_json(const simulate::FrontierResult& f,
                                   const RecommendContext& context) {
  const auto& h = f.headline;
  nlohmann::json out = {{"slo_minutes", h.slo_minutes}};
  auto setting = [&](const std::optional<std::size_t>& at) -> nlohmann::json {
    if (!at) return nullptr;
    const auto& p = f.points[*at];
    nlohmann::json j = point_json(p);
    j["average_value"] = quantity(p.target_fraction * context.capacity_per_replica);
    if (p.run == "predictive")
      j["observed_average_value"] = quantity(p.observed_fraction() * context.capacity_per_replica);
    return j;
  };
  out["reactive"] = setting(h.reactive_at_slo);
  out["predictive"] = setting(h.predictive_at_slo);
  return out;
}

std::string reactive_setting_text(const simulate::FrontierPoint& p,
                                  const RecommendContext& context) {
  return fmt::format(
      "  reactive: per-pod target {:.0f} % of capacity ({:.0f} replica-hours, {:.0f} violation "
      "minutes)\n"
      "    # HPA (autoscaling/v2) spec.metrics\n"
      "    - type: External\n"
      "      external:\n"
      "        metric: {{name: <observed load metric>}}\n"
      "        target: {{type: AverageValue, averageValue: \"{}\"}}\n",
      100 * p.target_fraction, p.replica_hours, p.violation_minutes,
      quantity(p.target_fraction * context.capacity_per_replica));
}

std::string predictive_setting_text(const simulate::FrontierPoint& p,
                                    const RecommendContext& context, const std::string& comment) {
  const std::string average = quantity(p.target_fraction * context.capacity_per_replica);
  const std::string observed = quantity(p.observed_fraction() * context.capacity_per_replica);
  const std::string targets =
      p.two_targets()
          ? fmt::format("the observed load at {:g} %, the forecast at {:g} % of capacity",
                        100 * p.observed_fraction(), 100 * p.target_fraction)
          : fmt::format("per-pod target {:g} % of capacity", 100 * p.target_fraction);
  return fmt::format(
      "  predictive: quantile {:g}, {} ({:.0f} replica-hours, {:.0f} violation minutes{})\n"
      "    # prescale config: the target\n"
      "    - metric: {}\n"
      "      quantile: {:g}\n"
      "      leadTime: {}\n"
      "      capacityPerReplica: {:g}\n"
      "    # HPA (autoscaling/v2) spec.metrics: the observed load and the forecast, {}\n"
      "    - type: External\n"
      "      external:\n"
      "        metric: {{name: <observed load metric>}}\n"
      "        target: {{type: AverageValue, averageValue: \"{}\"}}\n"
      "    - type: External\n"
      "      external:\n"
      "        metric: {{name: {}}}\n"
      "        target: {{type: AverageValue, averageValue: \"{}\"}}\n",
      p.quantile, targets, p.replica_hours, p.violation_minutes, comment, context.metric,
      p.quantile, config::format_duration(context.lead_seconds), context.capacity_per_replica,
      p.two_targets() ? "each at its own target" : "one target", observed, context.metric, average);
}

std::string format_recommendation(const simulate::FrontierResult& f,
                                  const RecommendContext& context) {
  const auto& h = f.headline;
  std::string out = fmt::format(
      "recommendation for at most {:.0f} violation minutes on this trace:\n", h.slo_minutes);
  if (h.reactive_at_slo) {
    out += reactive_setting_text(f.points[*h.reactive_at_slo], context);
  } else {
    out +=
        (context.floor_percent > 0
             ? fmt::format("  reactive: no per-pod target meets it, down to {:g} % of capacity\n",
                           context.floor_percent)
             : std::string("  reactive: no listed per-pod target meets it (add lower "
                           "--frontier-targets)\n"));
  }
  if (!h.predictive_at_slo) {
    out += f.replayed_quantile > 0
               ? "  predictive: no swept setting meets it (add quantiles or lower targets)\n"
               : "  predictive: not simulated\n";
    return out;
  }
  out += predictive_setting_text(
      f.points[*h.predictive_at_slo], context,
      h.saved_percent ? ", " + report::saving_against_reactive(*h.saved_percent) : "");
  return out;
}

}  // namespace prescale::cli
