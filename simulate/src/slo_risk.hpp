#pragma once
// The risk of each hour for a declared SLO's tuning (autoscaler::SloSetting::
// risk): from the recorded decisions, how far the load rose above the lead
// window's median forecast, per local hour of a weekday and of a weekend day.
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
// (docs/targets.md, "Let the daemon tune for an SLO").
#include <cstddef>
#include <string>
#include <vector>

#include "prescale/autoscaler/slo.hpp"

namespace prescale::simulate {

/// Each recorded step's hour of the week on the target's wall clock.
[[nodiscard]] std::vector<std::size_t> hours_of_week(const autoscaler::SloHistory& history,
                                                     const calendar::TimeZone& zone);

/// autoscaler::kRiskHours factors in [1, kMaxRisk] for one set of recorded
/// days: per class, exp of the 95th percentile of log(load peak / median
/// forecast peak) over the lead window of its recorded decisions, over the
/// same for the median class (so the usual miss stays with the headroom the
/// tuning sweeps). A class with fewer than kMinRiskSamples decisions gets
/// NaN: no risk learnt.
struct LearntRisk {
  std::vector<double> all;   ///< learnt on every recorded day
  std::vector<double> even;  ///< on the even 24 h blocks from the history's start
  std::vector<double> odd;   ///< on the odd ones

  /// The risk served: `all`, for the classes the cross-fitted judging learnt
  /// a risk for on both the even and the odd days (1 elsewhere: a risk is
  /// only served where it was judged).
  [[nodiscard]] std::vector<double> served() const;
};

/// The three day sets learnt from one pass over the decisions (each
/// decision's rise over its lead window is computed once).
[[nodiscard]] LearntRisk learn_risk(const autoscaler::SloHistory& history,
                                    const std::vector<std::size_t>& hour_at);

/// The recorded forecasts raised as the tuning judges a risk: each even
/// day's by the risk learnt on the odd days and the other way round, so that
/// the minutes a setting is judged on are not those the risk was fitted to
/// (learnt and judged on the same days, the risk covers exactly the misses
/// it saw, and the tuning then expects fewer than the next days bring).
void apply_risk_crossfitted(const LearntRisk& risk, const autoscaler::SloHistory& history,
                            const std::vector<std::size_t>& hour_at,
                            std::vector<forecast::Forecast>& windows);

/// Learns the risk, raises `windows` cross-fitted with it and returns the
/// risk served from now on.
[[nodiscard]] std::vector<double> raise_by_risk(const autoscaler::SloHistory& history,
                                                const std::vector<std::size_t>& hour_at,
                                                std::vector<forecast::Forecast>& windows);

/// The record's words for the risk: the hours raised most, e.g. "forecast
/// x1.47 in weekday 06:00-07:00, x1.53 in weekend 20:00-21:00"; empty when
/// none is above 1.05.
[[nodiscard]] std::string describe_risk(const std::vector<double>& risk);

inline constexpr double kMaxRisk = 1.6;
inline constexpr std::size_t kMinRiskSamples = 20;

}  // namespace prescale::simulate
