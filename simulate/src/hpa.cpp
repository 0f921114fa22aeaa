// The HPA controller model. Each function mirrors the Go function named in
// its comment (kubernetes/kubernetes pkg/controller/podautoscaler).
#include "prescale/simulate/hpa.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace prescale::simulate {
namespace {

constexpr std::int32_t kInt32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int32_t kInt32Min = std::numeric_limits<std::int32_t>::min();

// The controller's resync adds processing time to every 15 s period, so a
// record exactly one window old has already left the window at the next
// sync: the window is (now - window, now], as time.After(cutoff) reads it.
bool in_window(std::int64_t timestamp, std::int64_t now, std::int64_t window_seconds) {
  return now - timestamp < window_seconds;
}

// Quantity.MilliValue() rounds up; metric values and targets reach the
// controller as milli-quantities.
double to_milli(double value) {
  return std::ceil(value * 1000.0 - 1e-6);
}

std::int32_t ceil_to_int32(double value) {
  if (!(value < static_cast<double>(kInt32Max))) return kInt32Max;
  return static_cast<std::int32_t>(std::ceil(value));
}

ResolvedScalingRules resolve(const std::optional<ScalingRules>& rules, std::int32_t default_window,
                             std::vector<ScalingPolicy> default_policies) {
  ResolvedScalingRules resolved;
  resolved.stabilization_window_seconds = default_window;
  resolved.policies = std::move(default_policies);
  if (!rules) return resolved;
  if (rules->stabilization_window_seconds) {
    resolved.stabilization_window_seconds = *rules->stabilization_window_seconds;
  }
  if (rules->select_policy) resolved.select_policy = *rules->select_policy;
  if (!rules->policies.empty()) resolved.policies = rules->policies;
  return resolved;
}

std::int32_t longest_policy_period(const ResolvedScalingRules& rules) {
  std::int32_t longest = 0;
  for (const auto& policy : rules.policies) longest = std::max(longest, policy.period_seconds);
  return longest;
}

Status validate_rules(const std::optional<ScalingRules>& rules, const std::string& path) {
  if (!rules) return Status::ok();
  if (rules->stabilization_window_seconds &&
      (*rules->stabilization_window_seconds < 0 || *rules->stabilization_window_seconds > 3600)) {
    return make_error(fmt::format("{}.stabilizationWindowSeconds: {} is outside 0 .. 3600", path,
                                  *rules->stabilization_window_seconds));
  }
  for (std::size_t i = 0; i < rules->policies.size(); ++i) {
    const auto& policy = rules->policies[i];
    if (policy.value <= 0) {
      return make_error(
          fmt::format("{}.policies[{}].value: {} must be greater than 0", path, i, policy.value));
    }
    if (policy.period_seconds <= 0 || policy.period_seconds > 1800) {
      return make_error(fmt::format("{}.policies[{}].periodSeconds: {} is outside 1 .. 1800", path,
                                    i, policy.period_seconds));
    }
  }
  return Status::ok();
}

}  // namespace

std::string_view to_string(SelectPolicy policy) {
  switch (policy) {
    case SelectPolicy::max:
      return "Max";
    case SelectPolicy::min:
      return "Min";
    case SelectPolicy::disabled:
      return "Disabled";
  }
  return "?";
}

std::string_view to_string(ScalingPolicyType type) {
  return type == ScalingPolicyType::pods ? "Pods" : "Percent";
}

ResolvedScalingRules resolve_scale_up(const std::optional<ScalingRules>& rules) {
  // GenerateHPAScaleUpRules: 4 pods or 100 % every 15 s, whichever is more.
  return resolve(rules, 0,
                 {{ScalingPolicyType::pods, 4, 15}, {ScalingPolicyType::percent, 100, 15}});
}

ResolvedScalingRules resolve_scale_down(const std::optional<ScalingRules>& rules,
                                        std::int32_t downscale_stabilization_seconds) {
  // GenerateHPAScaleDownRules + maybeInitScaleDownStabilizationWindow.
  return resolve(rules, downscale_stabilization_seconds, {{ScalingPolicyType::percent, 100, 15}});
}

Status validate(const HpaSpec& spec) {
  if (spec.min_replicas < 0) {
    return make_error(fmt::format("minReplicas: {} must be >= 0", spec.min_replicas));
  }
  if (spec.max_replicas < 1) {
    return make_error(fmt::format("maxReplicas: {} must be >= 1", spec.max_replicas));
  }
  if (spec.min_replicas > spec.max_replicas) {
    return make_error(fmt::format("minReplicas: {} is greater than maxReplicas {}",
                                  spec.min_replicas, spec.max_replicas));
  }
  if (!(spec.tolerance >= 0)) {
    return make_error(fmt::format("tolerance: {} must be >= 0", spec.tolerance));
  }
  for (std::size_t i = 0; i < spec.metrics.size(); ++i) {
    if (!(spec.metrics[i].target > 0) || !std::isfinite(spec.metrics[i].target)) {
      return make_error(fmt::format("metrics[{}].external.target: {} must be a positive number", i,
                                    spec.metrics[i].target));
    }
  }
  if (spec.behavior) {
    if (auto status = validate_rules(spec.behavior->scale_up, "behavior.scaleUp"); !status) {
      return status;
    }
    if (auto status = validate_rules(spec.behavior->scale_down, "behavior.scaleDown"); !status) {
      return status;
    }
  }
  return Status::ok();
}

std::int32_t external_per_pod_metric_replicas(double usage, double target_per_pod,
                                              std::int32_t status_replicas, double tolerance) {
  const double usage_milli = to_milli(usage);
  const double target_milli = to_milli(target_per_pod);
  std::int32_t replica_count = status_replicas;
  // Go divides floats: x/0 is +Inf (always outside the tolerance), 0/0 is NaN
  // (never outside it, so zero replicas stay zero).
  const double usage_ratio = usage_milli / (target_milli * static_cast<double>(status_replicas));
  if (std::abs(1.0 - usage_ratio) > tolerance) {
    replica_count = ceil_to_int32(usage_milli / target_milli);
  }
  return replica_count;
}

std::int32_t external_metric_replicas(double usage, double target, std::int32_t current_replicas,
                                      std::int32_t ready_pods, double tolerance) {
  const double usage_ratio = to_milli(usage) / to_milli(target);
  if (current_replicas != 0) {
    if (std::abs(1.0 - usage_ratio) <= tolerance) return current_replicas;
    return ceil_to_int32(usage_ratio * static_cast<double>(ready_pods));
  }
  return ceil_to_int32(usage_ratio);  // scale from zero ignores readiness and tolerance
}

std::int32_t scale_up_limit(std::int32_t current_replicas) {
  return static_cast<std::int32_t>(std::max(2.0 * current_replicas, 4.0));
}

std::int32_t replicas_change_per_period(std::int32_t period_seconds,
                                        std::span<const TimestampedScaleEvent> events,
                                        std::int64_t now) {
  std::int32_t replicas = 0;
  for (const auto& event : events) {
    if (in_window(event.timestamp, now, period_seconds)) replicas += event.replica_change;
  }
  return replicas;
}

std::int32_t scale_up_limit_with_rules(std::int32_t current_replicas,
                                       std::span<const TimestampedScaleEvent> scale_up_events,
                                       std::span<const TimestampedScaleEvent> scale_down_events,
                                       const ResolvedScalingRules& rules, std::int64_t now) {
  if (rules.select_policy == SelectPolicy::disabled) return current_replicas;
  // For scaling up, the 'Min' policy is the smallest proposal.
  const bool pick_min = rules.select_policy == SelectPolicy::min;
  std::int32_t result = pick_min ? kInt32Max : kInt32Min;
  for (const auto& policy : rules.policies) {
    const std::int32_t added =
        replicas_change_per_period(policy.period_seconds, scale_up_events, now);
    const std::int32_t deleted =
        replicas_change_per_period(policy.period_seconds, scale_down_events, now);
    const std::int32_t period_start = current_replicas - added + deleted;
    std::int32_t proposed = 0;
    if (policy.type == ScalingPolicyType::pods) {
      proposed = period_start + policy.value;
    } else {
      // Rounded up, or a small percentage of few pods would never add one.
      proposed = ceil_to_int32(static_cast<double>(period_start) * (1.0 + policy.value / 100.0));
    }
    result = pick_min ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

std::int32_t scale_down_limit_with_rules(std::int32_t current_replicas,
                                         std::span<const TimestampedScaleEvent> scale_up_events,
                                         std::span<const TimestampedScaleEvent> scale_down_events,
                                         const ResolvedScalingRules& rules, std::int64_t now) {
  if (rules.select_policy == SelectPolicy::disabled) return current_replicas;
  // For scaling down, the 'Min' policy (smallest change) is the largest count.
  const bool pick_min_change = rules.select_policy == SelectPolicy::min;
  std::int32_t result = pick_min_change ? kInt32Min : kInt32Max;
  for (const auto& policy : rules.policies) {
    const std::int32_t added =
        replicas_change_per_period(policy.period_seconds, scale_up_events, now);
    const std::int32_t deleted =
        replicas_change_per_period(policy.period_seconds, scale_down_events, now);
    const std::int32_t period_start = current_replicas - added + deleted;
    std::int32_t proposed = 0;
    if (policy.type == ScalingPolicyType::pods) {
      proposed = period_start - policy.value;
    } else {
      // int32(float64) truncates toward zero in Go, as static_cast does.
      proposed = static_cast<std::int32_t>(static_cast<double>(period_start) *
                                           (1.0 - policy.value / 100.0));
    }
    result = pick_min_change ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

Normalized convert_desired_replicas_with_rules(std::int32_t current, std::int32_t desired,
                                               std::int32_t min_replicas,
                                               std::int32_t max_replicas) {
  // Do not scale up too much at once: guards against bogus metric spikes.
  const std::int32_t up_limit = scale_up_limit(current);
  std::int32_t maximum_allowed = max_replicas;
  std::string limiting = "TooManyReplicas";
  if (max_replicas > up_limit) {
    maximum_allowed = up_limit;
    limiting = "ScaleUpLimit";
  }
  if (desired < min_replicas) return {min_replicas, "TooFewReplicas"};
  if (desired > maximum_allowed) return {maximum_allowed, limiting};
  return {desired, "DesiredWithinRange"};
}

Expected<HpaController> HpaController::make(HpaSpec spec) {
  if (auto status = validate(spec); !status) return status.error();
  return HpaController(std::move(spec));
}

HpaController::HpaController(HpaSpec spec)
    : spec_(std::move(spec)),
      scale_up_(resolve_scale_up(spec_.behavior ? spec_.behavior->scale_up : std::nullopt)),
      scale_down_(resolve_scale_down(spec_.behavior ? spec_.behavior->scale_down : std::nullopt,
                                     spec_.downscale_stabilization_seconds)) {}

std::int32_t HpaController::stabilize_recommendation(std::int32_t prenormalized, std::int64_t now) {
  std::int32_t max_recommendation = prenormalized;
  std::optional<std::size_t> old_index;
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    const auto& rec = recommendations[i];
    if (!in_window(rec.timestamp, now, spec_.downscale_stabilization_seconds)) {
      old_index = i;
    } else {
      max_recommendation = std::max(max_recommendation, rec.recommendation);
    }
  }
  // Reuse one stale slot, as the controller does, so the log stays bounded.
  if (old_index) {
    recommendations[*old_index] = {prenormalized, now};
  } else {
    recommendations.push_back({prenormalized, now});
  }
  return max_recommendation;
}

std::int32_t HpaController::stabilize_recommendation_with_behaviors(std::int32_t current,
                                                                    std::int32_t prenormalized,
                                                                    std::int64_t now) {
  std::int32_t up_recommendation = prenormalized;
  std::int32_t down_recommendation = prenormalized;
  std::optional<std::size_t> old_index;
  for (std::size_t i = 0; i < recommendations.size(); ++i) {
    const auto& rec = recommendations[i];
    const bool in_up = in_window(rec.timestamp, now, scale_up_.stabilization_window_seconds);
    const bool in_down = in_window(rec.timestamp, now, scale_down_.stabilization_window_seconds);
    if (in_up) up_recommendation = std::min(up_recommendation, rec.recommendation);
    if (in_down) down_recommendation = std::max(down_recommendation, rec.recommendation);
    if (!in_up && !in_down) old_index = i;
  }
  // Scale up only as far as every recent recommendation agrees, down only as
  // far as the highest recent one allows.
  std::int32_t recommendation = current;
  if (recommendation < up_recommendation) recommendation = up_recommendation;
  if (recommendation > down_recommendation) recommendation = down_recommendation;
  if (old_index) {
    recommendations[*old_index] = {prenormalized, now};
  } else {
    recommendations.push_back({prenormalized, now});
  }
  return recommendation;
}

Normalized HpaController::convert_desired_replicas_with_behavior_rate(std::int32_t current,
                                                                      std::int32_t desired,
                                                                      std::int64_t now) const {
  if (desired > current) {
    std::int32_t limit =
        scale_up_limit_with_rules(current, scale_up_events, scale_down_events, scale_up_, now);
    // Policies changed after many scale-ups can put the limit below current.
    limit = std::max(limit, current);
    std::int32_t maximum_allowed = spec_.max_replicas;
    std::string reason = "TooManyReplicas";
    if (maximum_allowed > limit) {
      maximum_allowed = limit;
      reason = "ScaleUpLimit";
    }
    if (desired > maximum_allowed) return {maximum_allowed, reason};
  } else if (desired < current) {
    std::int32_t limit =
        scale_down_limit_with_rules(current, scale_up_events, scale_down_events, scale_down_, now);
    limit = std::min(limit, current);
    std::int32_t minimum_allowed = spec_.min_replicas;
    std::string reason = "TooFewReplicas";
    if (minimum_allowed < limit) {
      minimum_allowed = limit;
      reason = "ScaleDownLimit";
    }
    if (desired < minimum_allowed) return {minimum_allowed, reason};
  }
  return {desired, "DesiredWithinRange"};
}

void HpaController::store_scale_event(std::int32_t previous, std::int32_t next, std::int64_t now) {
  if (!spec_.behavior) return;  // without behavior the events are never read
  const bool up = next > previous;
  auto& events = up ? scale_up_events : scale_down_events;
  const std::int32_t longest = longest_policy_period(up ? scale_up_ : scale_down_);
  std::optional<std::size_t> outdated_index;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (now - events[i].timestamp > longest) events[i].outdated = true;  // markScaleEventsOutdated
    if (events[i].outdated) outdated_index = i;
  }
  const TimestampedScaleEvent event{up ? next - previous : previous - next, now, false};
  if (outdated_index) {
    events[*outdated_index] = event;
  } else {
    events.push_back(event);
  }
}

HpaDecision HpaController::reconcile(std::int64_t now, const ScaleObservation& observation) {
  HpaDecision decision;
  const std::int32_t current = observation.spec_replicas;
  // recordInitialRecommendation: the first sync remembers the current size,
  // which holds a fresh HPA from scaling down for one stabilization window.
  if (!initial_recommendation_recorded) {
    if (recommendations.empty()) recommendations.push_back({current, now});
    initial_recommendation_recorded = true;
  }

  std::int32_t desired = 0;
  bool rescale = true;
  if (current == 0 && spec_.min_replicas != 0) {
    decision.desired_replicas = 0;
    decision.reason = "ScalingDisabled";
    return decision;
  }
  if (current > spec_.max_replicas) {
    desired = spec_.max_replicas;
    decision.reason = "Current number of replicas above Spec.MaxReplicas";
  } else if (current < spec_.min_replicas) {
    desired = spec_.min_replicas;
    decision.reason = "Current number of replicas below Spec.MinReplicas";
  } else {
    // computeReplicasForMetrics: max over the metrics that could be read.
    std::int32_t metric_replicas = 0;
    std::size_t invalid = 0;
    for (std::size_t i = 0; i < spec_.metrics.size(); ++i) {
      const double value =
          i < observation.metric_values.size() ? observation.metric_values[i] : std::nan("");
      if (!std::isfinite(value) || value < 0) {
        ++invalid;
        continue;
      }
      const auto& metric = spec_.metrics[i];
      const std::int32_t proposal =
          metric.target_type == MetricTargetType::average_value
              ? external_per_pod_metric_replicas(value, metric.target, observation.status_replicas,
                                                 spec_.tolerance)
              : external_metric_replicas(value, metric.target, current, observation.ready_pods,
                                         spec_.tolerance);
      if (metric_replicas == 0 || proposal > metric_replicas) metric_replicas = proposal;
    }
    // All metrics failed, or some failed and the rest would scale down: the
    // controller refuses to act on partial information.
    if (invalid >= spec_.metrics.size() || (invalid > 0 && metric_replicas < current)) {
      decision.desired_replicas = current;
      decision.metrics_failed = true;
      decision.reason = "FailedGetExternalMetric";
      return decision;
    }
    decision.metric_replicas = metric_replicas;
    desired = std::max(desired, metric_replicas);
    Normalized normalized;
    if (!spec_.behavior) {
      const std::int32_t stabilized = stabilize_recommendation(desired, now);
      normalized = convert_desired_replicas_with_rules(current, stabilized, spec_.min_replicas,
                                                       spec_.max_replicas);
      if (stabilized != desired && normalized.reason == "DesiredWithinRange") {
        normalized.reason = "ScaleDownStabilized";
      }
    } else {
      const std::int32_t stabilized =
          stabilize_recommendation_with_behaviors(current, desired, now);
      normalized = convert_desired_replicas_with_behavior_rate(current, stabilized, now);
      if (stabilized != desired && normalized.reason == "DesiredWithinRange") {
        normalized.reason = desired >= current ? "ScaleUpStabilized" : "ScaleDownStabilized";
      }
    }
    desired = normalized.replicas;
    decision.reason = normalized.reason;
    rescale = desired != current;
  }
  decision.rescale = rescale;
  decision.desired_replicas = rescale ? desired : current;
  if (rescale) store_scale_event(current, desired, now);
  return decision;
}

}  // namespace prescale::simulate
