// The margin a declared SLO's tuning learns from its own days
// (simulate/src/slo_margin.hpp): its held-out check serves, on each day,
// what the tuning would have moved to from the day before's setting, as the
// daemon does, not the cheapest setting within the limit on every day.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "../../simulate/src/slo_margin.hpp"

using namespace prescale::simulate;

namespace {

// One swept setting over `days` days: `hours` replica-hours a day and the
// given minutes short on the given days (none in quiet hours).
FrontierPoint setting(double hours, std::size_t days,
                      const std::vector<std::pair<std::size_t, double>>& short_days) {
  FrontierPoint p;
  p.run = "predictive";
  p.daily_violation_minutes.assign(days, 0.0);
  p.daily_replica_hours.assign(days, hours);
  p.daily_quiet_violation_minutes.assign(days, 0.0);
  p.daily_quiet_replica_hours.assign(days, 0.0);
  for (const auto& [day, minutes] : short_days) p.daily_violation_minutes[day] = minutes;
  return p;
}

}  // namespace

TEST_CASE("the margin's held-out check moves from the day before's setting, as the daemon does",
          "[slo][margin]") {
  // Two weeks of whole days, an SLO of 0.1 % (1.44 minutes a day), 50 %
  // configured: days 7-13 are held out, 7.56 minutes allowed on them
  // (0.1 % of their minutes less half the configured margin).
  constexpr std::size_t kDays = 14;
  const std::vector<double> day_minutes(kDays, 1440.0);
  // Safe (12 replica-hours a day) is never short. Middle (11) and Cheap (10)
  // were 12 minutes short on day 0; Cheap also 10 on day 9.
  const std::vector<FrontierPoint> points{setting(12, kDays, {}), setting(11, kDays, {{0, 12.0}}),
                                          setting(10, kDays, {{0, 12.0}, {9, 10.0}})};
  // Day 9 is the first whose days before allow 12 minutes (1.44 x 9 = 12.96),
  // at margins of 5 % and less: the cheapest within the limit jumps from
  // Safe to Cheap there and is 10 minutes short, over the 7.56 allowed, so
  // chosen that way each day the margin cannot go below 10 %. Moving as the
  // daemon does (one setting for every hour: to the next cheaper swept
  // setting, once a day), it goes from Safe to Middle, which is not short on
  // day 9, and Cheap is over the limit from day 10 on: every margin down to
  // 0 holds.
  const auto daily =
      learn_margin(points, day_minutes, 0.001, 0.5, kDays, "predictive", std::nullopt);
  CHECK(daily.held_out_days == 7);
  CHECK(daily.held_out_slo_minutes == Approx(7.56));
  CHECK(daily.margin == Approx(0.1));
  CHECK(daily.held_out_minutes == 0);

  const auto moved = learn_margin(points, day_minutes, 0.001, 0.5, kDays, "predictive", 0.05);
  CHECK(moved.held_out_days == 7);
  CHECK(moved.margin == 0);
  CHECK(moved.held_out_minutes == 0);

  // The reactive run's points are not read for the predictive margin.
  const auto none = learn_margin(points, day_minutes, 0.001, 0.5, kDays, "reactive", 0.05);
  CHECK(none.margin == 0.5);
  CHECK(none.held_out_days == 0);
}
