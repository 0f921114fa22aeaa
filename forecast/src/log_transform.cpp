#include "prescale/forecast/log_transform.hpp"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace prescale::forecast {
namespace {

// z of the 0.9 quantile: where the skewed sigmas are exact.
constexpr double kZ = 1.2815515655446004;

double log_or_missing(double y) {
  return std::isnan(y) ? std::numeric_limits<double>::quiet_NaN() : std::log(y);
}

/// Not thread-safe (FittedModel's contract).
class LogFitted final : public FittedModel {
 public:
  explicit LogFitted(std::unique_ptr<FittedModel> model) : model_(std::move(model)) {}

  [[nodiscard]] std::string name() const override { return "log(" + model_->name() + ")"; }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    return model_->parameters();
  }
  [[nodiscard]] std::size_t next_index() const override { return model_->next_index(); }
  // A sample <= 0 has no log: it advances time without learning.
  void update(double y) override {
    model_->update(y > 0 ? std::log(y) : std::numeric_limits<double>::quiet_NaN());
  }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    const Forecast on_log = model_->forecast(horizon);
    Forecast out;
    out.mean.resize(on_log.size());
    out.sigma.resize(on_log.size());
    out.sigma_lower.resize(on_log.size());
    for (std::size_t h = 0; h < on_log.size(); ++h) {
      const double median = std::exp(on_log.mean[h]);
      const double lower_sigma =
          h < on_log.sigma_lower.size() ? on_log.sigma_lower[h] : on_log.sigma[h];
      out.mean[h] = median;
      out.sigma[h] = (std::exp(on_log.mean[h] + kZ * on_log.sigma[h]) - median) / kZ;
      out.sigma_lower[h] = (median - std::exp(on_log.mean[h] - kZ * lower_sigma)) / kZ;
    }
    return out;
  }
  // On the original scale at the next step (as forecast(1)'s sigma).
  [[nodiscard]] double residual_variance() const override {
    const Forecast next = forecast(1);
    return next.size() == 1 ? next.sigma[0] * next.sigma[0]
                            : std::numeric_limits<double>::quiet_NaN();
  }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<LogFitted>(model_->clone());
  }

 private:
  std::unique_ptr<FittedModel> model_;
};

}  // namespace

LogTransformed::LogTransformed(std::shared_ptr<const Model> base) : base_(std::move(base)) {}

std::string LogTransformed::name() const {
  return "log(" + base_->name() + ")";
}

FitResult LogTransformed::fit(const FitInput& input) const {
  const Expected<InputFacts> facts = validate(input);
  if (!facts) return invalid_fit_input(facts.error());
  if (facts->observed > 0 && !(facts->smallest > 0))
    return invalid_fit_input(make_error("a log transform needs positive data but sample " +
                                        std::to_string(facts->smallest_at) + " is " +
                                        std::to_string(facts->smallest)));
  std::vector<double> logged(input.y.size());
  for (std::size_t i = 0; i < logged.size(); ++i) logged[i] = log_or_missing(input.y[i]);
  FitInput on_log = input;
  on_log.y = logged;
  // Past event windows (model.hpp) are on the same scale as y.
  std::vector<PastEvent> past(input.past_events.begin(), input.past_events.end());
  for (PastEvent& event : past) {
    for (double& v : event.y) v = log_or_missing(v);
    for (double& v : event.baseline) v = log_or_missing(v);
  }
  on_log.past_events = past;
  FitResult result = base_->fit(on_log);
  if (result.fitted) result.fitted = std::make_unique<LogFitted>(std::move(result.fitted));
  return result;
}

}  // namespace prescale::forecast
