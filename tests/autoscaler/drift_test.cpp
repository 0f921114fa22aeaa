// Drift: a quarter day of one-step errors well past the fit's, or a
// persistent shift, asks for a refit; a new fit starts afresh.
#include <catch2/catch.hpp>

#include "prescale/autoscaler/drift.hpp"

using prescale::autoscaler::DriftDetector;

TEST_CASE("drift needs a full quarter-day window of errors 2.5x the fit's", "[drift]") {
  DriftDetector drift(60);  // 1-minute steps: 360 errors
  REQUIRE(drift.window() == 360);
  // sigma 10: a normal error averages 8, drift is a mean above 20.
  for (int i = 0; i < 359; ++i) drift.add_error(30);
  drift.check(100);
  CHECK_FALSE(drift.drifted());  // one error short of a window
  drift.add_error(30);
  drift.check(100);
  CHECK(drift.drifted());
  CHECK(drift.reason() == "one-step error drifted to 3.8x the fitted model's");
  drift.reset();
  CHECK_FALSE(drift.drifted());
  CHECK(drift.reason().empty());
  // Errors at twice the normal are noise, not drift; the window slides.
  for (int i = 0; i < 1000; ++i) drift.add_error(16);
  drift.check(100);
  CHECK_FALSE(drift.drifted());
  // A model without residual variance gives no yardstick.
  drift.check(0);
  CHECK_FALSE(drift.drifted());
}

TEST_CASE("the window is a quarter day, 30 to 720 samples", "[drift]") {
  CHECK(DriftDetector(1).window() == 720);
  CHECK(DriftDetector(300).window() == 72);
  CHECK(DriftDetector(3600).window() == 30);
}

TEST_CASE("a persistent shift asks once; the first reason stands until a new fit", "[drift]") {
  DriftDetector drift(300);
  drift.request_refit("persistent shift: 15 steps outside the prediction interval");
  drift.request_refit("persistent shift: 30 steps outside the prediction interval");
  for (int i = 0; i < 100; ++i) drift.add_error(1000);
  drift.check(1);
  CHECK(drift.drifted());
  CHECK(drift.reason() == "persistent shift: 15 steps outside the prediction interval");
  drift.reset();
  drift.request_refit("persistent shift: 15 steps outside the prediction interval");
  CHECK(drift.drifted());
}
