#include "prescale/forecast/backtest.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <thread>

#include "event_blend.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/metrics.hpp"

namespace prescale::forecast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Calls work(i) for i in [0, count) on up to `threads` threads (the caller's
// included), each index once; the first exception is rethrown after all end.
void run_in_parallel(std::size_t count, std::size_t threads,
                     const std::function<void(std::size_t)>& work) {
  threads = std::min(std::max<std::size_t>(threads, 1), count);
  if (threads <= 1) {
    for (std::size_t i = 0; i < count; ++i) work(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  if (failure) std::rethrow_exception(failure);
}

FitInput prefix(const FitInput& input, std::size_t count) {
  FitInput part = input;
  part.y = input.y.first(count);
  part.warm_start =
      nullptr;  // a hint from the whole history would leak the future into the origin's fit
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

// Two cycles of the longest season before the first origin when the
// history allows (the models then keep every season in the backtest).
std::size_t training_needed(std::size_t last, const SeasonLayout* layout,
                            const BacktestOptions& options) {
  if (options.min_training != 0) return options.min_training;
  const bool seasonal = layout != nullptr && layout->periods() > 0;
  if (!seasonal) return 2 * options.horizon;
  return last >= 2 * std::size_t{layout->slots.back()} ? 2 * std::size_t{layout->slots.back()}
                                                       : 2 * std::size_t{layout->slots.front()};
}

// A run of history rows whose calendar columns are unusual for their slot.
struct Occurrence {
  std::size_t start = 0, end = 0;  // [start, end)
  std::size_t peak = 0;            // first row with the most unusual columns: the onset
  std::vector<std::size_t> keys;   // sorted ids of its unusual columns' event keys
};

/// The occurrences of a history, and the event keys of the older occurrences
/// the fit is given (FitInput::past_events), by the same ids.
struct Occurrences {
  std::vector<Occurrence> runs;
  std::vector<std::size_t> past_keys;  // sorted
};

// "<c>.<e>.<suffix>" -> "<c>.*.<suffix>": sibling events of one calendar
// (payroll-mid, payroll-end) share a key, as pool_sibling_events pools them.
std::string event_key(const std::vector<std::string>& names, std::size_t column) {
  // Built by append: gcc-12 warns (-Wrestrict, a false positive) on literal + string.
  std::string key;
  if (column >= names.size()) {
    key += '#';
    key += std::to_string(column);
    return key;
  }
  const std::string& name = names[column];
  const auto first = name.find('.');
  const auto second = first == std::string::npos ? std::string::npos : name.find('.', first + 1);
  if (second == std::string::npos) return name;
  key.append(name, 0, first);
  key += ".*.";
  key.append(name, second + 1);
  return key;
}

// Event key ids (event_key), given in first-seen order.
struct KeyIds {
  std::map<std::string, std::size_t> ids;
  std::size_t of(const std::string& key) { return ids.emplace(key, ids.size()).first->second; }
};

// The keys of the columns of the older occurrences that hold a value
// ("<c>.<e>.<suffix>" for a past event "<c>.<e>"), sorted.
std::vector<std::size_t> past_event_keys(const FitInput& input,
                                         const std::vector<Eigen::Index>& columns, KeyIds& keys) {
  std::vector<std::size_t> out;
  for (const PastEvent& past : input.past_events) {
    if (std::none_of(past.y.begin(), past.y.end(), [](double v) { return !std::isnan(v); }))
      continue;
    const std::string prefix = past.event + ".";
    for (Eigen::Index column : columns) {
      const auto c = static_cast<std::size_t>(column);
      if (c < input.regressor_names.size() && input.regressor_names[c].rfind(prefix, 0) == 0)
        out.push_back(keys.of(event_key(input.regressor_names, c)));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Occurrences calendar_occurrences(const FitInput& input) {
  Occurrences found;
  std::vector<Occurrence>& occurrences = found.runs;
  const std::size_t n = input.y.size();
  if (input.regressors == nullptr || static_cast<std::size_t>(input.regressors->rows()) < n ||
      n == 0)
    return found;
  const Eigen::MatrixXd& x = *input.regressors;
  // 0/1 columns only: a count (business days to month end) changes every day.
  std::vector<Eigen::Index> columns;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    bool indicator = true;
    for (std::size_t t = 0; t < n && indicator; ++t) {
      const double v = x(static_cast<Eigen::Index>(t), j);
      indicator = v == 0.0 || v == 1.0;
    }
    if (indicator) columns.push_back(j);
  }
  if (columns.empty()) return found;
  const std::size_t period = longest_period_with_cycles(input.layout, n, 2);
  const bool grouped = input.layout != nullptr && period < input.layout->periods();
  const std::size_t slots = grouped ? input.layout->slots[period] : 1;
  auto slot_of = [&](std::size_t t) -> std::size_t {
    return grouped ? input.layout->positions[period][t] : 0;
  };
  const std::size_t c = columns.size();
  std::vector<double> mean(slots * c, 0.0), count(slots, 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    const std::size_t s = slot_of(t);
    count[s] += 1;
    for (std::size_t k = 0; k < c; ++k)
      mean[s * c + k] += x(static_cast<Eigen::Index>(t), columns[k]);
  }
  for (std::size_t s = 0; s < slots; ++s) {
    for (std::size_t k = 0; k < c && count[s] > 0; ++k) mean[s * c + k] /= count[s];
  }
  KeyIds key_ids;
  std::vector<std::size_t> key_of(c);
  for (std::size_t k = 0; k < c; ++k)
    key_of[k] = key_ids.of(event_key(input.regressor_names, static_cast<std::size_t>(columns[k])));
  found.past_keys = past_event_keys(input, columns, key_ids);
  // Strictly more than 0.5 off the slot's usual value: with two cycles a
  // one-off event ties with the ordinary week and no side is called unusual.
  std::size_t best = 0;
  for (std::size_t t = 0; t < n; ++t) {
    const std::size_t s = slot_of(t);
    std::size_t unusual = 0;
    for (std::size_t k = 0; k < c; ++k) {
      if (std::abs(x(static_cast<Eigen::Index>(t), columns[k]) - mean[s * c + k]) <= 0.5) continue;
      if (unusual++ == 0 && (occurrences.empty() || occurrences.back().end != t)) {
        occurrences.push_back({t, t, t, {}});
        best = 0;
      }
      occurrences.back().keys.push_back(key_of[k]);
    }
    if (unusual == 0) continue;
    Occurrence& o = occurrences.back();
    o.end = t + 1;
    if (unusual > best) {
      best = unusual;
      o.peak = t;
    }
    std::sort(o.keys.begin(), o.keys.end());
    o.keys.erase(std::unique(o.keys.begin(), o.keys.end()), o.keys.end());
  }
  return found;
}

bool related(const Occurrence& a, const Occurrence& b) {
  for (std::size_t key : a.keys) {
    if (std::binary_search(b.keys.begin(), b.keys.end(), key)) return true;
  }
  return false;
}

// Event origins every model that ran could be scored at, so all models are
// compared on the same windows; then each model's MASE and sMAPE become
// (1 - weight) x rolling mean + weight x event mean, coverage is pooled.
void blend_event_scores(BacktestReport& report, const std::vector<Scores>& rolling,
                        const std::vector<std::vector<Scores>>& events, double weight) {
  std::vector<std::size_t> common;
  for (std::size_t e = 0; e < report.event_origins.size(); ++e) {
    bool everywhere = true;
    for (std::size_t m = 0; m < report.models.size() && everywhere; ++m) {
      everywhere = report.models[m].status != FitStatus::ok || events[m][e].mase_count > 0;
    }
    if (everywhere) common.push_back(e);
  }
  auto blend = [weight](double rolling_mean, double event_mean) {
    return blend_event_score(rolling_mean, event_mean, weight);
  };
  for (std::size_t m = 0; m < report.models.size(); ++m) {
    ModelBacktest& result = report.models[m];
    result.event_mase = kNaN;
    if (result.status != FitStatus::ok || common.empty()) continue;
    Scores pooled = rolling[m];
    double mase_sum = 0, smape_sum = 0;
    std::size_t mase_count = 0, smape_count = 0;
    for (std::size_t e : common) {
      const Scores& s = events[m][e];
      mase_sum += s.mase_sum;
      mase_count += s.mase_count;
      smape_sum += s.smape_sum;
      smape_count += s.smape_count;
      pooled.inside += s.inside;
      pooled.covered += s.covered;
    }
    result.event_mase = mase_count ? mase_sum / double(mase_count) : kNaN;
    result.mase = blend(result.mase, result.event_mase);
    result.smape = blend(result.smape, smape_count ? smape_sum / double(smape_count) : kNaN);
    result.coverage = pooled.covered ? double(pooled.inside) / double(pooled.covered) : kNaN;
    result.origins_scored += common.size();
  }
  // Origins not compared like for like are dropped from the report.
  std::vector<std::size_t> kept;
  std::vector<double> kept_scales;
  for (std::size_t e : common) {
    kept.push_back(report.event_origins[e]);
    kept_scales.push_back(report.event_scales[e]);
  }
  report.event_origins = std::move(kept);
  report.event_scales = std::move(kept_scales);
}

// ---- The steps of backtest(), per model.

// The MASE scale of each origin depends on its training window only.
std::vector<double> mase_scales(const FitInput& input, std::span<const std::size_t> origins) {
  std::vector<double> scales;
  for (std::size_t origin : origins) {
    const std::size_t lag =
        input.layout != nullptr ? mase_lag(input.layout->slots, origin) : std::size_t{1};
    scales.push_back(seasonal_naive_scale(input.y.first(origin), lag));
  }
  return scales;
}

/// Fits made for one model's backtest and their total duration.
struct FitTimes {
  double seconds = 0;
  std::size_t fits = 0;

  FitResult fit(const Model& model, const FitInput& input, std::size_t origin) {
    const auto started = std::chrono::steady_clock::now();
    FitResult result = model.fit(prefix(input, origin));
    seconds += seconds_since(started);
    ++fits;
    return result;
  }
};

// Rolling origins: one fit at the first (at every one with
// refit_each_origin), carried to the next with update(). A failed fit ends
// the model's backtest (result.status says why).
Scores score_rolling_origins(const Model& model, const FitInput& input,
                             const BacktestReport& report, const BacktestOptions& options,
                             ModelBacktest& result, FitTimes& times) {
  Scores scores;
  std::unique_ptr<FittedModel> fitted;
  for (std::size_t j = 0; j < report.origins.size(); ++j) {
    const std::size_t origin = report.origins[j];
    if (!fitted || options.refit_each_origin) {
      FitResult fit = times.fit(model, input, origin);
      if (fit.status != FitStatus::ok || !fit.fitted) {
        result.status = fit.status == FitStatus::ok ? FitStatus::invalid_input : fit.status;
        result.message = fit.message.empty() ? "fit failed" : fit.message;
        break;
      }
      if (result.message.empty()) result.message = fit.message;
      if (result.origin_parameters.empty()) result.origin_parameters = fit.fitted->parameters();
      fitted = std::move(fit.fitted);
      result.model = fitted->name();
    }
    while (fitted->next_index() < origin) fitted->update(input.y[fitted->next_index()]);
    const Forecast forecast = fitted->forecast(options.horizon);
    scores.add(input.y.subspan(origin, options.horizon), forecast, report.origin_scales[j],
               options.quantile);
    // Errors past the horizon need their own, longer forecast (never past the data).
    const std::size_t kept =
        std::min(std::max(options.horizon, options.error_horizon), input.y.size() - origin);
    collect_errors(input.y.subspan(origin, kept), origin,
                   kept > forecast.size() ? fitted->forecast(kept) : forecast, result.errors);
    result.status = FitStatus::ok;
    ++result.origins_scored;
  }
  return scores;
}

// Event origins: each fitted afresh on the data before it (see backtest.hpp);
// unscored where the model cannot be fitted.
void score_event_origins(const Model& model, const FitInput& input, const BacktestReport& report,
                         const BacktestOptions& options, ModelBacktest& result,
                         std::vector<Scores>& event_scores, FitTimes& times) {
  for (std::size_t e = 0; e < report.event_origins.size() && result.status == FitStatus::ok; ++e) {
    const std::size_t origin = report.event_origins[e];
    FitResult fit = times.fit(model, input, origin);
    if (fit.status != FitStatus::ok || !fit.fitted) continue;
    const Forecast forecast = fit.fitted->forecast(options.horizon);
    event_scores[e].add(input.y.subspan(origin, options.horizon), forecast, report.event_scales[e],
                        options.quantile);
    collect_errors(input.y.subspan(origin, options.horizon), origin, forecast, result.event_errors);
  }
}

// The rolling origins' means; a model that failed keeps no score.
void summarise(const Scores& scores, const FitTimes& times, bool no_origins,
               ModelBacktest& result) {
  if (result.origins_scored == 0 && no_origins) {
    result.status = FitStatus::too_short;
    result.message = "history too short for a backtest";
  }
  result.mase = scores.mase_count ? scores.mase_sum / double(scores.mase_count) : kNaN;
  result.smape = scores.smape_count ? scores.smape_sum / double(scores.smape_count) : kNaN;
  result.coverage = scores.covered ? double(scores.inside) / double(scores.covered) : kNaN;
  result.fit_seconds_mean = times.fits ? times.seconds / double(times.fits) : kNaN;
  if (result.status != FitStatus::ok) {
    result.mase = result.smape = result.coverage = kNaN;
    result.origins_scored = 0;
    result.errors.clear();
    result.event_errors.clear();
  }
}

}  // namespace

std::vector<std::size_t> event_backtest_origins(const FitInput& input,
                                                const BacktestOptions& options,
                                                bool from_past_events) {
  std::vector<std::size_t> origins;
  const std::size_t n = input.y.size();
  const std::size_t horizon = options.horizon;
  if (horizon == 0 || options.event_origins == 0 || n <= horizon) return origins;
  const Occurrences found = calendar_occurrences(input);
  const std::vector<Occurrence>& occurrences = found.runs;
  const std::size_t min_training =
      std::max<std::size_t>(1, training_needed(n - horizon, input.layout, options));
  for (std::size_t r = occurrences.size(); r-- > 0 && origins.size() < options.event_origins;) {
    const Occurrence& o = occurrences[r];
    // The whole occurrence in the window, ending with it, when the horizon
    // holds it (the forecast made `horizon` ahead of its end); else the
    // window opens a quarter-horizon before the onset, so the level at the
    // origin is an ordinary one and the onset falls inside.
    const std::size_t length = o.end - o.start;
    const std::size_t wanted = length <= horizon
                                   ? (o.end > horizon ? o.end - horizon : 0)
                                   : (o.peak > horizon / 4 ? o.peak - horizon / 4 : 0);
    const std::size_t latest = std::min(o.peak, n - horizon);
    if (latest < min_training) continue;
    const std::size_t origin = std::clamp(wanted, min_training, latest);
    if (!origins.empty() && origin + horizon > origins.back()) continue;  // windows never overlap
    bool learnable =
        from_past_events && std::any_of(o.keys.begin(), o.keys.end(), [&](std::size_t key) {
          return std::binary_search(found.past_keys.begin(), found.past_keys.end(), key);
        });
    for (std::size_t q = 0; q < r && !learnable; ++q) {
      learnable = occurrences[q].end <= origin && related(occurrences[q], o);
    }
    if (learnable) origins.push_back(origin);
  }
  std::reverse(origins.begin(), origins.end());
  return origins;
}

std::vector<std::size_t> backtest_origins(std::size_t n, const SeasonLayout* layout,
                                          const BacktestOptions& options) {
  std::vector<std::size_t> origins;
  if (options.horizon == 0 || options.origins == 0 || n <= options.horizon) return origins;
  const bool seasonal = layout != nullptr && layout->periods() > 0;
  const std::size_t longest = seasonal ? layout->slots.back() : 0;
  const std::size_t last = n - options.horizon;
  const std::size_t min_training = training_needed(last, layout, options);
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
  if (!report.origins.empty()) report.event_origins = event_backtest_origins(input, options);
  report.origin_scales = mase_scales(input, report.origins);
  report.event_scales = mase_scales(input, report.event_origins);
  // Per model: the rolling origins' running sums, and each event origin's
  // own (unscored when the model could not be fitted there).
  std::vector<Scores> rolling_scores(models.size());
  std::vector<std::vector<Scores>> event_scores(models.size(),
                                                std::vector<Scores>(report.event_origins.size()));
  // Each model writes only its own slots; models run on options.threads threads.
  std::vector<ModelBacktest> results(models.size());
  std::mutex progress_mutex;
  std::size_t done = 0;
  auto score_model = [&](std::size_t m) {
    const Model& model = *models[m];
    ModelBacktest& result = results[m];
    result.model = model.name();
    if (cancelled(options)) {
      result.status = FitStatus::cancelled;
      result.message = "cancelled";
      return;
    }
    FitTimes times;
    rolling_scores[m] = score_rolling_origins(model, input, report, options, result, times);
    score_event_origins(model, input, report, options, result, event_scores[m], times);
    summarise(rolling_scores[m], times, report.origins.empty(), result);
    if (progress) {
      std::lock_guard lock(progress_mutex);
      progress(++done, models.size(), result.model);
    }
  };
  run_in_parallel(models.size(), options.threads, score_model);
  report.models = std::move(results);
  blend_event_scores(report, rolling_scores, event_scores, options.event_weight);
  return report;
}

BacktestReport backtest_at_event_origins(const FitInput& input,
                                         std::span<const Model* const> models,
                                         const BacktestOptions& options,
                                         std::vector<std::size_t> origins) {
  BacktestReport report;
  report.horizon = options.horizon;
  report.event_origins = std::move(origins);
  report.event_scales = mase_scales(input, report.event_origins);
  const std::vector<Scores> no_rolling(models.size());
  std::vector<std::vector<Scores>> event_scores(models.size(),
                                                std::vector<Scores>(report.event_origins.size()));
  std::vector<ModelBacktest> results(models.size());
  run_in_parallel(models.size(), options.threads, [&](std::size_t m) {
    ModelBacktest& result = results[m];
    result.model = models[m]->name();
    result.status = cancelled(options) ? FitStatus::cancelled : FitStatus::ok;
    FitTimes times;
    score_event_origins(*models[m], input, report, options, result, event_scores[m], times);
    // Like a model whose rolling origins failed: not scored, not in the way
    // of the origins the others were scored at.
    if (result.status == FitStatus::ok && result.event_errors.empty()) {
      result.status = FitStatus::invalid_input;
      result.message = "could not be fitted at the event origins";
    }
  });
  report.models = std::move(results);
  blend_event_scores(report, no_rolling, event_scores, options.event_weight);
  return report;
}

}  // namespace prescale::forecast
