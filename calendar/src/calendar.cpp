#include "prescale/calendar/calendar.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "prescale/common/integer.hpp"

namespace prescale::calendar {
namespace {

// Longest run of non-business days an adjustment walks through before
// giving up (a calendar that is all holidays would otherwise loop forever).
constexpr int kMaxAdjustmentDays = 400;

std::int64_t month_index(int year, unsigned month) {
  return static_cast<std::int64_t>(year) * 12 + static_cast<std::int64_t>(month) - 1;
}

Status check_window(const TimeWindow& window, const std::string& where) {
  if (window.start_seconds < 0 || window.end_seconds > static_cast<std::int32_t>(kSecondsPerDay))
    return make_error(where + ": times must lie within 00:00-24:00");
  if (window.start_seconds >= window.end_seconds)
    return make_error(where + ": start " + format_time_of_day(window.start_seconds) +
                      " must be before end " + format_time_of_day(window.end_seconds));
  return Status::ok();
}

}  // namespace

std::string Occurrence::describe() const {
  return std::string(kind == Kind::session ? "calendar session " : "calendar event ") +
         qualified_name() + " (" + format_time_of_day(window.start_seconds) + "-" +
         format_time_of_day(window.end_seconds) + " " + time_zone + ")";
}

bool Calendar::is_business_day_number(std::int64_t days) const {
  return weekday_of_days(days) <= Weekday::friday &&
         !std::binary_search(holiday_days_.begin(), holiday_days_.end(), days);
}

bool Calendar::is_holiday(CivilDate date) const {
  return std::binary_search(holiday_days_.begin(), holiday_days_.end(), days_from_civil(date));
}

bool Calendar::is_business_day(CivilDate date) const {
  return is_business_day_number(days_from_civil(date));
}

int Calendar::business_days_left_in_month(CivilDate date) const {
  const std::int64_t today = days_from_civil(date);
  const std::int64_t month_end = today + (days_in_month(date.year, date.month) - date.day);
  int count = 0;
  for (std::int64_t d = today + 1; d <= month_end; ++d) count += is_business_day_number(d) ? 1 : 0;
  return count;
}

CivilDate Calendar::local_date(std::int64_t unix_seconds) const {
  return civil_from_days(floor_div(zone_.to_local(unix_seconds), kSecondsPerDay));
}

std::int64_t Calendar::step_to_business_day(std::int64_t days, int direction) const {
  for (int i = 0; i < kMaxAdjustmentDays; ++i, days += direction)
    if (is_business_day_number(days)) return days;
  return std::numeric_limits<std::int64_t>::min();
}

std::optional<CivilDate> Calendar::event_date(const EventDefinition& event, int year,
                                              unsigned month) const {
  if (!event.day_of_month) return std::nullopt;
  const DayOfMonth rule = *event.day_of_month;
  const unsigned length = days_in_month(year, month);
  const std::int64_t first = days_from_civil({year, month, 1});
  const std::int64_t last = first + length - 1;
  std::int64_t day = 0;
  switch (rule.kind) {
    case DayOfMonth::Kind::day:
      day = first + std::min<std::int64_t>(std::max(rule.value, 1), length) - 1;
      break;
    case DayOfMonth::Kind::last_day:
      day = last;
      break;
    case DayOfMonth::Kind::business_day_from_end: {
      int seen = 0;
      for (day = last; day >= first; --day)
        if (is_business_day_number(day) && ++seen == rule.value) break;
      if (day < first) return std::nullopt;  // fewer business days than asked for
      return civil_from_days(day);
    }
  }
  switch (event.adjust) {
    case DayAdjustment::none:
      break;
    case DayAdjustment::previous_business_day:
      day = step_to_business_day(day, -1);
      break;
    case DayAdjustment::next_business_day:
      day = step_to_business_day(day, +1);
      break;
  }
  if (day == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
  return civil_from_days(day);
}

std::vector<Occurrence> Calendar::occurrences(std::int64_t from_unix, std::int64_t to_unix) const {
  std::vector<Occurrence> out;
  if (to_unix <= from_unix) return out;
  // Local days that can hold a window overlapping the range (offsets < 1 day).
  const std::int64_t day_lo = floor_div(from_unix, kSecondsPerDay) - 2;
  const std::int64_t day_hi = floor_div(to_unix, kSecondsPerDay) + 2;

  auto add = [&](Occurrence::Kind kind, const std::string& name, const TimeWindow& window,
                 std::int64_t day) {
    const std::int64_t midnight = day * kSecondsPerDay;
    const std::int64_t start = zone_.to_utc(midnight + window.start_seconds);
    const std::int64_t end = zone_.to_utc(midnight + window.end_seconds);
    // A window inside a spring-forward gap has no instant at all.
    if (end <= start || start >= to_unix || end <= from_unix) return;
    out.push_back(Occurrence{definition_.name, name, kind, start, end, civil_from_days(day), window,
                             zone_.name()});
  };

  for (const SessionDefinition& session : definition_.sessions)
    for (std::int64_t day = day_lo; day <= day_hi; ++day)
      if ((session.days & weekday_bit(weekday_of_days(day))) != 0 &&
          !std::binary_search(holiday_days_.begin(), holiday_days_.end(), day))
        add(Occurrence::Kind::session, session.name, session.window, day);

  const CivilDate first_month = civil_from_days(day_lo);
  const CivilDate last_month = civil_from_days(day_hi);
  for (const EventDefinition& event : definition_.events) {
    std::vector<std::int64_t> days;
    if (event.day_of_month) {
      // Adjustments move a date by a few days, possibly into the next month.
      for (std::int64_t m = month_index(first_month.year, first_month.month) - 1;
           m <= month_index(last_month.year, last_month.month) + 1; ++m) {
        const auto date = event_date(event, static_cast<int>(floor_div(m, 12)),
                                     static_cast<unsigned>(m - floor_div(m, 12) * 12 + 1));
        if (date) days.push_back(days_from_civil(*date));
      }
    }
    for (const CivilDate& date : event.dates) {
      std::int64_t day = days_from_civil(date);
      if (event.adjust == DayAdjustment::previous_business_day) day = step_to_business_day(day, -1);
      if (event.adjust == DayAdjustment::next_business_day) day = step_to_business_day(day, +1);
      if (day != std::numeric_limits<std::int64_t>::min()) days.push_back(day);
    }
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    for (std::int64_t day : days)
      if (day >= day_lo && day <= day_hi)
        add(Occurrence::Kind::event, event.name, event.window, day);
  }
  std::stable_sort(out.begin(), out.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.start_unix < b.start_unix;
  });
  return out;
}

Expected<CalendarSet> CalendarSet::build(std::vector<CalendarDefinition> definitions) {
  std::map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < definitions.size(); ++i) {
    const CalendarDefinition& def = definitions[i];
    if (def.name.empty())
      return make_error("calendars[" + std::to_string(i) + "]: a calendar needs a name");
    if (!by_name.emplace(def.name, i).second)
      return make_error("calendars." + def.name + ": defined twice");
  }

  std::vector<TimeZone> zones;
  for (const CalendarDefinition& def : definitions) {
    const std::string where = "calendars." + def.name;
    auto zone = TimeZone::find(def.time_zone);
    if (!zone) return make_error(where + ".timezone: " + zone.error().message);
    zones.push_back(*zone);
    if (!def.business_days_from.empty() && !by_name.count(def.business_days_from))
      return make_error(where + ".businessDays: unknown calendar '" + def.business_days_from + "'");
    std::set<std::string> names;
    for (std::size_t s = 0; s < def.sessions.size(); ++s) {
      const SessionDefinition& session = def.sessions[s];
      const std::string at = where + ".sessions[" + std::to_string(s) + "]";
      if (session.name.empty()) return make_error(at + ".name: a session needs a name");
      if (!names.insert(session.name).second)
        return make_error(at + ".name: '" + session.name + "' is used twice");
      if (session.days == 0) return make_error(at + ".days: no weekday given");
      if (auto status = check_window(session.window, at); !status) return status.error();
    }
    for (std::size_t e = 0; e < def.events.size(); ++e) {
      const EventDefinition& event = def.events[e];
      const std::string at = where + ".events[" + std::to_string(e) + "]";
      if (event.name.empty()) return make_error(at + ".name: an event needs a name");
      if (!names.insert(event.name).second)
        return make_error(at + ".name: '" + event.name + "' is used twice");
      if (!event.day_of_month && event.dates.empty())
        return make_error(at + ": needs dayOfMonth, date or dates");
      if (event.day_of_month) {
        const DayOfMonth rule = *event.day_of_month;
        if (rule.kind == DayOfMonth::Kind::day && (rule.value < 1 || rule.value > 31))
          return make_error(at + ".dayOfMonth: expected 1-31, last, or last-business-day");
        if (rule.kind == DayOfMonth::Kind::business_day_from_end &&
            (rule.value < 1 || rule.value > 23))
          return make_error(at + ".dayOfMonth: business days from the end must be 1-23");
      }
      if (auto status = check_window(event.window, at); !status) return status.error();
    }
  }

  // Holidays of the whole businessDays chain; a cycle is a config error.
  std::vector<std::vector<std::int64_t>> holidays(definitions.size());
  for (std::size_t i = 0; i < definitions.size(); ++i) {
    std::set<std::size_t> visited;
    for (std::size_t at = i;;) {
      if (!visited.insert(at).second)
        return make_error("calendars." + definitions[i].name +
                          ".businessDays: the chain of references loops back to '" +
                          definitions[at].name + "'");
      for (const CivilDate& date : definitions[at].holidays)
        holidays[i].push_back(days_from_civil(date));
      if (definitions[at].business_days_from.empty()) break;
      at = by_name.at(definitions[at].business_days_from);
    }
    std::sort(holidays[i].begin(), holidays[i].end());
    holidays[i].erase(std::unique(holidays[i].begin(), holidays[i].end()), holidays[i].end());
  }
  CalendarSet set;
  for (std::size_t i = 0; i < definitions.size(); ++i)
    set.calendars_.push_back(Calendar(std::move(definitions[i]), zones[i], std::move(holidays[i])));
  return set;
}

const Calendar* CalendarSet::find(std::string_view name) const {
  for (const Calendar& calendar : calendars_)
    if (calendar.name() == name) return &calendar;
  return nullptr;
}

std::vector<Occurrence> CalendarSet::occurrences(std::int64_t from_unix,
                                                 std::int64_t to_unix) const {
  std::vector<Occurrence> out;
  for (const Calendar& calendar : calendars_) {
    auto part = calendar.occurrences(from_unix, to_unix);
    out.insert(out.end(), std::make_move_iterator(part.begin()),
               std::make_move_iterator(part.end()));
  }
  std::stable_sort(out.begin(), out.end(), [](const Occurrence& a, const Occurrence& b) {
    return a.start_unix < b.start_unix;
  });
  return out;
}

std::vector<Occurrence> CalendarSet::active_at(std::int64_t unix_seconds) const {
  return occurrences(unix_seconds, unix_seconds + 1);
}

ActiveOccurrences CalendarSet::active_on_grid(std::int64_t start_unix, std::int64_t step_seconds,
                                              std::size_t count) const {
  ActiveOccurrences result;
  result.row_offsets.assign(count + 1, 0);
  if (count == 0 || step_seconds <= 0) return result;
  const std::int64_t end_unix = start_unix + static_cast<std::int64_t>(count) * step_seconds;
  result.occurrences = occurrences(start_unix, end_unix);

  // Rows [first, last) whose timestamp lies inside each occurrence.
  auto row_range = [&](const Occurrence& o) {
    auto first_row_at_or_after = [&](std::int64_t t) {
      const std::int64_t i = -floor_div(-(t - start_unix), step_seconds);  // ceil
      return static_cast<std::size_t>(
          std::clamp<std::int64_t>(i, 0, static_cast<std::int64_t>(count)));
    };
    return std::pair{first_row_at_or_after(o.start_unix), first_row_at_or_after(o.end_unix)};
  };
  for (const Occurrence& o : result.occurrences) {
    const auto [first, last] = row_range(o);
    for (std::size_t r = first; r < last; ++r) ++result.row_offsets[r + 1];
  }
  for (std::size_t r = 0; r < count; ++r) result.row_offsets[r + 1] += result.row_offsets[r];
  result.indices.resize(result.row_offsets[count]);
  std::vector<std::uint32_t> fill(result.row_offsets.begin(), result.row_offsets.end() - 1);
  for (std::size_t k = 0; k < result.occurrences.size(); ++k) {
    const auto [first, last] = row_range(result.occurrences[k]);
    for (std::size_t r = first; r < last; ++r)
      result.indices[fill[r]++] = static_cast<std::uint32_t>(k);
  }
  return result;
}

}  // namespace prescale::calendar
