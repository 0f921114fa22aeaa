// The model recipes select_and_fit chooses among, by family (selection.hpp:
// candidate_models, model_choices): adding a family is one entry in
// families().
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/forecast/arima.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/event_effects.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/log_transform.hpp"
#include "prescale/forecast/seasonal_naive.hpp"
#include "prescale/forecast/selection.hpp"
#include "prescale/forecast/theta.hpp"

namespace prescale::forecast {
namespace {

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

// The additive Holt-Winters variants on log(y) (log_transform.hpp): the
// multiplicative ones' growth by factors with the additive ones' stable fit.
Models holt_winters_log_family() {
  Models models;
  for (auto& base : holt_winters_family()) {
    const auto* hw = dynamic_cast<const HoltWinters*>(base.get());
    if (hw == nullptr || hw->spec().seasonality != Seasonality::additive) continue;
    models.push_back(
        std::make_unique<LogTransformed>(std::shared_ptr<const Model>(std::move(base))));
  }
  return models;
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
      {"theta",
       [] {
         Models m;
         m.push_back(std::make_unique<Theta>());
         return m;
       }},
      {"arima",
       [] {
         Models m;
         m.push_back(std::make_unique<ArimaModel>());
         return m;
       }},
      {"holt-winters+calendar", holt_winters_calendar_family},
      {"holt-winters-log", holt_winters_log_family},
      {"events",  // per-step event effects on Holt-Winters (event_effects.hpp)
       [] {
         Models m;
         m.push_back(
             std::make_unique<EventProfileModel>(std::make_shared<HoltWinters>(HoltWintersSpec{})));
         return m;
       }},
  };
  return registry;
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
    // Same time yesterday beside same time last week: a diverse member for
    // the median when the weekly pattern has moved.
    models.push_back(std::make_unique<SeasonalNaive>(1));
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

}  // namespace prescale::forecast
