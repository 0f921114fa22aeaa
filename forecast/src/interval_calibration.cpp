#include "prescale/forecast/interval_calibration.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace prescale::forecast {
namespace {

constexpr std::size_t kNoFold = static_cast<std::size_t>(-1);
// Folds of origins held out in turn (a backtest's usual 4 to 16 origins:
// each its own fold, or two together).
constexpr std::size_t kFolds = 8;
// Errors beyond the tail quantile a pool should hold (4: p 0.9 pools 40,
// p 0.975 pools 160).
constexpr double kTailErrors = 4.0;
// How closely a combination's band follows its members' disagreement (a
// in the header's g): 3 lets a spread five times the typical one double
// the band, and members in full agreement narrow it by a quarter. On M4
// Hourly (414 series, 95 % band) a = 3 raised coverage from 92.2 % to
// 93.1 % and lowered MSIS from 7.19 to 6.97; on the first 274 series
// a = 1 and 0.3 raised coverage about as much but MSIS too (7.17 -> 7.29,
// 7.67): a spread is itself noisy, and a band following it closely pays.
constexpr double kSpreadWeight = 3.0;

// g: the band's scale at a forecast value of this spread (1 when the spread
// or its typical size is unknown).
double spread_factor(double spread, double typical) {
  if (!(typical > 0) || !std::isfinite(spread) || spread < 0) return 1.0;
  return (kSpreadWeight + spread / typical) / (kSpreadWeight + 1);
}

std::string format_level(double q) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", q);
  return buffer;
}

// The conformal (finite-sample) upper quantile at level q: the
// ceil((n + 1) q)-th smallest of n values (the largest when that is past
// n), so that a new value is at most it with probability >= q when values
// are exchangeable (Vovk et al. 2005). Reorders `values`.
double upper_rank(std::vector<double>& values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t n = values.size();
  const auto rank = std::min(n, static_cast<std::size_t>(std::ceil((double(n) + 1) * q)));
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(rank, 1) - 1);
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

// The lower counterpart: the value a new one is at least with probability >= q.
double lower_rank(std::vector<double>& values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t n = values.size();
  const auto rank = std::min(n, static_cast<std::size_t>(std::ceil((double(n) + 1) * q)));
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(n - std::max<std::size_t>(rank, 1));
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

// The typical error size at each lead step: the mean absolute error of the
// steps around it, widened symmetrically until `least` errors are held.
// Errors at a step are alike in size across origins when the origins start
// at the same time of day (the backtest spaces them by whole seasons), so
// this follows the busy and quiet hours of the window as well as the growth
// with the lead time; 1 where every error is zero.
std::vector<double> step_scales(const std::vector<double>& sum_abs,
                                const std::vector<std::size_t>& count, std::size_t least) {
  const std::size_t horizon = sum_abs.size();
  std::vector<double> scale(horizon, 1.0);
  for (std::size_t h = 0; h < horizon; ++h) {
    double sum = sum_abs[h];
    std::size_t n = count[h];
    for (std::size_t d = 1; n < least && (d <= h || h + d < horizon); ++d) {
      if (d <= h) sum += sum_abs[h - d], n += count[h - d];
      if (h + d < horizon) sum += sum_abs[h + d], n += count[h + d];
    }
    if (n > 0 && sum > 0) scale[h] = sum / double(n);
  }
  return scale;
}

/// A tail's level: the conformal rank at q, moved `widen` times its size
/// further out (1: the rank itself).
struct TailLevel {
  double q;
  double widen;
  /// The bound of `pooled` (reordered) on side +1 (upper) or -1 (lower).
  [[nodiscard]] double bound(std::vector<double>& pooled, int side) const {
    const double at = side > 0 ? upper_rank(pooled, q) : lower_rank(pooled, q);
    return at + side * (widen - 1) * std::abs(at);
  }
};

/// Backtest errors by lead step, each with its origin.
class OriginErrors {
 public:
  explicit OriginErrors(std::size_t horizon) : by_step_(horizon) {}
  void add(std::size_t step, std::size_t origin, double error) {
    by_step_[step].push_back({origin, error});
  }

  /// Splits the origins into folds and measures each step's error size
  /// (step_scales, from at least `least` errors) from every fold and
  /// without each fold in turn. Call after the last add().
  void prepare(std::size_t least) {
    assign_folds();
    const std::size_t horizon = by_step_.size();
    std::vector<double> sum_abs(horizon * (folds_ + 1), 0.0);
    std::vector<std::size_t> count(horizon * (folds_ + 1), 0);
    for (std::size_t h = 0; h < horizon; ++h)
      for (const Entry& e : by_step_[h]) {
        sum_abs[e.fold * horizon + h] += std::abs(e.error);
        ++count[e.fold * horizon + h];
        sum_abs[folds_ * horizon + h] += std::abs(e.error);
        ++count[folds_ * horizon + h];
      }
    scales_.assign(folds_ + 1, {});
    std::vector<double> fold_sum(horizon);
    std::vector<std::size_t> fold_count(horizon);
    for (std::size_t f = 0; f <= folds_; ++f) {
      for (std::size_t h = 0; h < horizon; ++h) {
        const std::size_t all = folds_ * horizon + h, own = f * horizon + h;
        fold_sum[h] = f == folds_ ? sum_abs[all] : sum_abs[all] - sum_abs[own];
        fold_count[h] = f == folds_ ? count[all] : count[all] - count[own];
      }
      scales_[f] = step_scales(fold_sum, fold_count, least);
    }
  }

  /// Each step's error size, from every fold but `without` (kNoFold: all).
  [[nodiscard]] const std::vector<double>& scales(std::size_t without) const {
    return scales_[without == kNoFold ? folds_ : without];
  }

  /// The errors of lead step h in units of their step's size (scales()),
  /// widened symmetrically to the nearest steps until `pool` are held,
  /// leaving out fold `without` (kNoFold: none).
  void pool(std::size_t h, std::size_t pool, std::size_t without, std::vector<double>& out) const {
    out.clear();
    const std::size_t horizon = by_step_.size();
    append(h, without, out);
    for (std::size_t d = 1; out.size() < pool && (d <= h || h + d < horizon); ++d) {
      if (d <= h) append(h - d, without, out);
      if (h + d < horizon) append(h + d, without, out);
    }
  }

  /// The lowest level q >= p (of a few, up to the largest error) at which
  /// the tail's bound, computed without one fold of origins, holds that
  /// fold's errors p of the time, every fold held out in turn (each origin
  /// its own fold when there are at most kFolds). Forecast errors are alike
  /// within an origin and drift between origins (a calm week, a stormy one),
  /// so the errors of some windows understate those of the next; holding
  /// whole origins out measures by how much (cross-conformal, Vovk 2015).
  /// When even the largest error of the other folds leaves a held-out fold
  /// uncovered, the bound is widened beyond it (x1.25, x1.5, x2) until the
  /// folds are covered: a pool of a few windows cannot show a tail larger
  /// than its largest error, but the held-out folds show when the next
  /// window's is. side +1: upper tail, -1: lower.
  [[nodiscard]] TailLevel held_out_level(double p, std::size_t pool_size, int side) const {
    if (folds_ < 3) return {p, 1.0};
    const double top = p + (1 - p) * 0.95;
    const TailLevel levels[] = {{p, 1.0},
                                {p + (1 - p) * 0.2, 1.0},
                                {p + (1 - p) * 0.4, 1.0},
                                {p + (1 - p) * 0.6, 1.0},
                                {p + (1 - p) * 0.8, 1.0},
                                {top, 1.0},
                                {top, 1.25},
                                {top, 1.5},
                                {top, 2.0}};
    std::vector<double> pooled;
    for (const TailLevel& level : levels) {
      std::size_t held = 0, total = 0;
      for (std::size_t fold = 0; fold < folds_; ++fold) {
        for (std::size_t h = 0; h < by_step_.size(); ++h) {
          pool(h, pool_size, fold, pooled);
          if (pooled.empty()) continue;
          const double bound = scales(fold)[h] * level.bound(pooled, side);
          for (const Entry& e : by_step_[h]) {
            if (e.fold != fold) continue;
            ++total;
            held += side > 0 ? (e.error <= bound ? 1 : 0) : (e.error >= bound ? 1 : 0);
          }
        }
      }
      if (total == 0 || double(held) >= p * double(total)) return level;
    }
    return levels[std::size(levels) - 1];
  }

 private:
  struct Entry {
    std::size_t origin;
    double error;
    std::size_t fold = 0;
  };

  // Consecutive origins share a fold; at most kFolds folds.
  void assign_folds() {
    std::vector<std::size_t> origins;
    for (const auto& step : by_step_)
      for (const Entry& e : step) origins.push_back(e.origin);
    std::sort(origins.begin(), origins.end());
    origins.erase(std::unique(origins.begin(), origins.end()), origins.end());
    folds_ = std::min(origins.size(), kFolds);
    for (auto& step : by_step_)
      for (Entry& e : step) {
        const auto rank = static_cast<std::size_t>(
            std::lower_bound(origins.begin(), origins.end(), e.origin) - origins.begin());
        e.fold = rank * folds_ / origins.size();
      }
  }

  void append(std::size_t step, std::size_t without, std::vector<double>& out) const {
    const double scale = scales(without)[step];
    for (const Entry& e : by_step_[step])
      if (e.fold != without) out.push_back(e.error / scale);
  }

  std::vector<std::vector<Entry>> by_step_;
  std::size_t folds_ = 0;
  std::vector<std::vector<double>> scales_;  ///< per fold left out, then with every fold
};

std::string format_number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g", x);
  return buffer;
}

std::string format_scale(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", x);
  return buffer;
}

// The wrapper every consumer sees: the model, with calibrated forecasts.
class CalibratedModel final : public FittedModel {
 public:
  CalibratedModel(std::unique_ptr<FittedModel> model, IntervalCalibration calibration,
                  EventRowTest is_event)
      : model_(std::move(model)),
        calibration_(std::move(calibration)),
        is_event_(std::move(is_event)) {}

  [[nodiscard]] std::string name() const override { return model_->name(); }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    return model_->parameters();
  }
  [[nodiscard]] std::size_t next_index() const override { return model_->next_index(); }
  void update(double y) override { model_->update(y); }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    Forecast forecast = model_->forecast(horizon);
    std::vector<std::uint8_t> event_row;
    if (is_event_) {
      const std::size_t next = model_->next_index();
      event_row.resize(forecast.mean.size());
      for (std::size_t h = 0; h < event_row.size(); ++h) event_row[h] = is_event_(next + h) ? 1 : 0;
    }
    calibration_.apply(forecast, event_row);
    return forecast;
  }
  [[nodiscard]] double residual_variance() const override { return model_->residual_variance(); }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<CalibratedModel>(model_->clone(), calibration_, is_event_);
  }

 private:
  std::unique_ptr<FittedModel> model_;
  IntervalCalibration calibration_;
  EventRowTest is_event_;
};

std::string format_percent(double share) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g %%", 100 * share);
  return buffer;
}

}  // namespace

void IntervalCalibration::apply(Forecast& forecast, std::span<const std::uint8_t> event_row) const {
  if (!calibrated()) return;
  const std::size_t n = forecast.sigma.size();
  const std::size_t last = upper.size() - 1;
  const std::vector<double> model_upper = forecast.sigma;
  const std::vector<double> model_lower =
      forecast.sigma_lower.size() == n ? forecast.sigma_lower : forecast.sigma;
  std::vector<double> lower_sigma(n);
  for (std::size_t h = 0; h < n; ++h) {
    // Past the calibrated steps the band grows as the model's own does.
    auto growth = [&](const std::vector<double>& model) {
      return h > last && model[last] > 0 ? std::max(1.0, model[h] / model[last]) : 1.0;
    };
    const std::size_t k = std::min(h, last);
    auto bounded = [&](double calibrated, double model) {
      return std::min(std::max(calibrated, min_scale * model), max_scale * model);
    };
    // A combination's band follows its members' disagreement at this step.
    const double g = k < spread_scale.size() && h < forecast.spread.size()
                         ? spread_factor(forecast.spread[h], spread_scale[k])
                         : 1.0;
    forecast.sigma[h] = bounded(g * upper[k] * growth(model_upper), model_upper[h]);
    lower_sigma[h] = bounded(g * lower[k] * growth(model_lower), model_lower[h]);
    if (h >= event_row.size() || event_row[h] == 0) continue;
    // Event rows: never narrower than ordinary hours; their own calibration
    // when there was one, else the model's sigma (widened for events); and
    // never below the spread of past occurrences (event_floor).
    const double mean = std::max(0.0, forecast.mean[h]);
    const double floor = std::isfinite(event_floor) ? event_floor * mean : 0.0;
    if (std::isfinite(event_upper)) {
      forecast.sigma[h] = std::max({forecast.sigma[h], event_upper * mean, floor});
      lower_sigma[h] = std::max({lower_sigma[h], event_lower * mean, floor});
    } else {
      forecast.sigma[h] = std::max({forecast.sigma[h], model_upper[h], floor});
      lower_sigma[h] = std::max({lower_sigma[h], model_lower[h], floor});
    }
  }
  forecast.sigma_lower = std::move(lower_sigma);
}

namespace {

/// The typical spread of a combination's members at each lead step of the
/// backtest (pooled with neighbouring steps as the error sizes are), or none
/// when the errors carry no spread (a single model).
std::vector<double> member_spread_scales(std::span<const BacktestError> errors, std::size_t horizon,
                                         std::size_t pool) {
  std::vector<double> spread_sum(horizon, 0.0);
  std::vector<std::size_t> spread_count(horizon, 0);
  bool spread = false;
  for (const BacktestError& e : errors) {
    if (e.step >= horizon || !std::isfinite(e.error) || !std::isfinite(e.spread)) continue;
    spread_sum[e.step] += e.spread;
    ++spread_count[e.step];
    spread = spread || e.spread > 0;
  }
  if (!spread) return {};
  return step_scales(spread_sum, spread_count, pool);
}

}  // namespace

IntervalCalibration calibrate_intervals(std::span<const BacktestError> errors, std::size_t horizon,
                                        const CalibrationOptions& options) {
  IntervalCalibration out;
  // Each step's typical error size, then the errors in units of it by lead
  // step with their origin: pooled with their neighbours' (the tails need
  // more errors than one step holds), a busy hour's errors are no longer
  // averaged with a quiet one's, and each step's band is its size times
  // the pooled quantile (normalised conformal prediction, Lei et al. 2018).
  // The held-out check below measures each size without the fold it tests.
  // A combination's errors are first divided by the factor their members'
  // spread gives (spread_factor), which apply() multiplies back at forecast
  // time with the forecast's own spread.
  out.spread_scale = member_spread_scales(errors, horizon, options.pool);
  const bool spread = !out.spread_scale.empty();
  OriginErrors by_step(horizon);
  for (const BacktestError& e : errors) {
    if (e.step >= horizon || !std::isfinite(e.error)) continue;
    const double g = spread ? spread_factor(e.spread, out.spread_scale[e.step]) : 1.0;
    by_step.add(e.step, e.index - e.step, e.error / g);
    ++out.errors;
  }
  const double p = std::max(options.quantile, 1 - options.quantile);
  const bool usable_p = p > 0.5 && p < 1;
  if (!usable_p || out.errors < std::max<std::size_t>(options.min_errors, 2)) {
    out.spread_scale.clear();
    out.why = !usable_p ? "interval: the model's sigma (no tail quantile to calibrate at a median)"
                        : "interval: the model's sigma (" + std::to_string(out.errors) +
                              " backtest errors, fewer than the " +
                              std::to_string(options.min_errors) + " a calibration needs)";
    return out;
  }
  const double z_upper = normal_quantile(p);
  // A tail quantile needs a few errors beyond it: pools grow with the tail.
  const std::size_t pool =
      std::max({options.pool, options.min_errors,
                static_cast<std::size_t>(std::ceil(kTailErrors / (1 - p) - 1e-9))});
  by_step.prepare(options.pool);
  const std::vector<double>& scale = by_step.scales(kNoFold);
  const TailLevel level_up = by_step.held_out_level(p, pool, +1);
  const TailLevel level_down = by_step.held_out_level(p, pool, -1);
  out.min_scale = options.min_scale;
  out.max_scale = options.max_scale;
  double upper_min = 1e300, upper_max = 0, lower_min = 1e300, lower_max = 0;
  std::vector<double> pooled;
  for (std::size_t h = 0; h < horizon; ++h) {
    by_step.pool(h, pool, kNoFold, pooled);
    // The tail's error quantile as the sigma that puts mean + z_p sigma there
    // (never below zero: a bias larger than the tail leaves the band at the mean).
    const double up = std::max(0.0, scale[h] * level_up.bound(pooled, +1) / z_upper);
    const double down = std::max(0.0, -scale[h] * level_down.bound(pooled, -1) / z_upper);
    out.upper.push_back(up);
    out.lower.push_back(down);
    upper_min = std::min(upper_min, up);
    upper_max = std::max(upper_max, up);
    lower_min = std::min(lower_min, down);
    lower_max = std::max(lower_max, down);
  }
  // One number when both ends print alike (they may differ in the last bits).
  auto range = [](double lo, double hi) {
    const std::string from = format_number(lo), to = format_number(hi);
    return from == to ? from : from + "-" + to;
  };
  out.why = "interval calibrated from " + std::to_string(out.errors) + " backtest errors: sigma " +
            range(upper_min, upper_max) + " above the mean, " + range(lower_min, lower_max) +
            " below (q" + format_scale(p) + " of the errors";
  auto level = [](const TailLevel& l, double q) {
    return "q" + format_level(q) + (l.widen > 1 ? " x" + format_level(l.widen) : "");
  };
  if (level_up.q > p || level_down.q > p)
    out.why += ", at " + level(level_up, level_up.q) + " / " + level(level_down, 1 - level_down.q) +
               " to cover q" + format_scale(p) + " of each held-out origin";
  out.why += ")";
  if (spread) {
    const auto [low, high] = std::minmax_element(out.spread_scale.begin(), out.spread_scale.end());
    out.why += ", scaled by the members' disagreement at each step (typical spread " +
               range(*low, *high) + ")";
  }
  return out;
}

void calibrate_event_rows(IntervalCalibration& calibration,
                          std::span<const BacktestError> event_errors, std::span<const double> y,
                          const EventRowTest& is_event, const CalibrationOptions& options,
                          double occurrence_spread) {
  if (!calibration.calibrated() || !is_event) return;
  // Relative errors on past event rows, each occurrence (event origin) a fold.
  OriginErrors relative(1);
  calibration.event_errors = 0;
  for (const BacktestError& e : event_errors) {
    if (e.index >= y.size() || !std::isfinite(e.error) || !is_event(e.index)) continue;
    const double mean = y[e.index] - e.error;
    if (!(mean > 0)) continue;
    relative.add(0, e.index - e.step, e.error / mean);
    ++calibration.event_errors;
  }
  const std::size_t needed = std::max<std::size_t>(options.min_event_errors, 2);
  const bool floor = std::isfinite(occurrence_spread) && occurrence_spread > 0;
  if (floor) calibration.event_floor = occurrence_spread;
  const std::string at_least =
      floor ? ", at least " + format_percent(occurrence_spread) +
                  " of the forecast (the spread of past occurrences around the others)"
            : std::string();
  if (calibration.event_errors < needed) {
    if (calibration.event_errors > 0 || floor)
      calibration.why += "; event rows: the wider of the model's sigma and this" + at_least + " (" +
                         std::to_string(calibration.event_errors) +
                         " backtest errors on past event rows, fewer than the " +
                         std::to_string(needed) + " their own calibration needs)";
    return;
  }
  const double p = std::max(options.quantile, 1 - options.quantile);
  if (!(p > 0.5 && p < 1)) return;
  const double z = normal_quantile(p);
  const std::size_t all = calibration.event_errors;
  relative.prepare(all);
  const double size = relative.scales(kNoFold)[0];
  const TailLevel level_up = relative.held_out_level(p, all, +1);
  const TailLevel level_down = relative.held_out_level(p, all, -1);
  std::vector<double> pooled;
  relative.pool(0, all, kNoFold, pooled);
  calibration.event_upper = std::max(0.0, size * level_up.bound(pooled, +1) / z);
  calibration.event_lower = std::max(0.0, -size * level_down.bound(pooled, -1) / z);
  calibration.why += "; event rows from " + std::to_string(all) +
                     " backtest errors on past event rows: sigma " +
                     format_percent(calibration.event_upper) + " of the forecast above, " +
                     format_percent(calibration.event_lower) + " below (q" + format_scale(p) +
                     " of the relative errors";
  auto level = [](const TailLevel& l, double q) {
    return "q" + format_level(q) + (l.widen > 1 ? " x" + format_level(l.widen) : "");
  };
  if (level_up.q > p || level_down.q > p)
    calibration.why += ", at " + level(level_up, level_up.q) + " / " +
                       level(level_down, 1 - level_down.q) + " to cover each held-out occurrence";
  calibration.why += "; never below the ordinary hours')" + at_least;
}

std::unique_ptr<FittedModel> with_calibrated_intervals(std::unique_ptr<FittedModel> model,
                                                       IntervalCalibration calibration,
                                                       EventRowTest is_event) {
  if (!model || !calibration.calibrated()) return model;
  return std::make_unique<CalibratedModel>(std::move(model), std::move(calibration),
                                           std::move(is_event));
}

}  // namespace prescale::forecast
