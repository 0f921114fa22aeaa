#include "prescale/config/calendars_yaml.hpp"

#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <vector>

#include "prescale/common/text.hpp"

namespace prescale::config {
namespace {

using calendar::CalendarDefinition;
using calendar::CivilDate;
using calendar::DayAdjustment;
using calendar::DayOfMonth;
using calendar::EventDefinition;
using calendar::SessionDefinition;
using calendar::TimeWindow;

[[noreturn]] void fail(const YAML::Node& node, const std::string& path,
                       const std::string& message) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) throw CalendarsConfigError(fmt::format("{}: {}", path, message));
  throw CalendarsConfigError(fmt::format("{}: {} (line {})", path, message, mark.line + 1));
}

std::string join(std::initializer_list<std::string_view> words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

void require_map(const YAML::Node& node, const std::string& path, std::string_view what) {
  if (!node.IsMap()) fail(node, path, fmt::format("expected a mapping ({})", what));
}

// Unknown keys are errors: a typo ("holiday:") must not silently do nothing.
void check_keys(const YAML::Node& node, const std::string& path,
                std::initializer_list<std::string_view> allowed) {
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      fail(entry.first, path + "." + key,
           fmt::format("unknown key (expected one of: {})", join(allowed)));
  }
}

std::string scalar(const YAML::Node& node, const std::string& path, std::string_view what) {
  if (!node.IsScalar()) fail(node, path, fmt::format("expected {}", what));
  return node.Scalar();
}

template <class T>
T value_or_fail(Expected<T> parsed, const YAML::Node& node, const std::string& path) {
  if (!parsed) fail(node, path, parsed.error().message);
  return std::move(parsed).value();
}

const YAML::Node required(const YAML::Node& parent, const std::string& path, const char* key,
                          std::string_view what) {
  const YAML::Node child = parent[key];
  if (!child) fail(parent, path + "." + key, fmt::format("missing ({})", what));
  return child;
}

CivilDate parse_date(const YAML::Node& node, const std::string& path) {
  return value_or_fail(calendar::parse_civil_date(scalar(node, path, "a date YYYY-MM-DD")), node,
                       path);
}

std::vector<CivilDate> parse_dates(const YAML::Node& node, const std::string& path) {
  if (!node.IsSequence())
    fail(node, path, "expected a list of dates, e.g. [2026-01-01, 2026-01-19]");
  std::vector<CivilDate> dates;
  for (std::size_t i = 0; i < node.size(); ++i)
    dates.push_back(parse_date(node[i], fmt::format("{}[{}]", path, i)));
  return dates;
}

std::vector<CivilDate> read_holidays_file(const YAML::Node& node, const std::string& path,
                                          const std::filesystem::path& base_dir) {
  const std::filesystem::path name = scalar(node, path, "a file name");
  const std::filesystem::path file = name.is_absolute() ? name : base_dir / name;
  std::ifstream in(file);
  if (!in)
    fail(node, path, fmt::format("cannot read '{}': {}", file.string(), std::strerror(errno)));
  std::vector<CivilDate> dates;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string_view text = trim(std::string_view(line).substr(0, line.find('#')));
    if (text.empty()) continue;
    auto date = calendar::parse_civil_date(text);
    if (!date)
      fail(node, path, fmt::format("{} line {}: {}", file.string(), number, date.error().message));
    dates.push_back(*date);
  }
  return dates;
}

TimeWindow parse_window(const YAML::Node& node, const std::string& path) {
  const YAML::Node start = required(node, path, "start", "local start time, e.g. \"09:30\"");
  const YAML::Node end = required(node, path, "end", "local end time, e.g. \"16:00\"");
  TimeWindow window;
  window.start_seconds = value_or_fail(
      calendar::parse_time_of_day(scalar(start, path + ".start", "HH:MM")), start, path + ".start");
  window.end_seconds = value_or_fail(
      calendar::parse_time_of_day(scalar(end, path + ".end", "HH:MM")), end, path + ".end");
  if (window.start_seconds >= window.end_seconds)
    fail(end, path + ".end",
         fmt::format("end {} must be after start {} (windows lie within one local day)",
                     calendar::format_time_of_day(window.end_seconds),
                     calendar::format_time_of_day(window.start_seconds)));
  return window;
}

std::string parse_name(const YAML::Node& node, const std::string& path) {
  const YAML::Node name = required(node, path, "name", "a name such as market-open");
  std::string text = scalar(name, path + ".name", "a name");
  if (text.empty() || text.find_first_of(" \t.") != std::string::npos)
    fail(name, path + ".name", "expected a non-empty name without spaces or dots");
  return text;
}

SessionDefinition parse_session(const YAML::Node& node, const std::string& path) {
  require_map(node, path, "a session with name, days, start, end");
  check_keys(node, path, {"name", "days", "start", "end"});
  SessionDefinition session;
  session.name = parse_name(node, path);
  if (const YAML::Node days = node["days"]) {
    if (!days.IsSequence() || days.size() == 0)
      fail(days, path + ".days", "expected a list of weekdays, e.g. [mon, tue, wed, thu, fri]");
    session.days = 0;
    for (std::size_t i = 0; i < days.size(); ++i) {
      const std::string at = fmt::format("{}.days[{}]", path, i);
      const auto day =
          value_or_fail(calendar::parse_weekday(scalar(days[i], at, "a weekday")), days[i], at);
      session.days |= calendar::weekday_bit(day);
    }
  }
  session.window = parse_window(node, path);
  return session;
}

DayOfMonth parse_day_of_month(const YAML::Node& node, const std::string& path) {
  const std::string text = scalar(node, path, "1-31, last, or last-business-day");
  if (text == "last") return DayOfMonth::last_day();
  if (text == "last-business-day") return DayOfMonth::last_business_day();
  errno = 0;
  char* end = nullptr;
  const long number = std::strtol(text.c_str(), &end, 10);
  const bool integer = !text.empty() && end == text.c_str() + text.size() && errno == 0;
  if (integer && number >= 1 && number <= 31) return DayOfMonth::day(static_cast<int>(number));
  if (integer && number <= -1 && number >= -23)
    return DayOfMonth::last_business_day(static_cast<int>(-number));
  fail(node, path,
       "expected 1-31, last, or last-business-day (or -n for the n-th last business day, -1 to "
       "-23), got '" +
           text + "'");
}

DayAdjustment parse_adjust(const YAML::Node& node, const std::string& path) {
  const std::string text = scalar(node, path, "none, previous-business-day or next-business-day");
  if (text == "none") return DayAdjustment::none;
  if (text == "previous-business-day") return DayAdjustment::previous_business_day;
  if (text == "next-business-day") return DayAdjustment::next_business_day;
  fail(node, path, "expected none, previous-business-day or next-business-day, got '" + text + "'");
}

EventDefinition parse_event(const YAML::Node& node, const std::string& path) {
  require_map(node, path, "an event with name, dayOfMonth or date(s), start, end");
  check_keys(node, path, {"name", "dayOfMonth", "date", "dates", "adjust", "start", "end"});
  EventDefinition event;
  event.name = parse_name(node, path);
  if (const YAML::Node day = node["dayOfMonth"])
    event.day_of_month = parse_day_of_month(day, path + ".dayOfMonth");
  if (const YAML::Node date = node["date"]) event.dates.push_back(parse_date(date, path + ".date"));
  if (const YAML::Node dates = node["dates"]) {
    auto more = parse_dates(dates, path + ".dates");
    event.dates.insert(event.dates.end(), more.begin(), more.end());
  }
  if (!event.day_of_month && event.dates.empty())
    fail(node, path, "needs dayOfMonth (a monthly event) or date/dates (one-off events)");
  if (event.day_of_month && !event.dates.empty())
    fail(node["dayOfMonth"], path, "give either dayOfMonth or date/dates, not both");
  if (const YAML::Node adjust = node["adjust"]) {
    event.adjust = parse_adjust(adjust, path + ".adjust");
    if (event.day_of_month && event.day_of_month->kind == DayOfMonth::Kind::business_day_from_end &&
        event.adjust != DayAdjustment::none)
      fail(adjust, path + ".adjust",
           "a business-day-from-end date is already a business day; remove adjust");
  }
  event.window = parse_window(node, path);
  return event;
}

CalendarDefinition parse_calendar(const std::string& name, const YAML::Node& node,
                                  const std::string& path, const std::filesystem::path& base_dir) {
  require_map(node, path, "a calendar with timezone, holidays, sessions, events");
  check_keys(node, path,
             {"timezone", "holidays", "holidaysFile", "businessDays", "sessions", "events"});
  CalendarDefinition def;
  def.name = name;
  const YAML::Node zone =
      required(node, path, "timezone", "a tz database name such as America/New_York");
  def.time_zone = scalar(zone, path + ".timezone", "a tz database name such as America/New_York");
  if (auto found = calendar::TimeZone::find(def.time_zone); !found)
    fail(zone, path + ".timezone", found.error().message);
  if (const YAML::Node holidays = node["holidays"])
    def.holidays = parse_dates(holidays, path + ".holidays");
  if (const YAML::Node file = node["holidaysFile"]) {
    auto more = read_holidays_file(file, path + ".holidaysFile", base_dir);
    def.holidays.insert(def.holidays.end(), more.begin(), more.end());
  }
  if (const YAML::Node from = node["businessDays"])
    def.business_days_from = scalar(from, path + ".businessDays", "the name of another calendar");
  std::set<std::string> names;
  auto check_unique = [&](const YAML::Node& item, const std::string& at,
                          const std::string& item_name) {
    if (!names.insert(item_name).second)
      fail(item["name"], at + ".name", "'" + item_name + "' is already used in this calendar");
  };
  if (const YAML::Node sessions = node["sessions"]) {
    if (!sessions.IsSequence()) fail(sessions, path + ".sessions", "expected a list of sessions");
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      const std::string at = fmt::format("{}.sessions[{}]", path, i);
      def.sessions.push_back(parse_session(sessions[i], at));
      check_unique(sessions[i], at, def.sessions.back().name);
    }
  }
  if (const YAML::Node events = node["events"]) {
    if (!events.IsSequence()) fail(events, path + ".events", "expected a list of events");
    for (std::size_t i = 0; i < events.size(); ++i) {
      const std::string at = fmt::format("{}.events[{}]", path, i);
      def.events.push_back(parse_event(events[i], at));
      check_unique(events[i], at, def.events.back().name);
    }
  }
  return def;
}

}  // namespace

calendar::CalendarSet parse_calendars(const YAML::Node& calendars,
                                      const std::filesystem::path& base_dir,
                                      std::string_view yaml_path) {
  const std::string root(yaml_path);
  if (!calendars || calendars.IsNull()) return calendar::CalendarSet{};
  require_map(calendars, root, "calendar names as keys");
  std::vector<CalendarDefinition> definitions;
  std::vector<YAML::Node> business_day_nodes;
  for (const auto& entry : calendars) {
    const std::string name = entry.first.Scalar();
    const std::string path = root + "." + name;
    if (name.empty() || name.find_first_of(" \t.") != std::string::npos)
      fail(entry.first, path, "a calendar name must be non-empty, without spaces or dots");
    if (std::any_of(definitions.begin(), definitions.end(),
                    [&](const auto& d) { return d.name == name; }))
      fail(entry.first, path, "calendar defined twice");
    definitions.push_back(parse_calendar(name, entry.second, path, base_dir));
    business_day_nodes.push_back(entry.second["businessDays"]);
  }
  for (std::size_t i = 0; i < definitions.size(); ++i) {
    const std::string& from = definitions[i].business_days_from;
    if (from.empty()) continue;
    const bool known = std::any_of(definitions.begin(), definitions.end(),
                                   [&](const auto& d) { return d.name == from; });
    if (!known)
      fail(business_day_nodes[i], root + "." + definitions[i].name + ".businessDays",
           "unknown calendar '" + from + "' (define it under " + root + ")");
  }
  auto set = calendar::CalendarSet::build(std::move(definitions));
  // What is left (e.g. a businessDays cycle) names its calendar already.
  if (!set) throw CalendarsConfigError(set.error().message);
  return std::move(set).value();
}

calendar::CalendarSet parse_calendars_document(std::string_view yaml_text,
                                               const std::filesystem::path& base_dir) {
  YAML::Node document;
  try {
    document = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw CalendarsConfigError(fmt::format("invalid YAML: {} (line {})", e.msg, e.mark.line + 1));
  }
  if (!document || document.IsNull()) return calendar::CalendarSet{};
  if (!document.IsMap()) fail(document, "(top level)", "expected a mapping with a calendars: key");
  try {
    return parse_calendars(document["calendars"], base_dir);
  } catch (const YAML::Exception& e) {
    // yaml-cpp's own complaints (e.g. a node of an unexpected kind) keep the line too.
    throw CalendarsConfigError(fmt::format("calendars: {} (line {})", e.msg, e.mark.line + 1));
  }
}

calendar::CalendarSet load_calendars_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in)
    throw CalendarsConfigError(
        fmt::format("cannot read '{}': {}", file.string(), std::strerror(errno)));
  std::stringstream text;
  text << in.rdbuf();
  try {
    return parse_calendars_document(text.str(), file.parent_path());
  } catch (const CalendarsConfigError& e) {
    throw CalendarsConfigError(fmt::format("{}: {}", file.string(), e.what()));
  }
}

}  // namespace prescale::config
