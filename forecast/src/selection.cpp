#include "prescale/forecast/selection.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

#include "event_blend.hpp"
#include "prescale/forecast/arima.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/combination.hpp"
#include "prescale/forecast/event_choice.hpp"
#include "prescale/forecast/event_effects.hpp"
#include "prescale/forecast/found_period.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/interval_calibration.hpp"
#include "prescale/forecast/log_transform.hpp"
#include "prescale/forecast/outliers.hpp"
#include "prescale/forecast/seasonal_naive.hpp"
#include "prescale/forecast/theta.hpp"

namespace prescale::forecast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Models = std::vector<std::unique_ptr<Model>>;

bool is_log(const Model& model) {
  return dynamic_cast<const LogTransformed*>(&model) != nullptr;
}

bool is_calendar(const Model& model) {
  return dynamic_cast<const CalendarRegression*>(&model) != nullptr;
}

// A shortest-season-only variant is the full model again without a second season.
bool redundant_for(const Model& model, const SeasonLayout* layout) {
  const Model* inner = &model;
  if (const auto* calendar = dynamic_cast<const CalendarRegression*>(inner))
    inner = &calendar->base();
  if (const auto* logged = dynamic_cast<const LogTransformed*>(inner)) inner = &logged->base();
  const std::size_t periods = layout != nullptr ? layout->periods() : 0;
  if (const auto* naive = dynamic_cast<const SeasonalNaive*>(inner))
    return naive->max_periods() != SeasonalNaive::kAllPeriods && periods <= naive->max_periods();
  const auto* hw = dynamic_cast<const HoltWinters*>(inner);
  return hw != nullptr && hw->spec().max_periods < 3 && periods <= hw->spec().max_periods;
}

std::string format_number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", x);
  return buffer;
}

bool is_seasonal_naive(const std::string& recipe_name) {
  return recipe_name == "seasonal-naive";
}

bool has_non_positive(std::span<const double> y) {
  return std::any_of(y.begin(), y.end(), [](double v) { return !std::isnan(v) && v <= 0; });
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ---- The phases of select_and_fit, in the order it runs them.

constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

/// The recipes to backtest, in the order the report lists them.
struct Candidates {
  Models recipes;
  std::size_t naive = 0;  ///< seasonal naive, the yardstick (always backtested)
  /// May be chosen as the best single model: every recipe in auto mode but
  /// the yardstick; in a forced mode the caller's recipes (the yardstick
  /// too when the caller asked for it).
  std::vector<bool> contends;
  /// Used when no candidate can be scored: seasonal naive in auto mode,
  /// else the caller's first recipe.
  std::size_t fallback = 0;

  [[nodiscard]] std::vector<const Model*> tested() const {
    std::vector<const Model*> out;
    for (const auto& recipe : recipes) out.push_back(recipe.get());
    return out;
  }
};

/// The chosen entry of the backtest report (recipes and report.models are
/// parallel) and its backtest MASE.
struct Choice {
  std::size_t index = kNone;
  double score = kNaN;  ///< relative_score of the chosen entry
  double mase = kNaN;
  double naive_score = kNaN;
  double naive_mase = kNaN;
};

// One-off incidents replaced before any model sees the history (outliers.hpp).
// Not when the history repeats with another cycle than its declared seasons
// (found): their slot baselines would call the pattern itself an incident.
FitInput without_outliers(const FitInput& original, const SelectionOptions& options,
                          std::optional<std::uint32_t> found, std::vector<double>& cleaned,
                          std::vector<std::string>& notes) {
  FitInput input = original;
  if (!options.replace_outliers) return input;
  if (found) {
    notes.push_back("outliers: not checked (the recent history repeats every " +
                    std::to_string(*found) + " steps, not with its declared seasons)");
    return input;
  }
  OutlierReport outliers = replace_outliers(original);
  if (outliers.points > 0) {
    cleaned = std::move(outliers.cleaned);
    input.y = cleaned;
  }
  if (!outliers.summary.empty()) notes.push_back(outliers.summary);
  return input;
}

template <class Predicate>
void erase_if(Models& models, Predicate&& predicate) {
  models.erase(std::remove_if(models.begin(), models.end(),
                              [&](const std::unique_ptr<Model>& m) { return predicate(*m); }),
               models.end());
}

bool is_multiplicative(const Model& model) {
  const auto* hw = dynamic_cast<const HoltWinters*>(&model);
  return hw != nullptr && hw->spec().seasonality == Seasonality::multiplicative;
}

// Prune: recipes that cannot differ from another one on this input leave
// (calendar variants without regressors, shortest-season variants without a
// second season, multiplicative seasons on data with zeros); seasonal naive
// joins as the yardstick when absent (first).
Candidates prune(Models models, const FitInput& input, bool automatic,
                 std::vector<std::string>& notes) {
  const bool has_regressors = input.regressors != nullptr && input.regressors->cols() > 0;
  if (!has_regressors && models.size() > 1)
    erase_if(models, [](const Model& m) { return is_calendar(m) || is_event_profile(m); });
  Candidates candidates;
  if (models.empty()) return candidates;
  if (models.size() > 1)
    erase_if(models, [&](const Model& m) { return redundant_for(m, input.layout); });
  if (models.size() > 1 && has_non_positive(input.y)) {
    const auto before = models.size();
    erase_if(models, [](const Model& m) { return is_multiplicative(m) || is_log(m); });
    if (models.size() != before)
      notes.push_back(
          "multiplicative seasonality and log transforms not tried: the history has zeros or "
          "negatives");
  }
  std::size_t naive = models.size();
  for (std::size_t i = 0; i < models.size(); ++i)
    if (is_seasonal_naive(models[i]->name())) naive = i;
  const bool yardstick_added = naive == models.size();
  if (yardstick_added) {
    models.insert(models.begin(), std::make_unique<SeasonalNaive>());
    naive = 0;
  }
  candidates.recipes = std::move(models);
  candidates.naive = naive;
  candidates.contends.assign(candidates.recipes.size(), true);
  if (automatic || yardstick_added) candidates.contends[naive] = false;
  candidates.fallback = automatic ? naive : (yardstick_added ? 1 : 0);
  return candidates;
}

// Auto: when the recent history repeats with another cycle than its
// shortest declared season (found_period.hpp), the simple models of that
// cycle compete too.
std::optional<std::uint32_t> found_period(const FitInput& input, bool automatic) {
  if (!automatic || input.layout == nullptr || input.layout->periods() == 0) return std::nullopt;
  return recent_period(input.y, input.layout->slots[0]);
}

void add_found_period(Candidates& candidates, std::optional<std::uint32_t> period,
                      std::uint32_t declared, std::vector<std::string>& notes) {
  if (!period) return;
  Models found;
  found.push_back(std::make_unique<FoundPeriod>(std::make_shared<SeasonalNaive>()));
  for (Trend trend : {Trend::none, Trend::damped}) {
    found.push_back(std::make_unique<FoundPeriod>(
        std::make_shared<HoltWinters>(HoltWintersSpec{trend, Seasonality::additive, 1})));
  }
  for (auto& model : found) {
    candidates.recipes.push_back(std::move(model));
    candidates.contends.push_back(true);
  }
  notes.push_back("the recent history repeats every " + std::to_string(*period) +
                  " steps rather than " + std::to_string(declared) +
                  ": seasonal naive and Holt-Winters on that cycle tried too");
}

BacktestOptions backtest_options_for(const SelectionOptions& options) {
  BacktestOptions backtest_options;
  backtest_options.horizon = std::max<std::size_t>(1, options.horizon);
  backtest_options.origins = options.origins;
  backtest_options.event_origins = options.event_origins;
  backtest_options.threads = options.threads;
  backtest_options.cancel = options.cancel;
  backtest_options.quantile = options.quantile;
  if (options.calibrate && options.origins > 0) {
    // Enough lead steps that the origins' errors fill one calibration pool.
    const CalibrationOptions calibration;
    backtest_options.error_horizon = (calibration.pool + options.origins - 1) / options.origins;
  }
  return backtest_options;
}

// The decision loss of one backtest (decision_loss.hpp): its rolling
// origins' windows, the event origins' blended in by event_weight as MASE's
// are, each origin's forecast calibrated as the fitted model's would be
// (calibrate() below, at the selection's quantile).
double served_decision_loss(const ModelBacktest& model, const BacktestReport& report,
                            std::span<const double> y, const BacktestOptions& backtest_options,
                            const SelectionOptions& options) {
  if (!options.served || model.status != FitStatus::ok) return kNaN;
  IntervalCalibration calibration;
  if (options.calibrate) {
    CalibrationOptions calibration_options;
    calibration_options.quantile = options.quantile;
    calibration = calibrate_intervals(
        model.errors, std::max(backtest_options.horizon, backtest_options.error_horizon),
        calibration_options);
  }
  // The windows the backtest horizon holds: the lead steps the caller serves
  // (the daemon's horizon is its window), not the longer ones calibration reads.
  auto served_steps = [&](const std::vector<BacktestError>& errors) {
    std::vector<BacktestError> kept;
    for (const BacktestError& e : errors)
      if (e.step < backtest_options.horizon) kept.push_back(e);
    return kept;
  };
  const double rolling =
      decision_loss(served_steps(model.errors), y, *options.served, calibration, report.origins);
  if (report.event_origins.empty()) return rolling;
  const double event = decision_loss(served_steps(model.event_errors), y, *options.served,
                                     calibration, report.event_origins);
  return blend_event_score(rolling, event, backtest_options.event_weight);
}

// Every backtest's decision loss, when the caller declared a served window.
void score_decisions(BacktestReport& report, std::span<const double> y,
                     const BacktestOptions& backtest_options, const SelectionOptions& options) {
  if (!options.served) return;
  for (ModelBacktest& model : report.models)
    model.decision_loss = served_decision_loss(model, report, y, backtest_options, options);
}

// Decision losses can be compared: seasonal naive has one (finite, > 0) only
// when the caller declared a served window and it could be measured.
bool has_decision(const ModelBacktest& naive) {
  return std::isfinite(naive.decision_loss) && naive.decision_loss > 0;
}

void add_score(const ModelBacktest& r, const ModelBacktest& naive, Selection& selection) {
  selection.scores.push_back({r.model, r.mase, r.smape, r.coverage, r.fit_seconds_mean,
                              has_decision(naive) ? r.decision_loss / naive.decision_loss : kNaN});
}

// A backtest's score, lower is better: its MASE and its sMAPE, each over
// seasonal naive's, averaged (the M4 competition's OWA). MASE weighs the
// errors in the series' own units, which the busy hours dominate; sMAPE
// weighs them relative to the load, so a forecast of 2 for a quiet hour of
// 10 counts as the miss it is. Seasonal naive scores 1. MASE alone when
// seasonal naive has no sMAPE; the raw MASE when it has no MASE either.
// `by_decision` (SelectionOptions::rank_by_decision): its decision loss over
// seasonal naive's instead (decision_loss.hpp), when measured.
double relative_score(const ModelBacktest& model, const ModelBacktest& naive, bool by_decision) {
  if (by_decision && has_decision(naive)) return model.decision_loss / naive.decision_loss;
  if (!(std::isfinite(naive.mase) && naive.mase > 0)) return model.mase;
  if (!(std::isfinite(naive.smape) && naive.smape > 0 && std::isfinite(model.smape)))
    return model.mase / naive.mase;
  return 0.5 * (model.mase / naive.mase + model.smape / naive.smape);
}

// Rank: every backtest becomes a row of scores; the best contender by
// relative_score (the first of equals) is the choice so far.
Choice rank(const BacktestReport& report, const Candidates& candidates, bool by_decision,
            Selection& selection) {
  Choice choice;
  const ModelBacktest& naive = report.models[candidates.naive];
  for (std::size_t i = 0; i < candidates.recipes.size(); ++i) {
    const ModelBacktest& r = report.models[i];
    add_score(r, naive, selection);
    if (r.status != FitStatus::ok && !report.origins.empty())
      selection.notes.push_back(r.model + " failed in the backtest: " + r.message);
  }
  choice.naive_mase = naive.mase;
  choice.naive_score = relative_score(naive, naive, by_decision);
  selection.seasonal_naive_mase = choice.naive_mase;
  for (std::size_t i = 0; i < candidates.recipes.size(); ++i) {
    const double score = relative_score(report.models[i], naive, by_decision);
    if (!candidates.contends[i] || std::isnan(score)) continue;
    if (std::isnan(choice.score) || score < choice.score) {
      choice.index = i;
      choice.score = score;
      choice.mase = report.models[i].mase;
    }
  }
  return choice;
}

// Candidates whose score is within this share of the best one's join the
// median, at most kMaxMembers of them (the best first).
constexpr double kBand = 0.10;
constexpr std::size_t kMaxMembers = 12;

// The band: every backtested entry (seasonal naive included) scoring within
// kBand of the best, one per fitted name (two recipes that backtested as
// the same model are one forecast), best first. When the backtest had
// origins before past calendar events, a member must also be within kBand
// of the best MASE on those: the rolling origins seldom hold an event, so
// on them a model blind to the calendar looks as good as one that knows
// it, and a median with a majority of such members would forecast the
// next payroll surge as an ordinary day.
std::vector<std::size_t> band_members(const BacktestReport& report, std::size_t naive,
                                      bool by_decision) {
  std::vector<std::pair<double, std::size_t>> scored;
  double best_event = kNaN;
  for (std::size_t i = 0; i < report.models.size(); ++i) {
    const ModelBacktest& model = report.models[i];
    const double score = relative_score(model, report.models[naive], by_decision);
    if (model.status != FitStatus::ok || !std::isfinite(score)) continue;
    scored.emplace_back(score, i);
    if (std::isfinite(model.event_mase) && !(model.event_mase >= best_event))
      best_event = model.event_mase;
  }
  std::stable_sort(scored.begin(), scored.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const bool events = !report.event_origins.empty() && std::isfinite(best_event);
  std::vector<std::size_t> members;
  for (const auto& [score, i] : scored) {
    if (score > scored.front().first * (1 + kBand) || members.size() == kMaxMembers) break;
    const ModelBacktest& model = report.models[i];
    if (events && !(model.event_mase <= best_event * (1 + kBand))) continue;
    const bool seen = std::any_of(members.begin(), members.end(), [&](std::size_t m) {
      return report.models[m].model == model.model;
    });
    if (!seen) members.push_back(i);
  }
  return members;
}

// Combine (auto): the median of the band (combination.hpp), scored from
// its members' backtest errors, joins the report; it is chosen when it
// beats seasonal naive's score (a median of near-equal candidates
// forecasts better than the one the backtest happened to rank first more
// often than not, M4; and it ignores a member that goes astray).
void combine(BacktestReport& report, Candidates& candidates, std::span<const double> y,
             const BacktestOptions& backtest_options, const SelectionOptions& options,
             Choice& choice, Selection& selection) {
  const std::vector<std::size_t> members =
      band_members(report, candidates.naive, options.rank_by_decision);
  if (members.size() < 2) return;
  ModelBacktest backtest =
      combine_backtests(report, members, y, backtest_options, Aggregate::median);
  backtest.decision_loss = served_decision_loss(backtest, report, y, backtest_options, options);
  std::vector<const Model*> recipes;
  std::vector<std::map<std::string, double>> hints;
  for (std::size_t i : members) {
    recipes.push_back(candidates.recipes[i].get());
    hints.push_back(report.models[i].origin_parameters);
  }
  const double score =
      relative_score(backtest, report.models[candidates.naive], options.rank_by_decision);
  add_score(backtest, report.models[candidates.naive], selection);
  candidates.recipes.push_back(
      std::make_unique<CombinedModel>(std::move(recipes), std::move(hints), Aggregate::median));
  candidates.contends.push_back(true);
  report.models.push_back(std::move(backtest));
  if (!(score < choice.naive_score)) return;
  const std::size_t single = choice.index;
  selection.notes.push_back(
      "auto: the median of the " + std::to_string(members.size()) + " candidates within " +
      format_number(100 * kBand) + " % of the best backtest score" +
      (report.event_origins.empty() ? "" : " (and of the best on past calendar events)") +
      ", score " + format_number(score) + " (the best single, " + report.models[single].model +
      ", " + format_number(choice.score) + "; seasonal naive " + format_number(choice.naive_score) +
      ")");
  choice.index = report.models.size() - 1;
  choice.score = score;
  choice.mase = report.models[choice.index].mase;
}

// "decision loss at q0.9 of the 2-step lead window's peak": what a
// decision-loss score measures, in the reason's words.
std::string decision_words(const ServedWindow& served) {
  return "decision loss at q" + format_number(served.quantile) + " of the " +
         std::to_string(served.steps) + "-step lead window's peak";
}

// Decide: the reason, and the fallbacks when nothing could be scored or (in
// auto mode) nothing beat seasonal naive.
void decide(const BacktestReport& report, const Candidates& candidates, std::size_t samples,
            const BacktestOptions& backtest_options, const SelectionOptions& options,
            bool automatic, Choice& choice, Selection& selection) {
  const std::size_t origins = selection.origins;
  // The decision loss is reported whenever measured, ranks only when asked.
  const bool decision = has_decision(report.models[candidates.naive]);
  const bool ranked = decision && options.rank_by_decision;
  std::string over = " over " + std::to_string(origins) + " origin" + (origins == 1 ? "" : "s");
  if (!report.event_origins.empty())
    over += " (" + std::to_string(report.event_origins.size()) + " before past calendar events)";
  if (report.origins.empty()) {
    selection.reason = "history of " + std::to_string(samples) +
                       " samples is too short for a backtest of " +
                       std::to_string(backtest_options.horizon) + " steps";
    if (automatic) selection.reason += "; seasonal naive used";
    choice.index = candidates.fallback;
    choice.mase = kNaN;
  } else if (choice.index == kNone) {
    selection.reason = automatic
                           ? "no other model gave a finite backtest score; seasonal naive used"
                           : "no finite backtest MASE (constant or gappy history?)";
    choice.index = candidates.fallback;
    choice.mase = automatic ? choice.naive_mase : kNaN;
  } else if (automatic && !(choice.score < choice.naive_score)) {
    selection.reason = "no model beat seasonal naive (backtest MASE " +
                       format_number(choice.naive_mase) + "; best other " +
                       report.models[choice.index].model + ", " +
                       (ranked ? decision_words(*options.served) : std::string("score")) + " " +
                       format_number(choice.score) + " of seasonal naive's 1" + over + ")";
    choice.index = candidates.naive;
    choice.mase = choice.naive_mase;
  } else {
    const ModelBacktest& chosen = report.models[choice.index];
    const ModelBacktest& naive = report.models[candidates.naive];
    selection.reason = "backtest MASE " + format_number(choice.mase) + ", sMAPE " +
                       format_number(chosen.smape) + " % vs seasonal naive " +
                       format_number(choice.naive_mase) + ", " + format_number(naive.smape) + " %" +
                       over;
  }
  if (decision && choice.index != kNone && choice.index != candidates.naive) {
    const double ratio =
        report.models[choice.index].decision_loss / report.models[candidates.naive].decision_loss;
    if (std::isfinite(ratio)) {
      selection.selected_decision = ratio;
      selection.reason += std::string(ranked ? "; ranked by " : "; ") +
                          decision_words(*options.served) + " " + format_number(ratio) +
                          " of seasonal naive's";
    }
  }
  if (!report.origins.empty() && !std::isnan(choice.mase)) selection.selected_mase = choice.mase;
  if (report.event_origins.empty()) return;
  const ModelBacktest& chosen = report.models[choice.index];
  selection.notes.push_back(
      "backtest: " + std::to_string(report.event_origins.size()) + " of " +
      std::to_string(origins) +
      " origins placed before past calendar events, their mean MASE weighted " +
      format_number(backtest_options.event_weight) + " (" + chosen.model + " " +
      format_number(chosen.event_mase) + ", seasonal naive " +
      format_number(report.models[candidates.naive].event_mase) + " on them)");
}

// With no event origin in the backtest (no occurrence in the history has an
// earlier related one there) but events ahead and older occurrences given
// (FitInput::past_events): the candidates scored at origins before the
// occurrences of the history that those make learnable, for the event
// windows only; the ordinary choice stays ranked without them. Empty when
// there is none: a payroll-end is the first in a 35-day history, but the
// payroll-mid before it is in the event history.
BacktestReport event_history_origins(const FitInput& input, const BacktestReport& report,
                                     const EventWindows& windows, const Candidates& candidates,
                                     const BacktestOptions& backtest_options) {
  const bool ahead = std::any_of(windows.runs.begin(), windows.runs.end(), [&](const EventRun& r) {
    return r.start + r.length > input.y.size();
  });
  if (!report.event_origins.empty() || input.past_events.empty() || !ahead) return {};
  std::vector<std::size_t> origins = event_backtest_origins(input, backtest_options, true);
  if (origins.empty()) return {};
  BacktestReport scored =
      backtest_at_event_origins(input, candidates.tested(), backtest_options, std::move(origins));
  for (std::size_t i = 0; i < scored.models.size() && i < report.models.size(); ++i)
    scored.models[i].model = report.models[i].model;
  return scored;
}

// A dense history too short to hold an occurrence of the events ahead (a
// payroll morning outside ten days) gives no event origin to score them on
// and no model fitted on it has seen them, yet their past occurrences (the
// event history) may say what they do: when no run of a group ahead is over
// within the history and the events model learns every group ahead from at
// least three past occurrences, each predicted from the others better than
// by the ordinary baseline alone, the events model serves the event windows.
// (With one in the history, the calendar regressions have learnt it, and the
// choice stays with the backtest.)
void serve_from_past_occurrences(const FitInput& input, const EventWindows& windows,
                                 const std::set<std::string>& ahead, const Candidates& candidates,
                                 EventWindowChoice& events) {
  const bool seen_in_history =
      std::any_of(windows.runs.begin(), windows.runs.end(), [&](const EventRun& run) {
        return run.start + run.length <= input.y.size() && ahead.count(windows.groups[run.event]);
      });
  if (seen_in_history) return;
  std::size_t model = kNone;
  for (std::size_t i = 0; i < candidates.recipes.size() && model == kNone; ++i)
    if (is_event_profile(*candidates.recipes[i])) model = i;
  if (model == kNone) return;
  const PastOccurrenceSkill skill = past_occurrence_skill(input);
  if (!skill.learnt) return;
  std::string groups;
  for (const std::string& group : ahead) groups += (groups.empty() ? "" : ", ") + group;
  events.index = model;
  events.reason = "event windows: " + candidates.recipes[model]->name() + " (no occurrence of " +
                  groups + " in the history; each of its past occurrences, at least " +
                  std::to_string(skill.fewest) + ", predicted from the others: loss " +
                  format_number(skill.loss_effect) + " vs " + format_number(skill.loss_none) +
                  " for the baseline alone)";
}

// Event windows (auto): served by the candidate with the best skill on the
// event origins when it beats the choice and seasonal naive there
// (event_choice.hpp); the choice keeps the ordinary hours.
void serve_event_windows(const FitInput& input, BacktestReport& report, Candidates& candidates,
                         const BacktestOptions& backtest_options, Choice& choice,
                         Selection& selection) {
  // The events model serves the event windows ahead (rows of the matrix
  // past the history) only once each of their events has been seen twice
  // (older occurrences included): from one occurrence its effect is a guess
  // that two event origins cannot tell from skill. A one-off date elsewhere
  // in the calendars does not count.
  const EventWindows windows = event_windows(input);
  const bool few = events_ahead_seen_fewer_than_twice(input);
  std::vector<bool> eligible(report.models.size(), true);
  for (std::size_t i = 0; i < eligible.size() && i < candidates.recipes.size(); ++i)
    eligible[i] = !(few && is_event_profile(*candidates.recipes[i]));
  const BacktestReport from_history =
      event_history_origins(input, report, windows, candidates, backtest_options);
  const BacktestReport& scored = from_history.event_origins.empty() ? report : from_history;
  EventWindowChoice events =
      choose_event_model(scored, choice.index, candidates.naive, event_names(input), eligible);
  if (&scored == &from_history && !events.reason.empty())
    events.reason += " (origins learnable from the event history only: for the event windows)";
  // The events ahead and their siblings (one shape, event_effects.hpp).
  const std::set<std::string> ahead = groups_ahead(windows, input.y.size());
  if (!ahead.empty() && !is_event_profile(*candidates.recipes[choice.index]))
    serve_from_past_occurrences(input, windows, ahead, candidates, events);
  // Only the events model keeps its windows on that evidence: its effects
  // were scored on every past occurrence (leave-one-out), whereas a median
  // of calendar regressions can dilute a surge and must stay open to a switch.
  if (is_event_profile(*candidates.recipes[choice.index]))
    events =
        confirm_on_events_ahead(events, scored, choice.index, [&windows, &ahead](std::size_t row) {
          return row < windows.event_at.size() && windows.event_at[row] >= 0 &&
                 ahead.count(windows.groups[static_cast<std::size_t>(windows.event_at[row])]) > 0;
        });
  if (!events.reason.empty()) selection.event_choice = events.reason;
  if (events.index == EventWindowChoice::kNone) return;
  ModelBacktest switched = report.models[choice.index];  // its errors calibrate ordinary hours
  switched.event_mase = scored.models[events.index].event_mase;
  switched.event_errors = scored.models[events.index].event_errors;  // and these event rows
  candidates.recipes.push_back(std::make_unique<EventSwitchModel>(
      *candidates.recipes[choice.index], *candidates.recipes[events.index]));
  candidates.contends.push_back(true);
  report.models.push_back(std::move(switched));
  choice.index = report.models.size() - 1;
}

// Refit: the chosen recipe on the whole history, its search started from
// the parameters the backtest fitted at its first origin (same recipe, most
// of the same history); in auto mode seasonal naive when that fit fails.
// Returns the report entry whose backtest errors calibrate the interval
// (kNone when nothing was fitted).
std::size_t refit(const FitInput& input, const BacktestReport& report, const Candidates& candidates,
                  bool automatic, const Choice& choice, Selection& selection) {
  std::size_t fitted_index = choice.index;
  const Model& chosen = *candidates.recipes[fitted_index];
  FitInput whole = input;
  if (!report.models[fitted_index].origin_parameters.empty())
    whole.warm_start = &report.models[fitted_index].origin_parameters;
  auto started = std::chrono::steady_clock::now();
  FitResult fit = chosen.fit(whole);
  selection.fit_seconds = seconds_since(started);
  if ((fit.status != FitStatus::ok || !fit.fitted) && automatic &&
      fitted_index != candidates.naive) {
    selection.notes.push_back(chosen.name() + " failed on the whole history (" + fit.message +
                              "); seasonal naive used");
    selection.selected_mase =
        std::isnan(choice.naive_mase) ? std::nullopt : std::optional(choice.naive_mase);
    if (selection.selected_decision) selection.selected_decision = 1.0;
    started = std::chrono::steady_clock::now();
    fitted_index = candidates.naive;
    fit = candidates.recipes[fitted_index]->fit(input);
    selection.fit_seconds = seconds_since(started);
  }
  if (!fit.message.empty()) selection.notes.push_back(fit.message);
  selection.status = fit.fitted
                         ? fit.status
                         : (fit.status == FitStatus::ok ? FitStatus::invalid_input : fit.status);
  if (!fit.fitted) {
    selection.reason = chosen.name() + " could not be fitted: " +
                       (fit.message.empty() ? std::string(to_string(fit.status)) : fit.message);
    return kNone;
  }
  selection.model = fit.fitted->name();
  selection.fitted = std::move(fit.fitted);
  selection.reason = selection.model + ": " + selection.reason;
  return fitted_index;
}

// Calibrate: the fitted model's interval rescaled from its backtest errors
// (interval_calibration.hpp) at the served quantile.
// Event rows apart, from the errors before past events (event_choice.hpp).
void calibrate(const FitInput& input, const ModelBacktest& backtested,
               const BacktestOptions& backtest_options, double quantile, Selection& selection) {
  CalibrationOptions calibration;
  calibration.quantile = quantile;
  selection.interval = calibrate_intervals(
      backtested.errors, std::max(backtest_options.horizon, backtest_options.error_horizon),
      calibration);
  EventRowTest is_event = event_row_test(input);
  calibrate_event_rows(selection.interval, backtested.event_errors, input.y, is_event, calibration,
                       event_occurrence_spread(input));
  selection.notes.push_back(selection.interval.why);
  selection.fitted = with_calibrated_intervals(std::move(selection.fitted), selection.interval,
                                               std::move(is_event));
}

// A selection given up on SelectionOptions::cancel: nothing fitted.
Selection given_up(Selection selection) {
  selection.status = FitStatus::cancelled;
  selection.reason = "cancelled";
  selection.fitted.reset();
  return selection;
}

}  // namespace

Selection select_and_fit(const FitInput& input, const SelectionOptions& options) {
  return select_and_fit(input, options, BacktestProgress{});
}

Selection select_and_fit(const FitInput& input, const SelectionOptions& options,
                         const BacktestProgress& progress) {
  auto candidates = candidate_models(options.model);
  if (!candidates) {
    Selection selection;
    selection.seasonal_naive_mase = kNaN;
    selection.status = FitStatus::invalid_input;
    selection.reason = candidates.error().message;
    return selection;
  }
  return select_and_fit(input, options, std::move(*candidates), progress);
}

Selection select_and_fit(const FitInput& original_input, const SelectionOptions& options,
                         Models models, const BacktestProgress& progress) {
  Selection selection;
  selection.seasonal_naive_mase = kNaN;
  std::vector<double> cleaned;
  const bool automatic = options.model == "auto";
  const std::optional<std::uint32_t> period = found_period(original_input, automatic);
  const FitInput input =
      without_outliers(original_input, options, period, cleaned, selection.notes);
  Candidates candidates = prune(std::move(models), input, automatic, selection.notes);
  if (candidates.recipes.empty()) {
    selection.status = FitStatus::invalid_input;
    selection.reason = "no candidate model";
    return selection;
  }
  if (period) add_found_period(candidates, period, input.layout->slots[0], selection.notes);
  const BacktestOptions backtest_options = backtest_options_for(options);
  BacktestReport report = backtest(input, candidates.tested(), backtest_options, progress);
  if (cancelled(backtest_options)) return given_up(std::move(selection));
  selection.origins = report.origins.size() + report.event_origins.size();
  selection.event_origins = report.event_origins.size();
  score_decisions(report, input.y, backtest_options, options);
  Choice choice = rank(report, candidates, options.rank_by_decision, selection);
  if (automatic && choice.index != kNone)
    combine(report, candidates, input.y, backtest_options, options, choice, selection);
  decide(report, candidates, input.y.size(), backtest_options, options, automatic, choice,
         selection);
  if (automatic && choice.index != kNone)
    serve_event_windows(input, report, candidates, backtest_options, choice, selection);
  if (cancelled(backtest_options)) return given_up(std::move(selection));
  const std::size_t fitted = refit(input, report, candidates, automatic, choice, selection);
  if (fitted != kNone && options.calibrate && !report.origins.empty())
    calibrate(input, report.models[fitted], backtest_options, options.quantile, selection);
  return selection;
}

}  // namespace prescale::forecast
