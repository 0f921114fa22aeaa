#include "prescale/simulate/tune.hpp"

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

}  // namespace prescale::simulate
