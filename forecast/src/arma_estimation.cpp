#include "arma_estimation.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <set>

namespace prescale::forecast::arma {
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

}  // namespace

// ---- ARMA fits on a residual series.

double aicc(double log_likelihood, double parameters, double n) {
  if (!std::isfinite(log_likelihood) || n - parameters - 1 <= 0) return kInf;
  return -2 * log_likelihood + 2 * parameters +
         2 * parameters * (parameters + 1) / (n - parameters - 1);
}

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

}  // namespace prescale::forecast::arma
