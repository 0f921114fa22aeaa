#include "prescale/autoscaler/policy.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace prescale::autoscaler {

double replicas_for(double value, double capacity, std::int64_t min_replicas,
                    std::int64_t max_replicas) {
  const double ratio = value / capacity;
  // 240.0000000001 / 120 must stay 2 replicas, not 3: floating-point noise is not load.
  double replicas = std::ceil(ratio - 1e-9 * std::max(1.0, std::abs(ratio)));
  if (!std::isfinite(replicas)) replicas = static_cast<double>(max_replicas);
  return std::clamp(replicas, static_cast<double>(min_replicas), static_cast<double>(max_replicas));
}

Recommendation recommend(const PolicyInput& input) {
  Recommendation out;
  out.observed = input.observed;
  out.forecast = std::numeric_limits<double>::quiet_NaN();
  out.fallback_reason = input.fallback_reason;
  out.quantile = input.quantile;

  if (input.fallback_reason.empty()) {
    if (input.forecast == nullptr) {
      out.fallback_reason = "no forecast";
    } else if (input.forecast->size() < input.window_steps || input.window_steps == 0) {
      out.fallback_reason = fmt::format("forecast covers {} steps, the lead window needs {}",
                                        input.forecast->size(), input.window_steps);
    } else {
      double peak = -std::numeric_limits<double>::infinity();
      for (std::size_t h = 0; h < input.window_steps; ++h) {
        const double q = input.forecast->quantile(h, input.quantile);
        if (!std::isfinite(q)) {
          peak = std::numeric_limits<double>::quiet_NaN();
          break;
        }
        peak = std::max(peak, q);
      }
      if (std::isfinite(peak)) {
        out.forecast = peak;
      } else {
        out.fallback_reason = "the forecast is not finite";
      }
    }
  }

  const bool have_observed = std::isfinite(input.observed);
  const bool have_forecast = out.fallback_reason.empty() && std::isfinite(out.forecast);
  if (!have_observed && !have_forecast) {
    out.servable = false;
    if (out.fallback_reason.empty()) out.fallback_reason = "no observation yet";
    return out;
  }
  out.servable = true;
  double value = have_observed ? input.observed : 0.0;
  // The risk scales the forecast only: never below the observed load, and a
  // fallback serves the observed value as it is (headroom below still applies).
  const double scale =
      std::isfinite(input.forecast_scale) ? std::max(1.0, input.forecast_scale) : 1.0;
  if (have_forecast) {
    out.forecast_scale = scale;
    value = std::max(value, out.forecast * scale);
  }
  out.unramped = value;
  out.event = input.event;
  if (have_forecast && !input.event.event.empty()) {
    const auto& ramp = input.event;
    if (std::isfinite(ramp.hold) && ramp.hold > value) {
      value = ramp.hold;
      out.event_floor = "hold";
    }
    if (have_observed && std::isfinite(ramp.rise) && ramp.rise > 1 &&
        input.observed * ramp.rise > value) {
      value = input.observed * ramp.rise;
      out.event_floor = "rise";
    }
  }
  // Headroom only ever adds: below 1 (or not a number) it is ignored.
  out.headroom = std::isfinite(input.headroom) ? std::max(1.0, input.headroom) : 1.0;
  // Never negative (a negative load forecast is noise around zero), never NaN/inf.
  out.served = std::max(0.0, value) * out.headroom;
  if (!std::isfinite(out.served)) out.served = 0;
  if (input.capacity_per_replica && *input.capacity_per_replica > 0) {
    out.replicas = replicas_for(out.served, *input.capacity_per_replica, input.min_replicas,
                                input.max_replicas);
  }
  return out;
}

}  // namespace prescale::autoscaler
