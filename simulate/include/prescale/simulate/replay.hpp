#pragma once
// Replays one target over a recorded series through the very engine and
// policy `prescale serve` runs (a replay clock and an in-memory source in
// place of the wall clock and Prometheus), so what the simulator reports is
// what the daemon would have served.
//
// Timing convention (the daemon's): a sample at grid time t_i covers
// [t_i, t_i + step) and becomes visible at t_i + step. The decision at grid
// time t therefore sees samples t_i < t only; observed(t) is the sample at
// t - step, and the forecast window [t, t + leadTime] is forecast steps
// 0 .. lead_steps(). Refits follow the target's refitInterval (and drift),
// each on the data visible at that moment, run inline (deterministic).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "prescale/autoscaler/decisions.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/common/logging.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/series.hpp"
#include "prescale/simulate/simulation.hpp"
#include "prescale/source/source.hpp"

namespace prescale::autoscaler {
class Clock;
}  // namespace prescale::autoscaler

namespace prescale::simulate {

/// A recorded series as a Source that cannot see past a clock: a sample at
/// t is returned once t + step <= clock.now(), NaN before (and outside the
/// series). What replay, the demo and tests feed the engine.
/// Not thread-safe (the Source contract); `series` and `clock` must outlive it.
class RecordedSource final : public source::Source {
 public:
  RecordedSource(const forecast::Series& series, const autoscaler::Clock& clock,
                 std::string description = "recorded series")
      : series_(series), clock_(clock), description_(std::move(description)) {}
  [[nodiscard]] std::string describe() const override { return description_; }
  [[nodiscard]] Expected<forecast::Series> fetch(std::int64_t start_unix, std::int64_t end_unix,
                                                 std::int64_t step_seconds) override;

 private:
  const forecast::Series& series_;
  const autoscaler::Clock& clock_;
  std::string description_;
};

struct ReplayOptions {
  /// First decision time (aligned to the step). 0 = as soon as the target's
  /// history window is full: series start + history.
  std::int64_t start_unix = 0;
  /// Decisions at t < end. 0 = one step past the last sample.
  std::int64_t end_unix = 0;
  /// Calendars the target's `calendars:` names refer to (may be null when it names none).
  const calendar::CalendarSet* calendars = nullptr;
  /// Refit lines and fallbacks; may be empty.
  LogFunction log;
};

/// One decision. Value type.
struct ReplayStep {
  std::int64_t time_unix = 0;  ///< decision time t
  double observed = 0;         ///< last sample before t (NaN if none was ever seen)
  double forecast = 0;  ///< max over [t, t + lead] of the forecast quantile (NaN without a model)
  double served = 0;    ///< what the External Metrics API served (>= 0, finite)
  std::optional<double> replicas;  ///< the -replicas metric when capacityPerReplica is set
  std::string model;               ///< model in use ("" without one)
  std::string fallback_reason;     ///< empty unless serving the observed value alone
  bool refitted = false;           ///< a (re)fit finished at this step
  /// With `slo:`, the per-pod target (fraction of capacity) of the reactive
  /// HPA the latest tuning compared with (SloSetting::reactive_hpa_target);
  /// NaN before the first tuning or without `slo:`.
  double reactive_hpa_target = std::numeric_limits<double>::quiet_NaN();
  /// The interval this decision forecast for the last step of its lead
  /// window, t + lead: q_(1-p), mean, q_p (NaN without a forecast).
  double lead_lower = 0, lead_mean = 0, lead_upper = 0;
  /// The forecast over the lead window [t, t + lead] the policy read (steps
  /// 0 .. lead_steps); empty when the decision served the observed value
  /// alone. Kept so that other policy settings can be applied to the same
  /// fits (frontier.hpp) without replaying the engine again.
  forecast::Forecast window;
};

struct ReplayResult {
  std::vector<ReplayStep> steps;
  /// The decision records the engine made, in time order (what `serve` would log).
  std::vector<autoscaler::DecisionRecord> decisions;
  std::int64_t lead_steps = 0;   ///< from a decision to the last step of its lead window
  std::size_t fits = 0;          ///< fits run (scheduled + drift)
  double fit_seconds_total = 0;  ///< CPU spent fitting
};

/// Runs the engine on a replay clock over `series` for `target` (its step
/// must equal series.step_seconds). An error names a bad argument.
/// Not thread-safe per call; concurrent calls are independent.
[[nodiscard]] Expected<ReplayResult> replay(const forecast::Series& series,
                                            const config::TargetConfig& target,
                                            const ReplayOptions& options = {});

/// The forecast band on the grid start_unix + i * step_seconds (i < count):
/// at each step, the interval the decision one lead window earlier forecast
/// for it -- what the engine expected when it had to act (NaN where no
/// decision did). Mean, lower and upper all come from that decision.
[[nodiscard]] ForecastBand lead_time_band(const ReplayResult& replayed, std::int64_t start_unix,
                                          std::int64_t step_seconds, std::size_t count);

}  // namespace prescale::simulate
