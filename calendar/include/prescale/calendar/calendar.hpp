#pragma once
// Business-day and event calendars evaluated in their own time zone:
// exchange sessions (NYSE 09:30-16:00 New York time, closed on holidays),
// monthly events (payroll on the 15th moved to the previous business day,
// the last business day of the month), and one-off dated events. Each
// occurrence is a local-time window turned into a UTC [start, end) interval
// through the tz database, so it follows DST. The config loader
// (prescale/config/calendars_yaml.hpp) builds the definitions from YAML.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/calendar/civil_date.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/expected.hpp"

namespace prescale::calendar {

/// A local time-of-day window, start < end, both in seconds after local
/// midnight (end may be 86400). On DST days the UTC length of the window is
/// what the wall clock says: 01:00-04:00 lasts 2 h on a 23-hour day.
struct TimeWindow {
  std::int32_t start_seconds = 0;
  std::int32_t end_seconds = 0;
};

/// A recurring session on some weekdays, skipped on the calendar's holidays.
/// Definitions are value types.
struct SessionDefinition {
  std::string name;
  WeekdaySet days = kMondayToFriday;
  TimeWindow window;
};

/// Where a monthly event falls.
struct DayOfMonth {
  enum class Kind {
    day,                    ///< value = 1..31; past the month's end means its last day
    last_day,               ///< the last calendar day
    business_day_from_end,  ///< value = n >= 1: the n-th last business day (1 = last)
  };
  Kind kind = Kind::day;
  int value = 1;

  static DayOfMonth day(int day_of_month) { return {Kind::day, day_of_month}; }
  static DayOfMonth last_day() { return {Kind::last_day, 0}; }
  static DayOfMonth last_business_day(int nth_from_end = 1) {
    return {Kind::business_day_from_end, nth_from_end};
  }
};

/// What happens to an event date that is not a business day.
enum class DayAdjustment { none, previous_business_day, next_business_day };

/// A monthly event (day_of_month set) or a set of one-off dates.
struct EventDefinition {
  std::string name;
  std::optional<DayOfMonth> day_of_month;
  std::vector<CivilDate> dates;
  DayAdjustment adjust = DayAdjustment::none;
  TimeWindow window;
};

/// One calendar as configured. Business days are Monday to Friday minus the
/// holidays: its own plus (transitively) those of `business_days_from`.
struct CalendarDefinition {
  std::string name;
  std::string time_zone = "UTC";
  std::vector<CivilDate> holidays;
  std::string business_days_from;  ///< another calendar's name, or empty
  std::vector<SessionDefinition> sessions;
  std::vector<EventDefinition> events;
};

/// One occurrence of a session or event: a UTC interval [start, end). Value type.
struct Occurrence {
  enum class Kind { session, event };
  std::string calendar;
  std::string name;
  Kind kind = Kind::event;
  std::int64_t start_unix = 0;
  std::int64_t end_unix = 0;
  CivilDate local_date;
  TimeWindow window;
  std::string time_zone;

  /// "payroll.payroll-end".
  [[nodiscard]] std::string qualified_name() const { return calendar + "." + name; }
  /// "calendar event payroll.payroll-end (06:00-11:00 America/New_York)".
  [[nodiscard]] std::string describe() const;
  [[nodiscard]] bool contains(std::int64_t unix_seconds) const {
    return unix_seconds >= start_unix && unix_seconds < end_unix;
  }
};

/// A resolved calendar. Immutable after build; safe to share across threads.
class Calendar {
 public:
  [[nodiscard]] const std::string& name() const { return definition_.name; }
  [[nodiscard]] const CalendarDefinition& definition() const { return definition_; }
  [[nodiscard]] const TimeZone& time_zone() const { return zone_; }

  /// Holidays in force (own and inherited), as sorted day numbers.
  [[nodiscard]] const std::vector<std::int64_t>& holiday_days() const { return holiday_days_; }
  [[nodiscard]] bool is_holiday(CivilDate date) const;
  /// Monday to Friday and not a holiday.
  [[nodiscard]] bool is_business_day(CivilDate date) const;
  /// Business days strictly after `date` up to the end of its month
  /// (0 on or after the month's last business day).
  [[nodiscard]] int business_days_left_in_month(CivilDate date) const;
  /// The local date at a UTC instant.
  [[nodiscard]] CivilDate local_date(std::int64_t unix_seconds) const;

  /// Date of a monthly event in a month after its adjustment (which may move
  /// it into the neighbouring month); nullopt if adjust would search forever.
  [[nodiscard]] std::optional<CivilDate> event_date(const EventDefinition& event, int year,
                                                    unsigned month) const;
  /// Every session and event occurrence overlapping [from_unix, to_unix),
  /// sorted by start time.
  [[nodiscard]] std::vector<Occurrence> occurrences(std::int64_t from_unix,
                                                    std::int64_t to_unix) const;

 private:
  friend class CalendarSet;
  Calendar(CalendarDefinition definition, TimeZone zone, std::vector<std::int64_t> holidays)
      : definition_(std::move(definition)),
        zone_(std::move(zone)),
        holiday_days_(std::move(holidays)) {}
  [[nodiscard]] bool is_business_day_number(std::int64_t days) const;
  [[nodiscard]] std::int64_t step_to_business_day(std::int64_t days, int direction) const;

  CalendarDefinition definition_;
  TimeZone zone_;
  std::vector<std::int64_t> holiday_days_;
};

/// Which occurrences are active at each sample of a grid, in compressed
/// rows: active(i) lists indices into `occurrences`. Value type.
struct ActiveOccurrences {
  std::vector<Occurrence> occurrences;
  std::vector<std::uint32_t> row_offsets;  ///< size count + 1
  std::vector<std::uint32_t> indices;

  [[nodiscard]] std::size_t rows() const {
    return row_offsets.empty() ? 0 : row_offsets.size() - 1;
  }
  [[nodiscard]] std::span<const std::uint32_t> active(std::size_t row) const {
    return {indices.data() + row_offsets[row], indices.data() + row_offsets[row + 1]};
  }
};

/// Named calendars with their cross-references resolved. Immutable; safe to
/// share across threads.
class CalendarSet {
 public:
  CalendarSet() = default;
  /// Checks names (unique, non-empty), time zones, windows (start < end),
  /// day-of-month values and businessDays references (no cycles); an error
  /// names the calendar and the field.
  static Expected<CalendarSet> build(std::vector<CalendarDefinition> definitions);

  [[nodiscard]] const std::vector<Calendar>& calendars() const { return calendars_; }
  [[nodiscard]] const Calendar* find(std::string_view name) const;
  [[nodiscard]] bool empty() const { return calendars_.empty(); }

  /// Occurrences of every calendar overlapping [from_unix, to_unix), by start.
  [[nodiscard]] std::vector<Occurrence> occurrences(std::int64_t from_unix,
                                                    std::int64_t to_unix) const;
  /// Occurrences containing the instant.
  [[nodiscard]] std::vector<Occurrence> active_at(std::int64_t unix_seconds) const;
  /// For each grid timestamp start + i*step (i < count), the active occurrences.
  [[nodiscard]] ActiveOccurrences active_on_grid(std::int64_t start_unix, std::int64_t step_seconds,
                                                 std::size_t count) const;

 private:
  std::vector<Calendar> calendars_;
};

}  // namespace prescale::calendar
