#include "prescale/autoscaler/event_history.hpp"

#include <algorithm>
#include <cmath>

#include "prescale/common/integer.hpp"

namespace prescale::autoscaler {

namespace {

constexpr std::int64_t kWeek = 7 * 86400;

bool named(const config::TargetConfig& target, const std::string& calendar) {
  return std::find(target.calendars.begin(), target.calendars.end(), calendar) !=
         target.calendars.end();
}

// True when an event of the target's calendars overlaps [start, end).
bool holds_event(const calendar::CalendarSet& calendars, const config::TargetConfig& target,
                 std::int64_t start, std::int64_t end) {
  for (const auto& o : calendars.occurrences(start, end))
    if (o.kind == calendar::Occurrence::Kind::event && named(target, o.calendar)) return true;
  return false;
}

}  // namespace

bool uses_event_history(const config::TargetConfig& target) {
  return !target.calendars.empty() && target.event_history_seconds > target.history_seconds;
}

EventHistoryPlan plan_event_history(const calendar::CalendarSet& calendars,
                                    const config::TargetConfig& target,
                                    const calendar::TimeZone& zone, std::int64_t from_unix,
                                    std::int64_t to_unix, std::size_t max_occurrences) {
  EventHistoryPlan plan;
  const std::int64_t step = std::max<std::int64_t>(1, target.step_seconds);
  if (to_unix <= from_unix) return plan;
  auto found = calendars.occurrences(from_unix, to_unix);
  std::reverse(found.begin(), found.end());  // newest first
  for (const auto& o : found) {
    if (plan.occurrences.size() >= max_occurrences) break;
    if (o.kind != calendar::Occurrence::Kind::event || !named(target, o.calendar)) continue;
    // The steps its ".on" column marks: grid instants inside [start, end).
    const source::Window window{ceil_to(o.start_unix, step), ceil_to(o.end_unix, step)};
    if (window.end_unix <= window.start_unix || window.start_unix < from_unix ||
        window.end_unix > to_unix)
      continue;
    EventHistoryPlan::Item item{o.qualified_name(), window, {}};
    const std::int64_t length = window.end_unix - window.start_unix;
    for (const std::int64_t away : {-kWeek, kWeek}) {
      // The same local time a week away (a DST change in between moves it in UTC).
      const std::int64_t moved = window.start_unix + away;
      const std::int64_t start =
          floor_to(moved + zone.utc_offset(window.start_unix) - zone.utc_offset(moved), step);
      if (holds_event(calendars, target, start, start + length)) continue;
      item.baselines.push_back(start);
      plan.windows.push_back({start, start + length});
    }
    plan.windows.push_back(window);
    plan.occurrences.push_back(std::move(item));
  }
  return plan;
}

std::vector<forecast::PastEvent> past_events(const EventHistoryPlan& plan,
                                             const source::WindowHistory& history,
                                             std::int64_t step_seconds) {
  std::vector<forecast::PastEvent> out;
  const std::int64_t step = std::max<std::int64_t>(1, step_seconds);
  for (auto it = plan.occurrences.rbegin(); it != plan.occurrences.rend(); ++it) {
    const auto& item = *it;
    const std::int64_t length = item.window.end_unix - item.window.start_unix;
    if (!history.holds(item.window.start_unix, item.window.end_unix)) continue;
    forecast::PastEvent event;
    event.event = item.event;
    event.start_unix = item.window.start_unix;
    event.y = history.values(item.window.start_unix, item.window.end_unix);
    const auto steps = static_cast<std::size_t>(length / step);
    std::vector<double> sum(steps, 0.0);
    std::vector<int> count(steps, 0);
    for (const std::int64_t start : item.baselines) {
      if (!history.holds(start, start + length)) continue;
      const auto values = history.values(start, start + length);
      for (std::size_t k = 0; k < steps; ++k)
        if (!std::isnan(values[k])) sum[k] += values[k], ++count[k];
    }
    event.baseline.assign(steps, forecast::kMissing);
    bool usable = false;
    for (std::size_t k = 0; k < steps; ++k) {
      if (count[k] > 0) event.baseline[k] = sum[k] / count[k];
      usable = usable || (!std::isnan(event.y[k]) && count[k] > 0);
    }
    if (usable) out.push_back(std::move(event));
  }
  return out;
}

}  // namespace prescale::autoscaler
