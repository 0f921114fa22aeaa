#include "prescale/forecast/found_period.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace prescale::forecast {
namespace {

// Autocorrelation of x at `lag`, over the pairs where both are observed.
double autocorrelation(const std::vector<double>& x, double mean, double variance,
                       std::size_t lag) {
  double sum = 0;
  for (std::size_t i = lag; i < x.size(); ++i) {
    if (std::isnan(x[i]) || std::isnan(x[i - lag])) continue;
    sum += (x[i] - mean) * (x[i - lag] - mean);
  }
  return sum / variance;
}

/// Not thread-safe (FittedModel's contract); clones share the immutable layout.
class FoundPeriodFitted final : public FittedModel {
 public:
  FoundPeriodFitted(std::shared_ptr<const SeasonLayout> layout, std::unique_ptr<FittedModel> model)
      : layout_(std::move(layout)), model_(std::move(model)) {}

  [[nodiscard]] std::string name() const override { return model_->name(); }
  // The base's own (a warm start must name them as the base does); the
  // period is in the name.
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    return model_->parameters();
  }
  [[nodiscard]] std::size_t next_index() const override { return model_->next_index(); }
  void update(double y) override { model_->update(y); }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    return model_->forecast(horizon);
  }
  [[nodiscard]] double residual_variance() const override { return model_->residual_variance(); }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<FoundPeriodFitted>(layout_, model_->clone());
  }

 private:
  std::shared_ptr<const SeasonLayout> layout_;  // read by model_
  std::unique_ptr<FittedModel> model_;
};

}  // namespace

std::optional<std::uint32_t> recent_period(std::span<const double> y, std::uint32_t declared,
                                           const PeriodSearch& search) {
  const std::size_t window = search.cycles * declared;
  const auto low = static_cast<std::size_t>(std::ceil(search.lowest * declared));
  const auto high = static_cast<std::size_t>(std::floor(search.highest * declared));
  if (declared < 4 || low < 2 || y.size() < window + 1 || window <= 2 * high) return std::nullopt;
  std::vector<double> differences(window);
  const std::size_t first = y.size() - window;
  for (std::size_t i = 0; i < window; ++i) differences[i] = y[first + i] - y[first + i - 1];
  double sum = 0, squares = 0;
  std::size_t observed = 0;
  for (double d : differences) {
    if (std::isnan(d)) continue;
    sum += d;
    ++observed;
  }
  if (observed < window / 2) return std::nullopt;
  const double mean = sum / static_cast<double>(observed);
  for (double d : differences)
    if (!std::isnan(d)) squares += (d - mean) * (d - mean);
  if (!(squares > 0)) return std::nullopt;
  std::size_t best = declared;
  double best_value = autocorrelation(differences, mean, squares, declared);
  const double at_declared = best_value;
  for (std::size_t lag = low; lag <= high; ++lag) {
    const double value = autocorrelation(differences, mean, squares, lag);
    if (value > best_value) {
      best = lag;
      best_value = value;
    }
  }
  if (best == declared || !(best_value > at_declared + search.min_advantage) ||
      !(best_value >= search.min_correlation))
    return std::nullopt;
  return static_cast<std::uint32_t>(best);
}

FoundPeriod::FoundPeriod(std::shared_ptr<const Model> base, PeriodSearch search)
    : base_(std::move(base)), search_(search) {}

std::string FoundPeriod::name() const {
  return base_->name() + "@found-period";
}

FitResult FoundPeriod::fit(const FitInput& input) const {
  if (input.layout == nullptr || input.layout->periods() == 0) {
    FitResult result;
    result.message = "no declared season to search a cycle near";
    return result;
  }
  const std::uint32_t declared = input.layout->slots[0];
  const std::uint32_t period = recent_period(input.y, declared, search_).value_or(declared);
  const std::size_t length = std::max(input.layout->size(), input.y.size());
  auto layout = std::make_shared<const SeasonLayout>(SeasonLayout::modular({period}, length));
  FitInput on_period = input;
  on_period.layout = layout.get();
  FitResult result = base_->fit(on_period);
  if (result.fitted)
    result.fitted =
        std::make_unique<FoundPeriodFitted>(std::move(layout), std::move(result.fitted));
  return result;
}

}  // namespace prescale::forecast
