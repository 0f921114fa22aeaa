#include "prescale/forecast/combination.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "event_blend.hpp"

namespace prescale::forecast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Running sums over origins, as backtest.cpp keeps them for one model.
struct Sums {
  double mase_sum = 0, smape_sum = 0;
  std::size_t mase_count = 0, smape_count = 0;
  std::size_t inside = 0, covered = 0;

  [[nodiscard]] double mase_mean() const {
    return mase_count ? mase_sum / double(mase_count) : kNaN;
  }
  [[nodiscard]] double smape_mean() const {
    return smape_count ? smape_sum / double(smape_count) : kNaN;
  }
};

using ErrorKey = std::pair<std::size_t, std::size_t>;  // (index, step): one origin's lead step

// The mean or median of values (reordered).
double aggregate_of(std::vector<double>& values, Aggregate aggregate) {
  if (values.empty()) return kNaN;
  if (aggregate == Aggregate::mean) {
    double sum = 0;
    for (double v : values) sum += v;
    return sum / double(values.size());
  }
  const std::size_t half = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(half),
                   values.end());
  const double upper = values[half];
  if (values.size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(half));
  return 0.5 * (lower + upper);
}

// The standard deviation of values (0 for fewer than two).
double standard_deviation(const std::vector<double>& values) {
  if (values.size() < 2) return 0;
  double mean = 0;
  for (double v : values) mean += v;
  mean /= double(values.size());
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / double(values.size()));
}

// The members' errors combined (mean or median, and the same of their
// sigmas) where every member has one, in the first member's order (origin
// by origin, lead step ascending). At one origin and step the actual is the
// same, so the median of the errors is the error of the median forecast,
// and the spread of the errors is the spread of the members' forecasts.
std::vector<BacktestError> combined_errors(
    const std::vector<const std::vector<BacktestError>*>& lists, Aggregate aggregate) {
  std::vector<BacktestError> combined;
  if (lists.empty()) return combined;
  std::vector<std::map<ErrorKey, const BacktestError*>> others(lists.size());
  for (std::size_t m = 1; m < lists.size(); ++m) {
    for (const BacktestError& e : *lists[m]) others[m].emplace(ErrorKey{e.index, e.step}, &e);
  }
  std::vector<double> errors, sigmas;
  for (const BacktestError& first : *lists[0]) {
    errors.assign(1, first.error);
    sigmas.assign(1, first.sigma);
    bool everywhere = true;
    for (std::size_t m = 1; m < lists.size() && everywhere; ++m) {
      const auto found = others[m].find({first.index, first.step});
      everywhere = found != others[m].end();
      if (!everywhere) break;
      errors.push_back(found->second->error);
      sigmas.push_back(found->second->sigma);
    }
    if (!everywhere) continue;
    const double spread = standard_deviation(errors);
    combined.push_back({first.step, first.index, aggregate_of(errors, aggregate),
                        aggregate_of(sigmas, aggregate), spread});
  }
  return combined;
}

// The scored errors (lead steps < horizon) of each origin.
std::map<std::size_t, std::vector<const BacktestError*>> errors_by_origin(
    const std::vector<BacktestError>& errors, std::size_t horizon) {
  std::map<std::size_t, std::vector<const BacktestError*>> by_origin;
  for (const BacktestError& e : errors) {
    if (e.step < horizon && e.index >= e.step) by_origin[e.index - e.step].push_back(&e);
  }
  return by_origin;
}

// MASE of one origin from its mean absolute error, as metrics.cpp scales it.
double origin_mase(double mae, double scale) {
  return std::isnan(scale) ? kNaN : scale == 0 ? (mae == 0 ? 0.0 : kNaN) : mae / scale;
}

// Scores `errors` at `origins` (lead steps < horizon) into `sums`: per-origin
// MASE and sMAPE as metrics.cpp computes them, coverage of [q_(1-p), q_p].
void score(const std::vector<BacktestError>& errors, std::span<const std::size_t> origins,
           std::span<const double> scales, std::span<const double> y, std::size_t horizon, double z,
           Sums& sums) {
  const auto by_origin = errors_by_origin(errors, horizon);
  for (std::size_t j = 0; j < origins.size() && j < scales.size(); ++j) {
    const auto found = by_origin.find(origins[j]);
    if (found == by_origin.end()) continue;
    double absolute = 0, smape = 0;
    for (const BacktestError* e : found->second) {
      absolute += std::abs(e->error);
      const double actual = e->index < y.size() ? y[e->index] : kNaN;
      const double predicted = actual - e->error;
      const double denominator = std::abs(actual) + std::abs(predicted);
      smape += denominator == 0 ? 0.0 : 200.0 * std::abs(e->error) / denominator;
      if (std::isfinite(e->sigma)) {
        sums.inside += (e->error >= -z * e->sigma && e->error <= z * e->sigma) ? 1 : 0;
        ++sums.covered;
      }
    }
    const auto count = found->second.size();
    const double mae = absolute / double(count);
    const double m = origin_mase(mae, scales[j]);
    if (!std::isnan(m)) {
      sums.mase_sum += m;
      ++sums.mase_count;
    }
    if (!std::isnan(smape)) {
      sums.smape_sum += smape / double(count);
      ++sums.smape_count;
    }
  }
}

}  // namespace

std::string combination_name(std::span<const std::string> member_names, Aggregate aggregate) {
  std::string name = aggregate == Aggregate::mean ? "combination(" : "median(";
  for (std::size_t i = 0; i < member_names.size(); ++i) {
    if (i > 0) name += '+';
    name += member_names[i];
  }
  name += ')';
  return name;
}

CombinedFitted::CombinedFitted(std::vector<std::unique_ptr<FittedModel>> members,
                               Aggregate aggregate)
    : members_(std::move(members)), aggregate_(aggregate) {
  members_.erase(std::remove(members_.begin(), members_.end(), nullptr), members_.end());
}

std::string CombinedFitted::name() const {
  std::vector<std::string> names;
  for (const auto& m : members_) names.push_back(m->name());
  return combination_name(names, aggregate_);
}

std::map<std::string, double> CombinedFitted::parameters() const {
  std::map<std::string, double> out;
  for (const auto& m : members_) {
    const std::string prefix = m->name() + ".";
    for (const auto& [key, value] : m->parameters()) out[prefix + key] = value;
  }
  return out;
}

std::size_t CombinedFitted::next_index() const {
  return members_.empty() ? 0 : members_.front()->next_index();
}

void CombinedFitted::update(double y) {
  for (auto& m : members_) m->update(y);
}

Forecast CombinedFitted::forecast(std::size_t horizon) const {
  Forecast out;
  if (members_.empty()) {
    out.mean.assign(horizon, kNaN);
    out.sigma.assign(horizon, kNaN);
    return out;
  }
  std::vector<Forecast> parts;
  bool asymmetric = false;
  for (const auto& m : members_) {
    parts.push_back(m->forecast(horizon));
    asymmetric |= !parts.back().sigma_lower.empty();
  }
  auto at = [](const std::vector<double>& v, std::size_t h) { return h < v.size() ? v[h] : kNaN; };
  out.mean.assign(horizon, 0.0);
  out.sigma.assign(horizon, 0.0);
  out.spread.assign(horizon, 0.0);
  if (asymmetric) out.sigma_lower.assign(horizon, 0.0);
  std::vector<double> values;
  auto combine = [&](std::size_t h, auto&& pick) {
    values.clear();
    for (const Forecast& part : parts) values.push_back(pick(part, h));
    return aggregate_of(values, aggregate_);
  };
  for (std::size_t h = 0; h < horizon; ++h) {
    values.clear();
    for (const Forecast& part : parts) values.push_back(at(part.mean, h));
    out.spread[h] = standard_deviation(values);
    out.mean[h] = combine(h, [&](const Forecast& f, std::size_t k) { return at(f.mean, k); });
    out.sigma[h] = combine(h, [&](const Forecast& f, std::size_t k) { return at(f.sigma, k); });
    if (asymmetric)
      out.sigma_lower[h] = combine(h, [&](const Forecast& f, std::size_t k) {
        return at(f.sigma_lower.empty() ? f.sigma : f.sigma_lower, k);
      });
  }
  return out;
}

double CombinedFitted::residual_variance() const {
  if (members_.empty()) return kNaN;
  double sd = 0;
  for (const auto& m : members_) sd += std::sqrt(std::max(0.0, m->residual_variance()));
  sd /= double(members_.size());
  return sd * sd;
}

std::unique_ptr<FittedModel> CombinedFitted::clone() const {
  std::vector<std::unique_ptr<FittedModel>> copies;
  for (const auto& m : members_) copies.push_back(m->clone());
  return std::make_unique<CombinedFitted>(std::move(copies), aggregate_);
}

CombinedModel::CombinedModel(std::vector<const Model*> members,
                             std::vector<std::map<std::string, double>> hints, Aggregate aggregate)
    : members_(std::move(members)), hints_(std::move(hints)), aggregate_(aggregate) {
  if (hints_.size() != members_.size()) hints_.clear();
  for (std::size_t i = members_.size(); i-- > 0;) {
    if (members_[i] != nullptr) continue;
    members_.erase(members_.begin() + static_cast<std::ptrdiff_t>(i));
    if (!hints_.empty()) hints_.erase(hints_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

std::string CombinedModel::name() const {
  std::vector<std::string> names;
  for (const Model* m : members_) names.push_back(m->name());
  return combination_name(names, aggregate_);
}

FitResult CombinedModel::fit(const FitInput& input) const {
  FitResult result;
  if (members_.empty()) {
    result.status = FitStatus::invalid_input;
    result.message = "a combination needs at least one model";
    return result;
  }
  std::vector<std::unique_ptr<FittedModel>> fitted;
  std::string messages;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const Model* member = members_[i];
    FitInput own = input;
    own.warm_start = input.warm_start != nullptr && i < hints_.size() && !hints_[i].empty()
                         ? &hints_[i]
                         : nullptr;
    FitResult part = member->fit(own);
    if (part.status != FitStatus::ok || !part.fitted) {
      result.status = part.status == FitStatus::ok ? FitStatus::invalid_input : part.status;
      result.message =
          member->name() + " in " + name() + ": " +
          (part.message.empty() ? std::string(to_string(result.status)) : part.message);
      return result;
    }
    if (!part.message.empty()) messages += (messages.empty() ? "" : "; ") + part.message;
    fitted.push_back(std::move(part.fitted));
  }
  result.status = FitStatus::ok;
  result.message = std::move(messages);
  result.fitted = std::make_unique<CombinedFitted>(std::move(fitted), aggregate_);
  return result;
}

ModelBacktest combine_backtests(const BacktestReport& report, std::span<const std::size_t> members,
                                std::span<const double> y, const BacktestOptions& options,
                                Aggregate aggregate) {
  ModelBacktest out;
  out.mase = out.event_mase = out.smape = out.coverage = out.fit_seconds_mean = kNaN;
  std::vector<std::string> names;
  std::vector<const std::vector<BacktestError>*> rolling, events;
  double fit_seconds = 0;
  for (std::size_t index : members) {
    if (index >= report.models.size()) {
      out.status = FitStatus::invalid_input;
      out.message = "no such model in the backtest";
      return out;
    }
    const ModelBacktest& m = report.models[index];
    names.push_back(m.model);
    if (m.status != FitStatus::ok) {
      out.model = m.model;
      out.status = m.status;
      out.message = m.model + " failed in the backtest";
      return out;
    }
    rolling.push_back(&m.errors);
    events.push_back(&m.event_errors);
    fit_seconds += m.fit_seconds_mean;
    for (const auto& [key, value] : m.origin_parameters)
      out.origin_parameters[m.model + "." + key] = value;
  }
  out.model = combination_name(names, aggregate);
  if (members.empty()) {
    out.status = FitStatus::invalid_input;
    out.message = "a combination needs at least one model";
    return out;
  }
  out.status = FitStatus::ok;
  out.fit_seconds_mean = fit_seconds;
  out.origins_scored = report.models[members.front()].origins_scored;
  out.errors = combined_errors(rolling, aggregate);
  out.event_errors = combined_errors(events, aggregate);

  const double p = std::max(options.quantile, 1 - options.quantile);
  const double z = normal_quantile(p);
  Sums sums;
  score(out.errors, report.origins, report.origin_scales, y, options.horizon, z, sums);
  out.mase = sums.mase_mean();
  out.smape = sums.smape_mean();
  out.coverage = sums.covered ? double(sums.inside) / double(sums.covered) : kNaN;
  if (report.event_origins.empty()) return out;
  // Blended as backtest.cpp's blend_event_scores does.
  Sums event;
  score(out.event_errors, report.event_origins, report.event_scales, y, options.horizon, z, event);
  auto blend = [&options](double rolling_mean, double event_mean) {
    return blend_event_score(rolling_mean, event_mean, options.event_weight);
  };
  out.event_mase = event.mase_mean();
  out.mase = blend(out.mase, out.event_mase);
  out.smape = blend(out.smape, event.smape_mean());
  const std::size_t inside = sums.inside + event.inside, covered = sums.covered + event.covered;
  out.coverage = covered ? double(inside) / double(covered) : kNaN;
  return out;
}

}  // namespace prescale::forecast
