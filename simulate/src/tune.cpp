#include "prescale/simulate/tune.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "slo_margin.hpp"
#include "slo_risk.hpp"
#include "slo_served.hpp"

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

// A per-pod target in % of capacity as the records print it: 82.5, 80.
double percent_of(double fraction) {
  return std::round(fraction * 1000) / 10;
}

std::string describe(const FrontierPoint& p) {
  return fmt::format("quantile {:g} at {:g}% ({:.0f} minutes short here)", p.quantile,
                     percent_of(p.target_fraction), p.violation_minutes);
}

// A pair of swept predictive settings: one for busy steps, one for quiet
// ones (the same point: one setting everywhere). Minutes and replica-hours
// are the busy point's on busy steps plus the quiet point's on quiet steps,
// as each was simulated alone over the whole history (exact for a single
// setting; a pair is simulated as served before it is chosen).
struct Pair {
  std::size_t busy = 0, quiet = 0;
  double minutes = 0, replica_hours = 0;
};

Pair pair_of(std::span<const FrontierPoint> points, std::size_t busy, std::size_t quiet) {
  const auto& b = points[busy];
  const auto& q = points[quiet];
  return {busy, quiet, b.violation_minutes - b.quiet_violation_minutes + q.quiet_violation_minutes,
          b.replica_hours - b.quiet_replica_hours + q.quiet_replica_hours};
}

// Quiet hours get their own setting once the recorded decisions hold about
// two weeks (13 days: every hour of the week seen about twice): a pair has
// 35 times the candidates of one setting, and on fewer days the choice
// among them fits the luck of the days recorded (NAB ec2, 7 days: one more
// 3-minute miss than one setting).
constexpr std::int64_t kSplitAfterSeconds = 13 * 86400;

// Every pair of swept predictive points (`split` false: one setting for
// every hour, the pairs of a point with itself).
std::vector<Pair> all_pairs(std::span<const FrontierPoint> points, bool split) {
  std::vector<std::size_t> predictive;
  for (std::size_t i = 0; i < points.size(); ++i)
    if (points[i].run == "predictive") predictive.push_back(i);
  std::vector<Pair> pairs;
  pairs.reserve(predictive.size() * predictive.size());
  for (std::size_t b : predictive)
    for (std::size_t q : predictive)
      if (split || b == q) pairs.push_back(pair_of(points, b, q));
  return pairs;
}

// At most this share of the replica-hours in force is given up by one
// cheaper move (once a day) among pairs: settings chosen on past minutes
// are judged on later ones, and the cheapest within the SLO is the
// luckiest there. With one setting for every hour (0), the move is to the
// next cheaper swept setting, as the pairs' next cheaper one is no notch.
constexpr double kCheaperStep = 0.05;

// The settings to serve next, moving from the pair in force (`now`): a
// setting chosen as the cheapest within the SLO on past minutes is the one
// whose luck there was best (a winner's curse, paid on later minutes), so
// the tuning moves to a safer pair at once when the one in force missed the
// tuned SLO on the recorded decisions, but cheaper only by a notch (at most
// kCheaperStep of its replica-hours), only when the one in force met it,
// and at most once a day. Candidates in order of preference: the move
// itself first, then the next best, for the exact check of a pair.
struct Move {
  std::vector<Pair> candidates;  ///< empty: keep the pair in force
  std::string words;
  bool cheaper = false;
  bool meets_slo = true;
};

Move move_from(const std::vector<Pair>& pairs, const Pair& now, double limit, bool may_go_cheaper,
               double cheaper_step, const std::string& now_words) {
  Move move;
  auto by_cost = [](const Pair& a, const Pair& b) { return a.replica_hours < b.replica_hours; };
  if (now.minutes > limit) {
    move.words = "moved at once from " + now_words;
    for (const auto& p : pairs)
      if (p.minutes <= limit) move.candidates.push_back(p);
    std::sort(move.candidates.begin(), move.candidates.end(), by_cost);
    if (move.candidates.empty()) {
      // None within the SLO: the safest (fewest minutes, cheaper on a tie).
      move.meets_slo = false;
      move.candidates = pairs;
      std::sort(move.candidates.begin(), move.candidates.end(), [](const Pair& a, const Pair& b) {
        return a.minutes != b.minutes ? a.minutes < b.minutes : a.replica_hours < b.replica_hours;
      });
    }
    return move;
  }
  if (!may_go_cheaper) {
    move.words = "kept: the last cheaper move was less than a day ago";
    return move;
  }
  const double floor = now.replica_hours * (1 - cheaper_step);
  std::vector<Pair> within, beyond;
  for (const auto& p : pairs) {
    if (p.minutes > limit || !(p.replica_hours < now.replica_hours - 1e-9)) continue;
    (p.replica_hours >= floor ? within : beyond).push_back(p);
  }
  // The cheapest a notch away, else the nearest cheaper one.
  std::sort(within.begin(), within.end(), by_cost);
  std::sort(beyond.begin(), beyond.end(),
            [](const Pair& a, const Pair& b) { return a.replica_hours > b.replica_hours; });
  move.candidates = std::move(within);
  move.candidates.insert(move.candidates.end(), beyond.begin(), beyond.end());
  if (move.candidates.empty()) {
    move.words = "kept: no cheaper swept setting met the tuned SLO here";
    return move;
  }
  move.words = "one notch cheaper than " + now_words;
  move.cheaper = true;
  return move;
}

// The median of the finite values (NaN: none).
double median_of(std::vector<double> values) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// The quiet hours of a recorded history: the hours of the week whose
// median level (load or median forecast, the larger) is below the median of
// those medians, and the steps that fall in them.
struct QuietHours {
  std::vector<bool> hours;  ///< 168, hour_of_week
  double below = 0;         ///< the median hour's level
  std::vector<bool> steps;  ///< per recorded step
};

QuietHours quiet_hours_of(const autoscaler::SloHistory& history,
                          const std::vector<std::size_t>& hour_at) {
  const std::size_t n = history.demand.size();
  std::vector<std::vector<double>> by_hour(168);
  for (std::size_t i = 0; i < n; ++i) {
    if (!history.decided[i]) continue;
    const auto& window = history.windows[i];
    by_hour[hour_at[i]].push_back(autoscaler::decision_level(
        history.observed[i], window.size() == 0 ? nullptr : &window, window.size()));
  }
  std::vector<double> levels(168);
  for (std::size_t h = 0; h < 168; ++h) levels[h] = median_of(by_hour[h]);
  QuietHours out;
  out.below = median_of(levels);
  out.hours.assign(168, false);
  for (std::size_t h = 0; h < 168; ++h)
    out.hours[h] = std::isfinite(levels[h]) && levels[h] < out.below;
  out.steps.assign(n, false);
  for (std::size_t i = 0; i < n; ++i) out.steps[i] = out.hours[hour_at[i]];
  return out;
}

// Simulates pairs of swept settings as they would be served: the busy
// setting on busy steps, the quiet one on quiet steps.
class PairJudge {
 public:
  PairJudge(const SimulationConfig& config, std::span<const double> demand,
            const PredictiveSeries& recorded, const FrontierOptions& options,
            std::span<const FrontierPoint> points)
      : config_(config),
        demand_(demand),
        recorded_(recorded),
        options_(options),
        points_(points),
        served_at_(options.quantiles.size()) {}

  // The pair with its minutes and replica-hours as served (a pair of two
  // settings: the HPA carries replicas across each change of setting; one
  // setting is exact already).
  Expected<Pair> exact(Pair pair) {
    if (pair.busy == pair.quiet) return pair;
    auto point = simulate_served(config_, demand_, served_of(pair), options_, "predictive");
    if (!point) return point.error();
    pair.minutes = point->violation_minutes;
    pair.replica_hours = point->replica_hours;
    return pair;
  }

 private:
  std::vector<double> served_of(const Pair& pair) {
    const auto& busy = served_at(points_[pair.busy].quantile);
    const auto& quiet = served_at(points_[pair.quiet].quantile);
    const double busy_fraction = points_[pair.busy].target_fraction;
    const double quiet_fraction = points_[pair.quiet].target_fraction;
    std::vector<double> served(demand_.size(), std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < served.size(); ++i)
      served[i] = options_.quiet_steps[i] ? quiet[i] / quiet_fraction : busy[i] / busy_fraction;
    return served;
  }

  // The recorded decisions served at swept quantile `quantile`, on first use.
  const std::vector<double>& served_at(double quantile) {
    const auto k =
        static_cast<std::size_t>(std::find_if(options_.quantiles.begin(), options_.quantiles.end(),
                                              [&](double q) { return same(q, quantile); }) -
                                 options_.quantiles.begin());
    if (served_at_[k].empty()) served_at_[k] = served_at_quantile(recorded_, options_.quantiles[k]);
    return served_at_[k];
  }

  const SimulationConfig& config_;
  std::span<const double> demand_;
  const PredictiveSeries& recorded_;
  const FrontierOptions& options_;
  std::span<const FrontierPoint> points_;
  std::vector<std::vector<double>> served_at_;  ///< per swept quantile, on first use
};

// The pair to serve next: the move's first candidate that still meets the
// tuned SLO when simulated as served (a few at most: each is a simulation
// of the history); when none does and the pair in force missed, the
// safest single setting. Sets move.cheaper/meets_slo to what happened.
Expected<Pair> choose_pair(PairJudge& judge, Move& move, const Pair& now,
                           std::span<const FrontierPoint> points, double limit) {
  constexpr std::size_t kExactChecks = 6;
  for (std::size_t c = 0; c < move.candidates.size() && c < kExactChecks; ++c) {
    auto checked = judge.exact(move.candidates[c]);
    if (!checked) return checked.error();
    if (checked->minutes <= limit || !move.meets_slo) return *checked;
  }
  if (now.minutes > limit) {
    const auto safest = choose_setting(points, "predictive", limit);
    move.meets_slo = safest->meets_slo;
    return pair_of(points, safest->point, safest->point);
  }
  if (move.cheaper) move.words = "kept: no cheaper pair met the tuned SLO when simulated here";
  move.cheaper = false;
  return now;
}

// A tuning's two margins: its own, and the reactive HPA's it compares with.
struct LearntMargins {
  LearntMargin predictive, reactive;
};

// Minutes with a known load per 24 h block of the history (as the swept
// points' daily_* count them).
std::vector<double> known_minutes_by_day(const autoscaler::SloHistory& history) {
  const std::size_t per_day = steps_per_day(history.step_seconds);
  std::vector<double> out((history.demand.size() + per_day - 1) / per_day, 0.0);
  for (std::size_t i = 0; i < history.demand.size(); ++i)
    if (std::isfinite(history.demand[i]))
      out[i / per_day] += static_cast<double>(history.step_seconds) / 60;
  return out;
}

// The record's words for a tuned setting: the SLO, the setting (and the
// quiet hours' one), what it did on the recorded history, the move, and what
// a reactive HPA needed there.
std::string summary_of(const config::TargetConfig& target, const autoscaler::SloHistory& history,
                       const autoscaler::SloSetting& out, const FrontierPoint& busy,
                       const FrontierPoint& quiet, const QuietHours& quiet_hours,
                       const Pair& chosen, const TuneResult& tuned, const Move& move,
                       const LearntMargins& margins) {
  const LearntMargin& margin = margins.predictive;
  const double days = static_cast<double>(history.recorded_seconds()) / kDaySeconds;
  const double reactive_percent = target.slo->reactive_target_percent;
  const std::string risk_words = describe_risk(out.risk, out.risk_events);
  const std::string quiet_words =
      chosen.busy == chosen.quiet
          ? std::string()
          : fmt::format(
                "; in its {} quiet hours of the week ({} time, median load below {:.4g}) "
                "quantile {:g}, headroom x{:.3g} (HPA target {:g}% of capacity)",
                std::count(quiet_hours.hours.begin(), quiet_hours.hours.end(), true),
                target.timezone, quiet_hours.below, out.quiet_quantile, out.quiet_headroom,
                percent_of(quiet.target_fraction));
  std::string summary = fmt::format(
      "SLO {:g}% of minutes short (margin {:g}%{}): quantile {:g}, headroom x{:.3g} (HPA target "
      "{:g}% of capacity{}){}{} {} on the last {:.1f} days: {:.0f} minutes short (SLO {:.0f}, "
      "tuned for {:.0f}), {:.0f} replica-hours; {}",
      target.slo->max_short_percent, std::round(margin.margin * 1000) / 10,
      margin.held_out_days == 0
          ? std::string()
          : fmt::format(", checked on {} held-out days: settings chosen so on the days before each "
                        "were {:.0f} minutes short on them, {:.0f} allowed; configured {:g}%",
                        margin.held_out_days, margin.held_out_minutes, margin.held_out_slo_minutes,
                        target.slo->margin_percent),
      out.quantile, out.headroom, percent_of(busy.target_fraction),
      reactive_percent == 100
          ? std::string()
          : fmt::format(", its observed-load metric at {:g}%", reactive_percent),
      quiet_words,
      risk_words.empty()
          ? std::string()
          : "; the forecast raised where it fell furthest below the load: " + risk_words,
      out.meets_slo ? "met it" : "was the safest setting swept and missed it", days, chosen.minutes,
      tuned.slo_minutes, tuned.tuning_slo_minutes, chosen.replica_hours, move.words);
  if (tuned.reactive) {
    const auto& reactive = tuned.at(*tuned.reactive);
    summary += fmt::format(
        "; a reactive HPA tuned the same way (margin {:g}%) {} at target {:.0f}% with {:.0f} "
        "replica-hours",
        std::round(margins.reactive.margin * 1000) / 10,
        tuned.reactive->meets_slo ? "met it" : "came closest", reactive.target_fraction * 100,
        reactive.replica_hours);
  }
  return summary;
}

// The summary's figures as numbers, for /status and /metrics.
SloFigures figures_of(const autoscaler::SloHistory& history, const Pair& chosen,
                      const TuneResult& tuned, bool meets_slo) {
  SloFigures out;
  out.days = static_cast<double>(history.recorded_seconds()) / kDaySeconds;
  out.allowed_minutes = tuned.slo_minutes;
  out.tuned_for_minutes = tuned.tuning_slo_minutes;
  out.meets_slo = meets_slo;
  out.short_minutes = chosen.minutes;
  out.replica_hours = chosen.replica_hours;
  if (tuned.reactive) {
    const auto& reactive = tuned.at(*tuned.reactive);
    out.reactive_swept = true;
    out.reactive_meets_slo = tuned.reactive->meets_slo;
    out.reactive_short_minutes = reactive.violation_minutes;
    out.reactive_replica_hours = reactive.replica_hours;
  }
  return out;
}

}  // namespace

std::int64_t startup_for_lead(const config::TargetConfig& target) {
  return std::max<std::int64_t>(
      0, target.lead_time_seconds - kHpaSyncPeriodSeconds - target.step_seconds);
}

namespace {

// The HPA the tuning simulates: the target's pods on the history's grid.
SimulationConfig tuning_config(const config::TargetConfig& target,
                               const autoscaler::SloHistory& history) {
  SimulationConfig config;
  config.start_unix = history.start_unix;
  config.step_seconds = history.step_seconds;
  config.capacity_per_replica = *target.capacity_per_replica;
  config.startup_seconds = startup_for_lead(target);
  config.min_replicas = static_cast<std::int32_t>(target.min_replicas);
  config.max_replicas = static_cast<std::int32_t>(target.max_replicas);
  return config;
}

// What the decisions read, as a replay would have recorded it: steps
// without a decision serve nothing (NaN), as in the replay.
PredictiveSeries recorded_series(const config::TargetConfig& target,
                                 const autoscaler::SloHistory& history) {
  const std::size_t n = history.demand.size();
  PredictiveSeries recorded;
  recorded.start_unix = history.start_unix;
  recorded.quantile = target.quantile;
  recorded.observed = history.observed;
  recorded.windows = history.windows;
  recorded.served.assign(n, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t i = 0; i < n; ++i)
    if (history.decided[i]) recorded.served[i] = 0;  // any number: "decided"
  return recorded;
}

// The settings the daemon's tuning sweeps: per-pod targets from 100 % to
// 70 % of capacity in steps of 2.5 % (headroom x1 to x1.43), at seven
// quantiles, and below 70 % in steps of 5 % of the target, down to 10 %
// (x10), when none of those meets the SLO less the margin
// (FrontierOptions::sweep_floor): a load whose SLO needs more headroom got
// the safest swept setting and missed its SLO (NAB Twitter_volume_GOOG:
// 165 minutes short for 40).
// `prescale tune`'s 5 % steps are a recommendation a user rounds anyway;
// the tuning applies its choice as it is, and near the SLO one 5 % step is
// 6-7 % of the replica-hours, so the cheapest setting within the SLO on the
// recorded decisions was often most of a step safer than it needed to be.
constexpr std::array kTunedTargets = {1.0,   0.975, 0.95,  0.925, 0.9,   0.875, 0.85,
                                      0.825, 0.8,   0.775, 0.75,  0.725, 0.7};
constexpr std::array kTunedQuantiles = {0.5, 0.6, 0.75, 0.85, 0.9, 0.95, 0.99};

// The sweep of a tuning for `target.slo`.
FrontierOptions tuning_options(const config::TargetConfig& target) {
  FrontierOptions options;
  options.slo_short_fraction = target.slo->max_short_percent / 100;
  options.tuning_margin = target.slo->margin_percent / 100;
  // Headroom as the daemon serves it: on the forecast, not on the observed
  // metric the HPA also reads (a fixed lower per-pod target would give both).
  options.headroom_in_served = true;
  options.observed_target = target.slo->reactive_target_percent / 100;
  options.predictive_targets.assign(kTunedTargets.begin(), kTunedTargets.end());
  options.quantiles.assign(kTunedQuantiles.begin(), kTunedQuantiles.end());
  // Only the reactive HPA the record compares with: the tuning reads no
  // oracle point, and its pairs, margin check and moves choose among the
  // swept settings (settings added around one refit's cheapest would make
  // each refit's choice from a different list).
  options.refine_reactive_only = true;
  // The reactive HPA is tuned on its own held-out days: its crossing is
  // refined at every margin that it may learn.
  options.refine_margin_step = kMarginStep;
  return options;
}

// The pair in force as the records name it.
std::string describe_pair(std::span<const FrontierPoint> points, const Pair& pair) {
  if (pair.busy == pair.quiet) return describe(points[pair.busy]);
  return fmt::format("{} (quiet hours {}; {:.0f} minutes short in all)",
                     describe(points[pair.busy]), describe(points[pair.quiet]), pair.minutes);
}

// The margins from the target's own held-out days (learn_margin): the
// predictive settings' sets `tuned`'s tuning SLO; the reactive HPA the
// records compare with is tuned the same way on the reactive targets' own
// held-out days, so that it does not depend on the forecast.
LearntMargins tune_for_learnt_margin(TuneResult& tuned, const autoscaler::SloHistory& history,
                                     const FrontierOptions& options) {
  const auto& points = tuned.frontier.points;
  const auto day_minutes = known_minutes_by_day(history);
  LearntMargins out{
      learn_margin(points, day_minutes, options.slo_short_fraction, options.tuning_margin,
                   kSplitAfterSeconds / kDaySeconds, "predictive", kCheaperStep),
      learn_margin(points, day_minutes, options.slo_short_fraction, options.tuning_margin,
                   day_minutes.size(), "reactive", std::nullopt)};
  tuned.tuning_slo_minutes = tuned.slo_minutes * (1 - out.predictive.margin);
  tuned.reactive =
      choose_setting(points, "reactive", tuned.slo_minutes * (1 - out.reactive.margin));
  return out;
}

// Why `target` cannot be tuned on `history`, if it cannot.
Status check_tunable(const config::TargetConfig& target, const autoscaler::SloHistory& history) {
  if (!target.slo) return make_error("the target declares no slo");
  if (!target.capacity_per_replica)
    return make_error("slo needs capacityPerReplica (minutes short are counted against it)");
  const std::size_t n = history.demand.size();
  if (n == 0 || history.observed.size() != n || history.windows.size() != n ||
      history.decided.size() != n)
    return make_error("no recorded decisions to tune on");
  return {};
}

}  // namespace

Expected<autoscaler::SloSetting> tune_target_for_slo(
    const config::TargetConfig& target, const autoscaler::SloHistory& history,
    const std::optional<autoscaler::SloSetting>& in_force) {
  if (auto tunable = check_tunable(target, history); !tunable) return tunable.error();
  const std::size_t n = history.demand.size();
  const SimulationConfig config = tuning_config(target, history);
  PredictiveSeries recorded = recorded_series(target, history);

  FrontierOptions options = tuning_options(target);
  // Quiet hours on the target's wall clock: its rhythm follows local time.
  const auto zone = calendar::TimeZone::find(target.timezone);
  if (!zone) return make_error("timezone " + target.timezone + ": " + zone.error().message);
  const std::vector<std::size_t> hour_at = hours_of_week(history, *zone);
  const QuietHours quiet_hours = quiet_hours_of(history, hour_at);
  options.quiet_steps = quiet_hours.steps;
  // With two weeks recorded, the hours whose forecasts fell furthest below
  // the load get their forecast raised (the risk learnt on every recorded
  // day; with calendars, an event's misses raise its hours only), and every
  // setting is swept on top, judged cross-fitted.
  const bool split = history.recorded_seconds() >= kSplitAfterSeconds;
  const RiskDays days = split ? risk_days(history, *zone, hour_at) : RiskDays{};
  const std::vector<double> risk =
      split ? raise_by_risk(history, days, recorded.windows) : std::vector<double>{};
  // The settings in force are swept too, so that the move is judged from them.
  const double current_quantile = in_force ? in_force->quantile : target.quantile;
  const double current_fraction = in_force ? 1 / in_force->headroom : 1.0;
  const bool split_now = in_force && !in_force->quiet_hours.empty();
  const double current_quiet_quantile = split_now ? in_force->quiet_quantile : current_quantile;
  const double current_quiet_fraction = split_now ? 1 / in_force->quiet_headroom : current_fraction;
  for (double q : {current_quantile, current_quiet_quantile}) sweep_also(options.quantiles, q);
  for (double f : {current_fraction, current_quiet_fraction})
    sweep_also(options.also_predictive_targets, f);
  auto tuned = tune_for_slo(config, history.demand, &recorded, options);
  if (!tuned) return tuned.error();
  if (!tuned->predictive) return make_error("no predictive setting was swept");
  const auto& points = tuned->frontier.points;
  const std::int64_t history_end =
      history.start_unix + static_cast<std::int64_t>(n) * history.step_seconds;
  const std::int64_t cheaper_at = in_force ? in_force->cheaper_at_unix : 0;
  const auto current = find_setting(points, current_fraction, current_quantile);
  const auto current_quiet = find_setting(points, current_quiet_fraction, current_quiet_quantile);
  if (!current || !current_quiet) return make_error("the setting in force was not swept");

  PairJudge judge(config, history.demand, recorded, options, points);
  auto now = judge.exact(pair_of(points, *current, *current_quiet));
  if (!now) return now.error();
  const LearntMargins margins = tune_for_learnt_margin(*tuned, history, options);
  const double limit = tuned->tuning_slo_minutes;
  Move move = move_from(all_pairs(points, split), *now, limit,
                        cheaper_at == 0 || history_end - cheaper_at >= kDaySeconds,
                        split ? kCheaperStep : 0.0, describe_pair(points, *now));
  auto picked = choose_pair(judge, move, *now, points, limit);
  if (!picked) return picked.error();
  const Pair chosen = *picked;
  const auto& busy = points[chosen.busy];
  const auto& quiet = points[chosen.quiet];

  autoscaler::SloSetting out;
  out.quantile = busy.quantile;
  out.headroom = 1 / busy.target_fraction;
  if (chosen.busy != chosen.quiet) {
    out.quiet_hours = quiet_hours.hours;
    out.quiet_quantile = quiet.quantile;
    out.quiet_headroom = 1 / quiet.target_fraction;
  }
  out.risk = risk;
  if (!risk.empty()) out.risk_events = days.events;
  if (tuned->reactive) out.reactive_hpa_target = tuned->at(*tuned->reactive).target_fraction;
  out.meets_slo = chosen.minutes <= limit;
  out.cheaper_at_unix = move.cheaper ? history_end : cheaper_at;
  out.margin = margins.predictive.margin;
  out.summary =
      summary_of(target, history, out, busy, quiet, quiet_hours, chosen, *tuned, move, margins);
  out.figures = figures_of(history, chosen, *tuned, out.meets_slo);
  add_served_figures(out, config, history, options);
  return out;
}

}  // namespace prescale::simulate
