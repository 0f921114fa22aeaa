#include "prescale/forecast/selection.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

#include "prescale/forecast/arima.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/combination.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/interval_calibration.hpp"
#include "prescale/forecast/outliers.hpp"
#include "prescale/forecast/seasonal_naive.hpp"

namespace prescale::forecast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Models = std::vector<std::unique_ptr<Model>>;

std::string trend_word(Trend trend) {
  switch (trend) {
    case Trend::none:
      return "none";
    case Trend::additive:
      return "additive";
    case Trend::damped:
      return "damped";
  }
  return "?";
}

// "holt-winters(A,Ad,A)" -> "A,Ad,A"
std::string tag_inside(const HoltWintersSpec& spec) {
  const std::string tag = holt_winters_tag(spec);
  const auto open = tag.find('(');
  const auto close = tag.rfind(')');
  return open == std::string::npos || close == std::string::npos
             ? tag
             : tag.substr(open + 1, close - open - 1);
}

std::string variant_words(const HoltWintersSpec& spec) {
  return trend_word(spec.trend) + "-" +
         (spec.seasonality == Seasonality::additive ? "additive" : "multiplicative");
}

// Each variant with every season, and with the shortest season alone: on
// bursty series a weekly season (each slot seen once a week) adds more noise
// than it explains, as R's daily-only HoltWinters() shows on tweet volumes.
Models holt_winters_family() {
  Models models;
  for (const HoltWintersSpec& spec : all_holt_winters_specs()) {
    models.push_back(std::make_unique<HoltWinters>(spec));
  }
  for (HoltWintersSpec spec : all_holt_winters_specs()) {
    spec.max_periods = 1;
    models.push_back(std::make_unique<HoltWinters>(spec));
  }
  return models;
}

// The additive variants with calendar regression (only fitted when the input
// has regressors; multiplicative seasons and an additive X.beta do not mix).
Models holt_winters_calendar_family() {
  Models models;
  for (auto& base : holt_winters_family()) {
    const auto* hw = dynamic_cast<const HoltWinters*>(base.get());
    if (hw == nullptr || hw->spec().seasonality != Seasonality::additive) continue;
    models.push_back(
        std::make_unique<CalendarRegression>(std::shared_ptr<const Model>(std::move(base))));
  }
  return models;
}

bool is_calendar(const Model& model) {
  return dynamic_cast<const CalendarRegression*>(&model) != nullptr;
}

// A shortest-season-only variant is the full model again without a second season.
bool redundant_for(const Model& model, const SeasonLayout* layout) {
  const auto* calendar = dynamic_cast<const CalendarRegression*>(&model);
  const auto* hw =
      dynamic_cast<const HoltWinters*>(calendar != nullptr ? &calendar->base() : &model);
  const std::size_t periods = layout != nullptr ? layout->periods() : 0;
  return hw != nullptr && hw->spec().max_periods < 3 && periods <= hw->spec().max_periods;
}

/// A family of recipes selectable by name; "auto" tries every family.
struct Family {
  std::string name;
  std::function<Models()> make;
};

// The registry: adding a model family (e.g. ARIMA) is one entry here.
const std::vector<Family>& families() {
  static const std::vector<Family> registry = {
      {"seasonal-naive",
       [] {
         Models m;
         m.push_back(std::make_unique<SeasonalNaive>());
         return m;
       }},
      {"holt-winters", holt_winters_family},
      {"arima",
       [] {
         Models m;
         m.push_back(std::make_unique<ArimaModel>());
         return m;
       }},
      {"holt-winters+calendar", holt_winters_calendar_family},
  };
  return registry;
}

std::string format_number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", x);
  return buffer;
}

bool is_seasonal_naive(const std::string& name) {
  return name.rfind("seasonal-naive", 0) == 0;
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
  double mase = kNaN;
  double naive_mase = kNaN;
};

// One-off incidents replaced before any model sees the history (outliers.hpp).
FitInput without_outliers(const FitInput& original, const SelectionOptions& options,
                          std::vector<double>& cleaned, std::vector<std::string>& notes) {
  FitInput input = original;
  if (!options.replace_outliers) return input;
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
  if (!has_regressors && models.size() > 1) erase_if(models, is_calendar);
  Candidates candidates;
  if (models.empty()) return candidates;
  if (models.size() > 1)
    erase_if(models, [&](const Model& m) { return redundant_for(m, input.layout); });
  if (models.size() > 1 && has_non_positive(input.y)) {
    const auto before = models.size();
    erase_if(models, is_multiplicative);
    if (models.size() != before)
      notes.push_back("multiplicative seasonality not tried: the history has zeros or negatives");
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

BacktestOptions backtest_options_for(const SelectionOptions& options) {
  BacktestOptions backtest_options;
  backtest_options.horizon = std::max<std::size_t>(1, options.horizon);
  backtest_options.origins = options.origins;
  backtest_options.event_origins = options.event_origins;
  backtest_options.threads = options.threads;
  backtest_options.quantile = options.quantile;
  if (options.calibrate && options.origins > 0) {
    // Enough lead steps that the origins' errors fill one calibration pool.
    const CalibrationOptions calibration;
    backtest_options.error_horizon = (calibration.pool + options.origins - 1) / options.origins;
  }
  return backtest_options;
}

void add_score(const ModelBacktest& r, Selection& selection) {
  selection.scores.push_back({r.model, r.mase, r.smape, r.coverage, r.fit_seconds_mean});
}

// Rank: every backtest becomes a score; the best contender by MASE (the
// first of equals) is the choice so far.
Choice rank(const BacktestReport& report, const Candidates& candidates, Selection& selection) {
  Choice choice;
  for (std::size_t i = 0; i < candidates.recipes.size(); ++i) {
    const ModelBacktest& r = report.models[i];
    add_score(r, selection);
    if (r.status != FitStatus::ok && !report.origins.empty())
      selection.notes.push_back(r.model + " failed in the backtest: " + r.message);
  }
  choice.naive_mase = report.models[candidates.naive].mase;
  selection.seasonal_naive_mase = choice.naive_mase;
  for (std::size_t i = 0; i < candidates.recipes.size(); ++i) {
    const double m = report.models[i].mase;
    if (!candidates.contends[i] || std::isnan(m)) continue;
    if (std::isnan(choice.mase) || m < choice.mase) {
      choice.index = i;
      choice.mase = m;
    }
  }
  return choice;
}

// Combine (auto): the means of the best 2 and 3 contenders (combination.hpp),
// scored from their backtest errors, join the report. The better of them is
// chosen unless the best single model beats it by more than one standard
// error of their paired per-origin MASE differences (within_one_standard_error).
void combine(BacktestReport& report, Candidates& candidates, std::span<const double> y,
             const BacktestOptions& backtest_options, Choice& choice, Selection& selection) {
  std::vector<std::size_t> members;
  for (std::size_t i = 0; i < candidates.recipes.size(); ++i)
    if (i != candidates.naive) members.push_back(i);
  const std::vector<const Model*> recipes = candidates.tested();
  std::size_t best = kNone;
  for (CombinationCandidate& c : best_combinations(report, members, recipes, y, backtest_options)) {
    add_score(c.backtest, selection);
    if (best == kNone || c.backtest.mase < report.models[best].mase) best = report.models.size();
    candidates.recipes.push_back(std::move(c.recipe));
    candidates.contends.push_back(true);
    report.models.push_back(std::move(c.backtest));
  }
  const std::size_t single = choice.index;
  if (best == kNone || !within_one_standard_error(report.models[best], report.models[single],
                                                  report, backtest_options.horizon))
    return;
  choice.index = best;
  choice.mase = report.models[best].mase;
  const double single_mase = report.models[single].mase;
  selection.notes.push_back(
      "auto: the mean of the best candidates, backtest MASE " + format_number(choice.mase) +
      (choice.mase <= single_mase ? ", beats" : ", is within one standard error of") +
      " the best single, " + report.models[single].model + " " + format_number(single_mase));
}

// Decide: the reason, and the fallbacks when nothing could be scored or (in
// auto mode) nothing beat seasonal naive.
void decide(const BacktestReport& report, const Candidates& candidates, std::size_t samples,
            const BacktestOptions& backtest_options, bool automatic, Choice& choice,
            Selection& selection) {
  const std::size_t origins = selection.origins;
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
    selection.reason = automatic ? "no other model gave a finite backtest MASE; seasonal naive used"
                                 : "no finite backtest MASE (constant or gappy history?)";
    choice.index = candidates.fallback;
    choice.mase = automatic ? choice.naive_mase : kNaN;
  } else if (automatic && !(choice.mase < choice.naive_mase)) {
    selection.reason = "no model beat seasonal naive (backtest MASE " +
                       format_number(choice.naive_mase) + "; best other " +
                       report.models[choice.index].model + " " + format_number(choice.mase) + over +
                       ")";
    choice.index = candidates.naive;
    choice.mase = choice.naive_mase;
  } else {
    selection.reason = "backtest MASE " + format_number(choice.mase) + " vs seasonal naive " +
                       format_number(choice.naive_mase) + over;
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
void calibrate(std::span<const BacktestError> errors, const BacktestOptions& backtest_options,
               double quantile, Selection& selection) {
  CalibrationOptions calibration;
  calibration.quantile = quantile;
  selection.interval = calibrate_intervals(
      errors, std::max(backtest_options.horizon, backtest_options.error_horizon), calibration);
  selection.notes.push_back(selection.interval.why);
  selection.fitted = with_calibrated_intervals(std::move(selection.fitted), selection.interval);
}

}  // namespace

std::vector<std::string> model_choices() {
  std::vector<std::string> choices{"auto"};
  for (const Family& family : families()) choices.push_back(family.name);
  for (const HoltWintersSpec& spec : all_holt_winters_specs()) {
    choices.push_back("holt-winters:" + variant_words(spec));
  }
  return choices;
}

Expected<Models> candidate_models(std::string_view model) {
  Models models;
  if (model == "auto") {
    for (const Family& family : families()) {
      for (auto& m : family.make()) models.push_back(std::move(m));
    }
    return models;
  }
  for (const Family& family : families()) {
    if (model == family.name) return family.make();
  }
  constexpr std::string_view kVariantPrefix = "holt-winters:";
  if (model.substr(0, kVariantPrefix.size()) == kVariantPrefix) {
    const std::string_view variant = model.substr(kVariantPrefix.size());
    for (const HoltWintersSpec& spec : all_holt_winters_specs()) {
      if (variant == tag_inside(spec) || variant == variant_words(spec)) {
        models.push_back(std::make_unique<HoltWinters>(spec));
        return models;
      }
    }
  }
  std::string message = "unknown model '" + std::string(model) + "' (expected one of:";
  for (const std::string& choice : model_choices()) message += " " + choice;
  return make_error(message + ")");
}

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
  const FitInput input = without_outliers(original_input, options, cleaned, selection.notes);
  const bool automatic = options.model == "auto";
  Candidates candidates = prune(std::move(models), input, automatic, selection.notes);
  if (candidates.recipes.empty()) {
    selection.status = FitStatus::invalid_input;
    selection.reason = "no candidate model";
    return selection;
  }
  const BacktestOptions backtest_options = backtest_options_for(options);
  BacktestReport report = backtest(input, candidates.tested(), backtest_options, progress);
  selection.origins = report.origins.size() + report.event_origins.size();
  selection.event_origins = report.event_origins.size();
  Choice choice = rank(report, candidates, selection);
  if (automatic && choice.index != kNone)
    combine(report, candidates, input.y, backtest_options, choice, selection);
  decide(report, candidates, input.y.size(), backtest_options, automatic, choice, selection);
  const std::size_t fitted = refit(input, report, candidates, automatic, choice, selection);
  if (fitted != kNone && options.calibrate && !report.origins.empty())
    calibrate(report.models[fitted].errors, backtest_options, options.quantile, selection);
  return selection;
}

}  // namespace prescale::forecast
