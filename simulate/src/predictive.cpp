#include "prescale/simulate/predictive.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "prescale/config/duration.hpp"
#include "prescale/simulate/replay.hpp"

namespace prescale::simulate {

std::int64_t history_for_trace(std::int64_t requested_seconds, std::int64_t trace_seconds,
                               std::int64_t step_seconds) {
  if (requested_seconds <= trace_seconds / 2) return requested_seconds;
  // Keep at least half the trace to simulate on; whole days when possible.
  const std::int64_t half = trace_seconds / 2;
  const std::int64_t history = half >= 86400 ? half / 86400 * 86400 : half;
  return std::max<std::int64_t>(step_seconds, history / step_seconds * step_seconds);
}

namespace {

// What the at-refit tuning did over the replay, from the decision records:
// the quantile and headroom it served between, and the last refit's words.
std::string slo_tuning_note(const std::vector<autoscaler::DecisionRecord>& decisions,
                            const config::SloConfig& slo) {
  double q_low = 1, q_high = 0, h_low = 0, h_high = 0;
  std::string last;
  for (const auto& d : decisions) {
    q_low = std::min(q_low, d.quantile);
    q_high = std::max(q_high, d.quantile);
    h_low = h_low == 0 ? d.headroom : std::min(h_low, d.headroom);
    h_high = std::max(h_high, d.headroom);
    if (d.kind == autoscaler::DecisionKind::refit && !d.slo.empty()) last = d.slo;
  }
  return fmt::format(
      "predictive: slo {{maxShortPercent: {:g}, marginPercent: {:g}, history: {}{}}} tuned at "
      "each refit as the daemon does: quantile {:g}..{:g}, headroom x{:.3g}..x{:.3g}{}{}",
      slo.max_short_percent, slo.margin_percent, config::format_duration(slo.history_seconds),
      slo.reactive_target_percent == 100
          ? std::string()
          : fmt::format(", reactiveTargetPercent: {:g}", slo.reactive_target_percent),
      q_low, q_high, h_low, h_high, last.empty() ? "" : "; last refit: ", last);
}

// The note for the log record of a first fit with slo: that replayed
// decisions from history, with its cost.
std::string seed_replay_note(const LogRecord& record) {
  double seconds = 0;
  std::int64_t decisions = 0, fits = 0;
  for (const auto& [key, value] : record.fields) {
    if (key == "seconds") seconds = std::get<double>(value);
    if (key == "decisions") decisions = std::get<std::int64_t>(value);
    if (key == "fits") fits = std::get<std::int64_t>(value);
  }
  // The fits are most of the cost: one per week of replayed decisions.
  return fmt::format(
      "predictive: slo: the first fit replayed {} decisions from history to tune on ({} {}, "
      "{:.2f} s)",
      decisions, fits, fits == 1 ? "fit" : "fits", seconds);
}

}  // namespace

Expected<PredictiveSeries> replay_predictive(const forecast::Series& series,
                                             const config::TargetConfig& target,
                                             const calendar::CalendarSet* calendars) {
  ReplayOptions options;
  options.end_unix = series.end_unix();  // decisions for the trace's own steps only
  options.calendars = calendars;
  // The seasons the engine's fits left out (too short a history), as the
  // notes of forecast and backtest say them.
  std::vector<std::string> season_notes;
  std::string seed_note;  // what a first fit with slo: replayed from history, and its cost
  options.log = [&season_notes, &seed_note](const LogRecord& record) {
    if (record.message == "slo: decisions replayed from history")
      seed_note = seed_replay_note(record);
    for (const auto& [key, value] : record.fields) {
      if (key != "note" || record.message.rfind("season dropped", 0) != 0) continue;
      const std::string note = "predictive: " + std::get<std::string>(value);
      if (std::find(season_notes.begin(), season_notes.end(), note) == season_notes.end())
        season_notes.push_back(note);
    }
  };
  auto replayed = replay(series, target, options);
  if (!replayed) return make_error(replayed.error().message);
  if (replayed->steps.empty()) return make_error("the engine made no decision over the trace");

  const std::int64_t step = series.step_seconds;
  PredictiveSeries out;
  out.start_unix = replayed->steps.front().time_unix;
  const auto count = static_cast<std::size_t>((series.end_unix() - out.start_unix) / step);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  out.served.assign(count, nan);
  out.forecast.assign(count, nan);
  out.observed.assign(count, nan);
  out.windows.assign(count, forecast::Forecast{});
  out.quantile = target.quantile;
  out.slo_tuned = target.slo.has_value();
  if (target.slo) {
    out.observed_target = target.slo->reactive_target_percent / 100;
    out.reactive_hpa_targets.assign(count, nan);
  }
  std::size_t fallbacks = 0;
  std::string last_model, last_fallback;
  out.band = lead_time_band(*replayed, out.start_unix, step, count);
  for (auto& decision : replayed->steps) {
    const auto i = static_cast<std::size_t>((decision.time_unix - out.start_unix) / step);
    if (i >= count) continue;
    out.served[i] = decision.served;
    out.forecast[i] = decision.forecast;
    out.observed[i] = decision.observed;
    out.windows[i] = std::move(decision.window);
    if (out.slo_tuned) out.reactive_hpa_targets[i] = decision.reactive_hpa_target;
    if (!decision.model.empty()) last_model = decision.model;
    if (!decision.fallback_reason.empty()) {
      ++fallbacks;
      last_fallback = decision.fallback_reason;
    }
  }
  out.notes.push_back(fmt::format(
      "predictive: the engine replayed over {} steps after {} of history (lead {}, quantile {:g}); "
      "{} fits ({:.1f} s CPU); last model {}",
      count, config::format_duration(target.history_seconds),
      config::format_duration(target.lead_time_seconds), target.quantile, replayed->fits,
      replayed->fit_seconds_total, last_model.empty() ? "none" : last_model));
  out.notes.insert(out.notes.end(), season_notes.begin(), season_notes.end());
  if (fallbacks > 0) {
    out.notes.push_back(fmt::format(
        "predictive: served the observed load alone on {} of {} steps (last reason: {})", fallbacks,
        count, last_fallback));
  }
  if (out.slo_tuned) out.notes.push_back(slo_tuning_note(replayed->decisions, *target.slo));
  if (!seed_note.empty()) out.notes.push_back(seed_note);
  out.decisions = std::move(replayed->decisions);
  return out;
}

}  // namespace prescale::simulate
