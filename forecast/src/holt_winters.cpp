#include "prescale/forecast/holt_winters.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "hw_core.hpp"
#include "prescale/forecast/decomposition.hpp"
#include "prescale/forecast/optimizer.hpp"

namespace prescale::forecast {
namespace {

using Ops = kernels::detail::ScalarOps<>;

std::string_view trend_code(Trend trend) {
  switch (trend) {
    case Trend::none:
      return "N";
    case Trend::additive:
      return "A";
    case Trend::damped:
      return "Ad";
  }
  return "?";
}

std::string tag(Trend trend, bool seasonal, bool multiplicative) {
  return "holt-winters(A," + std::string(trend_code(trend)) + "," +
         (seasonal ? (multiplicative ? "M" : "A") : "N");
}

/// What is actually fitted once the fallbacks are applied.
struct Shape {
  Trend trend = Trend::damped;
  bool multiplicative = false;
  std::size_t periods = 0;
  std::uint32_t slots[kMaxSeasonalPeriods] = {0, 0, 0};
};

/// Number of free smoothing parameters of a shape (the optimiser's dimension).
std::size_t parameter_count(const Shape& shape) {
  return 1 + (shape.trend != Trend::none ? 1 : 0) + (shape.trend == Trend::damped ? 1 : 0) +
         shape.periods;
}

/// Maps a point of the unit box to parameters: beta <= alpha and gamma_k <=
/// 1 - alpha keep the recursion in its usual stable region; squares give
/// resolution near zero, where slow seasonal and trend updates live.
SmoothingParameters parameters_from_box(const double* x, const Shape& shape,
                                        const HoltWintersBounds& bounds) {
  SmoothingParameters p;
  std::size_t j = 0;
  p.alpha = bounds.alpha_min + (bounds.alpha_max - bounds.alpha_min) * x[j++];
  if (shape.trend != Trend::none) {
    p.beta = p.alpha * x[j] * x[j];
    ++j;
  } else {
    p.beta = 0;
  }
  if (shape.trend == Trend::damped) {
    p.phi = bounds.phi_min + (bounds.phi_max - bounds.phi_min) * x[j++];
  } else {
    p.phi = shape.trend == Trend::additive ? 1.0 : 0.0;
  }
  for (std::size_t k = 0; k < kMaxSeasonalPeriods; ++k) {
    if (k < shape.periods) {
      p.gamma[k] = (1 - p.alpha) * x[j] * x[j];
      ++j;
    } else {
      p.gamma[k] = 0;
    }
  }
  return p;
}

/// The inverse of parameters_from_box for a warm start: the box point of
/// named parameters from an earlier fit of the same shape; empty when the
/// names do not match the shape (another trend, a dropped period).
std::vector<double> box_from_parameters(const std::map<std::string, double>& named,
                                        const Shape& shape, const HoltWintersBounds& bounds) {
  auto value = [&](const std::string& name) {
    const auto it = named.find(name);
    return it == named.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
  };
  if (named.size() != 3 + shape.periods) return {};
  auto unit = [](double v, double low, double high) {
    return high > low ? std::clamp((v - low) / (high - low), 0.0, 1.0) : 0.0;
  };
  auto root_share = [](double part, double whole) {
    return whole > 0 ? std::sqrt(std::clamp(part / whole, 0.0, 1.0)) : 0.0;
  };
  std::vector<double> x;
  const double alpha = value("alpha");
  x.push_back(unit(alpha, bounds.alpha_min, bounds.alpha_max));
  if (shape.trend != Trend::none) x.push_back(root_share(value("beta"), alpha));
  if (shape.trend == Trend::damped) x.push_back(unit(value("phi"), bounds.phi_min, bounds.phi_max));
  for (std::size_t k = 0; k < shape.periods; ++k)
    x.push_back(root_share(value("gamma" + std::to_string(k + 1)), 1 - alpha));
  for (double v : x)
    if (!std::isfinite(v)) return {};
  return x;
}

/// Forces the parameters a shape does not use to their neutral values.
SmoothingParameters normalised(SmoothingParameters p, const Shape& shape) {
  if (shape.trend == Trend::none) {
    p.beta = 0;
    p.phi = 0;
  }
  if (shape.trend == Trend::additive) p.phi = 1;
  for (std::size_t k = shape.periods; k < kMaxSeasonalPeriods; ++k) p.gamma[k] = 0;
  return p;
}

class HoltWintersFitted final : public FittedModel {
 public:
  HoltWintersFitted(const Shape& shape, const SmoothingParameters& parameters,
                    const SeasonLayout* layout, InitialState initial)
      : shape_(shape),
        parameters_(parameters),
        layout_(layout),
        level_(initial.level),
        trend_(shape.trend == Trend::none ? 0.0 : initial.trend) {
    for (std::size_t k = 0; k < shape.periods; ++k) seasonal_[k] = std::move(initial.seasonal[k]);
  }

  [[nodiscard]] std::string name() const override {
    std::string name = tag(shape_.trend, shape_.periods > 0, shape_.multiplicative);
    for (std::size_t k = 0; k < shape_.periods; ++k)
      name += (k == 0 ? ";" : ",") + std::to_string(shape_.slots[k]);
    return name + ")";
  }

  [[nodiscard]] std::map<std::string, double> parameters() const override {
    std::map<std::string, double> named{
        {"alpha", parameters_.alpha}, {"beta", parameters_.beta}, {"phi", parameters_.phi}};
    for (std::size_t k = 0; k < shape_.periods; ++k)
      named["gamma" + std::to_string(k + 1)] = parameters_.gamma[k];
    return named;
  }

  [[nodiscard]] std::size_t next_index() const override { return next_; }

  void update(double y) override {
    switch (shape_.periods) {
      case 0:
        advance<0, false>(y);
        break;
      case 1:
        shape_.multiplicative ? advance<1, true>(y) : advance<1, false>(y);
        break;
      case 2:
        shape_.multiplicative ? advance<2, true>(y) : advance<2, false>(y);
        break;
      default:
        shape_.multiplicative ? advance<3, true>(y) : advance<3, false>(y);
        break;
    }
  }

  [[nodiscard]] Forecast forecast(std::size_t horizon) const override;

  [[nodiscard]] double residual_variance() const override {
    const double dof =
        static_cast<double>(observed_) - static_cast<double>(parameter_count(shape_));
    return dof >= 1 ? sse_ / dof : (observed_ > 0 ? sse_ / static_cast<double>(observed_) : 0.0);
  }

  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<HoltWintersFitted>(*this);
  }

  [[nodiscard]] double sse() const { return sse_; }

 private:
  /// Slot of sample `index` in period k; past the layout's end, slots
  /// continue modularly (no DST information there).
  [[nodiscard]] std::uint32_t position(std::size_t k, std::size_t index) const {
    const std::vector<std::uint32_t>& positions = layout_->positions[k];
    if (index < positions.size()) return positions[index];
    if (positions.empty()) return static_cast<std::uint32_t>(index % shape_.slots[k]);
    return static_cast<std::uint32_t>((positions.back() + (index - positions.size() + 1)) %
                                      shape_.slots[k]);
  }

  /// Combined seasonal effect at `index`, in the recursion's operation order.
  [[nodiscard]] double season_at(std::size_t index) const {
    double combined = seasonal_[0][position(0, index)];
    for (std::size_t k = 1; k < shape_.periods; ++k) {
      const double s = seasonal_[k][position(k, index)];
      combined = shape_.multiplicative ? combined * s : combined + s;
    }
    return combined;
  }

  template <std::size_t K, bool Multiplicative>
  void advance(double y) {
    const double phi = parameters_.phi;
    if (std::isnan(y)) {
      kernels::detail::hw_skip<Ops>(level_, trend_, phi);
    } else {
      double* season[K > 0 ? K : 1];
      for (std::size_t k = 0; k < K; ++k) season[k] = &seasonal_[k][position(k, next_)];
      const double e = kernels::detail::hw_step<Ops, K, Multiplicative>(
          level_, trend_, season, parameters_.alpha, parameters_.beta, phi,
          parameters_.gamma.data(), y);
      sse_ += e * e;
      ++observed_;
    }
    ++next_;
  }

  Shape shape_;
  SmoothingParameters parameters_;
  const SeasonLayout* layout_;
  double level_;
  double trend_;
  std::vector<double> seasonal_[kMaxSeasonalPeriods];
  std::size_t next_ = 0;
  double sse_ = 0;
  std::size_t observed_ = 0;
};

Forecast HoltWintersFitted::forecast(std::size_t horizon) const {
  Forecast out;
  out.mean.resize(horizon);
  out.sigma.resize(horizon);
  const SmoothingParameters& p = parameters_;
  const double sigma2 = residual_variance();
  const std::size_t K = shape_.periods;
  const bool mult = shape_.multiplicative && K > 0;

  // damp[d] = phi + ... + phi^d; reach[d] = alpha + beta*damp[d]: how a
  // shock d steps back still moves the level/trend part of the forecast.
  std::vector<double> damp(horizon + 1, 0.0), reach(horizon + 1, 0.0), season(horizon + 1, 1.0);
  double power = 1;
  for (std::size_t d = 1; d <= horizon; ++d) {
    power *= p.phi;
    damp[d] = damp[d - 1] + power;
    reach[d] = p.alpha + p.beta * damp[d];
  }
  for (std::size_t h = 1; h <= horizon; ++h) {
    const std::size_t index = next_ + h - 1;
    // Same operations as the one-step recursion (level + phi*trend for h = 1).
    const double lb = h == 1 ? level_ + p.phi * trend_ : level_ + damp[h] * trend_;
    if (K == 0) {
      out.mean[h - 1] = lb;
    } else {
      season[h] = season_at(index);
      out.mean[h - 1] = mult ? lb * season[h] : lb + season[h];
    }
  }

  // h-step variance: sigma^2 (1 + sum_{j<h} c_{j,h}^2), c = reach*(scale) + gammas of
  // the periods whose slot at step j equals the slot at step h.
  std::vector<double> prefix(horizon + 1, 0.0);
  for (std::size_t d = 1; d <= horizon; ++d) prefix[d] = prefix[d - 1] + reach[d] * reach[d];
  // earlier[k][h]: the last step before h in the same slot of period k (0:
  // none), so the steps sharing h's slot are a chain. Found by sorting the
  // horizon's steps by slot: the cost follows the horizon, not the season's
  // length (a table per slot cost 11,520 empty lists a call at 1-minute
  // steps with daily and weekly seasons, more than the rest of a forecast).
  std::vector<std::size_t> earlier[kMaxSeasonalPeriods];
  std::vector<std::pair<std::uint32_t, std::size_t>> by_slot(horizon);
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t h = 1; h <= horizon; ++h) by_slot[h - 1] = {position(k, next_ + h - 1), h};
    std::sort(by_slot.begin(), by_slot.end());
    earlier[k].assign(horizon + 1, 0);
    for (std::size_t i = 1; i < horizon; ++i)
      if (by_slot[i].first == by_slot[i - 1].first)
        earlier[k][by_slot[i].second] = by_slot[i - 1].second;
  }
  std::vector<std::pair<std::size_t, double>> same_slot;
  for (std::size_t h = 1; h <= horizon; ++h) {
    same_slot.clear();
    for (std::size_t k = 0; k < K; ++k)
      for (std::size_t j = earlier[k][h]; j != 0; j = earlier[k][j])
        same_slot.emplace_back(j, p.gamma[k]);
    // In step order (gammas of one step in ascending order), as they are summed.
    std::sort(same_slot.begin(), same_slot.end());
    auto level_part = [&](std::size_t j) {
      return mult ? reach[h - j] * season[h] / season[j] : reach[h - j];
    };
    double total = 0;
    if (mult) {
      for (std::size_t j = 1; j < h; ++j) total += level_part(j) * level_part(j);
    } else {
      total = prefix[h - 1];
    }
    for (std::size_t i = 0; i < same_slot.size();) {
      const std::size_t j = same_slot[i].first;
      double gamma = 0;
      for (; i < same_slot.size() && same_slot[i].first == j; ++i) gamma += same_slot[i].second;
      const double a = level_part(j);
      total += (a + gamma) * (a + gamma) - a * a;
    }
    out.sigma[h - 1] = std::sqrt(sigma2 * (1 + total));
  }
  return out;
}

/// Validated input and the shape that will be fitted, with the reasons for
/// every fallback; or a failed FitResult.
struct Prepared {
  Shape shape;
  InitialState initial;
  std::string message;
  FitResult failure;
  bool ok = false;
};

void append(std::string& message, const std::string& note) {
  message += (message.empty() ? "" : "; ") + note;
}

Prepared prepare(const FitInput& input, const HoltWintersSpec& spec) {
  Prepared prepared;
  auto fail = [&](FitStatus status, std::string why) {
    prepared.failure.status = status;
    prepared.failure.message = std::move(why);
    return std::move(prepared);
  };
  const Expected<InputFacts> facts = validate(input);
  if (!facts) return fail(FitStatus::invalid_input, facts.error().message);
  const std::span<const double> y = input.y;
  const std::size_t n = y.size();
  const SeasonLayout* layout = input.layout;
  const std::size_t layout_periods = layout ? layout->periods() : 0;
  if (layout_periods > kMaxSeasonalPeriods)
    return fail(FitStatus::invalid_input, "seasonal layout has " + std::to_string(layout_periods) +
                                              " periods; Holt-Winters takes at most 3");
  // The spec may ask for fewer periods (e.g. daily only): the shortest ones.
  std::size_t periods = std::min(layout_periods, spec.max_periods);
  if (facts->observed < 4)
    return fail(FitStatus::too_short, "only " + std::to_string(facts->observed) +
                                          " valid samples; Holt-Winters needs at least 4");

  Shape& shape = prepared.shape;
  shape.trend = spec.trend;
  shape.multiplicative = spec.seasonality == Seasonality::multiplicative;
  if (shape.multiplicative && periods > 0 && facts->smallest <= 0) {
    shape.multiplicative = false;
    append(prepared.message, "multiplicative seasonality needs positive data but sample " +
                                 std::to_string(facts->smallest_at) + " is " +
                                 std::to_string(facts->smallest) + ": fitted additive seasonality");
  }
  // Drop periods (longest first) until two cycles fit in the history and decompose.
  for (;;) {
    bool enough = true;
    for (std::size_t k = 0; k < periods; ++k)
      enough = enough && n >= 2 * std::size_t{layout->slots[k]};
    if (enough) {
      Expected<InitialState> initial = decompose_initial_state(
          y, layout, periods, shape.trend != Trend::none, shape.multiplicative && periods > 0);
      if (initial) {
        prepared.initial = std::move(*initial);
        break;
      }
      if (periods == 0) return fail(FitStatus::too_short, initial.error().message);
      append(prepared.message, "dropped seasonal period of " +
                                   std::to_string(layout->slots[periods - 1]) +
                                   " slots: " + initial.error().message);
    } else {
      append(prepared.message,
             "history of " + std::to_string(n) + " samples is shorter than two cycles of " +
                 std::to_string(layout->slots[periods - 1]) + " slots: dropped that period");
    }
    --periods;
  }
  shape.periods = periods;
  if (periods == 0) shape.multiplicative = false;
  for (std::size_t k = 0; k < periods; ++k) shape.slots[k] = layout->slots[k];
  prepared.ok = true;
  return prepared;
}

HwProblem problem_of(const FitInput& input, const Prepared& prepared) {
  HwProblem problem;
  problem.y = input.y;
  problem.periods = prepared.shape.periods;
  for (std::size_t k = 0; k < problem.periods; ++k) {
    problem.slots[k] = prepared.shape.slots[k];
    problem.positions[k] = input.layout->positions[k].data();
    problem.initial_seasonal[k] = prepared.initial.seasonal[k].data();
  }
  problem.initial_level = prepared.initial.level;
  problem.initial_trend = prepared.shape.trend == Trend::none ? 0.0 : prepared.initial.trend;
  problem.multiplicative = prepared.shape.multiplicative;
  return problem;
}

/// Runs the fitted parameters over the history: the FittedModel's state.
FitResult finish(const FitInput& input, Prepared prepared, const SmoothingParameters& parameters) {
  auto fitted = std::make_unique<HoltWintersFitted>(prepared.shape, parameters, input.layout,
                                                    std::move(prepared.initial));
  for (double y : input.y) fitted->update(y);
  FitResult result;
  if (!std::isfinite(fitted->sse())) {
    result.status = FitStatus::no_convergence;
    result.message = "the recursion diverged with the fitted parameters";
    return result;
  }
  result.status = FitStatus::ok;
  result.message = std::move(prepared.message);
  result.fitted = std::move(fitted);
  return result;
}

}  // namespace

std::string holt_winters_tag(const HoltWintersSpec& spec) {
  return tag(spec.trend, true, spec.seasonality == Seasonality::multiplicative) + ")";
}

HoltWinters::HoltWinters(HoltWintersSpec spec, HoltWintersOptions options)
    : spec_(spec), options_(options) {}

std::string HoltWinters::name() const {
  return holt_winters_tag(spec_);
}

FitResult HoltWinters::fit(const FitInput& input) const {
  Prepared prepared = prepare(input, spec_);
  if (!prepared.ok) return std::move(prepared.failure);
  const HwProblem problem = problem_of(input, prepared);
  const Shape shape = prepared.shape;
  const std::size_t dimension = parameter_count(shape);
  const kernels::Kernel* kernel = options_.kernel ? options_.kernel : &kernels::default_kernel();
  std::vector<SmoothingParameters> candidates;
  const BatchObjective objective = [&](std::span<const double> points, std::span<double> values) {
    candidates.resize(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
      candidates[i] = parameters_from_box(points.data() + i * dimension, shape, options_.bounds);
    sse_batch(problem, candidates, values, kernel);
  };
  const std::vector<double> seed =
      input.warm_start ? box_from_parameters(*input.warm_start, shape, options_.bounds)
                       : std::vector<double>{};
  const BoxOptimizerResult best = minimize_in_box(dimension, objective, options_.optimizer, seed);
  if (!std::isfinite(best.value)) {
    if (shape.multiplicative) {
      HoltWintersSpec additive = spec_;
      additive.seasonality = Seasonality::additive;
      FitResult result = HoltWinters(additive, options_).fit(input);
      append(result.message,
             "multiplicative recursion diverged for every candidate: fitted additive seasonality");
      return result;
    }
    FitResult result;
    result.status = FitStatus::no_convergence;
    result.message = "the recursion diverged for every candidate parameter vector";
    return result;
  }
  FitResult result = finish(input, std::move(prepared),
                            parameters_from_box(best.x.data(), shape, options_.bounds));
  if (result.status == FitStatus::ok && !best.converged)
    append(result.message,
           "optimiser used its budget of " + std::to_string(best.rounds) +
               " rounds before every step shrank below the tolerance; the fit is usable");
  return result;
}

FitResult HoltWinters::fit_with_parameters(const FitInput& input,
                                           const SmoothingParameters& parameters) const {
  Prepared prepared = prepare(input, spec_);
  if (!prepared.ok) return std::move(prepared.failure);
  const Shape shape = prepared.shape;
  return finish(input, std::move(prepared), normalised(parameters, shape));
}

std::vector<HoltWintersSpec> all_holt_winters_specs() {
  std::vector<HoltWintersSpec> specs;
  for (Seasonality seasonality : {Seasonality::additive, Seasonality::multiplicative})
    for (Trend trend : {Trend::none, Trend::additive, Trend::damped})
      specs.push_back({trend, seasonality});
  return specs;
}

}  // namespace prescale::forecast
