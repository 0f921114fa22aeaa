#include "prescale/forecast/event_choice.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "prescale/forecast/event_effects.hpp"

namespace prescale::forecast {
namespace {

std::string format_mase(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", x);
  return buffer;
}

// Forecasts of the ordinary model, with the event model's on event rows.
class EventSwitchFitted final : public FittedModel {
 public:
  EventSwitchFitted(std::unique_ptr<FittedModel> ordinary, std::unique_ptr<FittedModel> events,
                    const Eigen::MatrixXd* regressors, std::vector<Eigen::Index> columns)
      : ordinary_(std::move(ordinary)),
        events_(std::move(events)),
        regressors_(regressors),
        columns_(std::move(columns)) {}

  [[nodiscard]] std::string name() const override {
    return ordinary_->name() + ", event windows " + events_->name();
  }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    auto parameters = ordinary_->parameters();
    for (const auto& [key, value] : events_->parameters())
      parameters["event-windows." + key] = value;
    return parameters;
  }
  [[nodiscard]] std::size_t next_index() const override { return ordinary_->next_index(); }
  void update(double y) override {
    ordinary_->update(y);
    events_->update(y);
  }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    Forecast f = ordinary_->forecast(horizon);
    const std::size_t next = ordinary_->next_index();
    bool any = false;
    for (std::size_t h = 0; h < f.mean.size() && !any; ++h) any = in_event(next + h);
    if (!any) return f;
    const Forecast e = events_->forecast(horizon);
    if (f.sigma_lower.empty() && !e.sigma_lower.empty()) f.sigma_lower = f.sigma;
    for (std::size_t h = 0; h < f.mean.size() && h < e.mean.size(); ++h) {
      if (!in_event(next + h)) continue;
      f.mean[h] = e.mean[h];
      f.sigma[h] = e.sigma[h];
      if (!f.sigma_lower.empty())
        f.sigma_lower[h] = e.sigma_lower.empty() ? e.sigma[h] : e.sigma_lower[h];
    }
    return f;
  }
  [[nodiscard]] double residual_variance() const override { return ordinary_->residual_variance(); }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<EventSwitchFitted>(ordinary_->clone(), events_->clone(), regressors_,
                                               columns_);
  }

 private:
  [[nodiscard]] bool in_event(std::size_t row) const {
    if (static_cast<Eigen::Index>(row) >= regressors_->rows()) return false;
    for (Eigen::Index c : columns_)
      if ((*regressors_)(static_cast<Eigen::Index>(row), c) > 0.5) return true;
    return false;
  }

  std::unique_ptr<FittedModel> ordinary_, events_;
  const Eigen::MatrixXd* regressors_;
  std::vector<Eigen::Index> columns_;
};

}  // namespace

bool events_ahead_seen_fewer_than_twice(const FitInput& input) {
  const EventWindows windows = event_windows(input);
  std::map<std::size_t, std::size_t> seen;
  for (const EventRun& run : windows.runs)
    if (run.start + run.length <= input.y.size()) ++seen[run.event];
  for (const PastEvent& past : input.past_events) {
    const auto name = std::find(windows.names.begin(), windows.names.end(), past.event);
    const bool held =
        std::any_of(past.y.begin(), past.y.end(), [](double v) { return !std::isnan(v); });
    if (name != windows.names.end() && held)
      ++seen[static_cast<std::size_t>(name - windows.names.begin())];
  }
  for (const EventRun& run : windows.runs)
    if (run.start + run.length > input.y.size() && seen[run.event] < 2) return true;
  return false;
}

EventRowTest event_row_test(const FitInput& input) {
  EventWindows windows = event_windows(input);
  if (windows.empty()) return {};
  return [regressors = input.regressors, columns = std::move(windows.columns)](std::size_t row) {
    if (static_cast<Eigen::Index>(row) >= regressors->rows()) return false;
    for (Eigen::Index c : columns)
      if ((*regressors)(static_cast<Eigen::Index>(row), c) > 0.5) return true;
    return false;
  };
}

std::string event_names(const FitInput& input) {
  std::string names;
  for (const std::string& name : event_windows(input).names)
    names += (names.empty() ? "" : ", ") + name;
  return names;
}

std::size_t rescore_event_origins(BacktestReport& report, const EventRowTest& ahead) {
  if (!ahead) return 0;
  std::vector<bool> kept(report.event_origins.size(), false);
  std::size_t count = 0;
  for (std::size_t e = 0; e < report.event_origins.size(); ++e) {
    for (std::size_t h = 0; h < report.horizon && !kept[e]; ++h)
      kept[e] = ahead(report.event_origins[e] + h);
    count += kept[e] ? 1 : 0;
  }
  if (count == 0 || count == report.event_origins.size()) return count;
  for (ModelBacktest& model : report.models) {
    double sum = 0;
    std::size_t scored = 0;
    for (std::size_t e = 0; e < report.event_origins.size(); ++e) {
      const double scale = e < report.event_scales.size() ? report.event_scales[e] : 0;
      if (!kept[e] || !(scale > 0)) continue;
      const std::size_t origin = report.event_origins[e];
      double errors = 0;
      std::size_t n = 0;
      for (const BacktestError& error : model.event_errors)
        if (error.index >= error.step && error.index - error.step == origin)
          errors += std::abs(error.error), ++n;
      if (n == 0) continue;
      sum += errors / static_cast<double>(n) / scale;
      ++scored;
    }
    model.event_mase =
        scored > 0 ? sum / static_cast<double>(scored) : std::numeric_limits<double>::quiet_NaN();
  }
  return count;
}

EventWindowChoice confirm_on_events_ahead(EventWindowChoice choice, const BacktestReport& report,
                                          std::size_t chosen, const EventRowTest& ahead) {
  if (choice.index == EventWindowChoice::kNone || choice.index >= report.models.size() ||
      chosen >= report.models.size())
    return choice;
  BacktestReport focused = report;
  const std::size_t origins = rescore_event_origins(focused, ahead);
  if (origins == 0 || origins == report.event_origins.size() ||
      focused.models[choice.index].event_mase < focused.models[chosen].event_mase)
    return choice;
  choice.reason = "event windows: " + report.models[chosen].model + " (" +
                  report.models[choice.index].model + " scored better on all " +
                  std::to_string(report.event_origins.size()) + " event origins, " +
                  format_mase(report.models[choice.index].event_mase) + " vs " +
                  format_mase(report.models[chosen].event_mase) + ", but not on the " +
                  std::to_string(origins) + " before past occurrences of the events ahead, " +
                  format_mase(focused.models[choice.index].event_mase) + " vs " +
                  format_mase(focused.models[chosen].event_mase) + ")";
  choice.index = EventWindowChoice::kNone;
  return choice;
}

EventWindowChoice choose_event_model(const BacktestReport& report, std::size_t chosen,
                                     std::size_t naive, const std::string& events,
                                     const std::vector<bool>& eligible) {
  EventWindowChoice out;
  if (report.event_origins.empty() || chosen >= report.models.size() ||
      naive >= report.models.size())
    return out;
  std::size_t best = EventWindowChoice::kNone;
  for (std::size_t i = 0; i < report.models.size(); ++i) {
    const double m = report.models[i].event_mase;
    if (report.models[i].status != FitStatus::ok || !std::isfinite(m)) continue;
    if (i < eligible.size() && !eligible[i]) continue;
    if (best == EventWindowChoice::kNone || m < report.models[best].event_mase) best = i;
  }
  const double chosen_mase = report.models[chosen].event_mase;
  const double naive_mase = report.models[naive].event_mase;
  const std::string on_past = " on the " + std::to_string(report.event_origins.size()) +
                              " event-origin windows before past occurrences of " +
                              (events.empty() ? std::string("calendar events") : events);
  if (best == EventWindowChoice::kNone || best == chosen ||
      !(report.models[best].event_mase < chosen_mase || std::isnan(chosen_mase)) ||
      !(report.models[best].event_mase < naive_mase)) {
    out.reason = "event windows: " + report.models[chosen].model + " (event-origin MASE " +
                 format_mase(chosen_mase) + " vs seasonal naive " + format_mase(naive_mase) +
                 on_past + ")";
    return out;
  }
  out.index = best;
  out.reason = "event windows: " + report.models[best].model + ", event-origin MASE " +
               format_mase(report.models[best].event_mase) + " vs " + format_mase(chosen_mase) +
               " for " + report.models[chosen].model + " and seasonal naive " +
               format_mase(naive_mase) + on_past;
  return out;
}

std::string EventSwitchModel::name() const {
  return ordinary_.name() + ", event windows " + events_.name();
}

FitResult EventSwitchModel::fit(const FitInput& input) const {
  EventWindows windows = event_windows(input);
  FitResult ordinary = ordinary_.fit(input);
  if (ordinary.status != FitStatus::ok || !ordinary.fitted || windows.empty()) return ordinary;
  FitInput event_input = input;
  event_input.warm_start = nullptr;  // the warm start is the ordinary recipe's
  FitResult events = events_.fit(event_input);
  if (events.status != FitStatus::ok || !events.fitted) {
    ordinary.message += (ordinary.message.empty() ? "" : "; ") +
                        std::string("event-window model failed: ") + events.message;
    return ordinary;
  }
  FitResult out;
  out.status = FitStatus::ok;
  out.message = ordinary.message;
  out.fitted =
      std::make_unique<EventSwitchFitted>(std::move(ordinary.fitted), std::move(events.fitted),
                                          input.regressors, std::move(windows.columns));
  return out;
}

}  // namespace prescale::forecast
