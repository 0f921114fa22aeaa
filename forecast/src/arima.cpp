#include "prescale/forecast/arima.hpp"

#include "prescale/forecast/fourier.hpp"
#include "prescale/forecast/kalman.hpp"
#include "prescale/forecast/regression.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

namespace prescale::forecast {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// tanh(7) = 0.9999983: keeps optimised coefficients off the unit circle.
constexpr double kMaxRaw = 7.0;

// ---- Parameters: partial autocorrelations, so every AR iterate is stationary
// and every MA iterate invertible (Jones 1980; R's partrans).

std::vector<double> pacf_to_coefficients(const double* raw, int p) {
  std::vector<double> coefficients(p), work(p);
  for (int j = 0; j < p; ++j)
    work[j] = coefficients[j] = std::tanh(std::clamp(raw[j], -kMaxRaw, kMaxRaw));
  for (int j = 1; j < p; ++j) {
    const double a = coefficients[j];
    for (int k = 0; k < j; ++k) work[k] -= a * coefficients[j - k - 1];
    for (int k = 0; k < j; ++k) coefficients[k] = work[k];
  }
  return coefficients;
}

// Inverse of pacf_to_coefficients; false when c is not stationary.
bool coefficients_to_pacf(std::vector<double> c, double* raw) {
  const int p = static_cast<int>(c.size());
  std::vector<double> work(p);
  for (int j = p - 1; j > 0; --j) {
    const double a = c[j];
    if (!(std::abs(a) < 1.0)) return false;
    for (int k = 0; k < j; ++k) work[k] = (c[k] + a * c[j - k - 1]) / (1 - a * a);
    for (int k = 0; k < j; ++k) c[k] = work[k];
  }
  for (int j = 0; j < p; ++j) {
    if (!(std::abs(c[j]) < 1.0)) return false;
    raw[j] = std::clamp(std::atanh(c[j]), -kMaxRaw, kMaxRaw);
  }
  return true;
}

ArmaProcess process_from_raw(const Eigen::VectorXd& raw, int p, int q) {
  ArmaProcess process;
  process.ar = pacf_to_coefficients(raw.data(), p);
  process.ma = pacf_to_coefficients(raw.data() + p, q);
  for (double& theta : process.ma) theta = -theta;
  return process;
}

// Starting point in raw space from a (possibly differently sized) process;
// shrinks towards zero until it is stationary and invertible.
Eigen::VectorXd raw_from_process(const ArmaProcess& start, int p, int q) {
  Eigen::VectorXd raw = Eigen::VectorXd::Zero(p + q);
  std::vector<double> ar(p, 0.0), negated_ma(q, 0.0);
  for (int i = 0; i < p && i < static_cast<int>(start.ar.size()); ++i) ar[i] = start.ar[i];
  for (int j = 0; j < q && j < static_cast<int>(start.ma.size()); ++j) negated_ma[j] = -start.ma[j];
  for (int attempt = 0; attempt < 40; ++attempt) {
    if (coefficients_to_pacf(ar, raw.data()) && coefficients_to_pacf(negated_ma, raw.data() + p))
      return raw;
    for (double& a : ar) a *= 0.9;
    for (double& m : negated_ma) m *= 0.9;
  }
  return Eigen::VectorXd::Zero(p + q);
}

// ---- BFGS with central-difference gradients and Armijo backtracking.

struct Minimum {
  Eigen::VectorXd x;
  double value = kInf;
};

// Forward differences (k evaluations per gradient) are enough for the fast
// CSS search; central ones (2k) sharpen the final exact-likelihood estimates.
enum class Differences { forward, central };

template <class Objective>
Minimum minimise(Objective&& objective, Eigen::VectorXd x, Differences differences,
                 int max_iterations = 100) {
  const Eigen::Index k = x.size();
  Minimum best{x, objective(x)};
  if (k == 0 || !std::isfinite(best.value)) return best;
  const double h = differences == Differences::central ? 1e-4 : 1e-6;
  // f(at) is known where the gradient is taken; forward differences reuse it.
  auto gradient = [&](const Eigen::VectorXd& at, double f_at) {
    Eigen::VectorXd g(k);
    Eigen::VectorXd probe = at;
    for (Eigen::Index i = 0; i < k; ++i) {
      probe(i) = at(i) + h;
      const double up = objective(probe);
      double down = f_at, width = h;
      if (differences == Differences::central) {
        probe(i) = at(i) - h;
        down = objective(probe);
        width = 2 * h;
      }
      probe(i) = at(i);
      g(i) = (std::isfinite(up) && std::isfinite(down)) ? (up - down) / width : 0.0;
    }
    return g;
  };
  Eigen::VectorXd g = gradient(x, best.value);
  Eigen::MatrixXd inverse_hessian = Eigen::MatrixXd::Identity(k, k);
  double fx = best.value;
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    Eigen::VectorXd direction = -inverse_hessian * g;
    if (direction.dot(g) >= 0) {
      inverse_hessian.setIdentity();
      direction = -g;
    }
    const double length = direction.norm();
    if (length > 1.0) direction *= 1.0 / length;  // raw space: a unit step is already large
    double step = 1.0, fn = kInf;
    Eigen::VectorXd xn = x;
    bool accepted = false;
    for (int halving = 0; halving < 30; ++halving) {
      xn = x + step * direction;
      fn = objective(xn);
      if (std::isfinite(fn) && fn <= fx + 1e-4 * step * g.dot(direction)) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const Eigen::VectorXd gn = gradient(xn, fn);
    const Eigen::VectorXd s = xn - x;
    const Eigen::VectorXd yv = gn - g;
    const double sy = s.dot(yv);
    if (sy > 1e-12) {
      if (iteration == 0) inverse_hessian *= sy / yv.squaredNorm();
      const double rho = 1.0 / sy;
      const Eigen::MatrixXd left = Eigen::MatrixXd::Identity(k, k) - rho * s * yv.transpose();
      inverse_hessian =
          (left * inverse_hessian * left.transpose() + rho * s * s.transpose()).eval();
    }
    const bool small_change = std::abs(fx - fn) < 1e-10 + 1e-9 * std::abs(fx);
    x = xn;
    fx = fn;
    g = gn;
    if (small_change || g.norm() < 1e-7) break;
  }
  best.x = x;
  best.value = fx;
  return best;
}

// ---- ARMA fits on a residual series.

struct ArmaFit {
  int p = 0, q = 0;
  ArmaProcess process;
  ArmaLikelihood likelihood;
  double aicc = kInf;
};

double aicc(double log_likelihood, double parameters, double n) {
  if (!std::isfinite(log_likelihood) || n - parameters - 1 <= 0) return kInf;
  return -2 * log_likelihood + 2 * parameters +
         2 * parameters * (parameters + 1) / (n - parameters - 1);
}

// How a candidate is scored: by the conditional sum of squares alone (fast,
// for the search, as R's auto.arima does with approximation = TRUE on long
// series) or by exact maximum likelihood.
enum class Scoring { css, exact };

// CSS for a start (unless one is given), then exact maximum likelihood when
// asked. `extra` counts the regression coefficients in the AICc.
ArmaFit fit_arma(int p, int q, std::span<const double> w, std::size_t extra,
                 const ArmaProcess* start, Scoring scoring) {
  ArmaFit fit;
  fit.p = p;
  fit.q = q;
  Eigen::VectorXd raw = Eigen::VectorXd::Zero(p + q);
  if (start != nullptr) raw = raw_from_process(*start, p, q);
  const double parameters = static_cast<double>(p + q + extra + 1);
  if (scoring == Scoring::css || start == nullptr) {
    // Per observation, like the exact objective below.
    auto css = [&](const Eigen::VectorXd& x) {
      const CssResult result = arma_css(process_from_raw(x, p, q), w);
      return result.observations > 0 ? result.objective() / static_cast<double>(result.observations)
                                     : kInf;
    };
    if (p + q > 0) raw = minimise(css, raw, Differences::forward, 50).x;
    if (scoring == Scoring::css) {
      fit.process = process_from_raw(raw, p, q);
      const CssResult result = arma_css(fit.process, w);
      // As R's auto.arima approximation: sigma^2 from CSS, but every model
      // counts the same n, else dropping p more start-up samples would pass
      // for a better fit.
      const std::size_t n = static_cast<std::size_t>(
          std::count_if(w.begin(), w.end(), [](double v) { return !std::isnan(v); }));
      fit.likelihood.valid = result.observations > 0;
      fit.likelihood.observations = n;
      fit.likelihood.weighted_ssq =
          result.observations > 0
              ? result.ssq * static_cast<double>(n) / static_cast<double>(result.observations)
              : 0;
      fit.aicc = aicc(fit.likelihood.log_likelihood(), parameters, static_cast<double>(n));
      return fit;
    }
  }
  auto negative_log_likelihood = [&](const Eigen::VectorXd& x) {
    const ArmaLikelihood like = arma_exact_likelihood(process_from_raw(x, p, q), w);
    if (!like.valid || like.observations == 0) return kInf;
    // Per observation, so the optimiser's tolerances do not depend on n.
    const double n = static_cast<double>(like.observations);
    return 0.5 * std::log(std::max(like.sigma2(), 1e-300)) + 0.5 * like.log_det / n;
  };
  raw = minimise(negative_log_likelihood, raw, Differences::central).x;
  fit.process = process_from_raw(raw, p, q);
  fit.likelihood = arma_exact_likelihood(fit.process, w);
  fit.aicc = aicc(fit.likelihood.log_likelihood(), parameters,
                  static_cast<double>(fit.likelihood.observations));
  return fit;
}

struct OrderBounds {
  int max_p, max_q, max_order;
  int fixed_p, fixed_q;
};

// Hyndman-Khandakar stepwise search over (p, q), starting from `seeds`:
// move to the first neighbour that lowers the AICc, until none does.
// Every fit it makes is appended to `tried` (for the exact re-ranking).
ArmaFit stepwise_orders(std::span<const double> w, std::size_t extra, const OrderBounds& bounds,
                        std::vector<std::pair<int, int>> seeds, Scoring scoring,
                        std::vector<ArmaFit>& tried) {
  std::set<std::pair<int, int>> visited;
  ArmaFit best;
  auto allowed = [&](int p, int q) {
    if (p < 0 || q < 0 || p > bounds.max_p || q > bounds.max_q || p + q > bounds.max_order)
      return false;
    if (bounds.fixed_p >= 0 && p != bounds.fixed_p) return false;
    if (bounds.fixed_q >= 0 && q != bounds.fixed_q) return false;
    return true;
  };
  auto consider = [&](int p, int q) {
    if (!allowed(p, q) || !visited.insert({p, q}).second) return false;
    ArmaFit fit = fit_arma(p, q, w, extra, nullptr, scoring);
    tried.push_back(fit);
    if (fit.aicc < best.aicc) {
      best = std::move(fit);
      return true;
    }
    return false;
  };
  if (bounds.fixed_p >= 0 || bounds.fixed_q >= 0)
    seeds.emplace_back(std::max(bounds.fixed_p, 0), std::max(bounds.fixed_q, 0));
  for (const auto& [p, q] : seeds) consider(p, q);
  if (!std::isfinite(best.aicc)) consider(0, 0);
  constexpr int kMaxModels = 94;  // R's auto.arima default
  bool improved = true;
  while (improved && static_cast<int>(visited.size()) < kMaxModels) {
    improved = false;
    const int p = best.p, q = best.q;
    const std::pair<int, int> moves[] = {{-1, 0},  {1, 0}, {0, -1}, {0, 1},
                                         {-1, -1}, {1, 1}, {-1, 1}, {1, -1}};
    for (const auto& [dp, dq] : moves) {
      if (consider(p + dp, q + dq)) {
        improved = true;
        break;
      }
    }
  }
  return best;
}

// ---- Design matrix: intercept (d = 0), Fourier terms, caller's columns.

struct Design {
  bool intercept = false;
  FourierBasis fourier;
  std::size_t xreg_columns = 0;
  std::vector<std::size_t> active;  // kept columns of the full row, in order
  std::vector<std::string> full_names;

  [[nodiscard]] std::size_t full_width() const {
    return (intercept ? 1 : 0) + fourier.columns() + xreg_columns;
  }
  [[nodiscard]] std::size_t columns() const { return active.size(); }

  void fill(const SeasonLayout* layout, const Eigen::MatrixXd* regressors, std::size_t index,
            double* full, double* out) const {
    std::size_t c = 0;
    if (intercept) full[c++] = 1.0;
    if (fourier.columns() > 0) fourier.fill_row(*layout, index, full + c);
    c += fourier.columns();
    for (std::size_t j = 0; j < xreg_columns; ++j)
      full[c + j] = (*regressors)(static_cast<Eigen::Index>(index), static_cast<Eigen::Index>(j));
    for (std::size_t a = 0; a < active.size(); ++a) out[a] = full[active[a]];
  }

  [[nodiscard]] Eigen::MatrixXd matrix(const SeasonLayout* layout,
                                       const Eigen::MatrixXd* regressors, std::size_t rows) const {
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x(rows, columns());
    if (columns() == 0) return x;
    std::vector<double> full(full_width());
    for (std::size_t i = 0; i < rows; ++i)
      fill(layout, regressors, i, full.data(), x.row(i).data());
    return x;
  }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (std::size_t a : active) out.push_back(full_names[a]);
    return out;
  }
};

std::string arima_name(int p, int d, int q, const Design& design, std::int64_t step_seconds,
                       const std::vector<std::uint32_t>& slots) {
  std::string name =
      "arima(" + std::to_string(p) + "," + std::to_string(d) + "," + std::to_string(q) + ")";
  std::string seasons;
  for (std::size_t k = 0; k < design.fourier.harmonics().size(); ++k) {
    const int harmonics = design.fourier.harmonics()[k];
    if (harmonics == 0) continue;
    if (!seasons.empty()) seasons += ",";
    seasons += season_label(slots[k], step_seconds) + ":K=" + std::to_string(harmonics);
  }
  if (!seasons.empty()) name += "+fourier(" + seasons + ")";
  std::size_t xreg = 0;
  for (std::size_t a : design.active)
    xreg += a >= (design.intercept ? 1 : 0) + design.fourier.columns() ? 1 : 0;
  if (xreg > 0) name += "+xreg(" + std::to_string(xreg) + ")";
  return name;
}

// ---- The fitted state.

/// Not thread-safe (FittedModel's contract); clone() to share.
class FittedArima final : public FittedModel {
 public:
  FittedArima(std::string name, std::map<std::string, double> parameters,
              const SeasonLayout* layout, const Eigen::MatrixXd* regressors, Design design,
              Eigen::VectorXd coefficients, StateSpaceFilter filter, double sigma2)
      : name_(std::move(name)),
        parameters_(std::move(parameters)),
        layout_(layout),
        regressors_(regressors),
        design_(std::move(design)),
        coefficients_(std::move(coefficients)),
        filter_(std::move(filter)),
        sigma2_(sigma2),
        full_(design_.full_width()),
        row_(design_.columns()) {}

  [[nodiscard]] std::string name() const override { return name_; }
  [[nodiscard]] std::map<std::string, double> parameters() const override { return parameters_; }
  [[nodiscard]] std::size_t next_index() const override { return next_; }
  [[nodiscard]] double residual_variance() const override { return sigma2_; }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<FittedArima>(*this);
  }

  void update(double y) override {
    const double level =
        next_ < coverage() ? regression_at(next_) : std::numeric_limits<double>::quiet_NaN();
    filter_.step(std::isfinite(y) ? y - level : std::numeric_limits<double>::quiet_NaN());
    ++next_;
  }

  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    const std::size_t available = coverage() > next_ ? coverage() - next_ : 0;
    horizon = std::min(horizon, available);
    Forecast out;
    out.mean.resize(horizon);
    out.sigma.resize(horizon);
    filter_.forecast(horizon, out.mean.data(), out.sigma.data());
    for (std::size_t h = 0; h < horizon; ++h) {
      out.mean[h] += regression_at(next_ + h);
      out.sigma[h] = std::sqrt(out.sigma[h] * sigma2_);
    }
    return out;
  }

  // Called by fit() to run the filter over the history.
  void absorb(std::span<const double> y) {
    for (double v : y) update(v);
  }

 private:
  [[nodiscard]] std::size_t coverage() const {
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    if (design_.fourier.columns() > 0) limit = std::min(limit, layout_->size());
    if (design_.xreg_columns > 0)
      limit = std::min(limit, static_cast<std::size_t>(regressors_->rows()));
    return limit;
  }
  [[nodiscard]] double regression_at(std::size_t index) const {
    if (design_.columns() == 0) return 0.0;
    design_.fill(layout_, regressors_, index, full_.data(), row_.data());
    double level = 0.0;
    for (std::size_t c = 0; c < row_.size(); ++c)
      level += row_[c] * coefficients_(static_cast<Eigen::Index>(c));
    return level;
  }

  std::string name_;
  std::map<std::string, double> parameters_;
  const SeasonLayout* layout_;
  const Eigen::MatrixXd* regressors_;
  Design design_;
  Eigen::VectorXd coefficients_;
  StateSpaceFilter filter_;
  double sigma2_;
  std::size_t next_ = 0;
  mutable std::vector<double> full_, row_;  // scratch: no allocation per sample
};

// Series and regressors differenced once per (K, d), with OLS residuals.
struct Prepared {
  Design design;
  Eigen::MatrixXd differenced_regressors;
  std::vector<double> differenced_y;
  LinearFit ols;
  std::vector<std::string> dropped_names;
};

struct Problem {
  std::span<const double> y;
  const SeasonLayout* layout;
  const Eigen::MatrixXd* regressors;
  std::vector<std::string> xreg_names;
};

Prepared prepare(const Problem& problem, const std::vector<int>& harmonics, int d) {
  Prepared out;
  Design& design = out.design;
  design.intercept = d == 0;
  if (problem.layout != nullptr) design.fourier = FourierBasis(problem.layout->slots, harmonics);
  design.xreg_columns =
      problem.regressors != nullptr ? static_cast<std::size_t>(problem.regressors->cols()) : 0;
  if (design.intercept) design.full_names.emplace_back("intercept");
  for (auto& name : design.fourier.names()) design.full_names.push_back(std::move(name));
  for (const auto& name : problem.xreg_names) design.full_names.push_back(name);
  for (std::size_t c = 0; c < design.full_width(); ++c) design.active.push_back(c);
  const std::size_t n = problem.y.size();
  const Eigen::MatrixXd x = design.matrix(problem.layout, problem.regressors, n);
  out.differenced_regressors = difference_rows(x, d);
  out.differenced_y = difference(problem.y, d);
  out.ols = least_squares(out.differenced_regressors, out.differenced_y);
  if (!out.ols.dropped.empty()) {
    // Collinear columns leave the design; the fit of the rest is unchanged.
    std::vector<std::size_t> dropped = out.ols.dropped;
    std::sort(dropped.begin(), dropped.end());
    std::vector<std::size_t> kept;
    for (std::size_t c = 0; c < design.active.size(); ++c)
      if (!std::binary_search(dropped.begin(), dropped.end(), c))
        kept.push_back(c);
      else
        out.dropped_names.push_back(design.full_names[design.active[c]]);
    Eigen::MatrixXd reduced(out.differenced_regressors.rows(),
                            static_cast<Eigen::Index>(kept.size()));
    Eigen::VectorXd coefficients(static_cast<Eigen::Index>(kept.size()));
    std::vector<std::size_t> active;
    for (std::size_t k = 0; k < kept.size(); ++k) {
      reduced.col(static_cast<Eigen::Index>(k)) =
          out.differenced_regressors.col(static_cast<Eigen::Index>(kept[k]));
      coefficients(static_cast<Eigen::Index>(k)) =
          out.ols.coefficients(static_cast<Eigen::Index>(kept[k]));
      active.push_back(design.active[kept[k]]);
    }
    out.differenced_regressors = std::move(reduced);
    out.ols.coefficients = std::move(coefficients);
    design.active = std::move(active);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

}  // namespace

std::string season_label(std::uint32_t slots, std::int64_t step_seconds) {
  if (step_seconds <= 0) return std::to_string(slots);
  const std::int64_t seconds = static_cast<std::int64_t>(slots) * step_seconds;
  const std::pair<std::int64_t, const char*> units[] = {
      {604800, "w"}, {86400, "d"}, {3600, "h"}, {60, "m"}};
  for (const auto& [unit, suffix] : units)
    if (seconds % unit == 0) return std::to_string(seconds / unit) + suffix;
  return std::to_string(seconds) + "s";
}

ArimaModel::ArimaModel(ArimaOptions options) : options_(std::move(options)) {}

std::string ArimaModel::name() const {
  if (options_.p >= 0 && options_.d >= 0 && options_.q >= 0)
    return "arima(" + std::to_string(options_.p) + "," + std::to_string(options_.d) + "," +
           std::to_string(options_.q) + ")";
  return "arima(auto)";
}

FitResult ArimaModel::fit(const FitInput& input) const {
  FitResult result;
  const std::span<const double> y = input.y;
  const std::size_t n = y.size();
  auto fail = [&](FitStatus status, std::string message) {
    result.status = status;
    result.message = std::move(message);
    return std::move(result);
  };

  // ---- Validate the input, naming what is wrong.
  std::size_t observed = 0;
  double first_value = std::numeric_limits<double>::quiet_NaN();
  bool constant = true;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(y[i])) continue;
    if (!std::isfinite(y[i]))
      return fail(FitStatus::invalid_input, "y[" + std::to_string(i) + "] is infinite");
    if (observed == 0) first_value = y[i];
    constant = constant && y[i] == first_value;
    ++observed;
  }
  if (observed == 0)
    return fail(FitStatus::invalid_input, "every sample of the history is missing (NaN)");
  const SeasonLayout* layout = input.layout;
  if (layout != nullptr) {
    if (layout->size() < n)
      return fail(FitStatus::invalid_input, "season layout covers " +
                                                std::to_string(layout->size()) +
                                                " samples, the history has " + std::to_string(n));
    for (std::size_t k = 0; k < layout->periods(); ++k) {
      if (layout->slots[k] == 0)
        return fail(FitStatus::invalid_input, "season " + std::to_string(k) + " has 0 slots");
      for (std::size_t i = 0; i < layout->size(); ++i)
        if (layout->positions[k][i] >= layout->slots[k])
          return fail(FitStatus::invalid_input,
                      "season layout position " + std::to_string(layout->positions[k][i]) +
                          " at sample " + std::to_string(i) + " is outside 0.." +
                          std::to_string(layout->slots[k] - 1));
    }
  }
  const Eigen::MatrixXd* regressors = input.regressors;
  if (regressors != nullptr && regressors->cols() == 0) regressors = nullptr;
  std::vector<std::string> xreg_names;
  if (regressors != nullptr) {
    if (static_cast<std::size_t>(regressors->rows()) < n)
      return fail(FitStatus::invalid_input, "regressors have " +
                                                std::to_string(regressors->rows()) +
                                                " rows, the history has " + std::to_string(n));
    for (Eigen::Index c = 0; c < regressors->cols(); ++c) {
      const std::size_t column = static_cast<std::size_t>(c);
      xreg_names.push_back(column < input.regressor_names.size() ? input.regressor_names[column]
                                                                 : "xreg" + std::to_string(c + 1));
      for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite((*regressors)(static_cast<Eigen::Index>(i), c)))
          return fail(
              FitStatus::invalid_input,
              "regressor '" + xreg_names.back() + "' is not finite at sample " + std::to_string(i));
    }
  }
  constexpr std::size_t kMinObserved = 10;
  if (observed < kMinObserved)
    return fail(FitStatus::too_short, "history has " + std::to_string(observed) +
                                          " observed samples, ARIMA needs " +
                                          std::to_string(kMinObserved));

  std::vector<std::string> notes;
  const std::vector<std::uint32_t> slots =
      layout != nullptr ? layout->slots : std::vector<std::uint32_t>{};

  // ---- A constant history: forecast it with zero spread.
  if (constant) {
    Design design;
    design.intercept = true;
    design.full_names = {"intercept"};
    design.active = {0};
    Eigen::VectorXd coefficients(1);
    coefficients(0) = first_value;
    auto fitted = std::make_unique<FittedArima>(
        "arima(0,0,0)", std::map<std::string, double>{{"intercept", first_value}, {"sigma2", 0.0}},
        layout, nullptr, design, coefficients, arima_state_space(ArmaProcess{}, 0), 0.0);
    fitted->absorb(y);
    result.status = FitStatus::ok;
    result.message = "constant history (every sample is " + std::to_string(first_value) +
                     "): forecasting that value with zero spread";
    result.fitted = std::move(fitted);
    return result;
  }

  // ---- Which seasons get Fourier terms, and how many.
  std::vector<int> max_k(slots.size(), 0), min_k(slots.size(), 0);
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const double needed = options_.min_cycles * slots[k];
    if (static_cast<double>(n) < needed) {
      notes.push_back("season " + season_label(slots[k], options_.step_seconds) +
                      " left out: history " + std::to_string(n) + " samples < " +
                      std::to_string(static_cast<std::size_t>(needed)) + " (" +
                      std::to_string(options_.min_cycles).substr(0, 3) + " cycles)");
      continue;
    }
    max_k[k] = std::min(options_.max_harmonics, max_harmonics(slots[k]));
    min_k[k] = std::clamp(options_.min_harmonics, 0, max_k[k]);
  }
  // Short histories: keep the parameter count to about a tenth of the data.
  const int budget = static_cast<int>(observed / 10);
  OrderBounds bounds{std::min(options_.max_p, 5), std::min(options_.max_q, 5), options_.max_order,
                     options_.p, options_.q};
  if (bounds.max_order > std::max(budget - 1, 0)) {
    bounds.max_order = std::max(budget - 1, 0);
    notes.push_back("short history: p + q limited to " + std::to_string(bounds.max_order));
  }
  const int max_fourier_columns = std::max(budget - bounds.max_order - 2, 0);
  auto columns_of = [](const std::vector<int>& k) {
    int total = 0;
    for (int v : k) total += 2 * v;
    return total;
  };
  std::vector<int> harmonics(slots.size(), 0);
  const bool fixed_harmonics = !options_.harmonics.empty();
  for (std::size_t k = 0; k < slots.size(); ++k) {
    if (fixed_harmonics) {
      harmonics[k] = k < options_.harmonics.size() ? std::min(options_.harmonics[k], max_k[k]) : 0;
    } else {
      harmonics[k] = std::min(3, max_k[k]);
    }
  }
  while (columns_of(harmonics) > max_fourier_columns) {
    auto largest = std::max_element(harmonics.begin(), harmonics.end());
    --*largest;
    if (std::find(notes.begin(), notes.end(), "short history: fewer Fourier terms") == notes.end())
      notes.emplace_back("short history: fewer Fourier terms");
  }

  const Problem problem{y, layout, regressors, xreg_names};

  // ---- d: KPSS on the residuals of the regression in levels.
  int d = options_.d;
  if (d < 0) {
    const Prepared levels = prepare(problem, harmonics, 0);
    d = choose_differences(levels.ols.residuals, options_.max_d);
  }
  if (observed <= static_cast<std::size_t>(d) + kMinObserved) {
    d = 0;
    notes.emplace_back("short history: no differencing");
  }

  // ---- Orders, then K per season, then orders again at the chosen K.
  const std::vector<std::pair<int, int>> hk_seeds{{2, 2}, {0, 0}, {1, 0}, {0, 1}};
  Prepared prepared = prepare(problem, harmonics, d);
  // R's rule for the approximation: long series are searched by CSS.
  const Scoring search = observed > 150 ? Scoring::css : Scoring::exact;
  std::vector<ArmaFit> tried;
  ArmaFit best = stepwise_orders(prepared.ols.residuals, prepared.design.columns(), bounds,
                                 hk_seeds, search, tried);
  if (!fixed_harmonics && !slots.empty()) {
    std::set<std::vector<int>> visited{harmonics};
    bool changed = false;
    for (;;) {
      std::vector<int> best_k;
      ArmaFit best_neighbour;
      Prepared best_prepared;
      for (std::size_t k = 0; k < slots.size(); ++k)
        for (int delta : {1, -1}) {
          std::vector<int> candidate = harmonics;
          candidate[k] += delta;
          if (candidate[k] < min_k[k] || candidate[k] > max_k[k] ||
              columns_of(candidate) > max_fourier_columns || !visited.insert(candidate).second)
            continue;
          Prepared trial = prepare(problem, candidate, d);
          ArmaFit fit = fit_arma(best.p, best.q, trial.ols.residuals, trial.design.columns(),
                                 &best.process, search);
          if (fit.aicc < best_neighbour.aicc) {
            best_neighbour = std::move(fit);
            best_k = candidate;
            best_prepared = std::move(trial);
          }
        }
      if (!(best_neighbour.aicc < best.aicc)) break;
      best = std::move(best_neighbour);
      harmonics = best_k;
      prepared = std::move(best_prepared);
      changed = true;
    }
    if (changed) {
      std::vector<std::pair<int, int>> seeds{{best.p, best.q}};
      tried.clear();
      tried.push_back(best);
      ArmaFit again = stepwise_orders(prepared.ols.residuals, prepared.design.columns(), bounds,
                                      seeds, search, tried);
      if (again.aicc <= best.aicc) best = std::move(again);
    }
  }
  if (!std::isfinite(best.aicc))
    return fail(FitStatus::no_convergence,
                "no ARIMA order gave a finite likelihood (is the series degenerate?)");

  if (search != Scoring::exact) {
    // The CSS ranking can misorder close models (near-cancelling AR and MA
    // roots): the best three by CSS are refitted exactly and ranked again.
    std::sort(tried.begin(), tried.end(),
              [](const ArmaFit& a, const ArmaFit& b) { return a.aicc < b.aicc; });
    tried.erase(
        std::unique(tried.begin(), tried.end(),
                    [](const ArmaFit& a, const ArmaFit& b) { return a.p == b.p && a.q == b.q; }),
        tried.end());
    ArmaFit exact;
    for (std::size_t i = 0; i < tried.size() && i < 3; ++i) {
      if (!std::isfinite(tried[i].aicc)) break;
      ArmaFit fit = fit_arma(tried[i].p, tried[i].q, prepared.ols.residuals,
                             prepared.design.columns(), &tried[i].process, Scoring::exact);
      if (fit.aicc < exact.aicc) exact = std::move(fit);
    }
    best = std::move(exact);
    if (!std::isfinite(best.aicc))
      return fail(FitStatus::no_convergence, "exact likelihood of the chosen ARIMA is not finite");
  }

  // ---- Joint estimate: alternate GLS for beta and exact ML for the ARMA part.
  const Eigen::MatrixXd& xd = prepared.differenced_regressors;
  const std::vector<double>& yd = prepared.differenced_y;
  Eigen::VectorXd beta = prepared.ols.coefficients;
  ArmaLikelihood likelihood = best.likelihood;
  const std::size_t m = prepared.design.columns();
  for (int round = 0; round < 3 && m > 0; ++round) {
    const ArmaGls gls = arma_gls(best.process, yd, xd);
    if (!gls.likelihood.valid) break;
    beta = gls.coefficients;
    likelihood = gls.likelihood;
    if (round == 2) break;
    std::vector<double> w(yd.size());
    const Eigen::VectorXd fitted_values = xd * beta;
    for (std::size_t t = 0; t < yd.size(); ++t)
      w[t] = yd[t] - fitted_values(static_cast<Eigen::Index>(t));
    ArmaFit refit = fit_arma(best.p, best.q, w, m, &best.process, Scoring::exact);
    if (!(refit.likelihood.log_likelihood() >= likelihood.log_likelihood() - 1e-9)) break;
    best = std::move(refit);
  }
  const double final_aicc =
      aicc(likelihood.log_likelihood(), static_cast<double>(best.p + best.q + m + 1),
           static_cast<double>(likelihood.observations));

  // ---- Fitted state: the ARIMA filter run over the history.
  std::map<std::string, double> parameters;
  for (std::size_t i = 0; i < best.process.ar.size(); ++i)
    parameters["ar" + std::to_string(i + 1)] = best.process.ar[i];
  for (std::size_t j = 0; j < best.process.ma.size(); ++j)
    parameters["ma" + std::to_string(j + 1)] = best.process.ma[j];
  const std::vector<std::string> names = prepared.design.names();
  for (std::size_t c = 0; c < names.size(); ++c)
    parameters[names[c]] = beta(static_cast<Eigen::Index>(c));
  const double sigma2 = likelihood.sigma2();
  parameters["sigma2"] = sigma2;
  parameters["aicc"] = final_aicc;
  if (!prepared.dropped_names.empty())
    notes.push_back("collinear regressors left out: " + join(prepared.dropped_names, ", "));

  auto fitted = std::make_unique<FittedArima>(
      arima_name(best.p, d, best.q, prepared.design, options_.step_seconds, slots),
      std::move(parameters), layout, regressors, prepared.design, beta,
      arima_state_space(best.process, d), sigma2);
  fitted->absorb(y);
  result.status = FitStatus::ok;
  std::string summary = fitted->name() + ", AICc " + std::to_string(final_aicc);
  if (options_.d < 0) summary += ", d=" + std::to_string(d) + " by KPSS";
  result.message = notes.empty() ? summary : summary + "; " + join(notes, "; ");
  result.fitted = std::move(fitted);
  return result;
}

}  // namespace prescale::forecast
