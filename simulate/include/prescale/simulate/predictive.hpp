#pragma once
// The predictive run of a simulation: the engine replayed over a trace as
// `serve` would have run it (replay.hpp), turned into what the simulator
// reads per step -- the served metric, the forecast and its band -- with
// notes on what the replay did.
#include <cstdint>
#include <string>
#include <vector>

#include "prescale/autoscaler/decisions.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/series.hpp"
#include "prescale/simulate/simulation.hpp"

namespace prescale::simulate {

/// The history a fit may use on a trace of `trace_seconds`: `requested_seconds`
/// when it leaves at least half the trace to simulate on, else half the trace
/// (whole days when that is at least a day), on the step grid.
[[nodiscard]] std::int64_t history_for_trace(std::int64_t requested_seconds,
                                             std::int64_t trace_seconds, std::int64_t step_seconds);

/// What the engine served over a trace, per step from its first decision. Value type.
struct PredictiveSeries {
  std::int64_t start_unix = 0;   ///< first decision: the simulated stretch starts here
  std::vector<double> served;    ///< per step from start_unix: the served metric
  std::vector<double> forecast;  ///< per step: the forecast quantile, max over the lead window
  ForecastBand band;             ///< per step: its interval as forecast one lead time earlier
  /// The engine's decision records, in time order (what `serve` would log).
  std::vector<autoscaler::DecisionRecord> decisions;
  /// What the replay did: steps, fits and CPU, the last model, fallbacks.
  std::vector<std::string> notes;
  /// What each decision's policy read, per step from start_unix, so that
  /// other policy settings can be applied to the same fits (frontier.hpp):
  /// the observed value (NaN: none) and the lead-window forecast (empty:
  /// the decision served the observed value alone).
  std::vector<double> observed;
  std::vector<forecast::Forecast> windows;
  double quantile = 0.9;  ///< the quantile the replay served
  /// The target declared an `slo:`: the replay retuned quantile and headroom
  /// at each refit as the daemon does, so `served` is the daemon's own
  /// operating point (frontier.hpp's "daemon" run), not one fixed setting.
  bool slo_tuned = false;
  /// With slo_tuned: the per-pod target (fraction of capacity) of the HPA's
  /// observed-load metric the tuning assumed (slo: reactiveTargetPercent);
  /// the daemon point is simulated with it.
  double observed_target = 1;
  /// With slo_tuned: per step from start_unix, the per-pod target (fraction
  /// of capacity) of the reactive HPA the tuning in force compared with
  /// (NaN before the first tuning), so that a reactive HPA retuned the same
  /// way at each refit is replayed beside the daemon (frontier.hpp's
  /// "reactive-tuned" run). Empty without slo_tuned.
  std::vector<double> reactive_hpa_targets;
};

/// Replays `target` (its step must be the series') over `series`, deciding
/// for the trace's own steps only; `calendars` holds those the target's
/// `calendars` name (null when it names none). An error says why there is no
/// predictive run. Deterministic; the cost is the target's fits.
[[nodiscard]] Expected<PredictiveSeries> replay_predictive(
    const forecast::Series& series, const config::TargetConfig& target,
    const calendar::CalendarSet* calendars = nullptr);

}  // namespace prescale::simulate
