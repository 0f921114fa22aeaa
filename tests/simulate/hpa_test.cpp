// The HPA model against cases from kubernetes/kubernetes' own tests:
//   pkg/controller/podautoscaler/replica_calculator_test.go  (RC: ...)
//   pkg/controller/podautoscaler/horizontal_test.go          (HT: ...)
// Values are the tests' milli-quantities divided by 1000. Timestamps are
// seconds relative to `now`, as the Go tests write time.Now().Add(-d).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "prescale/simulate/hpa.hpp"

using namespace prescale::simulate;

namespace {

constexpr std::int64_t kNow = 1'000'000;

// generateScalingRules(pods, podsPeriod, percent, percentPeriod, window):
// selectPolicy Max, a policy for each non-zero value.
ScalingRules rules(std::int32_t pods, std::int32_t pods_period, std::int32_t percent,
                   std::int32_t percent_period, std::int32_t window) {
  ScalingRules r;
  r.stabilization_window_seconds = window;
  r.select_policy = SelectPolicy::max;
  if (pods != 0) r.policies.push_back({ScalingPolicyType::pods, pods, pods_period});
  if (percent != 0) r.policies.push_back({ScalingPolicyType::percent, percent, percent_period});
  return r;
}

// generateEventsUniformDistribution(rawEvents, periodSeconds): events at the
// centres of equal segments of the last `period` seconds, oldest first.
std::vector<TimestampedScaleEvent> uniform_events(std::vector<int> changes, int period) {
  std::vector<TimestampedScaleEvent> events;
  const double segment = static_cast<double>(period) / static_cast<double>(changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const double ago = period - segment * static_cast<double>(i + 1) + segment / 2;
    events.push_back({changes[i], kNow - static_cast<std::int64_t>(ago), false});
  }
  return events;
}

HpaController controller(std::int32_t min, std::int32_t max, std::optional<HpaBehavior> behavior,
                         std::vector<ExternalMetricSpec> metrics = {}) {
  HpaSpec spec;
  spec.min_replicas = min;
  spec.max_replicas = max;
  spec.behavior = std::move(behavior);
  spec.metrics = std::move(metrics);
  auto made = HpaController::make(std::move(spec));
  REQUIRE(made.has_value());
  auto c = std::move(*made);
  c.initial_recommendation_recorded = true;  // the Go tests start from an empty log
  return c;
}

ExternalMetricSpec average_value(double target) {
  return {"qps", MetricTargetType::average_value, target};
}
ExternalMetricSpec value_target(double target) {
  return {"qps", MetricTargetType::value, target};
}

}  // namespace

TEST_CASE("External AverageValue: ceil(usage / target) outside the tolerance", "[hpa]") {
  // RC: TestReplicaCalcScaleUpPerPodCMExternal — 3 pods, 8600m, 2150m per pod -> 4.
  CHECK(external_per_pod_metric_replicas(8.6, 2.15, 3, 0.1) == 4);
  // RC: TestReplicaCalcScaleDownPerPodCMExternal — 5 pods, 8600m, 2867m per pod -> 3.
  CHECK(external_per_pod_metric_replicas(8.6, 2.867, 5, 0.1) == 3);
  // RC: TestReplicaCalcTolerancePerPodCMExternal — ratio 8600/(2900*3) = 0.989: stay at 3.
  CHECK(external_per_pod_metric_replicas(8.6, 2.9, 3, 0.1) == 3);
  // HT: TestScaleDownPerPodCMExternal — 5 pods, 8600m, 3000m per pod -> 3.
  CHECK(external_per_pod_metric_replicas(8.6, 3.0, 5, 0.1) == 3);
}

TEST_CASE("Tolerance band is |ratio - 1| <= 0.1 relative to current replicas", "[hpa]") {
  // 10 pods at 100/s each: 1090/s (ratio 1.09) holds, 1110/s (1.11) scales to 12.
  CHECK(external_per_pod_metric_replicas(1090, 100, 10, 0.1) == 10);
  CHECK(external_per_pod_metric_replicas(1110, 100, 10, 0.1) == 12);
  CHECK(external_per_pod_metric_replicas(910, 100, 10, 0.1) == 10);
  CHECK(external_per_pod_metric_replicas(890, 100, 10, 0.1) == 9);
  // Scale from zero: any usage is outside the band; zero usage stays zero.
  CHECK(external_per_pod_metric_replicas(250, 100, 0, 0.1) == 3);
  CHECK(external_per_pod_metric_replicas(0, 100, 0, 0.1) == 0);
}

TEST_CASE("External Value target: ceil(ratio x ready pods)", "[hpa]") {
  // RC: TestReplicaCalcScaleUpCMExternal — 1 pod, 8600m vs 4400m -> 2.
  CHECK(external_metric_replicas(8.6, 4.4, 1, 1, 0.1) == 2);
  // RC: TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods — 3 pods, 1 ready -> 2 (not 6).
  CHECK(external_metric_replicas(8.6, 4.4, 3, 1, 0.1) == 2);
  // RC: TestReplicaCalcScaleDownCMExternal — 5 pods, 8600m vs 14334m -> 3.
  CHECK(external_metric_replicas(8.6, 14.334, 5, 5, 0.1) == 3);
  // RC: TestReplicaCalcToleranceCMExternal — 8600m vs 8888m, within tolerance -> 3.
  CHECK(external_metric_replicas(8.6, 8.888, 3, 3, 0.1) == 3);
}

TEST_CASE("Without behavior: convertDesiredReplicasWithRules", "[hpa]") {
  // HT: TestConvertDesiredReplicasWithRules cases.
  CHECK(convert_desired_replicas_with_rules(5, 7, 3, 8).replicas == 7);
  CHECK(convert_desired_replicas_with_rules(3, 1, 2, 8).reason == "TooFewReplicas");
  CHECK(convert_desired_replicas_with_rules(3, 1, 2, 8).replicas == 2);
  CHECK(convert_desired_replicas_with_rules(1, 0, 0, 10).replicas == 0);
  CHECK(convert_desired_replicas_with_rules(20, 1000, 1, 10).replicas == 10);
  CHECK(convert_desired_replicas_with_rules(20, 1000, 1, 10).reason == "TooManyReplicas");
  const auto limited = convert_desired_replicas_with_rules(3, 1000, 1, 2000);
  CHECK(limited.replicas == scale_up_limit(3));
  CHECK(limited.replicas == 6);
  CHECK(limited.reason == "ScaleUpLimit");
  CHECK(scale_up_limit(1) == 4);  // max(2 x current, 4)
}

TEST_CASE("Without behavior: scale-down stabilization keeps the max of 300 s", "[hpa]") {
  // HT: TestNormalizeDesiredReplicas (window 5 min).
  struct Case {
    const char* name;
    std::vector<TimestampedRecommendation> log;
    std::int32_t prenormalized, expected;
    std::size_t expected_log;
  };
  const std::vector<Case> cases = {
      {"empty log", {}, 5, 5, 1},
      {"stabilize", {{4, kNow - 120}, {5, kNow - 60}}, 3, 5, 3},
      {"no stabilize", {{1, kNow - 120}, {2, kNow - 60}}, 3, 3, 3},
      {"no stabilize - old recommendations", {{10, kNow - 600}, {9, kNow - 540}}, 3, 3, 2},
      {"stabilize - old recommendations",
       {{10, kNow - 600}, {4, kNow - 60}, {5, kNow - 120}, {9, kNow - 540}},
       3,
       5,
       4},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto hpa = controller(1, 100, std::nullopt);
    hpa.recommendations = c.log;
    CHECK(hpa.stabilize_recommendation(c.prenormalized, kNow) == c.expected);
    CHECK(hpa.recommendations.size() == c.expected_log);
  }
}

TEST_CASE("With behavior: stabilization windows both ways", "[hpa]") {
  // HT: TestNormalizeDesiredReplicasWithBehavior.
  struct Case {
    const char* name;
    std::vector<TimestampedRecommendation> log;
    std::int32_t current, prenormalized, expected;
    std::int32_t up_window, down_window;
    std::vector<std::int32_t> expected_log;
  };
  const std::vector<Case> cases = {
      {"empty recommendations for scaling down", {}, 100, 5, 5, 0, 0, {5}},
      {"simple scale down stabilization",
       {{4, kNow - 120}, {5, kNow - 60}},
       100,
       3,
       5,
       0,
       180,
       {4, 5, 3}},
      {"simple scale up stabilization",
       {{4, kNow - 120}, {5, kNow - 60}},
       1,
       7,
       4,
       300,
       0,
       {4, 5, 7}},
      {"no scale down stabilization",
       {{1, kNow - 120}, {2, kNow - 60}},
       100,
       3,
       3,
       300,
       0,
       {1, 2, 3}},
      {"no scale up stabilization", {{4, kNow - 120}, {5, kNow - 60}}, 1, 3, 3, 0, 300, {4, 5, 3}},
      {"no scale down stabilization, reuse recommendation element",
       {{10, kNow - 600}, {9, kNow - 540}},
       100,
       3,
       3,
       0,
       0,
       {10, 3}},
      {"no scale up stabilization, reuse recommendation element",
       {{10, kNow - 600}, {9, kNow - 540}},
       1,
       100,
       100,
       0,
       0,
       {10, 100}},
      {"scale down stabilization, reuse one of obsolete recommendation element",
       {{10, kNow - 600}, {4, kNow - 60}, {5, kNow - 120}, {9, kNow - 540}},
       100,
       3,
       5,
       0,
       180,
       {10, 4, 5, 3}},
      {"scale up stabilization, reuse one of obsolete recommendation element",
       {{10, kNow - 6000}, {6, kNow - 60}, {5, kNow - 120}, {9, kNow - 180}},
       1,
       100,
       5,
       300,
       0,
       {100, 6, 5, 9}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    HpaBehavior behavior;
    behavior.scale_up = ScalingRules{c.up_window, std::nullopt, {}};
    behavior.scale_down = ScalingRules{c.down_window, std::nullopt, {}};
    auto hpa = controller(1, 1000, behavior);
    hpa.recommendations = c.log;
    CHECK(hpa.stabilize_recommendation_with_behaviors(c.current, c.prenormalized, kNow) ==
          c.expected);
    std::vector<std::int32_t> log;
    for (const auto& r : hpa.recommendations) log.push_back(r.recommendation);
    CHECK(log == c.expected_log);
  }
}

TEST_CASE("With behavior: Pods and Percent policies, periods and events", "[hpa]") {
  // HT: TestScalingWithRules (convertDesiredReplicasWithBehaviorRate).
  struct Case {
    const char* name;
    std::vector<TimestampedScaleEvent> up_events, down_events;
    std::int32_t min, max;
    std::optional<ScalingRules> up, down;
    std::int32_t current, desired, expected;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"prenormalized desired replicas within range",
       {},
       {},
       3,
       8,
       {},
       {},
       5,
       7,
       7,
       "DesiredWithinRange"},
      {"prenormalized desired replicas < minReplicas",
       {},
       {},
       2,
       8,
       {},
       {},
       3,
       1,
       2,
       "TooFewReplicas"},
      {"maxReplicas is the limit because maxReplicas < scaleUpLimit",
       {},
       {},
       1,
       10,
       {},
       {},
       20,
       1000,
       10,
       "TooManyReplicas"},
      {"scaleUpLimit < maxReplicas with user policies",
       {},
       {},
       1,
       2000,
       rules(0, 0, 1, 60, 0),
       {},
       3,
       1000,
       4,
       "ScaleUpLimit"},
      {"scaleUp with default behavior", {}, {}, 1, 1000, {}, {}, 10, 50, 20, "ScaleUpLimit"},
      {"scaleUp with pods policy larger than percent policy",
       {},
       {},
       1,
       1000,
       rules(100, 60, 100, 60, 0),
       {},
       10,
       500,
       110,
       "ScaleUpLimit"},
      {"scaleUp with percent policy larger than pods policy",
       {},
       {},
       1,
       1000,
       rules(2, 60, 100, 60, 0),
       {},
       10,
       500,
       20,
       "ScaleUpLimit"},
      {"scaleUp with pod policy limitation",
       {},
       {},
       1,
       1000,
       rules(30, 60, 0, 0, 0),
       {},
       10,
       50,
       40,
       "ScaleUpLimit"},
      {"scaleUp with percent policy limitation",
       {},
       {},
       1,
       1000,
       rules(0, 0, 200, 60, 0),
       {},
       10,
       50,
       30,
       "ScaleUpLimit"},
      {"scaleDown with percent policy larger than pod policy",
       {},
       {},
       1,
       1000,
       {},
       rules(20, 60, 1, 60, 300),
       100,
       2,
       80,
       "ScaleDownLimit"},
      {"scaleDown with pod policy larger than percent policy",
       {},
       {},
       1,
       1000,
       {},
       rules(2, 60, 1, 60, 300),
       100,
       2,
       98,
       "ScaleDownLimit"},
      {"scaleDown with spec MinReplicas limitation with large percent policy",
       {},
       {},
       5,
       1000,
       {},
       rules(0, 0, 100, 60, 300),
       10,
       2,
       5,
       "TooFewReplicas"},
      {"scaleDown with pod policy limitation",
       {},
       {},
       1,
       1000,
       {},
       rules(5, 60, 0, 0, 300),
       10,
       2,
       5,
       "ScaleDownLimit"},
      {"scaleUp with currentReplicas limitation with a lot of recent scale up events",
       uniform_events({1, 5, 9}, 120),
       {},
       1,
       1000,
       rules(5, 120, 0, 0, 0),
       {},
       100,
       500,
       100,
       "ScaleUpLimit"},
      {"scaleUp with pod policy and previous scale up events",
       uniform_events({1, 5, 9}, 120),
       {},
       1,
       1000,
       rules(150, 120, 0, 0, 0),
       {},
       100,
       500,
       235,
       "ScaleUpLimit"},
      {"scaleUp with percent policy and previous scale up events",
       uniform_events({1, 5, 9}, 120),
       {},
       1,
       1000,
       rules(0, 0, 200, 120, 0),
       {},
       100,
       500,
       255,
       "ScaleUpLimit"},
      {"scaleDown with default policy and previous events",
       {},
       uniform_events({1, 5, 9}, 120),
       1,
       1000,
       {},
       {},
       10,
       5,
       5,
       "DesiredWithinRange"},
      {"scaleDown with pod policy limitation and previous events",
       {},
       uniform_events({1, 5, 9}, 120),
       1,
       1000,
       {},
       rules(5, 120, 0, 0, 300),
       100,
       2,
       100,
       "ScaleDownLimit"},
      {"scaleDown with percent policy limitation and previous events",
       {},
       uniform_events({2, 4, 6}, 120),
       1,
       1000,
       {},
       rules(0, 0, 50, 120, 300),
       100,
       0,
       56,
       "ScaleDownLimit"},
      {"scaleDown with previous events preventing further scale down",
       {},
       uniform_events({10, 10, 10}, 120),
       1,
       1000,
       {},
       rules(0, 0, 10, 120, 300),
       100,
       0,
       100,
       "ScaleDownLimit"},
      {"check 'outdated' flag for events for one behavior for up",
       uniform_events({8, 12, 9, 11}, 120),
       {},
       1,
       1000,
       rules(1000, 60, 0, 0, 0),
       {},
       100,
       200,
       200,
       "DesiredWithinRange"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    HpaBehavior behavior{c.up, c.down};
    auto hpa = controller(c.min, c.max, behavior);
    hpa.scale_up_events = c.up_events;
    hpa.scale_down_events = c.down_events;
    const auto normalized =
        hpa.convert_desired_replicas_with_behavior_rate(c.current, c.desired, kNow);
    CHECK(normalized.replicas == c.expected);
    CHECK(normalized.reason == c.reason);
  }
}

TEST_CASE("selectPolicy Min and Max pick the smaller or larger change", "[hpa]") {
  // HT: TestCalculateScaleUpLimitWithScalingRules — Min of (1+2, ceil(1*1.5)) = 2.
  ResolvedScalingRules min_rules{
      300,
      SelectPolicy::min,
      {{ScalingPolicyType::pods, 2, 60}, {ScalingPolicyType::percent, 50, 60}}};
  CHECK(scale_up_limit_with_rules(1, {}, {}, min_rules, kNow) == 2);
  // HT: TestCalculateScaleDownLimitWithBehaviors — Min change of (5-2, int(5*0.5)) = 3.
  CHECK(scale_down_limit_with_rules(5, {}, {}, min_rules, kNow) == 3);
  // The same policies with Max: up to 3 (Pods wins), down to 2 (Percent wins).
  auto max_rules = min_rules;
  max_rules.select_policy = SelectPolicy::max;
  CHECK(scale_up_limit_with_rules(1, {}, {}, max_rules, kNow) == 3);
  CHECK(scale_down_limit_with_rules(5, {}, {}, max_rules, kNow) == 2);
  // Disabled: no change either way.
  max_rules.select_policy = SelectPolicy::disabled;
  CHECK(scale_up_limit_with_rules(7, {}, {}, max_rules, kNow) == 7);
  CHECK(scale_down_limit_with_rules(7, {}, {}, max_rules, kNow) == 7);
}

TEST_CASE("Scale events count within their period only", "[hpa]") {
  // HT: TestStoreScaleEvents — getReplicasChangePerPeriod(60, ...).
  CHECK(replicas_change_per_period(60, std::vector<TimestampedScaleEvent>{{7, kNow - 61}}, kNow) ==
        0);
  CHECK(replicas_change_per_period(60, std::vector<TimestampedScaleEvent>{{7, kNow - 58}}, kNow) ==
        7);
  CHECK(replicas_change_per_period(
            60, std::vector<TimestampedScaleEvent>{{8, kNow - 29}, {6, kNow - 59}, {7, kNow - 61}},
            kNow) == 14);
}

TEST_CASE("reconcile: several metrics take the max; a failed metric blocks scale-down", "[hpa]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto make = [&] {
    return controller(2, 6, std::nullopt, {average_value(3.0), value_target(100.0)});
  };
  SECTION("max over metrics") {
    auto hpa = make();
    const std::vector<double> values = {8.6, 50.0};  // 3 replicas vs ratio 0.5 x 5 ready = 3
    const auto decision = hpa.reconcile(kNow, {5, 5, 5, values});
    CHECK(decision.metric_replicas == 3);
    CHECK(decision.desired_replicas == 3);
    const std::vector<double> up = {8.6, 140.0};  // 3 vs ceil(1.4 x 3 ready) = 5
    CHECK(hpa.reconcile(kNow + 15, {3, 3, 3, up}).desired_replicas == 5);
  }
  SECTION("HT: TestNoScaleDownOneMetricEmpty — no scale-down when a metric fails") {
    auto hpa = make();
    const std::vector<double> values = {8.6, nan};
    const auto decision = hpa.reconcile(kNow, {5, 5, 5, values});
    CHECK(decision.metrics_failed);
    CHECK_FALSE(decision.rescale);
    CHECK(decision.desired_replicas == 5);
    CHECK(hpa.recommendations.empty());  // nothing recorded for a failed sync
  }
  SECTION("HT: TestScaleUpOneMetricEmpty — scale-up still happens on the valid metric") {
    auto hpa = make();
    const std::vector<double> values = {12.0, nan};  // ceil(12 / 3) = 4 > 3
    const auto decision = hpa.reconcile(kNow, {3, 3, 3, values});
    CHECK_FALSE(decision.metrics_failed);
    CHECK(decision.desired_replicas == 4);
  }
  SECTION("all metrics failed: no scaling") {
    auto hpa = make();
    const std::vector<double> values = {nan, nan};
    CHECK(hpa.reconcile(kNow, {3, 3, 3, values}).metrics_failed);
  }
}

TEST_CASE("reconcile over time: the stabilization window holds a scale-down", "[hpa]") {
  // A fresh controller remembers the current size (recordInitialRecommendation),
  // so a load drop at t=0 scales down only once 300 s of lower
  // recommendations have passed.
  HpaSpec spec;
  spec.min_replicas = 1;
  spec.max_replicas = 100;
  spec.metrics = {average_value(100)};
  auto hpa = std::move(*HpaController::make(spec));
  const std::vector<double> low = {200.0};  // wants 2
  std::int32_t replicas = 10;
  std::int64_t scaled_at = -1;
  for (std::int64_t t = 0; t <= 600; t += 15) {
    const auto decision = hpa.reconcile(t, {replicas, replicas, replicas, low});
    if (decision.rescale) {
      replicas = decision.desired_replicas;
      scaled_at = t;
      break;
    }
  }
  CHECK(replicas == 2);
  CHECK(scaled_at == 300);  // the initial recommendation (t=0) leaves the window at 300 s
}

TEST_CASE("reconcile with default behavior: up by max(4 pods, 100 %) per sync", "[hpa]") {
  HpaSpec spec;
  spec.min_replicas = 1;
  spec.max_replicas = 1000;
  spec.metrics = {average_value(1)};
  spec.behavior = HpaBehavior{};
  auto hpa = std::move(*HpaController::make(spec));
  const std::vector<double> load = {100.0};
  std::vector<std::int32_t> sizes;
  std::int32_t replicas = 1;
  for (std::int64_t t = 0; t < 90; t += 15) {
    const auto decision = hpa.reconcile(t, {replicas, replicas, replicas, load});
    replicas = decision.desired_replicas;
    sizes.push_back(replicas);
  }
  // 1 -> max(1+4, 2) = 5 -> max(9, 10) = 10 -> 20 -> 40 -> 80 -> 100.
  CHECK(sizes == std::vector<std::int32_t>{5, 10, 20, 40, 80, 100});
}

TEST_CASE("Validation and YAML behavior errors name the path", "[hpa]") {
  const auto good = parse_hpa_behavior_yaml(R"(
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
spec:
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 600
      policies:
      - type: Pods
        value: 2
        periodSeconds: 60
    scaleUp:
      selectPolicy: Min
)",
                                            "hpa.yaml");
  REQUIRE(good.has_value());
  REQUIRE(good->scale_down.has_value());
  CHECK(*good->scale_down->stabilization_window_seconds == 600);
  CHECK(good->scale_down->policies.size() == 1);
  CHECK(good->scale_up->select_policy == SelectPolicy::min);
  CHECK(resolve_scale_up(good->scale_up).policies.size() == 2);  // defaults kept

  const auto bad_type = parse_hpa_behavior_yaml(
      "behavior:\n  scaleUp:\n    policies:\n    - type: Pod\n      value: 4\n      periodSeconds: "
      "15\n",
      "b.yaml");
  REQUIRE_FALSE(bad_type.has_value());
  CHECK_THAT(
      bad_type.error().message,
      Catch::Contains("b.yaml: behavior.scaleUp.policies[0].type: 'Pod' is not Pods or Percent"));

  const auto bad_key =
      parse_hpa_behavior_yaml("scaleDown:\n  stabilisationWindowSeconds: 10\n", "x");
  REQUIRE_FALSE(bad_key.has_value());
  CHECK_THAT(bad_key.error().message,
             Catch::Contains("scaleDown.stabilisationWindowSeconds: unknown field"));

  const auto bad_period = parse_hpa_behavior_yaml(
      "scaleDown:\n  policies:\n  - {type: Percent, value: 10, periodSeconds: 3600}\n", "x");
  REQUIRE_FALSE(bad_period.has_value());
  CHECK_THAT(bad_period.error().message, Catch::Contains("policies[0].periodSeconds: 3600"));

  const auto empty_list = parse_hpa_behavior_yaml("scaleUp:\n  policies: []\n", "x");
  REQUIRE_FALSE(empty_list.has_value());
  CHECK_THAT(empty_list.error().message, Catch::Contains("must specify at least one policy"));

  HpaSpec spec;
  spec.min_replicas = 5;
  spec.max_replicas = 3;
  const auto status = validate(spec);
  REQUIRE_FALSE(status.has_value());
  CHECK_THAT(status.error().message, Catch::Contains("minReplicas"));
}
