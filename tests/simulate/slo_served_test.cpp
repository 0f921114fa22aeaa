// What a target's served values did (SloFigures' served_*): the decisions
// the daemon served itself, replayed through the HPA model beside the
// tuning's in-sample figures, so that a user sees whether the SLO held.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "prescale/autoscaler/slo.hpp"
#include "prescale/simulate/tune.hpp"
#include "replay_fixture.hpp"

using prescale::autoscaler::PolicyReading;
using prescale::autoscaler::PolicyRecorder;
using prescale::autoscaler::SloHistory;
using prescale::simulate::tune_target_for_slo;
using prescale::test::slo_target;

namespace {

constexpr std::int64_t kStart = 1767225600;  // 2026-01-01T00:00Z
constexpr std::size_t kDay = 1440;           // 1-minute steps
constexpr std::size_t kWindow = 6;           // a 5-minute lead, in steps, plus one

double load_at(std::size_t i) {
  return 1000 + 600 * std::sin(2 * M_PI * static_cast<double>(i % kDay) / kDay);
}

// The lead window's peak of the load from step i.
double peak_from(std::size_t i) {
  double peak = 0;
  for (std::size_t h = 0; h < kWindow; ++h) peak = std::max(peak, load_at(i + h));
  return peak;
}

// Two days of decisions with an exact forecast: the first day replayed from
// history at a start (never served), the second served by this process at
// `factor` times the lead window's peak.
SloHistory two_days_served_at(double factor) {
  PolicyRecorder recorder(35 * 86400);
  std::vector<double> samples;
  for (std::size_t i = 0; i < 2 * kDay + kWindow; ++i) samples.push_back(load_at(i));
  std::vector<PolicyReading> replayed;
  for (std::size_t i = 0; i < 2 * kDay; ++i) {
    PolicyReading reading;
    reading.time_unix = kStart + static_cast<std::int64_t>(i) * 60;
    reading.observed = i == 0 ? samples[0] : samples[i - 1];
    for (std::size_t h = 0; h < kWindow; ++h) {
      reading.window.mean.push_back(samples[i + h]);
      reading.window.sigma.push_back(0.01 * samples[i + h]);
    }
    reading.servable = true;
    if (i < kDay) {
      replayed.push_back(std::move(reading));  // served stays NaN
      continue;
    }
    reading.served = factor * peak_from(i);
    recorder.add(std::move(reading));
  }
  recorder.seed(replayed);
  return recorder.history(60, kStart, samples);
}

}  // namespace

TEST_CASE("the recorder keeps what each decision served, NaN for those replayed", "[slo][served]") {
  const SloHistory history = two_days_served_at(1.3);
  REQUIRE(history.served.size() == history.demand.size());
  REQUIRE(history.demand.size() == 2 * kDay);
  CHECK(std::isnan(history.served[0]));
  CHECK(std::isnan(history.served[kDay - 1]));
  CHECK(history.served[kDay] == Approx(1.3 * peak_from(kDay)));
}

TEST_CASE("a tuning reports what the values served did, on the days this process served",
          "[slo][served]") {
  const auto target = slo_target("served-test");

  // Served 30 % above the coming peak: never short. The replica-hours are
  // those of about ceil(served / capacity) pods on the served day only (the
  // HPA's 10 % tolerance and its 5-minute scale-down window move them a
  // little either way; the replayed day would double them).
  const auto generous = tune_target_for_slo(target, two_days_served_at(1.3));
  REQUIRE(generous);
  const auto& f = generous->figures;
  CHECK(f.served_days == Approx(1.0));
  CHECK(f.served_allowed_minutes == Approx(0.001 * kDay));  // the SLO's 0.1 % of the served day
  CHECK(f.served_short_minutes == 0);
  double pod_hours = 0;
  for (std::size_t i = kDay; i < 2 * kDay; ++i)
    pod_hours += std::ceil(1.3 * peak_from(i) / 100) / 60;
  CHECK(f.served_replica_hours > 0.9 * pod_hours);
  CHECK(f.served_replica_hours < 1.15 * pod_hours);
  CHECK_THAT(generous->summary, Catch::Contains("; as served on the last 1.0 days: 0 minutes short "
                                                "(1 allowed)"));

  // Served half the load: the HPA follows its own observed-load metric
  // alone, whose tolerance leaves the pods up to 10 % short as the load
  // rises, and the SLO is missed as served whatever the tuning now chooses.
  const auto starved = tune_target_for_slo(target, two_days_served_at(0.5));
  REQUIRE(starved);
  CHECK(starved->figures.served_days == Approx(1.0));
  CHECK(starved->figures.served_short_minutes > 10 * starved->figures.served_allowed_minutes);
  CHECK(starved->figures.served_replica_hours < f.served_replica_hours);
}

TEST_CASE("before this process has served a decision there are no served figures",
          "[slo][served]") {
  SloHistory history = two_days_served_at(1.3);
  std::fill(history.served.begin(), history.served.end(), std::numeric_limits<double>::quiet_NaN());
  const auto tuned = tune_target_for_slo(slo_target("served-test"), history);
  REQUIRE(tuned);
  CHECK(tuned->figures.served_days == 0);
  CHECK_THAT(tuned->summary, !Catch::Contains("as served"));
}

TEST_CASE("beside the values served, a reactive HPA retuned at the same refits over the same days",
          "[slo][served]") {
  const auto target = slo_target("served-test");
  // No reactive target recorded (no tuning yet): no reactive figures.
  const auto alone = tune_target_for_slo(target, two_days_served_at(1.3));
  REQUIRE(alone);
  CHECK_FALSE(alone->figures.served_reactive);
  CHECK_THAT(alone->summary, !Catch::Contains("replica-hours, a reactive HPA tuned the same way"));

  // The served day's refits chose a reactive HPA at the pods' capacity for
  // its first half and at half of it for the second: the reactive HPA
  // follows each choice from the decision it was in force at.
  SloHistory history = two_days_served_at(1.3);
  for (std::size_t i = kDay; i < 2 * kDay; ++i)
    history.reactive_targets[i] = i < kDay + kDay / 2 ? 1.0 : 0.5;
  const auto beside = tune_target_for_slo(target, history);
  REQUIRE(beside);
  const auto& f = beside->figures;
  REQUIRE(f.served_reactive);
  double pod_hours = 0;
  for (std::size_t i = kDay; i < 2 * kDay; ++i)
    pod_hours += std::ceil(load_at(i) / (i < kDay + kDay / 2 ? 100 : 50)) / 60;
  CHECK(f.served_reactive_replica_hours > 0.9 * pod_hours);
  CHECK(f.served_reactive_replica_hours < 1.15 * pod_hours);
  // At capacity the reactive HPA runs short as the load rises; at half of
  // it, never: more than nothing, less than at capacity all day.
  CHECK(f.served_reactive_short_minutes > 0);
  SloHistory at_capacity = two_days_served_at(1.3);
  std::fill(at_capacity.reactive_targets.begin() + kDay, at_capacity.reactive_targets.end(), 1.0);
  const auto all_day = tune_target_for_slo(target, at_capacity);
  REQUIRE(all_day);
  CHECK(all_day->figures.served_reactive_short_minutes > f.served_reactive_short_minutes);
  CHECK(all_day->figures.served_reactive_replica_hours < f.served_reactive_replica_hours);
  // The values served are the same in the three: only the yardstick moved.
  CHECK(f.served_replica_hours == Approx(alone->figures.served_replica_hours));
  CHECK_THAT(beside->summary, Catch::Contains("replica-hours, a reactive HPA tuned the same way "));
}
