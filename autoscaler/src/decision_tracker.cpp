// DecisionTracker: when a tick deserves a record, and which cause to name.
#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "prescale/autoscaler/decisions.hpp"
#include "prescale/common/integer.hpp"

namespace prescale::autoscaler {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string local_clock(std::int64_t unix_seconds, const calendar::TimeZone* zone) {
  const std::int64_t local = zone ? zone->to_local(unix_seconds) : unix_seconds;
  const std::int64_t of_day = floor_mod(local, 86400);
  return fmt::format("{:02}:{:02} {}", of_day / 3600, of_day / 60 % 60,
                     zone ? zone->name() : std::string("UTC"));
}

std::string mase_text(const std::optional<double>& mase) {
  return mase && std::isfinite(*mase) ? fmt::format("{:.2f}", *mase) : std::string("n/a");
}

struct Attribution {
  std::string cause;
  std::string event;
  std::string reason;
  std::int64_t peak_unix = 0;
};

// A calendar event's hold or rise set the value (policy.hpp EventRamp).
std::string event_floor_reason(const DecisionInputs& in) {
  return (in.event_floor == "hold"
              ? fmt::format("holding the capacity pre-scaled for {} until the load reaches it",
                            in.event_description)
              : fmt::format("load rising during {}: x{:.3g} over the lead time, carried ahead",
                            in.event_description, in.event_rise)) +
         fmt::format(" (the forecast alone: {:.6g})", in.unramped);
}

// Why the served value moved from `before` to `after`, this tick.
Attribution attribute_change(const DecisionInputs& in, double before) {
  Attribution out;
  const bool rising = !std::isfinite(before) || in.served > before;
  const bool have_forecast = std::isfinite(in.forecast) && !in.window_quantiles.empty();
  const double q = in.quantile.value_or(in.config ? in.config->quantile : 0.9);
  if (have_forecast) {
    const auto peak = std::max_element(in.window_quantiles.begin(), in.window_quantiles.end());
    out.peak_unix = in.now_unix +
                    static_cast<std::int64_t>(peak - in.window_quantiles.begin()) * in.step_seconds;
  }
  // The forecast as served: raised by its hour's risk (an SLO's tuning).
  const bool observed_wins =
      !have_forecast || (std::isfinite(in.observed) && in.observed >= in.forecast * in.risk);

  const std::string amounts = fmt::format(
      "observed {:.6g}, forecast q{:g} {:.6g}{}, served {:.6g}{}{}", in.observed, q, in.forecast,
      in.risk > 1 ? fmt::format(" x{:.3g} (this hour's risk)", in.risk) : "", in.served,
      in.headroom > 1 ? fmt::format(" (headroom x{:.3g})", in.headroom) : "",
      std::isfinite(before) ? fmt::format(" (was {:.6g})", before) : "");
  if (!in.event_floor.empty()) {
    out.cause = "calendar-event";
    out.event = in.event;
    out.reason = event_floor_reason(in) + ": " + amounts;
    return out;
  }

  // Calendar occurrences of the target's own calendars active in [now, now + lead].
  std::vector<calendar::Occurrence> active;
  if (in.calendars && !in.calendars->empty() && in.config)
    active = named_occurrences(*in.calendars, *in.config, in.now_unix,
                               in.now_unix + in.config->lead_time_seconds + 1);
  // An event beats a session; one containing the forecast peak beats one that does not.
  const calendar::Occurrence* named = nullptr;
  auto rank = [&](const calendar::Occurrence& o) {
    return (o.kind == calendar::Occurrence::Kind::event ? 2 : 0) +
           (o.contains(out.peak_unix) ? 1 : 0);
  };
  for (const auto& o : active)
    if (!named || rank(o) > rank(*named)) named = &o;

  if (observed_wins) {
    out.cause = "observed";
    out.reason = rising ? "observed load above forecast" : "load easing: serving the observed load";
    if (named && named->contains(in.now_unix)) {
      out.event = named->qualified_name();
      out.reason += " during " + named->describe();
    }
    out.reason += ": " + amounts;
    return out;
  }
  if (rising && named) {
    out.event = named->qualified_name();
    if (named->kind == calendar::Occurrence::Kind::event) {
      out.cause = "calendar-event";
      out.reason = (named->contains(in.now_unix) ? "scaling up during " : "pre-scaling for ") +
                   named->describe();
    } else {
      out.cause = "calendar-session";
      out.reason = "seasonal peak: " + named->describe();
    }
    out.reason +=
        fmt::format(", forecast peaks at {}: {}", local_clock(out.peak_unix, in.zone), amounts);
    if (out.cause == "calendar-event" && !in.event_choice.empty())
      out.reason += "; " + in.event_choice;
    return out;
  }
  if (rising) {
    out.cause = "seasonal-peak";
    out.reason = fmt::format("seasonal peak at {} in the lead window: {}",
                             local_clock(out.peak_unix, in.zone), amounts);
    return out;
  }
  out.cause = "forecast-easing";
  out.reason = fmt::format("forecast easing, lead-window peak at {}: {}",
                           local_clock(out.peak_unix, in.zone), amounts);
  return out;
}

// The fields every record of this tick shares.
DecisionRecord base_record(const DecisionInputs& in, double previous_served) {
  DecisionRecord base;
  base.time_unix = in.now_unix;
  if (in.config) {
    base.target = in.config->metric;
    base.quantile = in.config->quantile;
    base.lead_seconds = in.config->lead_time_seconds;
    base.timezone = in.config->timezone;
    base.config_digest = config_digest(*in.config);
  }
  if (in.quantile) base.quantile = *in.quantile;
  base.headroom = in.headroom;
  base.risk = in.risk;
  base.slo = in.slo;
  base.observed = in.observed;
  base.forecast = in.forecast;
  base.served = in.served;
  base.previous_served = previous_served;
  base.replicas = in.replicas;
  base.model = in.model;
  base.parameters = in.parameters;
  base.parameters_digest = parameters_digest(in.model, in.parameters);
  base.backtest_mase = in.backtest_mase;
  base.fitted_at_unix = in.fitted_at_unix;
  base.data_start_unix = in.data_start_unix;
  base.data_end_unix = in.data_end_unix;
  base.fallback_reason = in.fallback_reason;
  base.anomaly_score = in.anomaly.evidence;
  base.anomaly = in.anomaly.anomaly;
  base.residual_z = in.anomaly.score;
  base.outside_interval = in.anomaly.outside;
  base.outside_steps = in.anomaly.outside_steps;
  if (!in.window_quantiles.empty() && std::isfinite(in.forecast)) {
    const auto peak = std::max_element(in.window_quantiles.begin(), in.window_quantiles.end());
    base.peak_unix = in.now_unix + static_cast<std::int64_t>(peak - in.window_quantiles.begin()) *
                                       in.step_seconds;
  }
  return base;
}

DecisionRecord record_of(const DecisionRecord& base, DecisionKind kind, std::string cause,
                         std::string reason) {
  DecisionRecord r = base;
  r.kind = kind;
  r.cause = std::move(cause);
  r.reason = std::move(reason);
  return r;
}

}  // namespace

std::vector<calendar::Occurrence> named_occurrences(const calendar::CalendarSet& calendars,
                                                    const config::TargetConfig& target,
                                                    std::int64_t from_unix, std::int64_t to_unix) {
  std::vector<calendar::Occurrence> named;
  for (auto& o : calendars.occurrences(from_unix, to_unix))
    if (std::find(target.calendars.begin(), target.calendars.end(), o.calendar) !=
        target.calendars.end())
      named.push_back(std::move(o));
  return named;
}

std::vector<DecisionRecord> DecisionTracker::decide(const DecisionInputs& in) {
  std::vector<DecisionRecord> out;
  if (!in.servable) return out;  // nothing served yet: nothing decided

  const DecisionRecord base = base_record(in, started_ ? served_in_force_ : kNaN);
  decide_anomaly(in, base, out);
  decide_refit(in, base, out);
  decide_served(in, base, out);
  holding_ = in.event_floor == "hold";
  fallback_ = in.fallback_reason;
  if (!out.empty()) {
    started_ = true;
    served_in_force_ = in.served;
  }
  return out;
}

// Anomaly episodes of the newest samples: one record when an episode becomes
// an anomaly, one when it lasts long enough to be a new normal, one at its end.
void DecisionTracker::decide_anomaly(const DecisionInputs& in, const DecisionRecord& base,
                                     std::vector<DecisionRecord>& out) {
  const auto& a = in.anomaly;
  if (a.anomaly && a.episode_start_unix != anomaly_episode_) {
    anomaly_episode_ = a.episode_start_unix;
    shift_reported_ = false;
    out.push_back(
        record_of(base, DecisionKind::anomaly, "anomaly",
                  fmt::format("anomaly since {}: {}", local_clock(a.episode_start_unix, in.zone),
                              describe_anomaly(a))));
  }
  if (a.anomaly && a.shift && !shift_reported_) {
    shift_reported_ = true;
    out.push_back(
        record_of(base, DecisionKind::shift, "shift",
                  fmt::format("new normal: an anomaly for {} steps (since {}); refitting. {}",
                              a.episode_steps, local_clock(a.episode_start_unix, in.zone),
                              describe_anomaly(a))));
  }
  if (!a.anomaly && anomaly_episode_ != 0) {
    anomaly_episode_ = 0;
    shift_reported_ = false;
    out.push_back(record_of(base, DecisionKind::anomaly_end, "anomaly-end",
                            "anomaly over: " + describe_anomaly(a)));
  }
}

// A new fit took over (or the first one).
void DecisionTracker::decide_refit(const DecisionInputs& in, const DecisionRecord& base,
                                   std::vector<DecisionRecord>& out) {
  if (!in.fit_identity || in.fit_identity == fit_identity_ || in.model.empty()) return;
  std::string reason;
  if (!fit_identity_) {
    reason = fmt::format("first fit: model {}, backtest MASE {} on data {}s long", in.model,
                         mase_text(in.backtest_mase), in.data_end_unix - in.data_start_unix);
  } else {
    reason = fmt::format("refit ({}): backtest MASE {} -> {}",
                         in.fit_why.empty() ? "scheduled" : in.fit_why, mase_text(mase_),
                         mase_text(in.backtest_mase));
    if (in.model != model_)
      reason += fmt::format(", model {} -> {}", model_.empty() ? "none" : model_, in.model);
  }
  if (!in.decision_loss.empty()) reason += ", " + in.decision_loss;
  if (!in.event_choice.empty()) reason += "; " + in.event_choice;
  if (!in.slo.empty()) reason += "; " + in.slo;
  out.push_back(record_of(base, DecisionKind::refit, "refit", reason));
  fit_identity_ = in.fit_identity;
  model_ = in.model;
  mase_ = in.backtest_mase;
}

// Fallback in and out: the reason is the fallback, whatever the value did.
// Otherwise a served value that moved enough is a change, with its cause.
void DecisionTracker::decide_served(const DecisionInputs& in, const DecisionRecord& base,
                                    std::vector<DecisionRecord>& out) const {
  const bool fallback_changed = in.fallback_reason != fallback_;
  if (fallback_changed && !in.fallback_reason.empty()) {
    out.push_back(record_of(base, DecisionKind::fallback, "fallback",
                            "fallback: " + in.fallback_reason + "; serving the observed load"));
    return;
  }
  if (fallback_changed && started_) {
    out.push_back(record_of(base, DecisionKind::recovered, "recovered",
                            fmt::format("forecasting again with {} (was in fallback: {})",
                                        in.model.empty() ? "?" : in.model, fallback_)));
    return;
  }
  const double before = served_in_force_;
  const auto beyond = [&](double value) {
    return std::abs(value - before) > settings_.change_threshold * std::max(std::abs(before), 1e-9);
  };
  const bool moved = !started_ || beyond(in.served);
  // A hold that keeps the value where it was is a decision too: the forecast
  // alone would have taken the capacity away at the event's start.
  const bool hold_begins =
      started_ && in.event_floor == "hold" && !holding_ && beyond(in.unramped * in.headroom);
  if ((!moved && !hold_begins) || !in.fallback_reason.empty()) return;
  const auto why = attribute_change(in, started_ ? before : kNaN);
  DecisionRecord r = record_of(base, DecisionKind::change, why.cause, why.reason);
  r.event = why.event;
  if (why.peak_unix) r.peak_unix = why.peak_unix;
  out.push_back(std::move(r));
}

}  // namespace prescale::autoscaler
