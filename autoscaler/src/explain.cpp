#include "prescale/autoscaler/explain.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/common/time.hpp"

namespace prescale::autoscaler {

namespace {

std::string number(double value) {
  return std::isfinite(value) ? fmt::format("{:.6g}", value) : "none";
}

std::string duration(std::int64_t seconds) {
  if (seconds < 0) seconds = -seconds;
  if (seconds < 120) return fmt::format("{}s", seconds);
  if (seconds < 2 * 3600) return fmt::format("{}m", seconds / 60);
  if (seconds < 2 * 86400) return fmt::format("{}h{:02}m", seconds / 3600, seconds / 60 % 60);
  return fmt::format("{}d{:02}h", seconds / 86400, seconds / 3600 % 24);
}

// "2026-02-27T11:00:00Z (06:00 America/New_York)" when the zone is known.
std::string when(std::int64_t unix_seconds, const std::string& zone_name) {
  std::string text = format_rfc3339(unix_seconds);
  if (zone_name.empty() || zone_name == "UTC") return text;
  auto zone = calendar::TimeZone::find(zone_name);
  if (!zone) return text;
  const std::int64_t local = zone->to_local(unix_seconds);
  const std::int64_t of_day = floor_mod(local, 86400);
  return fmt::format("{} ({:02}:{:02} {})", text, of_day / 3600, of_day / 60 % 60, zone_name);
}

std::string percent_change(double before, double after) {
  if (!std::isfinite(before) || !std::isfinite(after) || before == 0) return "";
  return fmt::format(", {:+.0f}%", (after - before) / std::abs(before) * 100);
}

}  // namespace

Expected<DecisionInForce> decision_in_force(const std::vector<DecisionRecord>& records,
                                            std::string_view target, std::int64_t at_unix) {
  std::vector<const DecisionRecord*> mine;
  std::set<std::string> known;
  for (const auto& r : records) {
    known.insert(r.target);
    if (r.target == target) mine.push_back(&r);
  }
  if (mine.empty()) {
    std::string list;
    for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
    return make_error(fmt::format("no decision records for target '{}' (targets with records: {})",
                                  target, list.empty() ? "none" : list));
  }
  // Stable: records of one tick keep the order they were made in.
  std::stable_sort(mine.begin(), mine.end(), [](const DecisionRecord* a, const DecisionRecord* b) {
    return a->time_unix < b->time_unix;
  });
  auto after =
      std::upper_bound(mine.begin(), mine.end(), at_unix,
                       [](std::int64_t t, const DecisionRecord* r) { return t < r->time_unix; });
  if (after == mine.begin())
    return make_error(
        fmt::format("target '{}' has no decision at or before {}: its first record is at {}",
                    target, format_rfc3339(at_unix), format_rfc3339(mine.front()->time_unix)));
  DecisionInForce out;
  out.record = **(after - 1);
  if (after - 1 != mine.begin()) out.previous = **(after - 2);
  return out;
}

namespace {

// "  served       1,250 (was 1,000, +25%)": a label column, then the text.
void add_line(std::string& out, const std::string& label, const std::string& text) {
  out += fmt::format("  {:<13}{}\n", label, text);
}

// What was served and from what: observed, forecast, which of them won.
void explain_values(std::string& out, const DecisionRecord& r) {
  const std::string& tz = r.timezone;
  std::string served = number(r.served);
  if (std::isfinite(r.previous_served))
    served += fmt::format(" (was {}{})", number(r.previous_served),
                          percent_change(r.previous_served, r.served));
  if (r.replicas) served += fmt::format(", {} replicas", number(*r.replicas));
  add_line(out, "served", served);
  add_line(out, "why", r.reason);
  if (!r.event.empty()) add_line(out, "calendar", r.event);
  add_line(out, "observed", number(r.observed));
  if (std::isfinite(r.forecast)) {
    std::string f = fmt::format("{} (quantile {:g}, the highest over the next {}",
                                number(r.forecast), r.quantile, duration(r.lead_seconds));
    if (r.peak_unix) f += fmt::format(", peaking at {}", when(r.peak_unix, tz));
    add_line(out, "forecast", f + ")");
  } else {
    add_line(out, "forecast", "none (no forecast in use)");
  }
  if (r.headroom != 1)
    add_line(out, "headroom",
             fmt::format("x{:.4g}: served = max(observed, forecast) x {:.4g}, as an HPA target of "
                         "{:.0f}% of capacity would scale",
                         r.headroom, r.headroom, 100 / r.headroom));
  if (r.risk != 1)
    add_line(out, "risk",
             fmt::format("x{:.4g}: this hour's forecast raised by its tuned risk, served = "
                         "max(observed, forecast x {:.4g}) x headroom",
                         r.risk, r.risk));
  if (!r.slo.empty()) add_line(out, "slo", r.slo);
  if (!r.fallback_reason.empty()) {
    add_line(out, "comparison",
             "in fallback: the observed value is served alone (" + r.fallback_reason + ")");
  } else if (std::isfinite(r.observed) && std::isfinite(r.forecast)) {
    if (r.forecast > r.observed) {
      add_line(
          out, "comparison",
          fmt::format("the forecast is {} above the observed load{}: the forecast set the value",
                      number(r.forecast - r.observed), percent_change(r.observed, r.forecast)));
    } else {
      add_line(
          out, "comparison",
          fmt::format("the observed load is {} above the forecast: the observed value was served",
                      number(r.observed - r.forecast)));
    }
  }
}

// The model in use, its fit, parameters and digests, and the anomaly standing.
void explain_model(std::string& out, const DecisionRecord& r) {
  if (!r.model.empty()) {
    std::string model = r.model;
    if (r.backtest_mase)
      model += fmt::format(" (backtest MASE {:.3f} against seasonal naive)", *r.backtest_mase);
    add_line(out, "model", model);
    if (r.fitted_at_unix)
      add_line(out, "fitted",
               fmt::format("{} on data {} .. {} ({})", format_rfc3339(r.fitted_at_unix),
                           format_rfc3339(r.data_start_unix), format_rfc3339(r.data_end_unix),
                           duration(r.data_end_unix - r.data_start_unix)));
    // A regression model has dozens: show the first ones, the digest covers all.
    constexpr std::size_t kShown = 10;
    std::string parameters;
    std::size_t shown = 0;
    for (const auto& [name, value] : r.parameters) {
      if (shown++ == kShown) {
        parameters +=
            fmt::format(" ... and {} more (--json lists them)", r.parameters.size() - kShown);
        break;
      }
      parameters += fmt::format("{}{}={:.4g}", parameters.empty() ? "" : " ", name, value);
    }
    if (!parameters.empty()) add_line(out, "parameters", parameters);
    add_line(out, "digests",
             fmt::format("parameters {}, config {}", r.parameters_digest, r.config_digest));
  } else {
    add_line(out, "model", "none");
    add_line(out, "digests", fmt::format("config {}", r.config_digest));
  }
  if (std::isfinite(r.anomaly_score))
    add_line(out, "anomaly",
             fmt::format("{}: evidence {:+.2f}x the threshold; newest residual {:+.2f} "
                         "residual scales, {}",
                         r.anomaly ? "in progress" : "none", r.anomaly_score, r.residual_z,
                         r.outside_interval
                             ? fmt::format("outside the prediction interval for {} step{}",
                                           r.outside_steps, r.outside_steps == 1 ? "" : "s")
                             : std::string("inside the prediction interval")));
}

// What changed in the inputs from the previous record `p` to `r`.
void explain_changes(std::string& out, const DecisionRecord& p, const DecisionRecord& r) {
  out += fmt::format("\nSince the previous decision ({}, {} earlier, {} record: {}):\n",
                     when(p.time_unix, r.timezone), duration(r.time_unix - p.time_unix),
                     to_string(p.kind), p.reason);
  std::size_t changes = 0;
  auto change = [&](const std::string& text) {
    out += "  - " + text + "\n";
    ++changes;
  };
  if (p.served != r.served)
    change(fmt::format("served {} -> {}{}", number(p.served), number(r.served),
                       percent_change(p.served, r.served)));
  if (p.observed != r.observed && (std::isfinite(p.observed) || std::isfinite(r.observed)))
    change(fmt::format("observed {} -> {}", number(p.observed), number(r.observed)));
  if (p.forecast != r.forecast && (std::isfinite(p.forecast) || std::isfinite(r.forecast)))
    change(fmt::format("forecast {} -> {}", number(p.forecast), number(r.forecast)));
  if (p.model != r.model)
    change(fmt::format("model {} -> {}", p.model.empty() ? "none" : p.model,
                       r.model.empty() ? "none" : r.model));
  else if (p.parameters_digest != r.parameters_digest)
    change(fmt::format("refitted: parameters digest {} -> {}", p.parameters_digest,
                       r.parameters_digest));
  if (p.backtest_mase != r.backtest_mase && p.backtest_mase && r.backtest_mase)
    change(fmt::format("backtest MASE {:.3f} -> {:.3f}", *p.backtest_mase, *r.backtest_mase));
  if (p.quantile != r.quantile)
    change(fmt::format("quantile {:g} -> {:g}", p.quantile, r.quantile));
  if (p.headroom != r.headroom)
    change(fmt::format("headroom x{:.4g} -> x{:.4g}", p.headroom, r.headroom));
  if (p.risk != r.risk) change(fmt::format("risk x{:.4g} -> x{:.4g}", p.risk, r.risk));
  if (p.slo != r.slo && !r.slo.empty()) change("SLO tuning: " + r.slo);
  if (p.fallback_reason != r.fallback_reason)
    change(r.fallback_reason.empty() ? "left fallback (" + p.fallback_reason + ")"
                                     : "entered fallback: " + r.fallback_reason);
  if (p.config_digest != r.config_digest)
    change(fmt::format("configuration changed: digest {} -> {}", p.config_digest, r.config_digest));
  if (p.anomaly != r.anomaly) change(r.anomaly ? "an anomaly began" : "the anomaly ended");
  if (p.outside_interval != r.outside_interval)
    change(r.outside_interval ? "the load went outside the prediction interval"
                              : "the load came back inside the prediction interval");
  if (changes == 0) out += "  - nothing in the inputs\n";
}

}  // namespace

std::string explain_text(const DecisionInForce& decision, std::int64_t at_unix) {
  const auto& r = decision.record;
  std::string out =
      fmt::format("Decision in force for {} at {}\n", r.target, when(at_unix, r.timezone));
  add_line(out, "decided",
           fmt::format("{}, {} before ({} record)", when(r.time_unix, r.timezone),
                       duration(at_unix - r.time_unix), to_string(r.kind)));
  explain_values(out, r);
  explain_model(out, r);
  if (!decision.previous) {
    out += "\nNo earlier record: this is the target's first decision on record.\n";
    return out;
  }
  explain_changes(out, *decision.previous, r);
  return out;
}

}  // namespace prescale::autoscaler
