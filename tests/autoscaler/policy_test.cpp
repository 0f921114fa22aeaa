#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "prescale/autoscaler/policy.hpp"

using prescale::autoscaler::PolicyInput;
using prescale::autoscaler::recommend;
using prescale::autoscaler::replicas_for;
using prescale::forecast::Forecast;

namespace {
Forecast flat_forecast(std::vector<double> mean, double sigma) {
  Forecast f;
  f.mean = std::move(mean);
  f.sigma.assign(f.mean.size(), sigma);
  return f;
}
}  // namespace

TEST_CASE("served value is the max of observed and the lead window's quantile", "[policy]") {
  const auto forecast = flat_forecast({100, 150, 300, 120, 900}, 10);
  PolicyInput in;
  in.observed = 110;
  in.forecast = &forecast;
  in.window_steps = 4;  // the 900 at step 4 is past the lead time
  in.quantile = 0.9;
  const auto rec = recommend(in);
  REQUIRE(rec.servable);
  CHECK(rec.fallback_reason.empty());
  const double z = prescale::forecast::normal_quantile(0.9);
  CHECK(rec.forecast == Approx(300 + z * 10));
  CHECK(rec.served == Approx(300 + z * 10));

  in.observed = 1000;  // never below the reactive signal
  CHECK(recommend(in).served == Approx(1000));
}

TEST_CASE("fallback serves the observed value alone and says why", "[policy]") {
  const auto forecast = flat_forecast({500, 500}, 1);
  PolicyInput in;
  in.observed = 42;
  in.forecast = &forecast;
  in.window_steps = 2;
  in.fallback_reason = "data stale";
  const auto rec = recommend(in);
  CHECK(rec.served == 42);
  CHECK(rec.fallback_reason == "data stale");
  CHECK(std::isnan(rec.forecast));
}

TEST_CASE("never negative, NaN or infinite", "[policy]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  PolicyInput in;
  in.window_steps = 2;
  in.capacity_per_replica = 10;
  in.min_replicas = 2;
  in.max_replicas = 50;

  const auto negative = flat_forecast({-50, -20}, 1);
  in.observed = 0;
  in.forecast = &negative;
  auto rec = recommend(in);
  CHECK(rec.served == 0);
  CHECK(rec.replicas == Approx(2));  // clamped to minReplicas

  const auto broken = flat_forecast({10, nan}, 1);
  in.observed = 7;
  in.forecast = &broken;
  rec = recommend(in);
  CHECK(rec.served == 7);
  CHECK_THAT(rec.fallback_reason, Catch::Contains("not finite"));

  const auto infinite = flat_forecast({10, inf}, 1);
  in.forecast = &infinite;
  rec = recommend(in);
  CHECK(std::isfinite(rec.served));
  CHECK(rec.served == 7);

  // Nothing observed and no forecast: nothing is served at all.
  in.observed = nan;
  in.forecast = nullptr;
  rec = recommend(in);
  CHECK_FALSE(rec.servable);
  CHECK_FALSE(rec.fallback_reason.empty());
}

TEST_CASE("replicas are ceil(value / capacity), clamped to min and max", "[policy]") {
  CHECK(replicas_for(240, 120, 1, 100) == 2);
  CHECK(replicas_for(240.0000000001, 120, 1, 100) == 2);  // float noise is not load
  CHECK(replicas_for(241, 120, 1, 100) == 3);
  CHECK(replicas_for(0, 120, 2, 100) == 2);
  CHECK(replicas_for(1e9, 120, 2, 200) == 200);
}

TEST_CASE("headroom scales the served value and its replicas, never below 1", "[policy][slo]") {
  const auto forecast = flat_forecast({100, 200}, 0);
  PolicyInput in;
  in.observed = 150;
  in.forecast = &forecast;
  in.window_steps = 2;
  in.capacity_per_replica = 50;
  in.headroom = 1.25;  // as an HPA target of 80 % of capacity
  auto rec = recommend(in);
  CHECK(rec.served == Approx(250));
  CHECK(rec.headroom == 1.25);
  CHECK(rec.replicas == Approx(5));
  // In fallback the observed value gets the same headroom (the tuning
  // replayed fallbacks that way).
  in.fallback_reason = "data stale";
  CHECK(recommend(in).served == Approx(187.5));
  in.fallback_reason.clear();
  // Below 1 or not a number: no headroom (it may only add).
  in.headroom = 0.5;
  CHECK(recommend(in).served == Approx(200));
  in.headroom = std::numeric_limits<double>::quiet_NaN();
  CHECK(recommend(in).served == Approx(200));
}

TEST_CASE("a tuned risk raises the forecast, never the observed value", "[policy][slo]") {
  const auto forecast = flat_forecast({100, 200}, 0);
  PolicyInput in;
  in.observed = 250;
  in.forecast = &forecast;
  in.window_steps = 2;
  in.forecast_scale = 1.5;  // the decision's hour: its forecasts fell 50 % short
  CHECK(recommend(in).served == Approx(300));
  CHECK(recommend(in).forecast_scale == 1.5);
  // Headroom comes on top of the raised forecast.
  in.headroom = 1.25;
  CHECK(recommend(in).served == Approx(375));
  in.headroom = 1;
  // The observed value is not raised: above the raised forecast it is served as it is.
  in.observed = 320;
  CHECK(recommend(in).served == Approx(320));
  // In fallback the observed value alone, unraised.
  in.fallback_reason = "data stale";
  CHECK(recommend(in).served == Approx(320));
  in.fallback_reason.clear();
  // Below 1 or not a number: no risk (it may only add).
  in.observed = 150;
  in.forecast_scale = 0.5;
  CHECK(recommend(in).served == Approx(200));
  in.forecast_scale = std::numeric_limits<double>::quiet_NaN();
  CHECK(recommend(in).served == Approx(200));
}

TEST_CASE("around a named calendar event the value is held, then carried up the observed rise",
          "[policy][events]") {
  // The lead window reached payroll-mid's start while 974 was served; the
  // model serving event windows eases to 647 at 06:00, just before the surge.
  const auto forecast = flat_forecast({600, 620, 640}, 5);
  PolicyInput in;
  in.observed = 508;
  in.forecast = &forecast;
  in.window_steps = 3;
  in.capacity_per_replica = 120;
  const auto plain = recommend(in);
  CHECK(plain.event_floor.empty());
  CHECK(plain.replicas == 6);

  in.event.event = "payroll.payroll-mid";
  in.event.hold = 974;
  auto held = recommend(in);
  CHECK(held.event_floor == "hold");
  CHECK(held.served == Approx(974));
  CHECK(held.replicas == 9);
  CHECK(held.unramped == Approx(plain.served));

  // Inside the window the load rises 28 % per lead time: carried over it.
  in.event.hold = std::numeric_limits<double>::quiet_NaN();
  in.observed = 1093;
  in.event.rise = 1.28;
  auto rising = recommend(in);
  CHECK(rising.event_floor == "rise");
  CHECK(rising.served == Approx(1093 * 1.28));
  // A load falling or flat adds nothing; neither does an event in fallback.
  in.event.rise = 0.9;
  CHECK(recommend(in).served == Approx(1093));
  CHECK(recommend(in).event_floor.empty());
  in.event.rise = 1.28;
  in.fallback_reason = "data stale";
  CHECK(recommend(in).served == Approx(1093));
  // No event named: the same rise is no cause (an unannounced surge is not known ahead).
  in.fallback_reason.clear();
  in.event = {};
  in.event.rise = 1.28;
  in.event.hold = 2000;
  CHECK(recommend(in).served == Approx(std::max(1093.0, rising.unramped)));
}
