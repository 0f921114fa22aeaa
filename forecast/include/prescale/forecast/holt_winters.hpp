#pragma once
// The Holt-Winters family (exponential smoothing, innovations form with
// additive errors): no / additive / damped trend, additive or multiplicative
// seasonality, one to three seasonal periods (Taylor's double-seasonal form
// for day + week). Each sample's seasonal slot comes from the SeasonLayout
// (local wall-clock time), so DST days that skip or repeat slots just work.
//
// Fitting: initial state from a classical decomposition of the first seasons
// (decomposition.hpp), then alpha, beta, phi, gamma_k minimise the one-step
// SSE; every optimiser round is evaluated as one batch by a SIMD kernel
// (kernels.hpp).
//
// Fallbacks, each said in FitResult.message: multiplicative seasonality on
// data with zeros or negatives is fitted additive; a history shorter than two
// cycles of a period drops that period (longest first); status too_short only
// when not even a non-seasonal model can be fitted (fewer than 4 valid samples).
#include <string>
#include <vector>

#include "prescale/forecast/kernels.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/optimizer.hpp"

namespace prescale::forecast {

enum class Trend { none, additive, damped };
enum class Seasonality { additive, multiplicative };

/// One member of the family. Value type.
struct HoltWintersSpec {
  Trend trend = Trend::damped;
  Seasonality seasonality = Seasonality::additive;
  /// Use only the first (shortest) periods of the layout, e.g. 1 = daily only.
  std::size_t max_periods = 3;
};

/// Bounds of the fitted parameters (phi only for a damped trend).
struct HoltWintersBounds {
  double alpha_min = 1e-4, alpha_max = 0.9999;
  double phi_min = 0.8, phi_max = 0.98;
};

/// How to fit; the defaults suit production.
struct HoltWintersOptions {
  /// Kernel that evaluates candidate batches; nullptr = kernels::default_kernel().
  const kernels::Kernel* kernel = nullptr;
  HoltWintersBounds bounds;
  /// Search effort: population, starts, step, tolerance, round budget.
  BoxOptimizerOptions optimizer;
};

/// "holt-winters(A,Ad,A)" style tag: error A, trend N|A|Ad, season A|M.
std::string holt_winters_tag(const HoltWintersSpec& spec);

/// A Holt-Winters recipe. Immutable; fit() may run on several threads at once.
///
/// The fitted model's parameters() are alpha, beta, phi, gamma1..gammaK (K
/// periods actually used); its name() adds the slots, e.g.
/// "holt-winters(A,Ad,A;288,2016)". forecast(h).sigma follows the ETS
/// class-1 h-step variance  sigma^2 (1 + sum_{j<h} c_j^2), with c_j =
/// alpha + beta*(phi + .. + phi^(h-j)) + sum of gamma_k over the periods whose
/// slot at step j is the slot of step h (read from the layout, so DST is
/// respected). For multiplicative seasonality the level/trend part of c_j is
/// scaled by S_h/S_j (seasonal factor of the forecast step over that of the
/// shock's step): a first-order approximation that ignores products of errors.
class HoltWinters final : public Model {
 public:
  explicit HoltWinters(HoltWintersSpec spec, HoltWintersOptions options = {});
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;
  /// The same model with given parameters (no optimisation): the initial
  /// state is decomposed as in fit(), then the recursion runs over input.y.
  /// Same fallbacks as fit(); gamma beyond the periods used is ignored.
  [[nodiscard]] FitResult fit_with_parameters(const FitInput& input,
                                              const SmoothingParameters& parameters) const;
  [[nodiscard]] const HoltWintersSpec& spec() const { return spec_; }

 private:
  HoltWintersSpec spec_;
  HoltWintersOptions options_;
};

/// The family searched by model selection: every trend x seasonality (6 specs).
std::vector<HoltWintersSpec> all_holt_winters_specs();

}  // namespace prescale::forecast
