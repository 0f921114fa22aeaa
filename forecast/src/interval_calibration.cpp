#include "prescale/forecast/interval_calibration.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace prescale::forecast {
namespace {

// Type-7 (linear between order statistics) quantile; reorders `values`
// (selection, not a sort: one pass per quantile).
double select_quantile(std::vector<double>& values, double p) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double position = p * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const double fraction = position - static_cast<double>(below);
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(below);
  std::nth_element(values.begin(), at, values.end());
  const double low = *at;
  // The next order statistic is the smallest of those after `below`.
  const double high = below + 1 < values.size() ? *std::min_element(at + 1, values.end()) : low;
  return low + fraction * (high - low);
}

std::string format_scale(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", x);
  return buffer;
}

// The wrapper every consumer sees: the model, with calibrated forecasts.
class CalibratedModel final : public FittedModel {
 public:
  CalibratedModel(std::unique_ptr<FittedModel> model, IntervalCalibration calibration)
      : model_(std::move(model)), calibration_(std::move(calibration)) {}

  [[nodiscard]] std::string name() const override { return model_->name(); }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    return model_->parameters();
  }
  [[nodiscard]] std::size_t next_index() const override { return model_->next_index(); }
  void update(double y) override { model_->update(y); }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    Forecast forecast = model_->forecast(horizon);
    calibration_.apply(forecast);
    return forecast;
  }
  [[nodiscard]] double residual_variance() const override { return model_->residual_variance(); }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<CalibratedModel>(model_->clone(), calibration_);
  }

 private:
  std::unique_ptr<FittedModel> model_;
  IntervalCalibration calibration_;
};

}  // namespace

void IntervalCalibration::apply(Forecast& forecast) const {
  if (!calibrated()) return;
  const std::size_t n = forecast.sigma.size();
  std::vector<double> lower_sigma(n);
  for (std::size_t h = 0; h < n; ++h) {
    const std::size_t k = std::min(h, upper.size() - 1);
    // The lower tail scales the model's own lower sigma when it has one.
    const double lower_base =
        h < forecast.sigma_lower.size() ? forecast.sigma_lower[h] : forecast.sigma[h];
    lower_sigma[h] = lower_base * lower[k];
    forecast.sigma[h] *= upper[k];
  }
  forecast.sigma_lower = std::move(lower_sigma);
}

IntervalCalibration calibrate_intervals(std::span<const BacktestError> errors, std::size_t horizon,
                                        const CalibrationOptions& options) {
  IntervalCalibration out;
  // z by lead step; an error whose sigma is zero (an exact fit) says nothing about scale.
  std::vector<std::vector<double>> by_step(horizon);
  for (const BacktestError& e : errors) {
    if (e.step >= horizon || !std::isfinite(e.error) || !std::isfinite(e.sigma) || !(e.sigma > 0))
      continue;
    by_step[e.step].push_back(e.error / e.sigma);
    ++out.errors;
  }
  const double p = std::max(options.quantile, 1 - options.quantile);
  const bool usable_p = p > 0.5 && p < 1;
  if (!usable_p || out.errors < std::max<std::size_t>(options.min_errors, 2)) {
    out.why = !usable_p ? "interval: the model's sigma (no tail quantile to calibrate at a median)"
                        : "interval: the model's sigma (" + std::to_string(out.errors) +
                              " backtest errors, fewer than the " +
                              std::to_string(options.min_errors) + " a calibration needs)";
    return out;
  }
  const double z_upper = normal_quantile(p);
  const std::size_t pool = std::max(options.pool, options.min_errors);
  double upper_min = 1e300, upper_max = 0, lower_min = 1e300, lower_max = 0;
  std::vector<double> pooled;
  for (std::size_t h = 0; h < horizon; ++h) {
    // Widen symmetrically around h (nearer steps first) until the pool is full.
    pooled.assign(by_step[h].begin(), by_step[h].end());
    for (std::size_t d = 1; pooled.size() < pool && (d <= h || h + d < horizon); ++d) {
      if (d <= h) pooled.insert(pooled.end(), by_step[h - d].begin(), by_step[h - d].end());
      if (h + d < horizon)
        pooled.insert(pooled.end(), by_step[h + d].begin(), by_step[h + d].end());
    }
    // Q_p(z) / z_p for the upper tail; Q_(1-p)(z) / z_(1-p), i.e. -Q_(1-p) / z_p, for the lower.
    const double up = std::max(options.min_scale, select_quantile(pooled, p) / z_upper);
    const double down = std::max(options.min_scale, -select_quantile(pooled, 1 - p) / z_upper);
    out.upper.push_back(up);
    out.lower.push_back(down);
    upper_min = std::min(upper_min, up);
    upper_max = std::max(upper_max, up);
    lower_min = std::min(lower_min, down);
    lower_max = std::max(lower_max, down);
  }
  auto range = [](double lo, double hi) {
    return lo == hi ? format_scale(lo) : format_scale(lo) + "-" + format_scale(hi);
  };
  out.why = "interval calibrated from " + std::to_string(out.errors) +
            " backtest errors: the model's sigma x " + range(upper_min, upper_max) +
            " above the mean, x " + range(lower_min, lower_max) + " below (q" + format_scale(p) +
            " of the standardised errors)";
  return out;
}

std::unique_ptr<FittedModel> with_calibrated_intervals(std::unique_ptr<FittedModel> model,
                                                       IntervalCalibration calibration) {
  if (!model || !calibration.calibrated()) return model;
  return std::make_unique<CalibratedModel>(std::move(model), std::move(calibration));
}

}  // namespace prescale::forecast
