#include "prescale/forecast/regression.hpp"

#include <Eigen/QR>

#include <cmath>
#include <limits>

namespace prescale::forecast {

LinearFit least_squares(const Eigen::MatrixXd& regressors, std::span<const double> y) {
  LinearFit out;
  const std::size_t n = y.size();
  const Eigen::Index m = regressors.cols();
  std::vector<Eigen::Index> rows;
  rows.reserve(n);
  for (std::size_t t = 0; t < n; ++t)
    if (!std::isnan(y[t])) rows.push_back(static_cast<Eigen::Index>(t));
  out.observations = rows.size();
  out.coefficients = Eigen::VectorXd::Zero(m);
  out.residuals.assign(n, std::numeric_limits<double>::quiet_NaN());
  Eigen::MatrixXd x(static_cast<Eigen::Index>(rows.size()), m);
  Eigen::VectorXd target(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (m > 0) x.row(static_cast<Eigen::Index>(k)) = regressors.row(rows[k]);
    target(static_cast<Eigen::Index>(k)) = y[static_cast<std::size_t>(rows[k])];
  }
  if (m > 0 && !rows.empty()) {
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(x);
    qr.setThreshold(1e-9);
    const Eigen::Index rank = qr.rank();
    for (Eigen::Index k = rank; k < m; ++k)
      out.dropped.push_back(static_cast<std::size_t>(qr.colsPermutation().indices()(k)));
    out.coefficients = qr.solve(target);
    // solve() leaves dependent columns at zero; make it explicit.
    for (std::size_t c : out.dropped) out.coefficients(static_cast<Eigen::Index>(c)) = 0.0;
  }
  const Eigen::VectorXd fitted =
      m > 0 ? Eigen::VectorXd(x * out.coefficients)
            : Eigen::VectorXd::Zero(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const double e = target(static_cast<Eigen::Index>(k)) - fitted(static_cast<Eigen::Index>(k));
    out.residuals[static_cast<std::size_t>(rows[k])] = e;
    out.rss += e * e;
  }
  return out;
}

double kpss_statistic(std::span<const double> x, std::size_t lags) {
  std::vector<double> e;
  e.reserve(x.size());
  for (double v : x)
    if (!std::isnan(v)) e.push_back(v);
  const std::size_t n = e.size();
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  double mean = 0;
  for (double v : e) mean += v;
  mean /= static_cast<double>(n);
  for (double& v : e) v -= mean;
  double partial = 0, eta = 0, s0 = 0;
  for (double v : e) {
    partial += v;
    eta += partial * partial;
    s0 += v * v;
  }
  double long_run = s0;
  for (std::size_t l = 1; l <= lags && l < n; ++l) {
    double gamma = 0;
    for (std::size_t t = l; t < n; ++t) gamma += e[t] * e[t - l];
    long_run += 2.0 * (1.0 - static_cast<double>(l) / static_cast<double>(lags + 1)) * gamma;
  }
  long_run /= static_cast<double>(n);
  if (!(long_run > 0)) return 0.0;  // constant: nothing to difference
  return eta / (static_cast<double>(n) * static_cast<double>(n) * long_run);
}

std::size_t kpss_lags(std::size_t n) {
  return static_cast<std::size_t>(3.0 * std::sqrt(static_cast<double>(n)) / 13.0);
}

std::vector<double> difference(std::span<const double> x, int d) {
  std::vector<double> out(x.begin(), x.end());
  for (int k = 0; k < d; ++k)
    for (std::size_t t = out.size(); t-- > 0;)
      out[t] = t == 0 ? std::numeric_limits<double>::quiet_NaN() : out[t] - out[t - 1];
  return out;
}

Eigen::MatrixXd difference_rows(const Eigen::MatrixXd& x, int d) {
  Eigen::MatrixXd out = x;
  if (out.cols() == 0) return out;  // no columns: nothing to difference (and no data pointer)
  for (int k = 0; k < d; ++k) {
    for (Eigen::Index t = out.rows() - 1; t > 0; --t) out.row(t) -= out.row(t - 1);
    if (out.rows() > 0) out.row(0).setZero();
  }
  return out;
}

int choose_differences(std::span<const double> x, int max_d) {
  std::vector<double> current(x.begin(), x.end());
  int d = 0;
  while (d < max_d) {
    std::size_t n = 0;
    for (double v : current) n += std::isnan(v) ? 0 : 1;
    if (n < 10) break;
    const double stat = kpss_statistic(current, kpss_lags(n));
    if (!(stat > kKpssCritical5)) break;
    current = difference(current, 1);
    ++d;
  }
  return d;
}

}  // namespace prescale::forecast
