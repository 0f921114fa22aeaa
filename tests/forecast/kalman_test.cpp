#include <catch2/catch.hpp>

#include "prescale/forecast/kalman.hpp"

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <cmath>
#include <random>
#include <vector>

using namespace prescale::forecast;

namespace {

std::vector<double> simulate_arma(const ArmaProcess& process, std::size_t n, unsigned seed,
                                  double sigma = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, sigma);
  const std::size_t burn = 500;
  std::vector<double> w(n + burn, 0.0), e(n + burn, 0.0);
  for (std::size_t t = 0; t < n + burn; ++t) {
    e[t] = normal(rng);
    double v = e[t];
    for (std::size_t i = 0; i < process.ar.size() && i < t; ++i) v += process.ar[i] * w[t - i - 1];
    for (std::size_t j = 0; j < process.ma.size() && j < t; ++j) v += process.ma[j] * e[t - j - 1];
    w[t] = v;
  }
  return {w.begin() + burn, w.end()};
}

// Autocovariances (units of sigma^2) from the state-space prior:
// Cov(w_t, w_{t+h}) = e1' T^h P0 e1 for Harvey's form.
Eigen::MatrixXd dense_covariance(const ArmaProcess& process, std::size_t n) {
  const int r = process.state_dim();
  Eigen::MatrixXd t = Eigen::MatrixXd::Zero(r, r);
  for (int i = 0; i < r; ++i) {
    if (i < static_cast<int>(process.ar.size())) t(i, 0) = process.ar[i];
    if (i + 1 < r) t(i, i + 1) = 1.0;
  }
  const Eigen::MatrixXd p0 = arma_stationary_covariance(process);
  std::vector<double> gamma(n);
  Eigen::MatrixXd power = Eigen::MatrixXd::Identity(r, r);
  for (std::size_t h = 0; h < n; ++h) {
    gamma[h] = (power * p0)(0, 0);
    power = (t * power).eval();
  }
  Eigen::MatrixXd cov(n, n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) cov(i, j) = gamma[i > j ? i - j : j - i];
  return cov;
}

// Concentrated Gaussian log-likelihood from the dense covariance of the observed samples.
double dense_log_likelihood(const ArmaProcess& process, const std::vector<double>& w) {
  const Eigen::MatrixXd full = dense_covariance(process, w.size());
  std::vector<Eigen::Index> keep;
  for (std::size_t i = 0; i < w.size(); ++i)
    if (!std::isnan(w[i])) keep.push_back(static_cast<Eigen::Index>(i));
  const auto m = static_cast<Eigen::Index>(keep.size());
  Eigen::MatrixXd cov(m, m);
  Eigen::VectorXd y(m);
  for (Eigen::Index a = 0; a < m; ++a) {
    y(a) = w[static_cast<std::size_t>(keep[a])];
    for (Eigen::Index b = 0; b < m; ++b) cov(a, b) = full(keep[a], keep[b]);
  }
  const Eigen::LLT<Eigen::MatrixXd> llt(cov);
  const double quadratic = y.dot(llt.solve(y));
  const Eigen::MatrixXd l = llt.matrixL();
  const double log_det = 2 * l.diagonal().array().log().sum();
  const double n = static_cast<double>(m);
  return -0.5 * (n * std::log(2 * M_PI * quadratic / n) + log_det + n);
}

}  // namespace

TEST_CASE("Kalman exact likelihood equals the dense Gaussian likelihood", "[forecast][kalman]") {
  const ArmaProcess process{{0.5, -0.3}, {0.4}};
  std::vector<double> w = simulate_arma(process, 40, 7);
  CHECK(arma_exact_likelihood(process, w).log_likelihood() ==
        Approx(dense_log_likelihood(process, w)).epsilon(1e-10));

  SECTION("with gaps the filter skips updates; the dense form drops the rows") {
    w[3] = w[17] = w[18] = w[39] = std::nan("");
    const ArmaLikelihood like = arma_exact_likelihood(process, w);
    CHECK(like.observations == 36);
    CHECK(like.log_likelihood() == Approx(dense_log_likelihood(process, w)).epsilon(1e-10));
  }
  SECTION("pure MA and pure AR forms") {
    const ArmaProcess ma{{}, {0.7, 0.2}};
    CHECK(arma_exact_likelihood(ma, w).log_likelihood() ==
          Approx(dense_log_likelihood(ma, w)).epsilon(1e-10));
    const ArmaProcess ar{{0.9}, {}};
    CHECK(arma_exact_likelihood(ar, w).log_likelihood() ==
          Approx(dense_log_likelihood(ar, w)).epsilon(1e-10));
  }
}

TEST_CASE("GLS through the filter equals dense GLS", "[forecast][kalman]") {
  const ArmaProcess process{{0.7}, {0.3}};
  const std::size_t n = 60;
  std::vector<double> noise = simulate_arma(process, n, 11);
  Eigen::MatrixXd x(n, 2);
  std::vector<double> y(n);
  for (std::size_t t = 0; t < n; ++t) {
    x(static_cast<Eigen::Index>(t), 0) = 1.0;
    x(static_cast<Eigen::Index>(t), 1) = std::sin(2 * M_PI * static_cast<double>(t) / 12.0);
    y[t] = 3.0 + 2.0 * x(static_cast<Eigen::Index>(t), 1) + noise[t];
  }
  const ArmaGls gls = arma_gls(process, y, x);
  REQUIRE(gls.likelihood.valid);
  const Eigen::MatrixXd cov = dense_covariance(process, n);
  const Eigen::LLT<Eigen::MatrixXd> llt(cov);
  const Eigen::Map<const Eigen::VectorXd> yv(y.data(), static_cast<Eigen::Index>(n));
  const Eigen::MatrixXd ci_x = llt.solve(x);
  const Eigen::VectorXd ci_y = llt.solve(yv);
  const Eigen::VectorXd beta = (x.transpose() * ci_x).ldlt().solve(x.transpose() * ci_y);
  CHECK(gls.coefficients(0) == Approx(beta(0)).epsilon(1e-9));
  CHECK(gls.coefficients(1) == Approx(beta(1)).epsilon(1e-9));
  std::vector<double> residual(n);
  for (std::size_t t = 0; t < n; ++t)
    residual[t] = y[t] - (x.row(static_cast<Eigen::Index>(t)) * beta)(0);
  CHECK(gls.likelihood.log_likelihood() ==
        Approx(dense_log_likelihood(process, residual)).epsilon(1e-9));
}

TEST_CASE("stationarity and invertibility checks", "[forecast][kalman]") {
  CHECK(ArmaProcess{{0.5}, {}}.stationary());
  CHECK_FALSE(ArmaProcess{{1.0}, {}}.stationary());
  CHECK_FALSE(ArmaProcess{{0.5, 0.6}, {}}.stationary());  // 1 - 0.5z - 0.6z^2 has a root inside
  CHECK(ArmaProcess{{}, {-0.9}}.invertible());
  CHECK_FALSE(ArmaProcess{{}, {1.2}}.invertible());
  CHECK(arma_stationary_covariance(ArmaProcess{{1.01}, {}}).size() == 0);
  // AR(1): Var = 1 / (1 - phi^2).
  CHECK(arma_stationary_covariance(ArmaProcess{{0.6}, {}})(0, 0) == Approx(1 / (1 - 0.36)));
}

TEST_CASE("state-space forecasts of an AR(1) follow the closed form", "[forecast][kalman]") {
  const double phi = 0.8;
  StateSpaceFilter filter = arima_state_space(ArmaProcess{{phi}, {}}, 0);
  const std::vector<double> y{0.3, -0.2, 1.5, 2.0};
  for (double v : y) filter.step(v);
  double mean[5], variance[5];
  filter.forecast(5, mean, variance);
  double expected_variance = 0;
  for (int h = 0; h < 5; ++h) {
    expected_variance = expected_variance * phi * phi + 1;
    CHECK(mean[h] == Approx(std::pow(phi, h + 1) * 2.0).epsilon(1e-9));
    CHECK(variance[h] == Approx(expected_variance).epsilon(1e-9));
  }
  SECTION("a missing sample widens the next forecast") {
    filter.step(std::nan(""));
    filter.forecast(1, mean, variance);
    CHECK(mean[0] == Approx(std::pow(phi, 2) * 2.0).epsilon(1e-9));
    CHECK(variance[0] == Approx(1 + phi * phi).epsilon(1e-9));
  }
}

TEST_CASE("random walk state space: the level carries over", "[forecast][kalman]") {
  StateSpaceFilter filter = arima_state_space(ArmaProcess{}, 1);
  for (double v : {10.0, 11.0, 12.5}) filter.step(v);
  double mean[3], variance[3];
  filter.forecast(3, mean, variance);
  for (int h = 0; h < 3; ++h) {
    CHECK(mean[h] == Approx(12.5).epsilon(1e-6));
    CHECK(variance[h] == Approx(h + 1.0).epsilon(1e-6));
  }
}

TEST_CASE("CSS innovations of an AR(1) are the one-step residuals", "[forecast][kalman]") {
  const std::vector<double> w{1.0, 2.0, 0.5, std::nan(""), 1.0};
  const CssResult css = arma_css(ArmaProcess{{0.5}, {}}, w);
  // t=1: 2 - 0.5; t=2: 0.5 - 1; t=3 missing -> filled with 0.25; t=4: 1 - 0.125.
  CHECK(css.observations == 3);
  CHECK(css.ssq == Approx(1.5 * 1.5 + 0.5 * 0.5 + 0.875 * 0.875));
}
