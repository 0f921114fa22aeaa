#include "prescale/calendar/civil_date.hpp"

#include <array>
#include <cctype>
#include <cstdio>

namespace prescale::calendar {
namespace {

// Parses exactly `width` decimal digits at text[pos].
bool read_digits(std::string_view text, std::size_t pos, std::size_t width, int& out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

// Built with append: g++-12 warns falsely (-Wrestrict, PR 105651) on "'" + std::string(...).
std::string quote(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out += '\'';
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

constexpr std::array<std::string_view, 7> kShortNames = {"mon", "tue", "wed", "thu",
                                                         "fri", "sat", "sun"};
constexpr std::array<std::string_view, 7> kLongNames = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
}  // namespace

Expected<CivilDate> parse_civil_date(std::string_view text) {
  const std::string quoted = quote(text);
  int year = 0, month = 0, day = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !read_digits(text, 0, 4, year) ||
      !read_digits(text, 5, 2, month) || !read_digits(text, 8, 2, day))
    return make_error("bad date " + quoted + " (expected YYYY-MM-DD, e.g. 2026-01-19)");
  if (month < 1 || month > 12) return make_error("bad date " + quoted + ": month must be 01-12");
  if (day < 1 || static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)))
    return make_error("bad date " + quoted + ": day " + std::to_string(day) +
                      " is not in that month");
  return CivilDate{year, static_cast<unsigned>(month), static_cast<unsigned>(day)};
}

std::string to_string(CivilDate date) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", date.year, date.month, date.day);
  return buffer;
}

Expected<std::int32_t> parse_time_of_day(std::string_view text) {
  const std::string quoted = quote(text);
  int hours = 0, minutes = 0, seconds = 0;
  // "9:30" is accepted too: people write it that way.
  const std::size_t colon = text.find(':');
  const bool shape_ok =
      (colon == 1 || colon == 2) && read_digits(text, 0, colon, hours) &&
      read_digits(text, colon + 1, 2, minutes) &&
      (text.size() == colon + 3 || (text.size() == colon + 6 && text[colon + 3] == ':' &&
                                    read_digits(text, colon + 4, 2, seconds)));
  if (!shape_ok)
    return make_error("bad time of day " + quoted + " (expected HH:MM, e.g. \"09:30\")");
  if (minutes > 59 || seconds > 59 || hours > 24 || (hours == 24 && (minutes != 0 || seconds != 0)))
    return make_error("bad time of day " + quoted + " (00:00 to 24:00)");
  return static_cast<std::int32_t>(hours * 3600 + minutes * 60 + seconds);
}

std::string format_time_of_day(std::int32_t seconds) {
  char buffer[32];
  if (seconds % 60 == 0)
    std::snprintf(buffer, sizeof buffer, "%02d:%02d", seconds / 3600, seconds / 60 % 60);
  else
    std::snprintf(buffer, sizeof buffer, "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60,
                  seconds % 60);
  return buffer;
}

Expected<Weekday> parse_weekday(std::string_view text) {
  const std::string name = lower(text);
  for (std::size_t i = 0; i < 7; ++i)
    if (name == kShortNames[i] || name == kLongNames[i]) return static_cast<Weekday>(i);
  return make_error("bad weekday " + quote(text) +
                    " (expected mon, tue, wed, thu, fri, sat or sun)");
}

std::string_view to_string(Weekday day) {
  return kShortNames[static_cast<std::size_t>(day)];
}

}  // namespace prescale::calendar
