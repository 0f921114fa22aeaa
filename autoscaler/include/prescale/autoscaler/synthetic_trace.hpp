#pragma once
// Synthetic load traces (requests/s) for demos, tests and benchmarks.
//
// `payments` is a fintech payments service, built on prescale::calendar with
// the calendars of config/calendars/payments.yaml (payments_calendars()):
//   - daily rhythm in local time: night trough (~25% at 03:00), morning ramp,
//     lunch dip, afternoon plateau, evening tail; weekends and NYSE holidays
//     lower (~60%) with a later morning; Mondays and Fridays a little higher;
//   - nyse.market-open: a burst at 09:30 New York time that rises within a
//     few minutes to about +100% and decays over ~30-60 minutes, plus +8% for
//     the rest of the session; only on NYSE business days;
//   - payroll.payroll-mid (15th, previous business day) and payroll.payroll-end
//     (last business day), 06:00-11:00: a 45-minute ramp to a plateau 2.5-3.5x
//     the usual level, easing off over the last 30 minutes;
//   - payroll.quad-witching: a busier session (+25%, stronger open);
//   - settlement.month-end-batch (last calendar day, 20:00-23:00): +80% batch;
//   - a slow growth of 0.3% a week, AR(1) multiplicative noise, and about two
//     small random spikes a week (+20-60% for 3-12 minutes);
//   - optional outages (traffic times outage_factor) and one unannounced
//     spike (times spike_factor), which no calendar explains.
// Events follow local time, so the 09:30 burst is at 14:30Z in winter and
// 13:30Z in summer. `flat` is a constant level with noise; `flat-spike` adds
// one unannounced spike (by default three quarters into the trace, 15:00
// local, 45 minutes): a forecaster that "predicts" it has leaked the future.
//
// Deterministic: the same options give the same values on every platform
// (own RNG arithmetic, no std:: distributions). Per-event sizes depend on the
// seed and the event's date only, so a longer trace extends a shorter one's
// events unchanged.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/calendar/calendar.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::autoscaler {

enum class TraceKind { payments, flat, flat_spike };

/// How a payroll surge changes the load (payments traces).
enum class EventEffect {
  multiplicative,  ///< scales the day's rhythm (the open burst stays as it is)
  additive,        ///< adds (size - 1) x the busy-hour level, whatever the hour's rhythm
  interacting,     ///< scales the rhythm and the market-open burst: the peak is where they meet
};
/// Profile of a payroll surge over its 06:00-11:00 window.
enum class EventShape {
  plateau,  ///< 45-minute rise, hold, 30-minute ease (the default)
  ramp,     ///< a steady climb to the last half hour, then a fall
  spike,    ///< a sharp peak 60 minutes in (10-minute rise), then a 40-minute decay
};
Expected<EventEffect> parse_event_effect(std::string_view text);
Expected<EventShape> parse_event_shape(std::string_view text);
std::string_view to_string(EventEffect effect);
std::string_view to_string(EventShape shape);
/// "payments", "flat", "flat-spike".
Expected<TraceKind> parse_trace_kind(std::string_view text);
std::string_view to_string(TraceKind kind);

/// A UTC interval [start, end).
struct TraceWindow {
  std::int64_t start_unix = 0;
  std::int64_t end_unix = 0;
};

/// A known incident for anomaly benchmarks: the load times `factor` over
/// [start, end), switched on and off at once (an outage, a runaway client).
struct TraceIncident {
  std::int64_t start_unix = 0;
  std::int64_t end_unix = 0;
  double factor = 1;
};

/// How to draw incidents at random (IncidentDraw -> draw_incidents). Value type.
struct IncidentDraw {
  int count = 0;
  /// Each incident is a drop or a surge (even odds), its factor uniform in the range.
  double drop_min = 0.4, drop_max = 0.7;
  double surge_min = 1.3, surge_max = 1.8;
  std::int64_t min_seconds = 15 * 60, max_seconds = 90 * 60;
  /// Incidents start at or after trace start + after_seconds (e.g. past the
  /// history a replay fits on), at any hour of the day.
  std::int64_t after_seconds = 0;
  std::uint64_t seed = 1;
};

/// Everything a trace depends on. Value type.
struct TraceOptions {
  TraceKind kind = TraceKind::payments;
  /// First sample; default 2026-02-02 00:00 New York (05:00Z).
  std::int64_t start_unix =
      calendar::days_from_civil({2026, 2, 2}) * calendar::kSecondsPerDay + 5 * 3600;
  int days = 28;
  std::int64_t step_seconds = 60;
  std::string time_zone = "America/New_York";  ///< daily rhythm and payroll; NYSE stays in New York
  std::uint64_t seed = 1;
  double level = 1000;      ///< requests/s at a weekday's busy hours (payments) or the flat level
  double noise = 0.05;      ///< standard deviation of the multiplicative log-noise
  bool weekly = true;       ///< weekends and holidays lower
  bool market_open = true;  ///< nyse.market-open burst
  bool payroll = true;      ///< payroll surges and quad witching
  bool month_end_batch = true;  ///< settlement.month-end-batch
  bool random_spikes = true;    ///< small unexplained spikes, ~2 a week
  std::vector<TraceWindow> outages;
  double outage_factor = 0.5;
  std::optional<TraceWindow> spike;  ///< the unannounced spike (flat-spike has a default)
  double spike_factor = 3.0;
  // Payroll surges (payments): effect, profile and peak size (the load at
  // the peak over the usual: 3 = three times). Without a size, each day
  // draws 2.5-3.5; with one, the size varies by +-payroll_jitter around it.
  EventEffect payroll_effect = EventEffect::multiplicative;
  EventShape payroll_shape = EventShape::plateau;
  std::optional<double> payroll_mid_size;  ///< payroll-mid (15th)
  std::optional<double> payroll_end_size;  ///< payroll-end (last business day)
  double payroll_jitter = 0.05;            ///< relative, of (size - 1)
  /// The market-open burst's size (about +75 % of `level` per unit at its
  /// peak, 5 minutes in). Without one, each day draws 1.1-1.5; with one,
  /// every business day's burst is the same.
  std::optional<double> open_burst_size;
  /// NYSE closures beyond nyse_holidays() (a holiday on the 15th moves
  /// payroll-mid to the business day before); the calendars of
  /// payments_calendars_yaml() list them too.
  std::vector<calendar::CivilDate> extra_holidays;
  std::vector<TraceIncident> incidents;  ///< known incidents (draw_incidents), any kind of trace
};

/// What in a trace no calendar explains, for scoring anomaly detection.
struct TraceTruthEntry {
  std::string kind;  ///< incident, random-spike, outage, spike
  std::int64_t start_unix = 0;
  std::int64_t end_unix = 0;
  double factor = 1;  ///< load multiplier (at the peak, for a spike)
};

/// NYSE full-day closures 2025-2027, as in config/calendars/nyse-holidays.txt.
const std::vector<calendar::CivilDate>& nyse_holidays();
/// The nyse, payroll and settlement calendars of config/calendars/payments.yaml;
/// payroll and settlement in `time_zone` (the YAML's is America/New_York).
std::vector<calendar::CalendarDefinition> payments_calendar_definitions(
    const std::string& time_zone, const std::vector<calendar::CivilDate>& extra_holidays = {});
Expected<calendar::CalendarSet> payments_calendars(
    const std::string& time_zone = "America/New_York",
    const std::vector<calendar::CivilDate>& extra_holidays = {});
/// The same calendars as a `calendars:` YAML section (holidays written out),
/// for --calendar and config files: what a trace from these options follows.
std::string payments_calendars_yaml(const std::string& time_zone = "America/New_York",
                                    const std::vector<calendar::CivilDate>& extra_holidays = {});

/// The trace; an error names the bad option (unknown zone, days or step out
/// of range, an outage or spike that ends before it starts). `truth`, when
/// given, receives the incidents, outages, spikes and small random spikes
/// in the trace, by start time.
Expected<forecast::Series> generate_trace(const TraceOptions& options,
                                          std::vector<TraceTruthEntry>* truth = nullptr);

/// `draw.count` incidents in the trace `options` describes, one in each of
/// count equal slices of [start + after, end - max duration), so they never
/// overlap; starts on the step grid at any time of day. Deterministic in
/// draw.seed. An error names the bad setting (ranges, no room).
Expected<std::vector<TraceIncident>> draw_incidents(const TraceOptions& options,
                                                    const IncidentDraw& draw);

/// CSV of the truth: `kind,start,end,factor` with RFC 3339 UTC times.
std::string format_trace_truth(const std::vector<TraceTruthEntry>& truth);

/// "2026-02-02" (local midnight in `zone`), "2026-02-02T09:30" (local), or
/// RFC 3339 with Z or an offset ("2026-03-10T14:00Z", "...T14:00:00-05:00").
Expected<std::int64_t> parse_trace_time(std::string_view text, const calendar::TimeZone& zone);
/// "<time>/<duration>", e.g. "2026-03-10T14:00Z/1h".
Expected<TraceWindow> parse_trace_window(std::string_view text, const calendar::TimeZone& zone);

}  // namespace prescale::autoscaler
