#include "prescale/forecast/backtest.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "prescale/forecast/metrics.hpp"

namespace prescale::forecast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

FitInput prefix(const FitInput& input, std::size_t count) {
  FitInput part = input;
  part.y = input.y.first(count);
  return part;
}

// Running sums of one model's scores over the origins.
struct Scores {
  double mase_sum = 0, smape_sum = 0;
  std::size_t mase_count = 0, smape_count = 0;
  std::size_t inside = 0, covered = 0;

  void add(std::span<const double> actual, const Forecast& forecast, double scale, double q) {
    const double m = mase(actual, forecast.mean, scale);
    if (!std::isnan(m)) {
      mase_sum += m;
      ++mase_count;
    }
    const double s = smape(actual, forecast.mean);
    if (!std::isnan(s)) {
      smape_sum += s;
      ++smape_count;
    }
    const double p = std::max(q, 1 - q);
    for (std::size_t h = 0; h < actual.size() && h < forecast.size(); ++h) {
      const double lower = forecast.quantile(h, 1 - p);
      const double upper = forecast.quantile(h, p);
      if (std::isnan(actual[h]) || std::isnan(lower) || std::isnan(upper)) continue;
      inside += (actual[h] >= lower && actual[h] <= upper) ? 1 : 0;
      ++covered;
    }
  }
};

// The raw material of interval calibration: each finite error with its sigma.
void collect_errors(std::span<const double> actual, std::size_t origin, const Forecast& forecast,
                    std::vector<BacktestError>& errors) {
  for (std::size_t h = 0; h < actual.size() && h < forecast.size(); ++h) {
    const double error = actual[h] - forecast.mean[h];
    if (std::isfinite(error) && h < forecast.sigma.size() && std::isfinite(forecast.sigma[h])) {
      errors.push_back({h, origin + h, error, forecast.sigma[h]});
    }
  }
}

}  // namespace

std::vector<std::size_t> backtest_origins(std::size_t n, const SeasonLayout* layout,
                                          const BacktestOptions& options) {
  std::vector<std::size_t> origins;
  if (options.horizon == 0 || options.origins == 0 || n <= options.horizon) return origins;
  const bool seasonal = layout != nullptr && layout->periods() > 0;
  const std::size_t shortest = seasonal ? layout->slots.front() : 0;
  const std::size_t longest = seasonal ? layout->slots.back() : 0;
  const std::size_t last = n - options.horizon;
  // Two cycles of the longest season before the first origin when the
  // history allows (the models then keep every season in the backtest).
  std::size_t min_training = options.min_training;
  if (min_training == 0) {
    min_training = !seasonal ? 2 * options.horizon : (last >= 2 * longest ? 2 * longest : 2 * shortest);
  }
  std::size_t spacing = options.origin_spacing;
  if (spacing == 0) {
    // Origins spread over the longest season see every time of day and
    // week, not one afternoon: a steadier ranking for the same count.
    spacing = std::max(options.horizon, (longest + options.origins - 1) / options.origins);
    if (options.origins > 1 && last > min_training &&
        last - (options.origins - 1) * std::min(spacing, last) < min_training) {
      spacing = std::max(options.horizon, (last - min_training) / (options.origins - 1));
    }
  }
  for (std::size_t k = 0; k < options.origins; ++k) {
    if (k * spacing > last) break;
    const std::size_t origin = last - k * spacing;
    if (origin < min_training || origin == 0) break;
    origins.push_back(origin);
  }
  std::reverse(origins.begin(), origins.end());
  return origins;
}

BacktestReport backtest(const FitInput& input, std::span<const Model* const> models,
                        const BacktestOptions& options, const BacktestProgress& progress) {
  BacktestReport report;
  report.horizon = options.horizon;
  report.origins = backtest_origins(input.y.size(), input.layout, options);
  // The MASE scale of each origin depends on its training window only.
  std::vector<double> scales;
  for (std::size_t origin : report.origins) {
    const std::size_t lag =
        input.layout != nullptr ? mase_lag(input.layout->slots, origin) : std::size_t{1};
    scales.push_back(seasonal_naive_scale(input.y.first(origin), lag));
  }
  for (std::size_t m = 0; m < models.size(); ++m) {
    const Model& model = *models[m];
    ModelBacktest result;
    result.model = model.name();
    Scores scores;
    double fit_seconds = 0;
    std::size_t fits = 0;
    std::unique_ptr<FittedModel> fitted;
    for (std::size_t j = 0; j < report.origins.size(); ++j) {
      const std::size_t origin = report.origins[j];
      if (!fitted || options.refit_each_origin) {
        const auto started = std::chrono::steady_clock::now();
        FitResult fit = model.fit(prefix(input, origin));
        fit_seconds += seconds_since(started);
        ++fits;
        if (fit.status != FitStatus::ok || !fit.fitted) {
          result.status = fit.status == FitStatus::ok ? FitStatus::invalid_input : fit.status;
          result.message = fit.message.empty() ? "fit failed" : fit.message;
          fitted.reset();
          break;
        }
        if (result.message.empty()) result.message = fit.message;
        fitted = std::move(fit.fitted);
        result.model = fitted->name();
      }
      while (fitted->next_index() < origin) fitted->update(input.y[fitted->next_index()]);
      const Forecast forecast = fitted->forecast(options.horizon);
      scores.add(input.y.subspan(origin, options.horizon), forecast, scales[j], options.quantile);
      collect_errors(input.y.subspan(origin, options.horizon), origin, forecast, result.errors);
      result.status = FitStatus::ok;
      ++result.origins_scored;
    }
    if (result.origins_scored == 0 && report.origins.empty()) {
      result.status = FitStatus::too_short;
      result.message = "history too short for a backtest";
    }
    result.mase = scores.mase_count ? scores.mase_sum / double(scores.mase_count) : kNaN;
    result.smape = scores.smape_count ? scores.smape_sum / double(scores.smape_count) : kNaN;
    result.coverage = scores.covered ? double(scores.inside) / double(scores.covered) : kNaN;
    result.fit_seconds_mean = fits ? fit_seconds / double(fits) : kNaN;
    if (result.status != FitStatus::ok) {
      result.mase = result.smape = result.coverage = kNaN;
      result.origins_scored = 0;
      result.errors.clear();
    }
    report.models.push_back(std::move(result));
    if (progress) progress(m + 1, models.size(), report.models.back().model);
  }
  return report;
}

}  // namespace prescale::forecast
