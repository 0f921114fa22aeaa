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
  // One-off incidents replaced before any model sees the history.
  FitInput input = original_input;
  std::vector<double> cleaned;
  if (options.replace_outliers) {
    OutlierReport outliers = replace_outliers(original_input);
    if (outliers.points > 0) {
      cleaned = std::move(outliers.cleaned);
      input.y = cleaned;
    }
    if (!outliers.summary.empty()) selection.notes.push_back(outliers.summary);
  }
  // Calendar variants need regressors; without them they are the plain models again.
  const bool has_regressors = input.regressors != nullptr && input.regressors->cols() > 0;
  if (!has_regressors && models.size() > 1) {
    models.erase(std::remove_if(models.begin(), models.end(),
                                [](const std::unique_ptr<Model>& m) { return is_calendar(*m); }),
                 models.end());
  }
  if (models.empty()) {
    selection.status = FitStatus::invalid_input;
    selection.reason = "no candidate model";
    return selection;
  }
  const bool automatic = options.model == "auto";
  if (models.size() > 1) {
    models.erase(std::remove_if(models.begin(), models.end(),
                                [&](const std::unique_ptr<Model>& m) {
                                  return redundant_for(*m, input.layout);
                                }),
                 models.end());
  }
  if (models.size() > 1 && has_non_positive(input.y)) {
    const auto before = models.size();
    models.erase(std::remove_if(models.begin(), models.end(),
                                [&](const std::unique_ptr<Model>& m) {
                                  const auto* hw = dynamic_cast<const HoltWinters*>(m.get());
                                  return hw != nullptr &&
                                         hw->spec().seasonality == Seasonality::multiplicative;
                                }),
                 models.end());
    if (models.size() != before) {
      selection.notes.push_back(
          "multiplicative seasonality not tried: the history has zeros or negatives");
    }
  }
  // Seasonal naive is the yardstick: always backtested, first.
  std::size_t naive_index = models.size();
  for (std::size_t i = 0; i < models.size(); ++i) {
    if (is_seasonal_naive(models[i]->name())) naive_index = i;
  }
  if (automatic && naive_index == models.size()) {
    models.insert(models.begin(), std::make_unique<SeasonalNaive>());
    naive_index = 0;
  }
  std::unique_ptr<Model> extra_naive;
  std::vector<const Model*> to_test;
  for (const auto& m : models) to_test.push_back(m.get());
  if (naive_index == models.size()) {
    extra_naive = std::make_unique<SeasonalNaive>();
    to_test.insert(to_test.begin(), extra_naive.get());
  }

  BacktestOptions backtest_options;
  backtest_options.horizon = std::max<std::size_t>(1, options.horizon);
  backtest_options.origins = options.origins;
  backtest_options.event_origins = options.event_origins;
  backtest_options.threads = options.threads;
  backtest_options.quantile = options.quantile;
  const CalibrationOptions calibration_options;
  if (options.calibrate && options.origins > 0) {
    // Enough lead steps that the origins' errors fill one calibration pool.
    backtest_options.error_horizon =
        (calibration_options.pool + options.origins - 1) / options.origins;
  }
  BacktestReport report = backtest(input, to_test, backtest_options, progress);
  selection.origins = report.origins.size() + report.event_origins.size();
  selection.event_origins = report.event_origins.size();

  double naive_mase = kNaN;
  for (std::size_t t = 0; t < to_test.size(); ++t) {
    const ModelBacktest& r = report.models[t];
    selection.scores.push_back({r.model, r.mase, r.smape, r.coverage, r.fit_seconds_mean});
    if (r.status != FitStatus::ok && !report.origins.empty()) {
      selection.notes.push_back(r.model + " failed in the backtest: " + r.message);
    }
    if (to_test[t] == extra_naive.get() || is_seasonal_naive(to_test[t]->name()))
      naive_mase = r.mase;
  }
  selection.seasonal_naive_mase = naive_mase;
  // Best candidate by MASE; in auto mode the best one that is not the yardstick.
  const std::size_t offset = extra_naive ? 1 : 0;
  std::size_t chosen = models.size();
  double chosen_mase = kNaN;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const double m = report.models[i + offset].mase;
    if (automatic && i == naive_index) continue;
    if (!std::isnan(m) && (std::isnan(chosen_mase) || m < chosen_mase)) {
      chosen = i;
      chosen_mase = m;
    }
  }
  // Auto: the means of the best 2 and 3 candidates (combination.hpp), scored
  // from their backtest errors. The better of them is chosen unless the best
  // single model beats it by more than one standard error of their paired
  // per-origin MASE differences (within_one_standard_error).
  if (automatic && chosen < models.size()) {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < models.size(); ++i) {
      if (i != naive_index) candidates.push_back(i + offset);
    }
    const std::size_t single = chosen;
    std::size_t best_combination = 0;  // 0: none (a combination is never at index 0 of models)
    for (CombinationCandidate& c :
         best_combinations(report, candidates, to_test, input.y, backtest_options)) {
      const ModelBacktest& r = c.backtest;
      selection.scores.push_back({r.model, r.mase, r.smape, r.coverage, r.fit_seconds_mean});
      if (best_combination == 0 || r.mase < report.models[best_combination + offset].mase)
        best_combination = models.size();
      models.push_back(std::move(c.recipe));
      report.models.push_back(std::move(c.backtest));
    }
    if (best_combination != 0 && within_one_standard_error(report.models[best_combination + offset],
                                                           report.models[single + offset], report,
                                                           backtest_options.horizon)) {
      chosen = best_combination;
      chosen_mase = report.models[chosen + offset].mase;
      const double single_mase = report.models[single + offset].mase;
      selection.notes.push_back(
          "auto: the mean of the best candidates, backtest MASE " + format_number(chosen_mase) +
          (chosen_mase <= single_mase ? ", beats" : ", is within one standard error of") +
          " the best single, " + report.models[single + offset].model + " " +
          format_number(single_mase));
    }
  }
  std::string over = " over " + std::to_string(selection.origins) + " origin" +
                     (selection.origins == 1 ? "" : "s");
  if (!report.event_origins.empty()) {
    over += " (" + std::to_string(report.event_origins.size()) + " before past calendar events)";
  }
  const std::size_t simplest = automatic ? naive_index : 0;
  if (report.origins.empty()) {
    selection.reason = "history of " + std::to_string(input.y.size()) +
                       " samples is too short for a backtest of " +
                       std::to_string(backtest_options.horizon) + " steps";
    if (automatic) selection.reason += "; seasonal naive used";
    chosen = simplest;
    chosen_mase = kNaN;
  } else if (chosen == models.size()) {
    selection.reason = automatic ? "no other model gave a finite backtest MASE; seasonal naive used"
                                 : "no finite backtest MASE (constant or gappy history?)";
    chosen = simplest;
    chosen_mase = automatic ? naive_mase : kNaN;
  } else if (automatic && !(chosen_mase < naive_mase)) {
    selection.reason = "no model beat seasonal naive (backtest MASE " + format_number(naive_mase) +
                       "; best other " + report.models[chosen + offset].model + " " +
                       format_number(chosen_mase) + over + ")";
    chosen = naive_index;
    chosen_mase = naive_mase;
  } else {
    selection.reason = "backtest MASE " + format_number(chosen_mase) + " vs seasonal naive " +
                       format_number(naive_mase) + over;
  }
  if (!report.origins.empty() && !std::isnan(chosen_mase)) selection.selected_mase = chosen_mase;
  if (!report.event_origins.empty() && chosen < models.size()) {
    const ModelBacktest& naive_result = report.models[extra_naive ? 0 : naive_index];
    selection.notes.push_back(
        "backtest: " + std::to_string(report.event_origins.size()) + " of " +
        std::to_string(selection.origins) +
        " origins placed before past calendar events, their mean MASE weighted " +
        format_number(backtest_options.event_weight) + " (" + report.models[chosen + offset].model +
        " " + format_number(report.models[chosen + offset].event_mase) + ", seasonal naive " +
        format_number(naive_result.event_mase) + " on them)");
  }

  // The chosen recipe, fitted on everything.
  std::size_t fitted_index = chosen;  // into models; its backtest errors calibrate the interval
  // The search starts from the parameters the backtest fitted at its first
  // origin: same recipe, most of the same history.
  FitInput whole = input;
  if (chosen < models.size() && !report.models[chosen + offset].origin_parameters.empty())
    whole.warm_start = &report.models[chosen + offset].origin_parameters;
  auto started = std::chrono::steady_clock::now();
  FitResult fit = models[chosen]->fit(whole);
  selection.fit_seconds = seconds_since(started);
  if ((fit.status != FitStatus::ok || !fit.fitted) && automatic && chosen != naive_index) {
    selection.notes.push_back(models[chosen]->name() + " failed on the whole history (" +
                              fit.message + "); seasonal naive used");
    selection.selected_mase = std::isnan(naive_mase) ? std::nullopt : std::optional(naive_mase);
    started = std::chrono::steady_clock::now();
    fitted_index = naive_index;
    fit = models[naive_index]->fit(input);
    selection.fit_seconds = seconds_since(started);
  }
  if (!fit.message.empty()) selection.notes.push_back(fit.message);
  selection.status = fit.fitted
                         ? fit.status
                         : (fit.status == FitStatus::ok ? FitStatus::invalid_input : fit.status);
  if (fit.fitted) {
    selection.model = fit.fitted->name();
    selection.fitted = std::move(fit.fitted);
    selection.reason = selection.model + ": " + selection.reason;
    if (options.calibrate && !report.origins.empty()) {
      CalibrationOptions calibration = calibration_options;
      calibration.quantile = options.quantile;
      selection.interval = calibrate_intervals(
          report.models[fitted_index + offset].errors,
          std::max(backtest_options.horizon, backtest_options.error_horizon), calibration);
      selection.notes.push_back(selection.interval.why);
      selection.fitted = with_calibrated_intervals(std::move(selection.fitted), selection.interval);
    }
  } else {
    selection.reason = models[chosen]->name() + " could not be fitted: " +
                       (fit.message.empty() ? std::string(to_string(fit.status)) : fit.message);
  }
  return selection;
}

}  // namespace prescale::forecast
