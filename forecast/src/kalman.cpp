#include "prescale/forecast/kalman.hpp"

#include <Eigen/Cholesky>
#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <limits>

namespace prescale::forecast {
namespace {

// Schur-Cohn by the backward Durbin-Levinson recursion: 1 - sum c_i z^i has
// all roots outside the unit circle iff every partial autocorrelation is in (-1, 1).
bool schur_stable(std::vector<double> c) {
  const std::size_t p = c.size();
  std::vector<double> work(p);
  for (std::size_t j = p; j-- > 0;) {
    const double a = c[j];
    if (!(std::abs(a) < 1.0)) return false;
    for (std::size_t k = 0; k < j; ++k) work[k] = (c[k] + a * c[j - k - 1]) / (1 - a * a);
    for (std::size_t k = 0; k < j; ++k) c[k] = work[k];
  }
  return true;
}

struct Harvey {
  int r = 1;
  std::vector<double> phi;    // length r (zero padded)
  std::vector<double> theta;  // R vector: 1, theta_1 .. theta_{r-1}
};

Harvey harvey(const ArmaProcess& process) {
  Harvey h;
  h.r = process.state_dim();
  h.phi.assign(h.r, 0.0);
  h.theta.assign(h.r, 0.0);
  h.theta[0] = 1.0;
  for (std::size_t i = 0; i < process.ar.size(); ++i) h.phi[i] = process.ar[i];
  for (std::size_t j = 0; j < process.ma.size(); ++j) h.theta[j + 1] = process.ma[j];
  return h;
}

// out := T M T' + R R' for symmetric M, using the companion structure:
// (T M T')_ij = phi_i phi_j M_00 + phi_i M_0,j+1 + phi_j M_i+1,0 + M_i+1,j+1.
void predict_covariance(const Harvey& h, const Eigen::MatrixXd& m, Eigen::MatrixXd& out) {
  const int r = h.r;
  for (int j = 0; j < r; ++j)
    for (int i = j; i < r; ++i) {
      double v = h.phi[i] * h.phi[j] * m(0, 0) + h.theta[i] * h.theta[j];
      if (j + 1 < r) v += h.phi[i] * m(0, j + 1);
      if (i + 1 < r) v += h.phi[j] * m(i + 1, 0);
      if (i + 1 < r && j + 1 < r) v += m(i + 1, j + 1);
      out(i, j) = out(j, i) = v;
    }
}

// The one filter behind the likelihood and GLS: the covariance recursion (so
// F_t and the gain) does not depend on the data, so `cols` series share it.
// w is row-major n x cols; column 0 decides whether a row is missing.
// sink(t, innovations, F) is called for every observed row.
template <class Sink>
bool arma_filter(const ArmaProcess& process, const double* w, std::size_t n, int cols,
                 Sink&& sink) {
  const Harvey h = harvey(process);
  const int r = h.r;
  Eigen::MatrixXd p = arma_stationary_covariance(process);
  if (p.size() == 0) return false;
  Eigen::MatrixXd next(r, r), filtered(r, r);
  std::vector<double> gain(r), innovation(cols);
  // state[i * cols + c]: component i for series c, rows contiguous so the
  // loops over series vectorise.
  std::vector<double> state(static_cast<std::size_t>(r) * cols, 0.0), first(cols);
  double f = 1.0;
  bool steady = false;
  for (std::size_t t = 0; t < n; ++t) {
    const double* row = w + t * cols;
    const bool missing = std::isnan(row[0]);
    if (!missing) {
      if (!steady) {
        f = p(0, 0);
        if (!(f > 0) || !std::isfinite(f)) return false;
        for (int i = 0; i < r; ++i) gain[i] = p(i, 0) / f;
      }
      for (int c = 0; c < cols; ++c) innovation[c] = row[c] - state[c];
      sink(t, innovation.data(), f);
      for (int i = 0; i < r; ++i) {
        double* s = state.data() + static_cast<std::size_t>(i) * cols;
        for (int c = 0; c < cols; ++c) s[c] += gain[i] * innovation[c];
      }
    }
    // a := T a, row-wise across series.
    std::copy(state.begin(), state.begin() + cols, first.begin());
    for (int i = 0; i + 1 < r; ++i) {
      double* s = state.data() + static_cast<std::size_t>(i) * cols;
      const double* below = s + cols;
      for (int c = 0; c < cols; ++c) s[c] = h.phi[i] * first[c] + below[c];
    }
    double* last = state.data() + static_cast<std::size_t>(r - 1) * cols;
    for (int c = 0; c < cols; ++c) last[c] = h.phi[r - 1] * first[c];
    if (missing) {
      predict_covariance(h, p, next);
      p.swap(next);
      steady = false;
    } else if (!steady) {
      // Filtered covariance P - P e1 e1' P / F, then the prediction step.
      for (int i = 0; i < r; ++i)
        for (int j = 0; j < r; ++j) filtered(i, j) = p(i, j) - p(i, 0) * p(0, j) / f;
      predict_covariance(h, filtered, next);
      double change = 0;
      for (int i = 0; i < r; ++i)
        for (int j = 0; j < r; ++j) change = std::max(change, std::abs(next(i, j) - p(i, j)));
      // Once the gain stops moving it is the steady-state gain: data-free
      // updates are skipped until a gap perturbs it.
      steady = change < 1e-11 * std::max(1.0, p(0, 0));
      p.swap(next);
    }
  }
  return true;
}

}  // namespace

int ArmaProcess::state_dim() const {
  return static_cast<int>(std::max(ar.size(), ma.size() + 1));
}

bool ArmaProcess::stationary() const {
  return schur_stable(ar);
}

bool ArmaProcess::invertible() const {
  std::vector<double> negated(ma.size());
  for (std::size_t j = 0; j < ma.size(); ++j) negated[j] = -ma[j];
  return schur_stable(negated);
}

Eigen::MatrixXd arma_stationary_covariance(const ArmaProcess& process) {
  if (!process.stationary()) return {};
  const Harvey h = harvey(process);
  const int r = h.r;
  if (process.ar.empty()) {
    // Pure MA: the state is a finite moving sum, its covariance is explicit.
    Eigen::MatrixXd p = Eigen::MatrixXd::Zero(r, r);
    for (int i = 0; i < r; ++i)
      for (int j = 0; j < r; ++j)
        for (int k = 0; k + std::max(i, j) < r; ++k) p(i, j) += h.theta[i + k] * h.theta[j + k];
    return p;
  }
  // vec(P) = (I - T kron T)^{-1} vec(R R'), on the symmetric unknowns only.
  const int m = r * (r + 1) / 2;
  auto index = [r](int i, int j) {
    if (i < j) std::swap(i, j);
    return j * r - j * (j - 1) / 2 + (i - j);
  };
  Eigen::MatrixXd system = Eigen::MatrixXd::Identity(m, m);
  Eigen::VectorXd rhs(m);
  auto t = [&](int i, int k) {
    double v = (k == 0) ? h.phi[i] : 0.0;
    if (k == i + 1) v += 1.0;
    return v;
  };
  for (int j = 0; j < r; ++j)
    for (int i = j; i < r; ++i) {
      const int row = index(i, j);
      rhs(row) = h.theta[i] * h.theta[j];
      // (T P T')_{ij} = sum_{k,l} T_ik P_kl T_jl; T has at most 2 nonzeros per row.
      const int ks[2] = {0, i + 1}, ls[2] = {0, j + 1};
      for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 2; ++b) {
          const int k = ks[a], l = ls[b];
          if (k >= r || l >= r || (a == 1 && k == 0) || (b == 1 && l == 0)) continue;
          const double coef = t(i, k) * t(j, l);
          if (coef != 0.0) system(row, index(k, l)) -= coef;
        }
    }
  const Eigen::VectorXd solution = system.partialPivLu().solve(rhs);
  Eigen::MatrixXd p(r, r);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) p(i, j) = solution(index(i, j));
  if (!p.allFinite()) return {};
  return p;
}

double ArmaLikelihood::sigma2() const {
  return observations > 0 ? weighted_ssq / static_cast<double>(observations)
                          : std::numeric_limits<double>::quiet_NaN();
}

double ArmaLikelihood::log_likelihood() const {
  if (!valid || observations == 0) return -std::numeric_limits<double>::infinity();
  const double n = static_cast<double>(observations);
  // A perfect fit has no finite likelihood; floor sigma^2 so constant inputs compare.
  const double s2 = std::max(sigma2(), 1e-300);
  return -0.5 * (n * std::log(2 * M_PI * s2) + log_det + n);
}

ArmaLikelihood arma_exact_likelihood(const ArmaProcess& process, std::span<const double> w) {
  ArmaLikelihood out;
  double last_f = 1.0, last_log = 0.0;  // F is constant in the steady state: one log
  out.valid =
      arma_filter(process, w.data(), w.size(), 1, [&](std::size_t, const double* v, double f) {
        out.weighted_ssq += v[0] * v[0] / f;
        if (f != last_f) {
          last_f = f;
          last_log = std::log(f);
        }
        out.log_det += last_log;
        ++out.observations;
      });
  return out;
}

ArmaGls arma_gls(const ArmaProcess& process, std::span<const double> y,
                 const Eigen::MatrixXd& regressors) {
  const std::size_t n = y.size();
  const int m = static_cast<int>(regressors.cols());
  const int cols = 1 + m;
  std::vector<double> rows(n * cols);
  for (std::size_t t = 0; t < n; ++t) {
    rows[t * cols] = y[t];
    for (int c = 0; c < m; ++c)
      rows[t * cols + 1 + c] = regressors(static_cast<Eigen::Index>(t), c);
  }
  // Standardised innovations of y and of every column, one row per observation.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> scaled(n, cols);
  ArmaGls out;
  std::size_t used = 0;
  out.likelihood.valid =
      arma_filter(process, rows.data(), n, cols, [&](std::size_t, const double* v, double f) {
        const double s = 1.0 / std::sqrt(f);
        for (int c = 0; c < cols; ++c) scaled(static_cast<Eigen::Index>(used), c) = v[c] * s;
        out.likelihood.log_det += std::log(f);
        ++used;
      });
  out.likelihood.observations = used;
  if (!out.likelihood.valid) return out;
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(cols, cols);
  gram.selfadjointView<Eigen::Lower>().rankUpdate(
      scaled.topRows(static_cast<Eigen::Index>(used)).transpose());
  const Eigen::MatrixXd xx = gram.bottomRightCorner(m, m).selfadjointView<Eigen::Lower>();
  const Eigen::VectorXd xy = gram.col(0).tail(m);
  Eigen::LDLT<Eigen::MatrixXd> ldlt(xx);
  if (m > 0 && ldlt.info() != Eigen::Success) {
    out.likelihood.valid = false;
    return out;
  }
  out.coefficients = m > 0 ? Eigen::VectorXd(ldlt.solve(xy)) : Eigen::VectorXd();
  // RSS = y'y - 2 b'X'y + b'X'X b, in the whitened metric.
  double rss = gram(0, 0);
  if (m > 0) rss += -2.0 * out.coefficients.dot(xy) + out.coefficients.dot(xx * out.coefficients);
  out.likelihood.weighted_ssq = std::max(rss, 0.0);
  return out;
}

double CssResult::objective() const {
  if (observations == 0) return std::numeric_limits<double>::infinity();
  const double n = static_cast<double>(observations);
  return 0.5 * n * std::log(std::max(ssq / n, 1e-300));
}

CssResult arma_css(const ArmaProcess& process, std::span<const double> w) {
  CssResult out;
  const std::size_t p = process.ar.size(), q = process.ma.size(), n = w.size();
  if (n <= p) return out;
  // Coefficients zero-padded to a fixed width and series padded with leading
  // zeros: the inner sums unroll and only e[t-1] -> e[t] stays serial.
  constexpr std::size_t kWidth = 8;
  if (p > kWidth || q > kWidth) {
    ArmaProcess truncated = process;
    truncated.ar.resize(std::min(p, kWidth));
    truncated.ma.resize(std::min(q, kWidth));
    return arma_css(truncated, w);  // orders above 8 are not searched
  }
  double ar[kWidth] = {}, ma[kWidth] = {};
  std::copy(process.ar.begin(), process.ar.end(), ar);
  std::copy(process.ma.begin(), process.ma.end(), ma);
  // Sample t sits at index t + kWidth of the padded buffers.
  std::vector<double> x(n + kWidth, 0.0), innovations(n + kWidth, 0.0);
  for (std::size_t t = 0; t < n; ++t) x[t + kWidth] = std::isnan(w[t]) && t < p ? 0.0 : w[t];
  for (std::size_t t = p; t < n; ++t) {
    const std::size_t at = t + kWidth;
    // Oldest terms first, e[t-1] last: the serial path per step is one
    // multiply-add and one subtraction.
    double known = 0.0;
    for (std::size_t i = kWidth; i-- > 0;) known += ar[i] * x[at - i - 1];
    for (std::size_t j = kWidth; j-- > 1;) known += ma[j] * innovations[at - j - 1];
    const double prediction = known + ma[0] * innovations[at - 1];
    if (std::isnan(x[at])) {
      x[at] = prediction;  // a gap: its prediction stands in, innovation zero
      continue;
    }
    const double innovation = x[at] - prediction;
    innovations[at] = innovation;
    out.ssq += innovation * innovation;
    ++out.observations;
  }
  return out;
}

StateSpaceFilter::StateSpaceFilter(Eigen::MatrixXd transition, Eigen::VectorXd observation,
                                   Eigen::MatrixXd noise, Eigen::VectorXd state,
                                   Eigen::MatrixXd state_covariance)
    : transition_(std::move(transition)),
      observation_(std::move(observation)),
      noise_(std::move(noise)),
      state_(std::move(state)),
      covariance_(std::move(state_covariance)),
      gain_(state_.size()) {}

StateSpaceFilter::Step StateSpaceFilter::step(double y) {
  Step out;
  if (std::isnan(y)) {
    out.innovation = std::numeric_limits<double>::quiet_NaN();
    out.variance = observation_.dot(covariance_ * observation_);
  } else {
    gain_.noalias() = covariance_ * observation_;
    const double f = observation_.dot(gain_);
    out.innovation = y - observation_.dot(state_);
    out.variance = f;
    if (f > 0 && std::isfinite(f)) {
      state_ += gain_ * (out.innovation / f);
      covariance_.noalias() -= gain_ * gain_.transpose() / f;
    }
  }
  state_ = transition_ * state_;
  covariance_ = transition_ * covariance_ * transition_.transpose() + noise_;
  // Keep it symmetric against round-off over long streams.
  covariance_ = (0.5 * (covariance_ + covariance_.transpose())).eval();
  return out;
}

void StateSpaceFilter::forecast(std::size_t horizon, double* mean, double* variance) const {
  Eigen::VectorXd a = state_;
  Eigen::MatrixXd p = covariance_;
  for (std::size_t h = 0; h < horizon; ++h) {
    mean[h] = observation_.dot(a);
    variance[h] = std::max(observation_.dot(p * observation_), 0.0);
    a = (transition_ * a).eval();
    p = (transition_ * p * transition_.transpose() + noise_).eval();
  }
}

StateSpaceFilter arima_state_space(const ArmaProcess& process, int d) {
  const Harvey h = harvey(process);
  const int r = h.r, m = r + d;
  // (1 - B)^d = 1 - delta_1 B - ... - delta_d B^d.
  std::vector<double> delta(d, 0.0);
  {
    std::vector<double> poly{1.0};
    for (int k = 0; k < d; ++k) {
      std::vector<double> next(poly.size() + 1, 0.0);
      for (std::size_t i = 0; i < poly.size(); ++i) {
        next[i] += poly[i];
        next[i + 1] -= poly[i];
      }
      poly.swap(next);
    }
    for (int i = 0; i < d; ++i) delta[i] = -poly[i + 1];
  }
  Eigen::VectorXd z = Eigen::VectorXd::Zero(m);
  z(0) = 1.0;
  for (int i = 0; i < d; ++i) z(r + i) = delta[i];
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(m, m);
  for (int i = 0; i < r; ++i) {
    t(i, 0) = h.phi[i];
    if (i + 1 < r) t(i, i + 1) = 1.0;
  }
  if (d > 0) {
    t.row(r) = z.transpose();
    for (int i = 1; i < d; ++i) t(r + i, r + i - 1) = 1.0;
  }
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(m, m);
  for (int i = 0; i < r; ++i)
    for (int j = 0; j < r; ++j) q(i, j) = h.theta[i] * h.theta[j];
  Eigen::MatrixXd p0 = Eigen::MatrixXd::Zero(m, m);
  Eigen::MatrixXd stationary = arma_stationary_covariance(process);
  if (stationary.size() == 0) stationary = Eigen::MatrixXd::Identity(r, r) * 1e6;
  p0.topLeftCorner(r, r) = stationary;
  for (int i = 0; i < d; ++i) p0(r + i, r + i) = 1e6;
  return StateSpaceFilter(std::move(t), std::move(z), std::move(q), Eigen::VectorXd::Zero(m),
                          std::move(p0));
}

}  // namespace prescale::forecast
