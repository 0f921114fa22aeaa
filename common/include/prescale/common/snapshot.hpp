#pragma once
// What the engine publishes and the servers read: an immutable snapshot of
// every target's recommendation, swapped atomically. Requests never fit or
// fetch; they read the latest snapshot.
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace prescale {

/// One served external metric (the forecast metric or its -replicas twin).
struct MetricValue {
  std::string metric;                         ///< external metric name
  std::string namespace_name;                 ///< namespace it is served in, or "*" for all
  std::map<std::string, std::string> labels;  ///< matched by the HPA's labelSelector
  double value = 0;                           ///< finite, >= 0
  std::int64_t timestamp_unix = 0;            ///< when the value was computed
  std::int64_t window_seconds = 60;           ///< the step the value covers
  std::string target;                         ///< the target it belongs to
};

/// What a target's SLO tuning (`slo:`) found on the decisions it tuned on:
/// the setting in force, and a reactive HPA tuned the same way on the same
/// history, replayed through the HPA model. The figures of the tuning's
/// record, as numbers for /status and /metrics. Value type.
struct SloFigures {
  double days = 0;               ///< decisions recorded (replayed ones included)
  double allowed_minutes = 0;    ///< the SLO's minutes short over those days
  double tuned_for_minutes = 0;  ///< the SLO less the margin the tuning held back
  bool meets_slo = false;        ///< false: no setting swept kept within it; the safest serves
  double short_minutes = 0;      ///< minutes short of capacity, the setting in force
  double replica_hours = 0;      ///< the setting in force
  bool reactive_swept = false;   ///< false: the reactive figures below are absent
  bool reactive_meets_slo = false;
  double reactive_short_minutes = 0;
  double reactive_replica_hours = 0;
  /// As served: what the values served (every setting in force at the time,
  /// fallbacks included) did on the same HPA model, over the recorded
  /// decisions this process served and, with slo.servedQuery, those before
  /// its start that Prometheus holds the served value of (without it, the
  /// decisions replayed from history at a start count as never served).
  /// The tuning's figures above are one setting judged on the days it was
  /// chosen from; these are what the HPA got.
  double served_days = 0;             ///< 0: none served yet (the fields below are absent)
  double served_allowed_minutes = 0;  ///< the SLO's minutes short over those days
  double served_short_minutes = 0;
  double served_replica_hours = 0;
  /// Over the same decisions, a reactive HPA retuned the same way (its
  /// per-pod target the one each refit chose, from the first tuning's on
  /// for decisions before it): what the values served saved in production.
  bool served_reactive = false;  ///< false: no reactive target known yet (absent)
  double served_reactive_short_minutes = 0;
  double served_reactive_replica_hours = 0;
};

/// Per-target state for /status and /metrics.
struct TargetStatus {
  std::string target;  ///< the target's metric name
  std::string model;   ///< e.g. holt-winters(A,Ad,A;1440,10080) or seasonal-naive
  std::map<std::string, double> parameters;
  double observed = 0;             ///< last observed value
  double forecast = 0;             ///< forecast quantile over the lead window
  double served = 0;               ///< max(observed, forecast), or observed in fallback
  std::optional<double> replicas;  ///< served / capacityPerReplica, clamped
  double fit_seconds = 0;          ///< duration of the last fit
  std::optional<double> backtest_mase;
  std::int64_t last_fit_unix = 0;
  /// End of the samples the model in use was fitted on (exclusive; 0 = none):
  /// replicas serving from the same fit have the same one.
  std::int64_t fit_data_end_unix = 0;
  std::int64_t data_age_seconds = 0;  ///< now - time of the newest sample
  bool has_forecast = false;          ///< a fitted model is in use
  std::string fallback_reason;        ///< empty unless serving observed alone
  /// The reason as one word from a fixed list (no_data, data_stale,
  /// fit_pending, fit_failed, history_too_short, forced_model_loses,
  /// forecast_unusable): the /metrics label. It carries no URL, query or
  /// server message (/metrics is unauthenticated by default) and keeps the
  /// label's values few. Empty unless in fallback.
  std::string fallback_kind;
  /// Anomaly evidence (autoscaler/anomaly.hpp): the larger CUSUM of the
  /// standardised residuals over its threshold, signed (negative: below the
  /// forecast); |score| > 1 while an anomaly is in progress.
  double anomaly_score = 0;
  bool anomaly = false;   ///< an anomaly is in progress (the rule of the decision records)
  double residual_z = 0;  ///< the newest sample's residual over its seasonal residual scale
  /// The newest sample lies outside the prediction interval at the target's
  /// quantile (per sample, by design on about 2(1 - q) of samples: not an alarm).
  bool outside_interval = false;
  std::int64_t outside_steps = 0;  ///< consecutive samples outside the interval
  /// The central prediction interval [q_(1-p), q_p] the newest sample was
  /// scored against (its one-step forecast; NaN before a model scores one).
  double interval_lower = std::numeric_limits<double>::quiet_NaN();
  double interval_upper = std::numeric_limits<double>::quiet_NaN();
  /// The quantile and headroom the latest decision applied (an SLO's tuning,
  /// its quiet hours' setting in those hours; else the config's quantile, x1).
  double quantile = 0;
  double headroom = 1;  ///< served = max(observed, forecast x risk) x headroom
  /// The quantile p of the prediction interval's upper edge [q(1-p), q(p)]:
  /// the configured quantile, which an SLO's tuning does not move (the
  /// interval's expected misses, 2(1 - p), follow it).
  double interval_quantile = 0.9;
  /// The SLO tuning in force (`slo:`): the setting and its figures, or why
  /// none yet; empty without `slo:`.
  std::string slo;
  std::optional<SloFigures> slo_figures;  ///< unset until an `slo:` is tuned
  std::int64_t step_seconds = 0;          ///< the target's sampling step
  std::uint64_t fit_failures = 0;         ///< fits that failed since the target started
  [[nodiscard]] bool in_fallback() const { return !fallback_reason.empty(); }
};

struct Snapshot {
  std::int64_t generated_unix = 0;
  std::vector<MetricValue> metrics;
  std::vector<TargetStatus> targets;
  /// Ready once every target has a forecast or a declared fallback.
  bool ready = false;
};

/// Holds the latest snapshot. Thread-safe: one writer publishes, any number
/// of readers take the current pointer (a copy of a shared_ptr under a lock).
class SnapshotStore {
 public:
  void publish(std::shared_ptr<const Snapshot> snapshot) {
    std::lock_guard lock(mutex_);
    current_ = std::move(snapshot);
  }
  /// Never null: an empty, not-ready snapshot before the first publish.
  [[nodiscard]] std::shared_ptr<const Snapshot> current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> current_ = std::make_shared<const Snapshot>();
};

}  // namespace prescale
