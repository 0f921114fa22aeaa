#pragma once
// Months of calendar-event history at the cost of a few queries. A monthly
// event (payroll on the 15th, the last business day) is seen once or twice
// in a 35-day history: too few occurrences to learn its shape and size. The
// engine fetches, beside a target's regular history, each older occurrence
// of the events its calendars name within `eventHistory` (the window only,
// as one query), and the same local hours a week before and after it (the
// ordinary load it is measured against, one query each; a week that holds
// an event itself is skipped). The events model (forecast/event_effects.hpp)
// learns from them with the occurrences the history holds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "prescale/calendar/calendar.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/source/window_history.hpp"

namespace prescale::autoscaler {

/// Whether `target` fetches event history: it names calendars and its
/// `eventHistory` reaches beyond its `history`.
[[nodiscard]] bool uses_event_history(const config::TargetConfig& target);

/// The windows to fetch for a target's older event occurrences.
struct EventHistoryPlan {
  struct Item {
    std::string event;                    ///< "<calendar>.<event>"
    source::Window window;                ///< its steps, as its ".on" regressor column marks them
    std::vector<std::int64_t> baselines;  ///< starts of the same local hours a week away
  };
  std::vector<Item> occurrences;        ///< newest first
  std::vector<source::Window> windows;  ///< every window to fetch (occurrences and baselines)
};

/// Occurrences of the events of the calendars `target` names that start at
/// or after `from_unix` and end by `to_unix` (the regular history's start),
/// newest first, at most `max_occurrences`. Steps: target.step_seconds,
/// weeks in `zone` (the target's time zone: the events model's weekly season).
[[nodiscard]] EventHistoryPlan plan_event_history(const calendar::CalendarSet& calendars,
                                                  const config::TargetConfig& target,
                                                  const calendar::TimeZone& zone,
                                                  std::int64_t from_unix, std::int64_t to_unix,
                                                  std::size_t max_occurrences);

/// The planned occurrences `history` holds values for, oldest first, each
/// with its baseline (per step, the mean of the baseline weeks held there).
[[nodiscard]] std::vector<forecast::PastEvent> past_events(const EventHistoryPlan& plan,
                                                           const source::WindowHistory& history,
                                                           std::int64_t step_seconds);

}  // namespace prescale::autoscaler
