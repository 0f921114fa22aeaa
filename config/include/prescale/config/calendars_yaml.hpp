#pragma once
// The `calendars:` section of the config file, parsed into
// prescale::calendar definitions and resolved. Bad input throws
// CalendarsConfigError at start-up with the YAML path and line, e.g.
//   calendars.payroll.events[1].dayOfMonth: expected 1-31, last, or
//   last-business-day (line 17)
//
//   calendars:
//     nyse:
//       timezone: America/New_York
//       holidays: [2026-01-01, 2026-01-19]
//       holidaysFile: nyse-holidays.txt   # one YYYY-MM-DD a line, '#' comments,
//                                         # relative to the YAML file
//       sessions:
//         - {name: market-open, days: [mon, tue, wed, thu, fri], start: "09:30", end: "16:00"}
//     payroll:
//       timezone: America/New_York
//       businessDays: nyse                # borrow nyse's holidays
//       events:
//         - {name: payroll-mid, dayOfMonth: 15, adjust: previous-business-day,
//            start: "06:00", end: "11:00"}
//         - {name: payroll-end, dayOfMonth: last-business-day, start: "06:00", end: "11:00"}
//         - {name: quad-witching, date: 2026-03-20, start: "09:30", end: "16:00"}
//
// timezone is required (no silent UTC). Session days default to mon-fri.
// Names (calendars, sessions, events) have no spaces or dots: regressor
// columns are named <calendar>.<event>.on etc.
// dayOfMonth: 1..31 (past a short month's end: its last day), last,
// last-business-day, or -n (the n-th last business day; -1 = last).
// adjust: none (default), previous-business-day, next-business-day.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "prescale/calendar/calendar.hpp"

namespace YAML {
class Node;
}

namespace prescale::config {

/// A bad calendars section; what() holds the YAML path and line.
struct CalendarsConfigError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Parses the mapping under `calendars:` (the node itself, not its parent).
/// `yaml_path` prefixes error paths ("calendars"); `base_dir` resolves
/// holidaysFile. Throws CalendarsConfigError.
calendar::CalendarSet parse_calendars(const YAML::Node& calendars,
                                      const std::filesystem::path& base_dir,
                                      std::string_view yaml_path = "calendars");

/// Parses a YAML document whose top level holds `calendars:` (other top-level
/// keys are left to their own parsers). Throws CalendarsConfigError.
calendar::CalendarSet parse_calendars_document(std::string_view yaml_text,
                                               const std::filesystem::path& base_dir);

/// Reads a YAML file with a top-level `calendars:`; holidaysFile paths are
/// relative to its folder. Throws CalendarsConfigError (also for I/O errors).
calendar::CalendarSet load_calendars_file(const std::filesystem::path& file);

}  // namespace prescale::config
