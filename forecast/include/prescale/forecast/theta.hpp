#pragma once
// The Theta method (Assimakopoulos & Nikolopoulos 2000) in the form
// Hyndman & Billah (2003) showed it to be: simple exponential smoothing
// with a drift of half the series' linear trend, on the seasonally adjusted
// series, then seasonalised again. It won the M3 competition and is the
// M4's standard benchmark; beside Holt-Winters it is a different kind of
// model (a fixed seasonal profile, a trend that is estimated once over the
// whole history rather than smoothed), so its errors differ from theirs,
// which is what a combination wants (combination.hpp).
//
// Season: the layout's shortest period when the history holds two cycles;
// classical decomposition (a centred moving average of one cycle, the
// ratio to it per slot; the difference when a sample is <= 0), slots from
// the layout's local-time positions. SES alpha minimises the one-step SSE
// over a grid (0.05 .. 0.95). update() smooths the level in O(1); the
// drift and the seasonal profile stay those of the fit.
#include <string>

#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

/// Immutable recipe; fit() is thread-safe. Fitted name "theta(<slots>)"
/// (or "theta" without a season); parameters alpha and drift (per step).
/// too_short with fewer than 4 observed samples.
class Theta final : public Model {
 public:
  [[nodiscard]] std::string name() const override { return "theta"; }
  [[nodiscard]] FitResult fit(const FitInput& input) const override;
};

}  // namespace prescale::forecast
