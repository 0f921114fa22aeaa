#pragma once
// A target's declared SLO (`slo:` in its config): what its policy read at
// each decision, kept for the SLO's history window, and the setting a tuner
// chose from it at the latest refit -- the served quantile and a headroom
// factor that scales the served value as lowering the HPA's per-pod target
// to 1 / headroom of capacity would (docs/targets.md, "Let the daemon tune
// for an SLO").
//
// The tuner itself replays the recorded decisions through the HPA model
// (simulate::tune_target_for_slo); the engine only records and applies, so
// this library does not depend on the simulator: the daemon hands the tuner
// in (EngineOptions::slo_tuner).
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prescale/calendar/calendar.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/block_deque.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/common/snapshot.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::autoscaler {

/// What one decision's policy read. Value type.
struct PolicyReading {
  std::int64_t time_unix = 0;  ///< decision time t
  double observed = 0;         ///< last valid observation (NaN: none)
  /// The lead-window forecast [t, t + lead] (empty: the observed value was served alone).
  forecast::Forecast window;
  bool servable = false;  ///< the decision served a value at all
  /// What the HPA read from it (headroom included); NaN when unknown: a
  /// decision replayed from history at a start, unless slo.servedQuery
  /// read back what the process before served then.
  double served = std::numeric_limits<double>::quiet_NaN();
  /// The per-pod target (fraction of capacity) of a reactive HPA retuned
  /// the same way, in force at this decision (the tuned setting's
  /// reactive_hpa_target): what the values served are compared with. NaN
  /// before the first tuning, and for decisions replayed from history.
  double reactive_target = std::numeric_limits<double>::quiet_NaN();
};

/// The recorded decisions on the step grid, with the load each faced, as a
/// tuner reads them. Value type.
struct SloHistory {
  std::int64_t start_unix = 0;  ///< decision time of index 0
  std::int64_t step_seconds = 60;
  /// Per decision i (time start + i x step): the load during its step, the
  /// sample at that time (NaN: none yet, or missing).
  std::vector<double> demand;
  std::vector<double> observed;             ///< what decision i read (NaN: none)
  std::vector<forecast::Forecast> windows;  ///< its lead-window forecast (empty: none)
  std::vector<bool> decided;                ///< false: no decision was made at that step
  std::vector<double> served;               ///< what decision i served (NaN: none, or replayed)
  std::vector<double> reactive_targets;     ///< PolicyReading::reactive_target of decision i
  /// The calendars the target names (null: none): a tuner tells the hours
  /// their events overlap from ordinary ones (hour_kind).
  std::shared_ptr<const calendar::CalendarSet> calendars;
  /// Seconds of decisions recorded (steps with a decision x step).
  [[nodiscard]] std::int64_t recorded_seconds() const;
};

/// The policy setting a tuner chose for a target. Value type.
struct SloSetting {
  double quantile = 0.9;
  double headroom = 1;     ///< >= 1: served value x headroom
  bool meets_slo = false;  ///< false: the safest setting swept, short of the SLO on history
  /// The share of the SLO the choice held back: slo.marginPercent, or less
  /// where settings chosen so on the target's own past days stayed within
  /// the SLO on each next day (docs/targets.md).
  double margin = 0.5;
  /// One line for the decision records, /status and explain: the SLO, the
  /// setting, its minutes short and replica-hours on the history, and what a
  /// reactive HPA would have needed there.
  std::string summary;
  /// The same figures as numbers (/status, /metrics' prescale_target_slo_*).
  SloFigures figures;
  /// The per-pod target (a fraction of capacity) of a reactive HPA tuned
  /// the same way on the same history: the cheapest swept within the same
  /// tuned SLO (the safest when none was), as the summary names it; 0 when
  /// none was swept. `simulate` replays a reactive HPA following it, so the
  /// daemon is also compared with a reactive HPA retuned at every refit.
  double reactive_hpa_target = 0;
  std::int64_t tuned_at_unix = 0;  ///< the refit that chose it
  /// When the tuning last moved to a cheaper setting (the end of the history
  /// it judged on; 0: never): the next cheaper move waits a day after it.
  std::int64_t cheaper_at_unix = 0;
  /// Quiet hours: the hours of the week (the target's local time, Monday
  /// 00:00 = 0; empty: none) whose decisions serve `quiet_quantile` x `quiet_headroom`
  /// instead -- those whose recorded load was lower. A miss costs different
  /// replica-hours to avoid at night and at the day's peak, so the two may
  /// each get the setting that is cheapest for their share of the SLO.
  std::vector<bool> quiet_hours;
  double quiet_quantile = 0.9;
  double quiet_headroom = 1;
  /// Risk by hour (empty: none): kRiskHours factors >= 1, one per local hour
  /// of an ordinary weekday (0-23), of a weekend day or holiday (24-47) and
  /// of an event hour (48-71: an hour one of the target's calendar events
  /// overlaps), by which the forecast (not the observed value) is multiplied
  /// before headroom: the hours whose recorded forecasts fell furthest below
  /// the load (a payroll morning, a month-end batch) get capacity there, so
  /// that the headroom every hour pays can be smaller (slo_risk.hpp).
  std::vector<double> risk;
  /// Per event hour (24, or empty), the events that overlapped it in the
  /// history ("payroll.payroll-end, payroll.payroll-mid"), for the records.
  std::vector<std::string> risk_events;

  struct Applied {
    double quantile, headroom;
    double forecast_scale = 1;  ///< the risk of the decision's hour
  };
  /// The quantile, headroom and risk for the decision at `time_unix`, whose
  /// hour of the week is read in `zone` (the target's) and the kind of that
  /// hour in `calendars` (the target's; null: none).
  [[nodiscard]] Applied for_decision(std::int64_t time_unix, const calendar::TimeZone& zone,
                                     const calendar::CalendarSet* calendars = nullptr) const;
};

/// Risk classes: the 24 local hours of an ordinary weekday (Monday-Friday),
/// then the 24 of a weekend day or holiday, then the 24 of an event hour.
inline constexpr std::size_t kRiskHours = 72;
/// What kind of hour a local hour is for the risk. An event hour is one a
/// calendar event (not a session: the market is open every weekday)
/// overlaps: its misses are the event's, and ordinary days should not pay
/// for them.
enum class HourKind : std::size_t { weekday = 0, weekend = 1, event = 2 };
/// The events of `calendars` overlapping [from_unix, to_unix).
[[nodiscard]] std::vector<calendar::Occurrence> events_between(
    const calendar::CalendarSet& calendars, std::int64_t from_unix, std::int64_t to_unix);
/// The kind of the local hour (in `zone`) holding `time_unix`: an event hour
/// when one of `calendars`' events overlaps it, a weekend hour on Saturday,
/// Sunday or a calendar's holiday, a weekday hour otherwise (null: no
/// calendars).
[[nodiscard]] HourKind hour_kind(std::int64_t time_unix, const calendar::TimeZone& zone,
                                 const calendar::CalendarSet* calendars);
/// The risk class of an hour of the week (hour_of_week's numbering) of
/// `kind` (by default the day of the week's: weekday or weekend).
[[nodiscard]] std::size_t risk_class(std::size_t hour_of_week);
[[nodiscard]] std::size_t risk_class(std::size_t hour_of_week, HourKind kind);

/// The hour of the week of `time_unix` on the wall clock of `zone`, Monday
/// 00:00 = 0 .. 167. Local, not UTC: a day's rhythm follows the wall clock,
/// so a quiet night stays the same hours of the week across a DST change.
[[nodiscard]] std::size_t hour_of_week(std::int64_t time_unix, const calendar::TimeZone& zone);

/// A decision's level: the larger of `observed` and the lead window's median
/// forecast peak over `window_steps` (NaN when neither is finite).
[[nodiscard]] double decision_level(double observed, const forecast::Forecast* window,
                                    std::size_t window_steps);

/// Chooses a setting for `target.slo` on `history`, moving from `in_force`
/// (the setting tuned at the refit before; none: the configured quantile,
/// no headroom); the error says why not. Called on a fit thread; must be
/// thread-safe.
using SloTuner = std::function<Expected<SloSetting>(const config::TargetConfig&, const SloHistory&,
                                                    const std::optional<SloSetting>& in_force)>;

/// What a refit makes of a target's SLO: the tuned setting, or why none.
struct SloOutcome {
  std::optional<SloSetting> setting;
  std::string note;  ///< why there is no (new) setting
  /// The line records and /status carry: the setting and the note.
  [[nodiscard]] std::string text() const;
};

/// At a refit (on the fit thread): the setting `tuner` chooses for
/// `target.slo` on `history`, once a day of decisions is recorded (the
/// replay must hold a whole daily cycle); a note otherwise. A failed
/// tuning keeps `in_force`, the setting of the refit before. Never throws.
[[nodiscard]] SloOutcome tune_at_refit(const config::TargetConfig& target, const SloTuner& tuner,
                                       const SloHistory* history, std::int64_t now_unix,
                                       const std::optional<SloSetting>& in_force = std::nullopt);

/// What the decisions on the last days of `history` (slo.history, at most
/// two thirds of it) would have read had the target served then: a model chosen
/// and fitted as the target's fits are, on the history before those days,
/// following each sample, refitted on all the history before the decision at
/// the target's refit interval but at most once a week of decisions, and its
/// lead-window forecast at each decision. The model fitted on the whole
/// history has seen those days, and its forecasts there would flatter any
/// setting tuned on them. So a first fit can tune at once, instead of after
/// a day of its own decisions. Empty (and a note saying why) when that
/// earlier history cannot be fitted or the fit is cancelled. Runs on a fit
/// thread; costs a fit per week of decisions replayed (4 for 23 days).
struct SeedReadings {
  std::vector<PolicyReading> readings;
  std::string note;
  std::size_t fits = 0;            ///< models fitted for the replay
  std::int64_t refit_seconds = 0;  ///< replayed time between two of them
  /// What the tuning's record says of them: "with 14.0 days of decisions
  /// replayed from history: a model fitted on the history before them,
  /// refitted every 7 days (2 fits)". Empty without readings.
  [[nodiscard]] std::string summary(std::int64_t step_seconds) const;
};
[[nodiscard]] SeedReadings seed_readings(const config::TargetConfig& target,
                                         const calendar::TimeZone& zone,
                                         std::shared_ptr<const calendar::CalendarSet> calendars,
                                         const forecast::Series& history,
                                         const std::atomic<bool>* cancel = nullptr);

/// The policy readings of one target over its SLO history window. Not
/// thread-safe: owned by one target worker. A copy is cheap (the readings'
/// full blocks are shared, BlockDeque) and stays as it was while the
/// original records on: a refit tunes on a copy taken when it started.
class PolicyRecorder {
 public:
  explicit PolicyRecorder(std::int64_t history_seconds) : history_seconds_(history_seconds) {}
  /// Keeps `reading` and drops those older than the history window.
  void add(PolicyReading reading);
  /// Puts `older` (by time) before the readings held: the decisions before a
  /// start, replayed from history (seed_readings). Those not older than the
  /// oldest held, or older than the history window, are left out.
  void seed(const std::vector<PolicyReading>& older);
  /// The readings on the grid of `step_seconds`, their demand read from
  /// `series` (the target's fetched samples): decisions whose step has no
  /// sample yet at the end are left out.
  [[nodiscard]] SloHistory history(std::int64_t step_seconds, std::int64_t series_start_unix,
                                   const std::vector<double>& series_values) const;
  [[nodiscard]] std::size_t size() const { return readings_.size(); }

 private:
  std::int64_t history_seconds_;
  BlockDeque<PolicyReading> readings_;
};

}  // namespace prescale::autoscaler
