#pragma once
// `prescale simulate --frontier` and `--recommend`: the options that sweep
// the reactive HPA's per-pod target and the predictive run's settings over
// the simulated stretch (prescale::simulate::sweep_frontier), the frontier
// as JSON, and the recommendation: the cheapest reactive and predictive
// settings that meet the SLO, with the YAML to apply them.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prescale/config/config.hpp"
#include "prescale/simulate/frontier.hpp"

namespace prescale::cli {

struct FrontierArgs {
  bool frontier = false;
  bool recommend = false;
  bool holdout = false;  ///< also tune on the first half, judge on the second
  /// At most this % of minutes short of capacity (slo.maxShortPercent).
  double slo_percent = config::SloConfig{}.max_short_percent;
  std::vector<double> reactive_targets;    ///< percent of capacity; empty = the defaults
  std::vector<double> predictive_targets;  ///< percent of capacity; empty = the defaults
  std::vector<double> observed_targets;    ///< percent of capacity; empty = the predictive ones
  std::vector<double> quantiles;           ///< empty = the defaults
  /// The reactive and oracle crossings of the SLO refined in steps of this
  /// percent of capacity (FrontierOptions::refine_step; 0: off).
  double refine_percent = 1;
  /// A run none of whose listed targets meets the SLO is swept below them,
  /// down to this percent of capacity (FrontierOptions::sweep_floor; 0: off).
  double floor_percent = 10;
  /// The flags the sweep lists came from, for messages.
  std::string targets_flag = "--frontier-targets";
  std::string predictive_targets_flag = "--frontier-predictive-targets";
  std::string observed_targets_flag = "--frontier-observed-targets";
  std::string quantiles_flag = "--frontier-quantiles";
  std::string refine_flag = "--frontier-refine-percent";
  std::string floor_flag = "--frontier-floor-percent";

  [[nodiscard]] bool wanted() const { return frontier || recommend; }
};

/// Adds --frontier, --recommend, --slo-percent, --frontier-targets,
/// --frontier-predictive-targets, --frontier-observed-targets, --frontier-quantiles,
/// --frontier-refine-percent, --frontier-floor-percent.
void add_frontier_options(CLI::App& command, FrontierArgs& args);

/// The sweep the flags ask for; throws Failure naming a bad flag. The
/// predictive run pairs every observed-load target with every forecast
/// target (the observed ones default to the forecast's list).
[[nodiscard]] simulate::FrontierOptions frontier_options(const FrontierArgs& args,
                                                         std::size_t observation_lag);

[[nodiscard]] nlohmann::json frontier_json(const simulate::FrontierResult& frontier);

/// What the user applies for the cheapest settings meeting the SLO.
struct RecommendContext {
  double capacity_per_replica = 1;
  std::int64_t lead_seconds = 0;
  std::string metric = "simulated-load";
  double floor_percent = 10;  ///< how far below the listed targets the sweep went
};
/// The recommendation in words and YAML (prescale target + HPA metrics).
[[nodiscard]] std::string format_recommendation(const simulate::FrontierResult& frontier,
                                                const RecommendContext& context);
/// One setting in words and the YAML that applies it (the recommendation's
/// parts); `comment` is appended inside the predictive line's parentheses.
[[nodiscard]] std::string reactive_setting_text(const simulate::FrontierPoint& point,
                                                const RecommendContext& context);
[[nodiscard]] std::string predictive_setting_text(const simulate::FrontierPoint& point,
                                                  const RecommendContext& context,
                                                  const std::string& comment);
/// The same as JSON fields (reactive / predictive: target, quantile,
/// averageValue; predictive: the observed-load metric's target and averageValue).
[[nodiscard]] nlohmann::json recommendation_json(const simulate::FrontierResult& frontier,
                                                 const RecommendContext& context);

}  // namespace prescale::cli
