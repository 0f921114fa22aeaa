#pragma once
// The risk of each hour for a declared SLO's tuning (autoscaler::SloSetting::
// risk): from the recorded decisions, how far the load rose above the lead
// window's median forecast, per local hour of a weekday, of a weekend day and,
// with calendars, of an event (the hours a payroll run or a month-end batch
// overlaps).
//
// Why: a uniform headroom pays in every hour for the misses of a few. On the
// payments bench the load's rise above the forecast's median, at its 95th
// percentile, is within a few % of the median hour's in most hours and 25-50 %
// above it at weekday 06:00 (payroll mornings) and a weekend evening's 20:00
// (a month-end batch): covering those with one headroom buys that much more
// capacity all day. Raising the forecast of those hours alone, with the
// settings tuned on top: bench/frontier/run's payments seeds from the second
// day 29.8/23.4/26.0 -> 31.8/25.7/25.9 % fewer replica-hours than the
// cheapest reactive target, 27/24/12 -> 24/21/6 minutes short for 29
// (docs/targets.md, "Let the daemon tune for an SLO"). With the calendars
// given, the events' misses in weekday classes raised every ordinary day:
// event hours apart, 19.9/23.8/25.6 -> 26.9/24.9/26.1 %.
#include <cstddef>
#include <string>
#include <vector>

#include "prescale/autoscaler/slo.hpp"

namespace prescale::simulate {

/// Each recorded step's hour of the week on the target's wall clock.
[[nodiscard]] std::vector<std::size_t> hours_of_week(const autoscaler::SloHistory& history,
                                                     const calendar::TimeZone& zone);

/// Each recorded step's risk class (autoscaler::risk_class of its hour and
/// kind of hour, on the history's calendars) and local day number (days
/// since 1970-01-01 on the target's wall clock); with calendars, per event
/// hour (24) the events that overlapped it ("payroll.payroll-end,
/// payroll.payroll-mid").
struct RiskDays {
  std::vector<std::size_t> risk_class;
  std::vector<std::int64_t> local_day;
  std::vector<std::string> events;
};
[[nodiscard]] RiskDays risk_days(const autoscaler::SloHistory& history,
                                 const calendar::TimeZone& zone,
                                 const std::vector<std::size_t>& hour_at);

/// autoscaler::kRiskHours factors in [1, kMaxRisk] for one set of recorded
/// days: per class, exp of the 95th percentile of log(load peak / median
/// forecast peak) over the lead window of its recorded decisions, over the
/// same for the median class of its kind of day (so the usual miss stays
/// with the headroom the tuning sweeps, and a weekday hour is not judged
/// against a quiet weekend's). An event hour's: the median over the event
/// days holding it of each day's 95th percentile, over the median ordinary
/// class's (the headroom is tuned for ordinary hours: an event gets what it
/// needs beyond). A class with fewer than kMinRiskSamples decisions
/// (kMinEventRiskSamples for an event hour) gets NaN: no risk learnt.
struct LearntRisk {
  std::vector<double> all;   ///< learnt on every recorded day
  std::vector<double> even;  ///< on the even 24 h blocks from the history's start
  std::vector<double> odd;   ///< on the odd ones
  /// Per recorded event day (its local day number), the event hours'
  /// classes learnt on the other event days: event days are too few to halve.
  std::vector<std::pair<std::int64_t, std::vector<double>>> other_event_days;
  std::vector<double> events_all;  ///< the event hours' classes learnt on every event day

  /// The risk served: `all` (`events_all` for event hours), for the classes
  /// the cross-fitted judging learnt a risk for (ordinary classes: on both
  /// the even and the odd days; event hours: for at least one event day,
  /// from the others); 1 elsewhere: a risk is only served where it was judged.
  [[nodiscard]] std::vector<double> served() const;
};

/// The sets learnt from one pass over the decisions (each decision's rise
/// over its lead window is computed once).
[[nodiscard]] LearntRisk learn_risk(const autoscaler::SloHistory& history, const RiskDays& days);

/// The recorded forecasts raised as the tuning judges a risk: each even
/// day's by the risk learnt on the odd days and the other way round, and
/// each event day's by the risk learnt on the other event days, so that
/// the minutes a setting is judged on are not those the risk was fitted to
/// (learnt and judged on the same days, the risk covers exactly the misses
/// it saw, and the tuning then expects fewer than the next days bring).
void apply_risk_crossfitted(const LearntRisk& risk, const autoscaler::SloHistory& history,
                            const RiskDays& days, std::vector<forecast::Forecast>& windows);

/// Learns the risk, raises `windows` cross-fitted with it and returns the
/// risk served from now on.
[[nodiscard]] std::vector<double> raise_by_risk(const autoscaler::SloHistory& history,
                                                const RiskDays& days,
                                                std::vector<forecast::Forecast>& windows);

/// The record's words for the risk: the hours raised most, e.g. "x1.47 in
/// weekday 06:00-07:00, x1.53 at 06:00-07:00 of payroll.payroll-end,
/// payroll.payroll-mid"; empty when none is above 1.05. `events` names,
/// per event hour (RiskDays::events, joined), the events that overlapped it.
[[nodiscard]] std::string describe_risk(const std::vector<double>& risk,
                                        const std::vector<std::string>& events = {});

inline constexpr double kMaxRisk = 1.6;
inline constexpr std::size_t kMinRiskSamples = 20;
/// An event recurs once or twice a month: its hour must be learnt from as
/// little as one other occurrence (12 decisions at a 5-minute step).
inline constexpr std::size_t kMinEventRiskSamples = 12;

}  // namespace prescale::simulate
