#include "prescale/simulate/tune.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

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

namespace {

constexpr std::int64_t kDaySeconds = 86400;

bool same(double a, double b) {
  return std::abs(a - b) < 1e-6;
}

// Adds `value` to a swept list unless it is there already.
void sweep_also(std::vector<double>& values, double value) {
  if (std::none_of(values.begin(), values.end(), [&](double v) { return same(v, value); }))
    values.push_back(value);
}

// The swept predictive point at `fraction` of capacity and `quantile`.
std::optional<std::size_t> find_setting(std::span<const FrontierPoint> points, double fraction,
                                        double quantile) {
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (p.run == "predictive" && same(p.target_fraction, fraction) && same(p.quantile, quantile))
      return i;
  }
  return std::nullopt;
}

std::string describe(const FrontierPoint& p) {
  return fmt::format("quantile {:g} at {:.0f}% ({:.0f} minutes short here)", p.quantile,
                     p.target_fraction * 100, p.violation_minutes);
}

// The setting to serve next, moving from the one in force (`current`): a
// setting chosen as the cheapest within the SLO on past minutes is the one
// whose luck there was best (a winner's curse, paid on later minutes), so
// the tuning moves to a safer setting at once when the one in force missed
// the tuned SLO on the recorded decisions, but cheaper only by one notch (the
// next cheaper swept setting within it), only when the one in force met it,
// and at most once a day.
struct Move {
  SettingChoice choice;
  std::string words;
  bool cheaper = false;
};

Move move_from(std::span<const FrontierPoint> points, std::size_t current, double limit,
               bool may_go_cheaper) {
  const auto& now = points[current];
  if (now.violation_minutes > limit) {
    const auto to = *choose_setting(points, "predictive", limit);
    return {to, "moved at once from " + describe(now), false};
  }
  const SettingChoice keep{current, true};
  if (!may_go_cheaper) return {keep, "kept: the last cheaper move was less than a day ago", false};
  std::optional<std::size_t> next;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (p.run != "predictive" || p.violation_minutes > limit ||
        !(p.replica_hours < now.replica_hours))
      continue;
    if (!next || p.replica_hours > points[*next].replica_hours) next = i;
  }
  if (!next) return {keep, "kept: no cheaper swept setting met the tuned SLO here", false};
  return {SettingChoice{*next, true}, "one notch cheaper than " + describe(now), true};
}

}  // namespace

std::int64_t startup_for_lead(const config::TargetConfig& target) {
  return std::max<std::int64_t>(
      0, target.lead_time_seconds - kHpaSyncPeriodSeconds - target.step_seconds);
}

Expected<autoscaler::SloSetting> tune_target_for_slo(
    const config::TargetConfig& target, const autoscaler::SloHistory& history,
    const std::optional<autoscaler::SloSetting>& in_force) {
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
  // Headroom as the daemon serves it: on the forecast, not on the observed
  // metric the HPA also reads (a fixed lower per-pod target would give both).
  options.headroom_in_served = true;
  options.observed_target = target.slo->reactive_target_percent / 100;
  // The setting in force is swept too, so that the move is judged from it.
  const double current_quantile = in_force ? in_force->quantile : target.quantile;
  const double current_fraction = in_force ? 1 / in_force->headroom : 1.0;
  sweep_also(options.quantiles, current_quantile);
  sweep_also(options.predictive_targets, current_fraction);
  auto tuned = tune_for_slo(config, history.demand, &recorded, options);
  if (!tuned) return tuned.error();
  if (!tuned->predictive) return make_error("no predictive setting was swept");
  const std::int64_t history_end =
      history.start_unix + static_cast<std::int64_t>(n) * history.step_seconds;
  const std::int64_t cheaper_at = in_force ? in_force->cheaper_at_unix : 0;
  const auto current = find_setting(tuned->frontier.points, current_fraction, current_quantile);
  if (!current) return make_error("the setting in force was not swept");
  const Move move = move_from(tuned->frontier.points, *current, tuned->tuning_slo_minutes,
                              cheaper_at == 0 || history_end - cheaper_at >= kDaySeconds);
  const auto& chosen = tuned->at(move.choice);

  autoscaler::SloSetting out;
  out.quantile = chosen.quantile;
  out.headroom = 1 / chosen.target_fraction;
  out.meets_slo = move.choice.meets_slo;
  out.cheaper_at_unix = move.cheaper ? history_end : cheaper_at;
  const double days = static_cast<double>(history.recorded_seconds()) / kDaySeconds;
  const double reactive_percent = target.slo->reactive_target_percent;
  out.summary = fmt::format(
      "SLO {:g}% of minutes short (margin {:g}%): quantile {:g}, headroom x{:.3g} (HPA target "
      "{:.0f}% of capacity{}) {} on the last {:.1f} days: {:.0f} minutes short (SLO {:.0f}, tuned "
      "for {:.0f}), {:.0f} replica-hours; {}",
      target.slo->max_short_percent, target.slo->margin_percent, out.quantile, out.headroom,
      chosen.target_fraction * 100,
      reactive_percent == 100
          ? std::string()
          : fmt::format(", its observed-load metric at {:g}%", reactive_percent),
      out.meets_slo ? "met it" : "was the safest setting swept and missed it", days,
      chosen.violation_minutes, tuned->slo_minutes, tuned->tuning_slo_minutes, chosen.replica_hours,
      move.words);
  if (tuned->reactive) {
    const auto& reactive = tuned->at(*tuned->reactive);
    out.summary += fmt::format("; a reactive HPA {} at target {:.0f}% with {:.0f} replica-hours",
                               tuned->reactive->meets_slo ? "met it" : "came closest",
                               reactive.target_fraction * 100, reactive.replica_hours);
  }
  return out;
}

}  // namespace prescale::simulate
