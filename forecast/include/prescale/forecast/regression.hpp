#pragma once
// Least squares and unit-root testing used by the ARIMA regression: OLS by
// column-pivoted QR (rank-revealing, so collinear regressors are found and
// named instead of producing garbage) and the KPSS level-stationarity test.
#include <Eigen/Core>

#include <cstddef>
#include <span>
#include <vector>

namespace prescale::forecast {

/// Result of y = X b + e over the rows where y is not NaN. Value type.
struct LinearFit {
  Eigen::VectorXd coefficients;      ///< zero for dropped columns
  std::vector<double> residuals;     ///< NaN where y is NaN
  std::vector<std::size_t> dropped;  ///< columns linearly dependent on earlier ones
  std::size_t observations = 0;
  double rss = 0;
};

/// Ordinary least squares; rows with NaN y are skipped. X must be finite.
[[nodiscard]] LinearFit least_squares(const Eigen::MatrixXd& regressors, std::span<const double> y);

/// KPSS statistic for level stationarity of x (NaN skipped), Bartlett
/// long-run variance with `lags` lags.
[[nodiscard]] double kpss_statistic(std::span<const double> x, std::size_t lags);
/// Lag truncation used by R's forecast::ndiffs: trunc(3 sqrt(n) / 13).
[[nodiscard]] std::size_t kpss_lags(std::size_t n);
/// The 5% critical value of the KPSS level test (Kwiatkowski et al. 1992, table 1).
inline constexpr double kKpssCritical5 = 0.463;

/// Differences of order d: out[t] = (1-B)^d x at t, NaN for t < d or when a
/// term is NaN. Same length as x.
[[nodiscard]] std::vector<double> difference(std::span<const double> x, int d);
/// Row-wise differences of a matrix, same convention (first d rows are zero).
[[nodiscard]] Eigen::MatrixXd difference_rows(const Eigen::MatrixXd& x, int d);

/// Number of differences (0..max_d) after which KPSS no longer rejects
/// stationarity at 5%, as R's ndiffs(test = "kpss").
[[nodiscard]] int choose_differences(std::span<const double> x, int max_d);

}  // namespace prescale::forecast
