// The forecast band simulate draws and writes to its timeline: for each step,
// the interval the engine forecast one lead time earlier.
#include <catch2/catch.hpp>

#include <cmath>

#include "prescale/simulate/replay.hpp"

using namespace prescale::simulate;

TEST_CASE("lead_time_band places each decision's lead-window interval at the step it forecast",
          "[replay][band]") {
  prescale::forecast::Series series;
  series.start_unix = 1767225600;  // 2026-01-01T00:00Z
  series.step_seconds = 600;
  for (std::size_t i = 0; i < 5 * 144; ++i) {
    const double phase = 2 * M_PI * static_cast<double>(i % 144) / 144.0;
    series.values.push_back(1000 + 300 * std::sin(phase) +
                            20 * std::sin(static_cast<double>(i) * 1.7));
  }
  prescale::config::TargetConfig target;
  target.metric = "band-test";
  target.query = "trace";
  target.step_seconds = 600;
  target.history_seconds = 3 * 86400;
  target.timezone = "UTC";
  target.seasonality_seconds = {86400};
  target.lead_time_seconds = 1800;  // 3 steps: the window is steps 0..3
  target.refit_interval_seconds = 86400;
  target.backtest_origins = 8;
  target.quantile = 0.9;
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
