#pragma once
// ARMA estimation on a residual series, for the ARIMA model (arima.cpp):
// coefficients searched through partial autocorrelations (every iterate
// stationary and invertible), BFGS, fits by conditional sum of squares or
// exact likelihood, and the Hyndman-Khandakar stepwise search over orders.
// Internal to prescale::forecast.
#include <cstddef>
#include <limits>
#include <span>
#include <utility>
#include <vector>

#include "prescale/forecast/kalman.hpp"

namespace prescale::forecast::arma {

/// One ARMA(p, q) fit and its AICc (infinite when it failed).
struct ArmaFit {
  int p = 0, q = 0;
  ArmaProcess process;
  ArmaLikelihood likelihood;
  double aicc = std::numeric_limits<double>::infinity();
};

/// AICc of a fit with `parameters` estimated on n observations (infinite
/// when the likelihood is not finite or n is too small).
[[nodiscard]] double aicc(double log_likelihood, double parameters, double n);

/// How a candidate is scored: by the conditional sum of squares alone (fast,
/// for the search, as R's auto.arima does with approximation = TRUE on long
/// series) or by exact maximum likelihood.
enum class Scoring { css, exact };

/// ARMA(p, q) on w: CSS for a start (unless `start` is given), then exact
/// maximum likelihood when `scoring` asks for it. `extra` counts the
/// regression coefficients in the AICc.
[[nodiscard]] ArmaFit fit_arma(int p, int q, std::span<const double> w, std::size_t extra,
                               const ArmaProcess* start, Scoring scoring);

/// Bounds of the order search; fixed_p / fixed_q >= 0 pin an order.
struct OrderBounds {
  int max_p, max_q, max_order;
  int fixed_p, fixed_q;
};

/// Hyndman-Khandakar stepwise search over (p, q), starting from `seeds`:
/// moves to the first neighbour that lowers the AICc, until none does.
/// Every fit it makes is appended to `tried` (for an exact re-ranking).
[[nodiscard]] ArmaFit stepwise_orders(std::span<const double> w, std::size_t extra,
                                      const OrderBounds& bounds,
                                      std::vector<std::pair<int, int>> seeds, Scoring scoring,
                                      std::vector<ArmaFit>& tried);

}  // namespace prescale::forecast::arma
