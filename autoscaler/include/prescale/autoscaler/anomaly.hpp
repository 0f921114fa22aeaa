#pragma once
// Anomaly signals: each new sample against the one-step forecast made just
// before it. The standardised residual z = (observed - mean) / sigma, whether
// the sample lies outside the central prediction interval at the target's
// quantile (|z| > z_p), and how many steps in a row it has done so. A short
// run is an anomaly (an outage, a spike); a long one is a new normal that
// the fitted parameters no longer describe, so the target refits.
#include <cstdint>
#include <string>

namespace prescale::autoscaler {

/// Steps in a row outside the interval that make an anomaly and a shift.
struct AnomalySettings {
  std::int64_t anomaly_steps = 3;  ///< N: report an anomaly after N steps outside
  std::int64_t shift_steps = 15;   ///< M: a new normal after M steps outside: refit
};

/// The latest sample's standing. Value type.
struct AnomalyState {
  double score = 0;                ///< (observed - mean) / sigma of the newest sample; 0 before any
  bool outside = false;            ///< the newest sample lies outside the interval
  std::int64_t outside_steps = 0;  ///< consecutive samples outside (0 when the newest is inside)
  std::int64_t sample_unix = 0;    ///< time of the newest scored sample (0 = none yet)
  double observed = 0;             ///< the newest scored sample
  double expected = 0;             ///< its one-step forecast mean
  double sigma = 0;                ///< its one-step forecast sigma
  std::int64_t episode_start_unix = 0;  ///< first sample of the current run outside (0 = none)
  bool shift = false;                   ///< this run has reached shift_steps
};

/// Not thread-safe: owned by one target worker.
class AnomalyTracker {
 public:
  explicit AnomalyTracker(AnomalySettings settings = {}) : settings_(settings) {}
  void set_settings(AnomalySettings settings) { settings_ = settings; }
  [[nodiscard]] const AnomalySettings& settings() const { return settings_; }

  /// Scores the sample at `sample_unix` against its one-step forecast.
  /// A non-finite value, mean or sigma <= 0 scores nothing (a gap is no evidence).
  /// Returns true when this sample completes a run of shift_steps outside
  /// (and again after every further shift_steps): refit now.
  bool observe(std::int64_t sample_unix, double observed, double mean, double sigma,
               double quantile);
  [[nodiscard]] const AnomalyState& state() const { return state_; }

 private:
  AnomalySettings settings_;
  AnomalyState state_;
  std::int64_t shift_base_ = 0;  ///< outside_steps at the last shift of this run
};

/// The largest value the -anomaly external metric serves: a residual beyond a
/// million sigma (a near-zero sigma) says no more than "far outside".
inline constexpr double kMaxServedAnomalyScore = 1e6;

/// The value of a target's opt-in `<metric>-anomaly` external metric: the
/// newest scored sample's |score| (a distance, so an outage and a surge both
/// read high; the sign is on /metrics and in the records), capped at
/// kMaxServedAnomalyScore. 0 — no evidence — before any sample is scored, when
/// the target is not forecasting (fallback: no trusted interval to be
/// outside of), and for a NaN score. Never negative, NaN or infinite. Pure.
[[nodiscard]] double served_anomaly_score(const AnomalyState& state, bool forecasting);

/// "observed 512 is 6.3 sigma below the one-step forecast 1020 (outside the
/// 90% interval for 3 steps)".
[[nodiscard]] std::string describe_anomaly(const AnomalyState& state, double quantile);

}  // namespace prescale::autoscaler
