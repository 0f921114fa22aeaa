#pragma once
// Kalman filtering for ARMA errors: the exact Gaussian likelihood (with gaps),
// GLS regression coefficients through the same filter, the conditional sum
// of squares used for starting values, and a small general state-space
// filter that follows an ARIMA stream in O(1) per sample.
#include <Eigen/Core>

#include <cstddef>
#include <span>
#include <vector>

namespace prescale::forecast {

/// phi(B) w_t = theta(B) e_t with Var(e_t) = 1: every variance computed from
/// it is in units of sigma^2. Harvey's state-space form, dimension
/// max(p, q + 1). Value type.
struct ArmaProcess {
  std::vector<double> ar;  ///< phi_1 .. phi_p (w_t = sum phi_i w_{t-i} + ...)
  std::vector<double> ma;  ///< theta_1 .. theta_q (... + e_t + sum theta_j e_{t-j})

  [[nodiscard]] int state_dim() const;
  /// True when every root of 1 - phi_1 z - ... - phi_p z^p lies outside the unit circle.
  [[nodiscard]] bool stationary() const;
  /// True when every root of 1 + theta_1 z + ... lies outside the unit circle.
  [[nodiscard]] bool invertible() const;
};

/// Stationary covariance of the Harvey state (the exact prior), solving
/// P = T P T' + R R'. Empty matrix when the AR part is not stationary.
[[nodiscard]] Eigen::MatrixXd arma_stationary_covariance(const ArmaProcess& process);

/// Sufficient statistics of the innovations v_t with variances F_t sigma^2.
struct ArmaLikelihood {
  double weighted_ssq = 0;  ///< sum v_t^2 / F_t
  double log_det = 0;       ///< sum log F_t
  std::size_t observations = 0;
  bool valid = false;
  /// Maximum-likelihood sigma^2 (sum v^2/F over n).
  [[nodiscard]] double sigma2() const;
  /// Gaussian log-likelihood with sigma^2 concentrated out (2 pi included,
  /// as R's arima reports it); -inf when invalid.
  [[nodiscard]] double log_likelihood() const;
};

/// Exact likelihood of w as a zero-mean ARMA. NaN samples skip the update
/// step (the prediction carries through the gap).
[[nodiscard]] ArmaLikelihood arma_exact_likelihood(const ArmaProcess& process,
                                                   std::span<const double> w);

/// y = X beta + ARMA errors: beta by generalised least squares, computed by
/// filtering y and every column of X with the same gains, and the exact
/// likelihood at that beta. Rows where y is NaN are skipped; X must be finite.
struct ArmaGls {
  ArmaLikelihood likelihood;
  Eigen::VectorXd coefficients;
};
[[nodiscard]] ArmaGls arma_gls(const ArmaProcess& process, std::span<const double> y,
                               const Eigen::MatrixXd& regressors);

/// Conditional sum of squares: innovations of the inverse ARMA filter with
/// pre-sample values at zero, from t = p on. A NaN sample is replaced by its
/// prediction (zero innovation) and not counted.
struct CssResult {
  double ssq = 0;
  std::size_t observations = 0;
  /// 0.5 n log(ssq / n): minimised for starting values.
  [[nodiscard]] double objective() const;
};
[[nodiscard]] CssResult arma_css(const ArmaProcess& process, std::span<const double> w);

/// y_t = Z a_t (no observation noise), a_{t+1} = T a_t + eta_t with
/// Var(eta) = Q. Used for ARIMA streams: each step is O(m^2) for a state of
/// dimension m. Value type; not thread-safe.
class StateSpaceFilter {
 public:
  StateSpaceFilter() = default;
  StateSpaceFilter(Eigen::MatrixXd transition, Eigen::VectorXd observation, Eigen::MatrixXd noise,
                   Eigen::VectorXd state, Eigen::MatrixXd state_covariance);

  struct Step {
    double innovation = 0;  ///< y - prediction (NaN when y is missing)
    double variance = 0;    ///< its variance (units of the noise)
  };
  /// Absorbs y (NaN: predicts only) and moves to the next time step.
  Step step(double y);
  /// Means and variances of y for steps 1..horizon ahead.
  void forecast(std::size_t horizon, double* mean, double* variance) const;
  [[nodiscard]] const Eigen::VectorXd& state() const { return state_; }

 private:
  Eigen::MatrixXd transition_;
  Eigen::VectorXd observation_;
  Eigen::MatrixXd noise_;
  Eigen::VectorXd state_;
  Eigen::MatrixXd covariance_;
  Eigen::VectorXd gain_;  // scratch, kept to avoid allocating per step
};

/// ARIMA(p,d,q) for the levels u_t with (1-B)^d u_t ~ ARMA: the ARMA state
/// plus d lagged levels under a diffuse prior (variance 1e6), as R's makeARIMA.
[[nodiscard]] StateSpaceFilter arima_state_space(const ArmaProcess& process, int d);

}  // namespace prescale::forecast
