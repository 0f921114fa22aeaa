#pragma once
// Calendar dates, weekdays and times of day as people write them (local,
// proleptic Gregorian), with the parsers the config loader uses. Date
// arithmetic is on day numbers (days since 1970-01-01), which is exact and
// independent of any time zone.
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "prescale/common/expected.hpp"
#include "prescale/common/time.hpp"

namespace prescale::calendar {

/// A local calendar date, e.g. 2026-03-20, and day numbers (days since
/// 1970-01-01): common/time.hpp, shared with the UTC formatter.
using prescale::civil_from_days;
using prescale::CivilDate;
using prescale::days_from_civil;

/// Monday = 0 ... Sunday = 6 (ISO order).
enum class Weekday : std::uint8_t {
  monday,
  tuesday,
  wednesday,
  thursday,
  friday,
  saturday,
  sunday
};

/// A set of weekdays: bit i stands for Weekday(i).
using WeekdaySet = std::uint8_t;
inline constexpr WeekdaySet kMondayToFriday = 0x1F;
inline constexpr WeekdaySet weekday_bit(Weekday day) {
  return static_cast<WeekdaySet>(1u << static_cast<unsigned>(day));
}

/// Weekday of a day number (1970-01-01 was a Thursday).
constexpr Weekday weekday_of_days(std::int64_t days) {
  const std::int64_t r = (days + 3) % 7;
  return static_cast<Weekday>(r < 0 ? r + 7 : r);
}
constexpr Weekday weekday_of(CivilDate date) {
  return weekday_of_days(days_from_civil(date));
}

constexpr bool is_leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}
constexpr unsigned days_in_month(int year, unsigned month) {
  constexpr unsigned lengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap_year(year) ? 29 : lengths[(month - 1) % 12];
}

/// "YYYY-MM-DD" (ISO 8601 calendar date); an error names the text.
Expected<CivilDate> parse_civil_date(std::string_view text);
/// "YYYY-MM-DD".
std::string to_string(CivilDate date);

/// "HH:MM" or "HH:MM:SS" as seconds after local midnight, 0 .. 86400
/// ("24:00" is allowed as an end of day).
Expected<std::int32_t> parse_time_of_day(std::string_view text);
/// "HH:MM", or "HH:MM:SS" when seconds are not zero.
std::string format_time_of_day(std::int32_t seconds);

/// "mon", "Monday", "TUE", ... (three-letter abbreviation or full English name).
Expected<Weekday> parse_weekday(std::string_view text);
/// "mon" ... "sun".
std::string_view to_string(Weekday day);

}  // namespace prescale::calendar
