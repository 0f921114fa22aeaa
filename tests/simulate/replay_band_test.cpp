// The forecast band simulate draws and writes to its timeline: for each step,
// the interval the engine forecast one lead time earlier.
#include <catch2/catch.hpp>

#include <cmath>

#include "prescale/simulate/replay.hpp"
#include "replay_fixture.hpp"

using namespace prescale::simulate;

TEST_CASE("lead_time_band places each decision's lead-window interval at the step it forecast",
          "[replay][band]") {
  const auto series = prescale::test::five_daily_cycles();
  const auto target = prescale::test::daily_cycle_target("band-test");
  ReplayOptions options;
  options.end_unix = series.end_unix();
  const auto replayed = replay(series, target, options);
  REQUIRE(replayed);
  REQUIRE(replayed->lead_steps == 3);
  REQUIRE(replayed->steps.size() > 10);

  const std::int64_t start = replayed->steps.front().time_unix;
  const std::size_t count = replayed->steps.size();
  const ForecastBand band = lead_time_band(*replayed, start, 600, count);
  REQUIRE(band.lower.size() == count);
  // Nothing forecast the first lead_steps steps of the stretch.
  for (std::size_t i = 0; i < 3; ++i) CHECK(std::isnan(band.upper[i]));
  std::size_t banded = 0, inside = 0;
  for (std::size_t i = 3; i < count; ++i) {
    const ReplayStep& decision = replayed->steps[i - 3];
    REQUIRE(decision.time_unix + 3 * 600 == start + static_cast<std::int64_t>(i) * 600);
    if (std::isnan(decision.lead_upper)) continue;
    ++banded;
    CHECK(band.upper[i] == decision.lead_upper);
    CHECK(band.lower[i] == decision.lead_lower);
    CHECK(band.lower[i] < band.mean[i]);
    CHECK(band.mean[i] < band.upper[i]);
    // The served forecast (max of q0.9 over the window) is at least this step's q0.9.
    CHECK(decision.forecast >= decision.lead_upper - 1e-9);
    const double demand =
        series.values[static_cast<std::size_t>((start - series.start_unix) / 600) + i];
    inside += demand >= band.lower[i] && demand <= band.upper[i] ? 1 : 0;
  }
  REQUIRE(banded > count / 2);
  // A q0.1-q0.9 interval holds most of a smooth series (80% nominal).
  CHECK(static_cast<double>(inside) / static_cast<double>(banded) > 0.6);
}
