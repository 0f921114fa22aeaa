#include "shadow_score.hpp"

#include <fmt/core.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "prescale/simulate/simulation.hpp"

namespace prescale::cli {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

HpaRun run_of(const simulate::RunSummary& summary) {
  return HpaRun{summary.replica_hours, summary.slo_violation_minutes, summary.peak_replicas};
}

}  // namespace

Expected<ShadowScore> score_shadow(const autoscaler::TargetTrail& trail,
                                   std::optional<double> capacity,
                                   std::optional<std::int64_t> startup_seconds) {
  ShadowScore score;
  score.quantile = trail.quantile;
  const std::int64_t step = trail.step_seconds;
  if (trail.steps.size() < 2 || step <= 0)
    return make_error(
        fmt::format("{} step(s) recorded in the window; a score needs 2", trail.steps.size()));
  const std::int64_t start = trail.steps.front().time_unix;
  const std::int64_t end = trail.steps.back().time_unix;
  // parse_step_list keeps steps in order; a grid longer than a year at
  // one-second steps would be a reply gone wrong, not a window.
  if (end < start || (end - start) / step > 366 * 86400)
    return make_error("the step trail's times are out of order or span too long");
  const auto count = static_cast<std::size_t>((end - start) / step + 1);
  score.grid_steps = count;
  score.recorded = trail.steps.size();
  score.lead_steps =
      static_cast<std::size_t>(std::max<std::int64_t>(1, (trail.lead_seconds + step - 1) / step));

  // The load by the time of each sample, the served value by the step it was
  // served in (a step the daemon did not record served what the step before
  // did: the API answers from the newest snapshot until the next one).
  std::vector<double> load(count, kNaN), served(count, kNaN);
  std::vector<char> forecasting(count, 0);
  std::set<std::int64_t> samples_scored;
  std::size_t one_step_in = 0;
  for (const auto& s : trail.steps) {
    const auto i = static_cast<std::size_t>((s.time_unix - start) / step);
    if (i >= count) continue;
    served[i] = s.served;
    forecasting[i] = s.forecasting ? 1 : 0;
    if (s.forecasting) ++score.forecasting;
    if (s.sample_unix >= start && std::isfinite(s.observed)) {
      const auto k = static_cast<std::size_t>((s.sample_unix / step * step - start) / step);
      if (k < count) load[k] = s.observed;
    }
    // A sample stays the newest over several steps when data lags: count it once.
    if (s.forecasting && std::isfinite(s.observed) && std::isfinite(s.upper) &&
        samples_scored.insert(s.sample_unix).second) {
      ++score.one_step_scored;
      if (s.observed <= s.upper) ++one_step_in;
    }
  }
  for (std::size_t i = 1; i < count; ++i) {
    if (std::isnan(served[i])) {
      served[i] = served[i - 1];
      forecasting[i] = forecasting[i - 1];
    }
  }
  if (score.one_step_scored > 0)
    score.one_step_covered =
        static_cast<double>(one_step_in) / static_cast<double>(score.one_step_scored);

  // Pods asked for at step i - lead are ready for the load of step i: that
  // is the value to hold the load against.
  double load_sum = 0, error_sum = 0, absolute_sum = 0;
  std::size_t covered = 0;
  for (std::size_t i = score.lead_steps; i < count; ++i) {
    const std::size_t j = i - score.lead_steps;
    if (!std::isfinite(load[i]) || !std::isfinite(served[j]) || !forecasting[j]) continue;
    ++score.scored;
    load_sum += load[i];
    error_sum += served[j] - load[i];
    absolute_sum += std::abs(served[j] - load[i]);
    if (load[i] <= served[j]) ++covered;
  }
  if (score.scored > 0) {
    const auto n = static_cast<double>(score.scored);
    score.mean_load = load_sum / n;
    score.bias = error_sum / n;
    score.mean_absolute_error = absolute_sum / n;
    score.covered = static_cast<double>(covered) / n;
  }

  score.capacity_per_replica = capacity ? capacity : trail.capacity_per_replica;
  score.startup_seconds = startup_seconds.value_or(trail.lead_seconds);
  if (!score.capacity_per_replica) return score;
  simulate::SimulationConfig config;
  config.start_unix = start;
  config.step_seconds = step;
  config.capacity_per_replica = *score.capacity_per_replica;
  config.startup_seconds = score.startup_seconds;
  config.min_replicas = static_cast<std::int32_t>(trail.min_replicas);
  config.max_replicas = static_cast<std::int32_t>(trail.max_replicas);
  // The HPA reads a metric that holds its last value between samples (the
  // API's answer); the load it is held against keeps its gaps (not counted).
  std::vector<double> metric_load = load;
  for (std::size_t i = 1; i < count; ++i)
    if (std::isnan(metric_load[i])) metric_load[i] = metric_load[i - 1];
  // A reactive HPA reads a sample a step late, as the daemon's observed value.
  const std::vector<simulate::RunSpec> runs{simulate::reactive_run(metric_load, 1),
                                            simulate::predictive_run(metric_load, served, 1)};
  auto result = simulate::simulate(config, load, runs);
  if (!result) return make_error("HPA replay: " + result.error().message);
  score.observed_alone = run_of(result->summaries[0]);
  score.served_beside = run_of(result->summaries[1]);
  return score;
}

nlohmann::json to_json(const ShadowScore& score) {
  const auto finite = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nullptr; };
  nlohmann::json out = {{"grid_steps", score.grid_steps},
                        {"recorded_steps", score.recorded},
                        {"forecasting_steps", score.forecasting},
                        {"lead_steps", score.lead_steps},
                        {"scored_steps", score.scored},
                        {"mean_load", finite(score.mean_load)},
                        {"mean_absolute_error", finite(score.mean_absolute_error)},
                        {"bias", finite(score.bias)},
                        {"coverage", finite(score.covered)},
                        {"quantile", score.quantile},
                        {"one_step_scored", score.one_step_scored},
                        {"one_step_coverage", finite(score.one_step_covered)}};
  if (score.capacity_per_replica) {
    const auto run = [](const HpaRun& r) {
      return nlohmann::json{{"replica_hours", r.replica_hours},
                            {"short_minutes", r.short_minutes},
                            {"peak_replicas", r.peak_replicas}};
    };
    out["hpa"] = {{"capacity_per_replica", *score.capacity_per_replica},
                  {"startup_seconds", score.startup_seconds},
                  {"observed_alone", run(*score.observed_alone)},
                  {"served_beside", run(*score.served_beside)}};
  }
  return out;
}

}  // namespace prescale::cli
