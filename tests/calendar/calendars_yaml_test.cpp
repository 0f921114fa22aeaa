#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "prescale/config/calendars_yaml.hpp"
#include "test_support.hpp"

using prescale::calendar::CivilDate;
using prescale::config::CalendarsConfigError;
using prescale::config::load_calendars_file;
using prescale::config::parse_calendars_document;

namespace {

// The calendars section of the issue, verbatim (payroll's dayOfMonth on line 17).
const std::string kExample = R"(calendars:
  nyse:
    timezone: America/New_York
    holidays: [2026-01-01, 2026-01-19, 2026-02-16, 2026-04-03]
    sessions:
      - name: market-open
        days: [mon, tue, wed, thu, fri]
        start: "09:30"
        end: "16:00"
  payroll:
    timezone: America/New_York
    businessDays: nyse          # weekends and nyse's holidays are not business days
    events:
      - name: payroll-mid
        dayOfMonth: 15
        adjust: previous-business-day    # or next-business-day, none
        start: "06:00"
        end: "11:00"
      - name: payroll-end
        dayOfMonth: last-business-day
        start: "06:00"
        end: "11:00"
      - name: quad-witching
        date: 2026-03-20                 # one-off dated event (also `dates: [...]`)
        start: "09:30"
        end: "16:00"
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string error_of(const std::string& yaml, const std::filesystem::path& base = ".") {
  try {
    (void)parse_calendars_document(yaml, base);
  } catch (const CalendarsConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("prescale-calendars-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
  }
};

}  // namespace

TEST_CASE("the issue's calendars section loads and means what it says", "[config][calendar]") {
  const auto set = parse_calendars_document(kExample, ".");
  REQUIRE(set.calendars().size() == 2);
  const auto* payroll = set.find("payroll");
  REQUIRE(payroll != nullptr);
  CHECK_FALSE(payroll->is_business_day({2026, 2, 16}));  // borrowed from nyse
  const auto feb = set.occurrences(1769904000 /* 2026-02-01Z */, 1772323200 /* 2026-03-01Z */);
  std::vector<std::string> seen;
  for (const auto& o : feb)
    if (o.calendar == "payroll")
      seen.push_back(o.name + "@" + prescale::calendar::to_string(o.local_date));
  CHECK(seen == std::vector<std::string>{"payroll-mid@2026-02-13", "payroll-end@2026-02-27"});
  CHECK(set.find("nyse")->definition().sessions.at(0).window.start_seconds == 9 * 3600 + 1800);
}

TEST_CASE("the shipped payments calendars load, holidays file included", "[config][calendar]") {
  const auto file = prescale::test::source_dir() / "config" / "calendars" / "payments.yaml";
  const auto set = load_calendars_file(file);
  const auto* nyse = set.find("nyse");
  REQUIRE(nyse != nullptr);
  CHECK_FALSE(nyse->is_business_day({2026, 11, 26}));  // Thanksgiving, from nyse-holidays.txt
  CHECK_FALSE(nyse->is_business_day({2026, 1, 19}));   // inline list
  CHECK(nyse->is_business_day({2026, 11, 27}));
}

TEST_CASE("holidaysFile is read relative to the YAML file, with comments", "[config][calendar]") {
  TempDir dir;
  dir.write("extra.txt", "# closures\n2026-05-25   # Memorial Day\n\n2026-07-03\n");
  dir.write("cal.yaml",
            replace(kExample, "    holidays: [", "    holidaysFile: extra.txt\n    holidays: ["));
  const auto set = load_calendars_file(dir.path / "cal.yaml");
  CHECK_FALSE(set.find("payroll")->is_business_day({2026, 5, 25}));
  CHECK_FALSE(set.find("payroll")->is_business_day({2026, 7, 3}));
  CHECK_FALSE(set.find("payroll")->is_business_day({2026, 1, 19}));

  dir.write("extra.txt", "2026-05-25\n2026-07-32\n");
  CHECK_THROWS_WITH(load_calendars_file(dir.path / "cal.yaml"),
                    Catch::Contains("calendars.nyse.holidaysFile") &&
                        Catch::Contains("extra.txt line 2") && Catch::Contains("2026-07-32") &&
                        Catch::Contains("(line 4)"));
  std::filesystem::remove(dir.path / "extra.txt");
  CHECK_THROWS_WITH(load_calendars_file(dir.path / "cal.yaml"), Catch::Contains("cannot read"));
}

TEST_CASE("bad calendars name the YAML path and line", "[config][calendar]") {
  CHECK(error_of(replace(kExample, "dayOfMonth: last-business-day", "dayOfMonth: 32")) ==
        "calendars.payroll.events[1].dayOfMonth: expected 1-31, last, or last-business-day (or -n "
        "for the n-th "
        "last business day, -1 to -23), got '32' (line 20)");
  CHECK(error_of(replace(kExample, "dayOfMonth: 15", "dayOfMonth: fifteenth")) ==
        "calendars.payroll.events[0].dayOfMonth: expected 1-31, last, or last-business-day (or -n "
        "for the n-th "
        "last business day, -1 to -23), got 'fifteenth' (line 15)");
  CHECK(error_of(replace(kExample, "    sessions:", "    session:")) ==
        "calendars.nyse.session: unknown key (expected one of: timezone, holidays, holidaysFile, "
        "businessDays, "
        "sessions, events) (line 5)");
  CHECK(error_of(replace(kExample, "2026-01-19", "2026-01-32")) ==
        "calendars.nyse.holidays[1]: bad date '2026-01-32': day 32 is not in that month (line 4)");
  CHECK_THAT(error_of(replace(kExample, "America/New_York\n    holidays",
                              "America/NewYork\n    holidays")),
             Catch::StartsWith("calendars.nyse.timezone: unknown time zone 'America/NewYork'") &&
                 Catch::EndsWith("(line 3)"));
  CHECK(error_of(replace(kExample, "businessDays: nyse", "businessDays: nasdaq")) ==
        "calendars.payroll.businessDays: unknown calendar 'nasdaq' (define it under calendars) "
        "(line 12)");
  CHECK(error_of(replace(kExample, "end: \"16:00\"", "end: \"09:00\"")) ==
        "calendars.nyse.sessions[0].end: end 09:00 must be after start 09:30 (windows lie within "
        "one local day) "
        "(line 9)");
  CHECK(error_of(replace(kExample, "[mon, tue, wed", "[mon, tues, wed")) ==
        "calendars.nyse.sessions[0].days[1]: bad weekday 'tues' (expected mon, tue, wed, thu, fri, "
        "sat or sun) "
        "(line 7)");
  CHECK(error_of(replace(kExample, "adjust: previous-business-day", "adjust: previous")) ==
        "calendars.payroll.events[0].adjust: expected none, previous-business-day or "
        "next-business-day, got "
        "'previous' (line 16)");
  CHECK(error_of(replace(
            kExample, "        start: \"06:00\"\n        end: \"11:00\"\n      - name: payroll-end",
            "        end: \"11:00\"\n      - name: payroll-end")) ==
        "calendars.payroll.events[0].start: missing (local start time, e.g. \"09:30\") (line 14)");
  CHECK(error_of(replace(kExample, "date: 2026-03-20", "when: 2026-03-20")) ==
        "calendars.payroll.events[2].when: unknown key (expected one of: name, dayOfMonth, date, "
        "dates, adjust, "
        "start, end) (line 24)");
  CHECK(error_of(replace(kExample, "    timezone: America/New_York\n    businessDays",
                         "    businessDays")) ==
        "calendars.payroll.timezone: missing (a tz database name such as America/New_York) (line "
        "11)");
  CHECK(
      error_of(replace(kExample, "name: payroll-end", "name: payroll-mid")) ==
      "calendars.payroll.events[1].name: 'payroll-mid' is already used in this calendar (line 19)");
  CHECK_THAT(error_of("calendars:\n  a: {timezone: UTC, businessDays: b}\n  b: {timezone: UTC, "
                      "businessDays: a}\n"),
             Catch::Contains("loops back"));
  CHECK_THAT(error_of("calendars: [1, 2"), Catch::StartsWith("invalid YAML"));
  CHECK_THAT(error_of("calendars:\n  x:\n    timezone: UTC\n    events:\n      - {name: e, start: "
                      "\"01:00\", end: \"02:00\"}\n"),
             Catch::Contains("calendars.x.events[0]: needs dayOfMonth"));
}

TEST_CASE("month-end forms: last, last-business-day, negative offsets, dates lists",
          "[config][calendar]") {
  const auto set = parse_calendars_document(R"(calendars:
  ops:
    timezone: Europe/Berlin
    events:
      - {name: month-end, dayOfMonth: last, start: "20:00", end: "23:00"}
      - {name: second-last, dayOfMonth: -2, start: "06:00", end: "07:00"}
      - {name: audits, dates: [2026-03-02, 2026-06-01], start: "08:00", end: "24:00"}
)",
                                            ".");
  const auto& events = set.find("ops")->definition().events;
  REQUIRE(events.size() == 3);
  CHECK(set.find("ops")->event_date(events[0], 2026, 2) == CivilDate{2026, 2, 28});
  CHECK(set.find("ops")->event_date(events[1], 2026, 2) == CivilDate{2026, 2, 26});
  CHECK(events[2].dates.size() == 2);
  CHECK(events[2].window.end_seconds == 86400);
  CHECK(parse_calendars_document("other: 1\n", ".").empty());
}
