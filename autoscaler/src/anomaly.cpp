#include "prescale/autoscaler/anomaly.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "prescale/forecast/model.hpp"

namespace prescale::autoscaler {

bool AnomalyTracker::observe(std::int64_t sample_unix, double observed, double mean, double sigma,
                             double quantile) {
  if (!std::isfinite(observed) || !std::isfinite(mean) || !std::isfinite(sigma) || !(sigma > 0))
    return false;
  // The central interval whose upper edge is the served quantile: [q_(1-p), q_p].
  const double p = std::max(quantile, 1 - quantile);
  const double bound = p > 0.5 && p < 1 ? forecast::normal_quantile(p) : 0;
  state_.score = (observed - mean) / sigma;
  state_.outside = std::abs(state_.score) > bound;
  state_.sample_unix = sample_unix;
  state_.observed = observed;
  state_.expected = mean;
  state_.sigma = sigma;
  if (!state_.outside) {
    state_.outside_steps = 0;
    state_.episode_start_unix = 0;
    state_.shift = false;
    shift_base_ = 0;
    return false;
  }
  if (state_.outside_steps == 0) state_.episode_start_unix = sample_unix;
  ++state_.outside_steps;
  // Every further M steps outside (the refit did not absorb it) asks again.
  if (state_.outside_steps - shift_base_ >= settings_.shift_steps) {
    state_.shift = true;
    shift_base_ = state_.outside_steps;
    return true;
  }
  return false;
}

double served_anomaly_score(const AnomalyState& state, bool forecasting) {
  if (!forecasting || state.sample_unix == 0 || std::isnan(state.score)) return 0;
  return std::min(std::abs(state.score), kMaxServedAnomalyScore);
}

std::string describe_anomaly(const AnomalyState& state, double quantile) {
  const double p = std::max(quantile, 1 - quantile);
  return fmt::format(
      "observed {:.6g} is {:.1f} sigma {} the one-step forecast {:.6g} ({} the {:.0f}% "
      "interval{})",
      state.observed, std::abs(state.score), state.score < 0 ? "below" : "above", state.expected,
      state.outside ? "outside" : "inside", (2 * p - 1) * 100,
      state.outside_steps > 0 ? fmt::format(" for {} steps", state.outside_steps) : "");
}

}  // namespace prescale::autoscaler
