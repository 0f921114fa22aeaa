#pragma once
// From forecast to served metric (docs/targets.md, "Decide how early and how safe"):
//   value(t) = max(observed(t), max_{u in [t, t + lead]} q_p(forecast(u)))
// times the headroom (1 unless an `slo:` tuned it, slo.hpp), and, with
// capacityPerReplica, replicas = ceil(value / capacity) clamped to
// [minReplicas, maxReplicas]. In fallback the observed value (times the
// headroom) is served alone.
// Pure functions: no clock, no I/O.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "prescale/forecast/model.hpp"

namespace prescale::autoscaler {

/// A calendar event the target names, as the decision at t sees it. The
/// event is announced in the target's calendar, so acting on it before the
/// load moves is not leakage: a load with no event named gets neither floor.
struct EventRamp {
  std::string event;        ///< qualified name ("payroll.payroll-mid"); empty: no event
  std::string description;  ///< Occurrence::describe(), for the records
  /// The value pre-scaled for the event's start (the largest served since the
  /// lead window reached it): not served lower until the observed load has
  /// reached it. A forecast that eases at the start of the window (another
  /// model serves event windows) must not take the capacity away just before
  /// the surge. NaN: no hold.
  double hold = std::numeric_limits<double>::quiet_NaN();
  /// Inside the window: the observed growth carried over one lead time
  /// (observed now over observed a lead earlier, as a rate). Above 1 the
  /// observed value times it is served at least: during a surge the model's
  /// level trails the ramp by its own updates. NaN: not inside the window.
  double rise = std::numeric_limits<double>::quiet_NaN();
};

struct PolicyInput {
  double observed = 0;  ///< last valid observation; NaN if none yet
  const forecast::Forecast* forecast =
      nullptr;                   ///< steps 0.. from the decision time; null in fallback
  std::size_t window_steps = 1;  ///< forecast steps covering [t, t + lead]
  double quantile = 0.9;
  /// >= 1: the value is served this much higher, as an HPA whose per-pod
  /// target is 1 / headroom of capacity would scale (an SLO's tuning).
  double headroom = 1;
  /// >= 1: the forecast (not the observed value) is taken this much higher
  /// before headroom: a tuned setting's risk for the decision's hour.
  double forecast_scale = 1;
  std::optional<double> capacity_per_replica;
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 100;
  std::string fallback_reason;  ///< set by the engine (stale data, failed fit, ...)
  EventRamp event;              ///< applies with a forecast only (not in fallback)
};

/// Value type.
struct Recommendation {
  bool servable = false;  ///< false only before any observation: serve nothing
  double observed = 0;
  double forecast = 0;        ///< max quantile over the window; NaN without a usable forecast
  double served = 0;          ///< finite, >= 0 (headroom applied)
  double headroom = 1;        ///< the factor applied
  double forecast_scale = 1;  ///< the risk applied to the forecast (>= 1)
  double quantile = 0.9;      ///< the quantile read from the forecast
  std::optional<double> replicas;
  std::string fallback_reason;  ///< empty unless serving the observed value alone
  /// What the forecast alone would have served (before headroom); differs
  /// from served / headroom when the event ramp raised it.
  double unramped = 0;
  /// "hold" or "rise" when EventRamp set the value, else empty.
  std::string event_floor;
  EventRamp event;  ///< the input's, for the records
};

[[nodiscard]] Recommendation recommend(const PolicyInput& input);

/// ceil(value / capacity) clamped to [min_replicas, max_replicas]; a value
/// within 1e-9 relative of a whole number of replicas does not round up.
[[nodiscard]] double replicas_for(double value, double capacity, std::int64_t min_replicas,
                                  std::int64_t max_replicas);

}  // namespace prescale::autoscaler
