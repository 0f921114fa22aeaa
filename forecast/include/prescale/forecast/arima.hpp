#pragma once
// Regression with ARIMA(p,d,q) errors: y_t = x_t' beta + u_t, (1-B)^d u_t
// ARMA(p,q). The regressors are an intercept (d = 0), Fourier terms for the
// layout's seasons (phase from local-time positions, so DST-correct) and the
// caller's columns (calendar dummies). Orders by AICc with a stepwise search
// in the style of Hyndman & Khandakar (2008), d by KPSS, Fourier K per season
// by AICc; coefficients by CSS for starting values, then exact Gaussian
// likelihood through a Kalman filter with beta profiled by GLS.
#include "prescale/forecast/model.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace prescale::forecast {

/// Recipe options. Negative orders and empty harmonics mean "choose".
struct ArimaOptions {
  int p = -1, d = -1, q = -1;  ///< fixed orders when >= 0
  int max_p = 5, max_q = 5;    ///< stepwise search bounds
  int max_order = 5;           ///< bound on p + q, as R's auto.arima
  int max_d = 2;
  std::vector<int> harmonics;  ///< fixed K per layout period (0 = none)
  int min_harmonics = 1;       ///< a season with enough history keeps at least this K
  int max_harmonics = 10;      ///< per-period bound of the K search
  double min_cycles = 2.0;  ///< a season gets Fourier terms only with this many cycles of history
  std::int64_t step_seconds = 0;  ///< only to name seasons ("1d", "1w"); 0 names them by slots
};

/// Immutable recipe; fit() is thread-safe. The fitted model reads the
/// layout and the regressors given to fit() at update()/forecast() time
/// (Model's contract): forecast() stops where either runs out.
class ArimaModel final : public Model {
 public:
  explicit ArimaModel(ArimaOptions options = {});
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;

 private:
  ArimaOptions options_;
};

/// "1d", "1w", "12h", ... for a period of `slots` steps, or the slot count
/// when step_seconds is 0.
[[nodiscard]] std::string season_label(std::uint32_t slots, std::int64_t step_seconds);

}  // namespace prescale::forecast
