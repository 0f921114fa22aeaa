#include "prescale/forecast/seasonal_naive.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace prescale::forecast {
namespace {

/// Not thread-safe (FittedModel contract); clone() to share.
class FittedSeasonalNaive final : public FittedModel {
 public:
  /// Uses the first `periods` periods of the layout.
  FittedSeasonalNaive(const SeasonLayout* layout, std::size_t periods) : layout_(layout) {
    for (std::size_t k = 0; k < periods; ++k)
      last_by_slot_.emplace_back(layout_->slots[k], kMissing);
  }

  [[nodiscard]] std::string name() const override {
    std::string name = "seasonal-naive";
    if (!last_by_slot_.empty()) {
      name += "(";
      for (std::size_t k = 0; k < last_by_slot_.size(); ++k) {
        if (k > 0) name += ',';
        name += std::to_string(layout_->slots[k]);
      }
      name += ")";
    }
    return name;
  }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    return {{"season_slots", double(longest_slots())}};
  }
  [[nodiscard]] std::size_t next_index() const override { return next_; }

  void update(double y) override {
    bool seasonal = false;
    const double predicted = predict(next_, &seasonal);
    if (!std::isnan(y)) {
      if (!std::isnan(predicted)) {
        // Errors of the last-value fallback only count until a seasonal one
        // exists: they would understate sigma for a seasonal forecast.
        Errors& errors = seasonal ? seasonal_errors_ : fallback_errors_;
        errors.squared_sum += (y - predicted) * (y - predicted);
        ++errors.count;
      }
      for (std::size_t k = 0; k < last_by_slot_.size(); ++k)
        last_by_slot_[k][position(k, next_)] = y;
      last_value_ = y;
    }
    ++next_;
  }

  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    Forecast out;
    out.mean.resize(horizon);
    out.sigma.resize(horizon);
    const double sigma1 = std::sqrt(residual_variance());
    const std::size_t season = longest_slots();
    for (std::size_t h = 0; h < horizon; ++h) {
      out.mean[h] = predict(next_ + h);
      out.sigma[h] = sigma1 * std::sqrt(static_cast<double>(h / season + 1));
    }
    return out;
  }

  [[nodiscard]] double residual_variance() const override {
    const Errors& errors = seasonal_errors_.count ? seasonal_errors_ : fallback_errors_;
    return errors.count ? errors.squared_sum / static_cast<double>(errors.count)
                        : std::numeric_limits<double>::quiet_NaN();
  }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<FittedSeasonalNaive>(*this);
  }

 private:
  [[nodiscard]] std::size_t longest_slots() const {
    return last_by_slot_.empty() ? 1 : last_by_slot_.back().size();
  }
  /// Slot of sample `index` in period k; past the layout's end, slots
  /// continue modularly (as Holt-Winters' do).
  [[nodiscard]] std::uint32_t position(std::size_t k, std::size_t index) const {
    const std::vector<std::uint32_t>& positions = layout_->positions[k];
    if (index < positions.size()) return positions[index];
    const std::uint32_t slots = layout_->slots[k];
    if (positions.empty()) return static_cast<std::uint32_t>(index % slots);
    return static_cast<std::uint32_t>((positions.back() + (index - positions.size() + 1)) % slots);
  }
  // Value of the longest season that has seen this slot, else the last value.
  [[nodiscard]] double predict(std::size_t index, bool* seasonal = nullptr) const {
    for (std::size_t k = last_by_slot_.size(); k-- > 0;) {
      const double v = last_by_slot_[k][position(k, index)];
      if (!std::isnan(v)) {
        if (seasonal) *seasonal = true;
        return v;
      }
    }
    return last_value_;
  }

  struct Errors {
    double squared_sum = 0;
    std::size_t count = 0;
  };
  const SeasonLayout* layout_;
  std::vector<std::vector<double>> last_by_slot_;
  double last_value_ = kMissing;
  std::size_t next_ = 0;
  Errors seasonal_errors_;
  Errors fallback_errors_;
};

}  // namespace

FitResult SeasonalNaive::fit(const FitInput& input) const {
  const Expected<InputFacts> facts = validate(input);
  if (!facts) return invalid_fit_input(facts.error());
  FitResult result;
  const SeasonLayout* layout =
      input.layout != nullptr && input.layout->periods() > 0 ? input.layout : nullptr;
  const std::size_t periods = layout != nullptr ? std::min(layout->periods(), max_periods_) : 0;
  auto fitted = std::make_unique<FittedSeasonalNaive>(layout, periods);
  for (double y : input.y) fitted->update(y);
  if (facts->observed == 0) {
    result.status = FitStatus::too_short;
    result.message = "no valid sample in the history";
    return result;
  }
  if (periods > 0 && input.y.size() < layout->slots[periods - 1]) {
    result.message = "history (" + std::to_string(input.y.size()) +
                     " samples) is shorter than the longest season (" +
                     std::to_string(layout->slots[periods - 1]) +
                     " slots): unseen slots use a shorter season or the last value";
  }
  result.status = FitStatus::ok;
  result.fitted = std::move(fitted);
  return result;
}

}  // namespace prescale::forecast
