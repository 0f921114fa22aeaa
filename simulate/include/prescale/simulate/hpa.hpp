#pragma once
// A model of the Kubernetes HorizontalPodAutoscaler controller (autoscaling/v2,
// k8s >= 1.27) for External metrics, faithful to kubernetes/kubernetes
// pkg/controller/podautoscaler (horizontal.go, replica_calculator.go):
//   - per metric: AverageValue target -> ceil(usage / target) unless
//     |usage / (target * statusReplicas) - 1| <= tolerance (then no change);
//     Value target -> ceil(usage / target * readyPods), same tolerance;
//   - several metrics: the max; if a metric fails (NaN) and the max would
//     scale down, or all fail, no scaling at all this sync;
//   - without `behavior`: scale-down stabilization (max recommendation over
//     the last 300 s) and the scale-up limit max(2 x current, 4);
//   - with `behavior`: stabilization windows both ways, Pods/Percent policies
//     over their periods (from the history of scale events), selectPolicy
//     Max/Min/Disabled; then min/max replicas.
// Time is whole seconds on any epoch (the simulator uses Unix seconds).
// Pure and deterministic: no clock, no I/O.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"

namespace prescale::simulate {

inline constexpr std::int64_t kHpaSyncPeriodSeconds =
    15;  // --horizontal-pod-autoscaler-sync-period
inline constexpr std::int64_t kHpaDownscaleStabilizationSeconds =
    300;                                      // ...-downscale-stabilization
inline constexpr double kHpaTolerance = 0.1;  // ...-tolerance

enum class ScalingPolicyType { pods, percent };
enum class SelectPolicy { max, min, disabled };

/// One HPAScalingPolicy: change by `value` pods (or percent) per `period_seconds`.
struct ScalingPolicy {
  ScalingPolicyType type = ScalingPolicyType::pods;
  std::int32_t value = 0;           ///< > 0
  std::int32_t period_seconds = 0;  ///< 1 .. 1800
};

/// HPAScalingRules as written by a user: unset fields take the defaults of
/// GenerateHPAScaleUpRules / GenerateHPAScaleDownRules.
struct ScalingRules {
  std::optional<std::int32_t> stabilization_window_seconds;
  std::optional<SelectPolicy> select_policy;
  std::vector<ScalingPolicy> policies;  ///< empty = the default policies
};

/// HorizontalPodAutoscalerBehavior: either direction may be left out.
struct HpaBehavior {
  std::optional<ScalingRules> scale_up;
  std::optional<ScalingRules> scale_down;
};

/// Rules with every default applied.
struct ResolvedScalingRules {
  std::int32_t stabilization_window_seconds = 0;
  SelectPolicy select_policy = SelectPolicy::max;
  std::vector<ScalingPolicy> policies;
};

/// scaleUp defaults: window 0 s, policies Pods 4 / Percent 100 per 15 s, Max.
ResolvedScalingRules resolve_scale_up(const std::optional<ScalingRules>& rules);
/// scaleDown defaults: window = the controller's downscale stabilization
/// (300 s), policy Percent 100 per 15 s, Max.
ResolvedScalingRules resolve_scale_down(
    const std::optional<ScalingRules>& rules,
    std::int32_t downscale_stabilization_seconds = kHpaDownscaleStabilizationSeconds);

enum class MetricTargetType { average_value, value };

/// One `External` metric of the HPA spec.
struct ExternalMetricSpec {
  std::string name;
  MetricTargetType target_type = MetricTargetType::average_value;
  double target = 1;  ///< per pod (AverageValue) or total (Value); > 0
};

/// The parts of an HPA spec and of the controller flags that decide replicas.
struct HpaSpec {
  std::int32_t min_replicas = 1;
  std::int32_t max_replicas = 10;
  std::vector<ExternalMetricSpec> metrics;
  std::optional<HpaBehavior> behavior;
  double tolerance = kHpaTolerance;
  std::int32_t downscale_stabilization_seconds = kHpaDownscaleStabilizationSeconds;
};

/// Checks ranges (min <= max, targets > 0, policy values and periods); the
/// error names the field, e.g. "behavior.scaleUp.policies[1].periodSeconds".
Status validate(const HpaSpec& spec);

/// The scale subresource and pods as the controller sees them at a sync.
struct ScaleObservation {
  std::int32_t spec_replicas = 1;         ///< scale.Spec.Replicas
  std::int32_t status_replicas = 1;       ///< scale.Status.Replicas (pods, ready or not)
  std::int32_t ready_pods = 1;            ///< pods with condition Ready
  std::span<const double> metric_values;  ///< one per spec metric; NaN = fetch failed
};

struct TimestampedRecommendation {
  std::int32_t recommendation = 0;
  std::int64_t timestamp = 0;
};
struct TimestampedScaleEvent {
  std::int32_t replica_change = 0;  ///< positive, in the direction of its list
  std::int64_t timestamp = 0;
  bool outdated = false;  ///< older than the longest policy period: reused by the next event
};

/// What one reconcile decided.
struct HpaDecision {
  std::int32_t desired_replicas = 0;  ///< what scale.Spec.Replicas becomes
  bool rescale = false;
  bool metrics_failed = false;        ///< no scaling because metrics failed
  std::int32_t metric_replicas = -1;  ///< max over metrics before normalization (-1 = failed)
  std::string reason;                 ///< the condition reason, e.g. "ScaleUpLimit"
};

// --- The controller's pure functions, named after their Go counterparts. ---

/// GetExternalPerPodMetricReplicas: AverageValue target. Usage and target are
/// taken in milli-units rounded up, as Quantity.MilliValue() does.
std::int32_t external_per_pod_metric_replicas(double usage, double target_per_pod,
                                              std::int32_t status_replicas, double tolerance);
/// GetExternalMetricReplicas + getUsageRatioReplicaCount: Value target.
std::int32_t external_metric_replicas(double usage, double target, std::int32_t current_replicas,
                                      std::int32_t ready_pods, double tolerance);
/// calculateScaleUpLimit: max(2 x current, 4).
std::int32_t scale_up_limit(std::int32_t current_replicas);
/// getReplicasChangePerPeriod: sum of changes of events younger than the period.
std::int32_t replicas_change_per_period(std::int32_t period_seconds,
                                        std::span<const TimestampedScaleEvent> events,
                                        std::int64_t now);
/// calculateScaleUpLimitWithScalingRules.
std::int32_t scale_up_limit_with_rules(std::int32_t current_replicas,
                                       std::span<const TimestampedScaleEvent> scale_up_events,
                                       std::span<const TimestampedScaleEvent> scale_down_events,
                                       const ResolvedScalingRules& rules, std::int64_t now);
/// calculateScaleDownLimitWithBehaviors.
std::int32_t scale_down_limit_with_rules(std::int32_t current_replicas,
                                         std::span<const TimestampedScaleEvent> scale_up_events,
                                         std::span<const TimestampedScaleEvent> scale_down_events,
                                         const ResolvedScalingRules& rules, std::int64_t now);

/// A normalized count and the ScalingLimited reason that produced it.
struct Normalized {
  std::int32_t replicas = 0;
  std::string reason;
};
/// convertDesiredReplicasWithRules (no behavior): clamp to min and to
/// min(max, scale_up_limit(current)).
Normalized convert_desired_replicas_with_rules(std::int32_t current, std::int32_t desired,
                                               std::int32_t min_replicas,
                                               std::int32_t max_replicas);

/// One HPA object's controller state (its recommendations and scale events)
/// and its reconcile loop. Not thread-safe: one owner calls reconcile().
class HpaController {
 public:
  /// The spec must pass validate(); an invalid one is reported by make().
  static Expected<HpaController> make(HpaSpec spec);

  /// One sync at `now`: computes the desired replicas from the metrics and
  /// records the recommendation and (with behavior) the scale event.
  HpaDecision reconcile(std::int64_t now, const ScaleObservation& observation);

  /// stabilizeRecommendation (no behavior): max over the window, records it.
  std::int32_t stabilize_recommendation(std::int32_t prenormalized, std::int64_t now);
  /// stabilizeRecommendationWithBehaviors: clamps current into
  /// [min over up window, max over down window], records the recommendation.
  std::int32_t stabilize_recommendation_with_behaviors(std::int32_t current,
                                                       std::int32_t prenormalized,
                                                       std::int64_t now);
  /// convertDesiredReplicasWithBehaviorRate.
  Normalized convert_desired_replicas_with_behavior_rate(std::int32_t current, std::int32_t desired,
                                                         std::int64_t now) const;

  [[nodiscard]] const HpaSpec& spec() const { return spec_; }
  [[nodiscard]] const ResolvedScalingRules& scale_up_rules() const { return scale_up_; }
  [[nodiscard]] const ResolvedScalingRules& scale_down_rules() const { return scale_down_; }
  /// Controller memory, exposed so tests can seed it like horizontal_test.go.
  std::vector<TimestampedRecommendation> recommendations;
  std::vector<TimestampedScaleEvent> scale_up_events;
  std::vector<TimestampedScaleEvent> scale_down_events;
  /// recordInitialRecommendation has run (set it to start from an empty log,
  /// as the Go tests do with `recommendations: []timestampedRecommendation{}`).
  bool initial_recommendation_recorded = false;

 private:
  explicit HpaController(HpaSpec spec);
  void store_scale_event(std::int32_t previous, std::int32_t next, std::int64_t now);

  HpaSpec spec_;
  ResolvedScalingRules scale_up_;
  ResolvedScalingRules scale_down_;
};

/// Parses a `behavior` block in the autoscaling/v2 YAML shape. Accepts a
/// whole HPA manifest (spec.behavior), a `behavior:` document, or the block
/// itself ({scaleUp, scaleDown}). Errors name the YAML path and the source,
/// e.g. "hpa.yaml: behavior.scaleUp.policies[0].type: 'pod' is not Pods or Percent".
Expected<HpaBehavior> parse_hpa_behavior_yaml(std::string_view text, std::string_view source_name);
/// Reads the file and parses it; errors name the file.
Expected<HpaBehavior> read_hpa_behavior_file(const std::string& path);

std::string_view to_string(SelectPolicy policy);
std::string_view to_string(ScalingPolicyType type);

}  // namespace prescale::simulate
