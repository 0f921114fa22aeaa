#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "prescale/calendar/calendar.hpp"

using namespace prescale::calendar;

namespace {

std::int64_t utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
  return days_from_civil({year, month, day}) * 86400 + hour * 3600 + minute * 60;
}
CivilDate ymd(int year, unsigned month, unsigned day) {
  return {year, month, day};
}
TimeWindow window(int start_hour, int start_minute, int end_hour, int end_minute) {
  return {start_hour * 3600 + start_minute * 60, end_hour * 3600 + end_minute * 60};
}

// NYSE full-day closures in 2026 (nyse.com/markets/hours-calendars).
const std::vector<CivilDate> kNyse2026 = {
    ymd(2026, 1, 1),  ymd(2026, 1, 19), ymd(2026, 2, 16), ymd(2026, 4, 3),   ymd(2026, 5, 25),
    ymd(2026, 6, 19), ymd(2026, 7, 3),  ymd(2026, 9, 7),  ymd(2026, 11, 26), ymd(2026, 12, 25)};

CalendarSet payments() {
  CalendarDefinition nyse;
  nyse.name = "nyse";
  nyse.time_zone = "America/New_York";
  nyse.holidays = kNyse2026;
  nyse.sessions.push_back({"market-open", kMondayToFriday, window(9, 30, 16, 0)});
  CalendarDefinition payroll;
  payroll.name = "payroll";
  payroll.time_zone = "America/New_York";
  payroll.business_days_from = "nyse";
  payroll.events.push_back({"payroll-mid",
                            DayOfMonth::day(15),
                            {},
                            DayAdjustment::previous_business_day,
                            window(6, 0, 11, 0)});
  payroll.events.push_back({"payroll-end",
                            DayOfMonth::last_business_day(),
                            {},
                            DayAdjustment::none,
                            window(6, 0, 11, 0)});
  payroll.events.push_back({"quad-witching",
                            std::nullopt,
                            {ymd(2026, 3, 20)},
                            DayAdjustment::none,
                            window(9, 30, 16, 0)});
  auto set = CalendarSet::build({nyse, payroll});
  REQUIRE(set.has_value());
  return std::move(set).value();
}

std::vector<CivilDate> local_dates(const std::vector<Occurrence>& occurrences,
                                   const std::string& name) {
  std::vector<CivilDate> out;
  for (const auto& o : occurrences)
    if (o.name == name) out.push_back(o.local_date);
  return out;
}

CalendarSet single(CalendarDefinition def) {
  auto set = CalendarSet::build({std::move(def)});
  if (!set) FAIL(set.error().message);
  return std::move(set).value();
}

}  // namespace

TEST_CASE("civil dates round-trip through day numbers", "[calendar]") {
  CHECK(days_from_civil(ymd(1970, 1, 1)) == 0);
  CHECK(days_from_civil(ymd(2026, 1, 1)) == 20454);
  CHECK(weekday_of(ymd(2026, 1, 1)) == Weekday::thursday);
  CHECK(weekday_of(ymd(2026, 8, 15)) == Weekday::saturday);
  for (std::int64_t d = -800; d < 30000; d += 7) CHECK(days_from_civil(civil_from_days(d)) == d);
  CHECK(days_in_month(2026, 2) == 28);
  CHECK(days_in_month(2028, 2) == 29);
  CHECK(days_in_month(2100, 2) == 28);
  CHECK(days_in_month(2000, 2) == 29);
}

TEST_CASE("dates, times and weekdays parse strictly with messages naming the text", "[calendar]") {
  CHECK(parse_civil_date("2026-03-20").value() == ymd(2026, 3, 20));
  CHECK_THAT(parse_civil_date("2026-02-30").error().message, Catch::Contains("'2026-02-30'"));
  CHECK_FALSE(parse_civil_date("2026-13-01").has_value());
  CHECK_FALSE(parse_civil_date("26-01-01").has_value());
  CHECK_FALSE(parse_civil_date("2026/01/01").has_value());
  CHECK(parse_time_of_day("09:30").value() == 9 * 3600 + 1800);
  CHECK(parse_time_of_day("9:30").value() == 9 * 3600 + 1800);
  CHECK(parse_time_of_day("24:00").value() == 86400);
  CHECK(parse_time_of_day("16:00:30").value() == 16 * 3600 + 30);
  CHECK_FALSE(parse_time_of_day("24:01").has_value());
  CHECK_FALSE(parse_time_of_day("09:60").has_value());
  CHECK_FALSE(parse_time_of_day("0930").has_value());
  CHECK(format_time_of_day(6 * 3600) == "06:00");
  CHECK(parse_weekday("Mon").value() == Weekday::monday);
  CHECK(parse_weekday("sunday").value() == Weekday::sunday);
  CHECK_THAT(parse_weekday("mo").error().message, Catch::Contains("'mo'"));
}

TEST_CASE("business days exclude weekends and inherited holidays", "[calendar]") {
  const CalendarSet set = payments();
  const Calendar& payroll = *set.find("payroll");
  CHECK(payroll.is_business_day(ymd(2026, 1, 2)));
  CHECK_FALSE(payroll.is_business_day(ymd(2026, 1, 1)));   // holiday from nyse
  CHECK_FALSE(payroll.is_business_day(ymd(2026, 1, 3)));   // Saturday
  CHECK_FALSE(payroll.is_business_day(ymd(2026, 1, 4)));   // Sunday
  CHECK_FALSE(payroll.is_business_day(ymd(2026, 1, 19)));  // MLK day
  CHECK(payroll.business_days_left_in_month(ymd(2026, 3, 7)) == 17);
  CHECK(payroll.business_days_left_in_month(ymd(2026, 3, 31)) == 0);
  CHECK(payroll.business_days_left_in_month(ymd(2026, 1, 30)) == 0);  // Jan 31 is a Saturday
}

TEST_CASE("payroll dates across 2026: 15th moved back, last business day", "[calendar][payroll]") {
  const CalendarSet set = payments();
  const auto all = set.find("payroll")->occurrences(utc(2026, 1, 1), utc(2027, 1, 1));
  // Months of 28 to 31 days; the 15th on a Saturday (Aug) or Sunday (Feb, Mar,
  // Nov) moves to the Friday before; month ends on weekends move back.
  const std::vector<CivilDate> mid = {ymd(2026, 1, 15),  ymd(2026, 2, 13),  ymd(2026, 3, 13),
                                      ymd(2026, 4, 15),  ymd(2026, 5, 15),  ymd(2026, 6, 15),
                                      ymd(2026, 7, 15),  ymd(2026, 8, 14),  ymd(2026, 9, 15),
                                      ymd(2026, 10, 15), ymd(2026, 11, 13), ymd(2026, 12, 15)};
  const std::vector<CivilDate> end = {ymd(2026, 1, 30),  ymd(2026, 2, 27),  ymd(2026, 3, 31),
                                      ymd(2026, 4, 30),  ymd(2026, 5, 29),  ymd(2026, 6, 30),
                                      ymd(2026, 7, 31),  ymd(2026, 8, 31),  ymd(2026, 9, 30),
                                      ymd(2026, 10, 30), ymd(2026, 11, 30), ymd(2026, 12, 31)};
  CHECK(local_dates(all, "payroll-mid") == mid);
  CHECK(local_dates(all, "payroll-end") == end);
  CHECK(local_dates(all, "quad-witching") == std::vector<CivilDate>{ymd(2026, 3, 20)});
  for (const auto& o : all) {
    if (o.name == "quad-witching") continue;
    // 06:00-11:00 New York: 11:00Z-16:00Z in winter, 10:00Z-15:00Z in summer.
    const bool summer = o.local_date > ymd(2026, 3, 8) && o.local_date < ymd(2026, 11, 1);
    const std::int64_t midnight = days_from_civil(o.local_date) * 86400;
    CHECK(o.start_unix == midnight + (summer ? 10 : 11) * 3600);
    CHECK(o.end_unix - o.start_unix == 5 * 3600);
  }
}

TEST_CASE("month-end rules: holidays at the month end, last day, n-th last, leap February",
          "[calendar][payroll]") {
  CalendarDefinition bank;
  bank.name = "bank";
  bank.time_zone = "Europe/London";
  bank.holidays = {ymd(2026, 12, 31), ymd(2026, 12, 28)};  // a bank closed on New Year's Eve
  bank.events.push_back(
      {"end", DayOfMonth::last_business_day(), {}, DayAdjustment::none, window(6, 0, 11, 0)});
  bank.events.push_back({"second-last",
                         DayOfMonth::last_business_day(2),
                         {},
                         DayAdjustment::none,
                         window(6, 0, 7, 0)});
  bank.events.push_back(
      {"calendar-end", DayOfMonth::last_day(), {}, DayAdjustment::none, window(20, 0, 23, 0)});
  bank.events.push_back({"thirty-first",
                         DayOfMonth::day(31),
                         {},
                         DayAdjustment::next_business_day,
                         window(1, 0, 2, 0)});
  const CalendarSet set = single(bank);
  const Calendar& calendar = set.calendars().front();
  const auto dec = calendar.occurrences(utc(2026, 12, 1), utc(2027, 1, 1));
  CHECK(local_dates(dec, "end") == std::vector<CivilDate>{ymd(2026, 12, 30)});
  CHECK(local_dates(dec, "second-last") == std::vector<CivilDate>{ymd(2026, 12, 29)});
  CHECK(local_dates(dec, "calendar-end") == std::vector<CivilDate>{ymd(2026, 12, 31)});
  // "31" past a short month's end is its last day; Feb 28 2026 is a Saturday.
  CHECK(calendar.event_date(bank.events[3], 2026, 2) == ymd(2026, 3, 2));
  CHECK(calendar.event_date(bank.events[3], 2026, 4) == ymd(2026, 4, 30));
  CHECK(calendar.event_date(bank.events[0], 2028, 2) == ymd(2028, 2, 29));
  CHECK(calendar.event_date(bank.events[2], 2028, 2) == ymd(2028, 2, 29));
}

TEST_CASE("NYSE sessions follow New York time across both 2026 US DST changes", "[calendar][dst]") {
  const CalendarSet set = payments();
  const Calendar& nyse = *set.find("nyse");
  const auto march = nyse.occurrences(utc(2026, 3, 6), utc(2026, 3, 10));
  REQUIRE(march.size() == 2);  // Fri Mar 6, Mon Mar 9 (the weekend has no session)
  CHECK(march[0].start_unix == utc(2026, 3, 6, 14, 30));  // EST
  CHECK(march[1].start_unix == utc(2026, 3, 9, 13, 30));  // EDT after Mar 8
  CHECK(march[1].end_unix == utc(2026, 3, 9, 20, 0));
  const auto november = nyse.occurrences(utc(2026, 10, 30), utc(2026, 11, 3));
  REQUIRE(november.size() == 2);
  CHECK(november[0].start_unix == utc(2026, 10, 30, 13, 30));  // EDT
  CHECK(november[1].start_unix == utc(2026, 11, 2, 14, 30));   // EST after Nov 1
  // Holidays have no session: Good Friday, Apr 3.
  CHECK(nyse.occurrences(utc(2026, 4, 3), utc(2026, 4, 4)).empty());
}

TEST_CASE("XETRA sessions follow Berlin time across the 2026 EU DST changes", "[calendar][dst]") {
  CalendarDefinition xetra;
  xetra.name = "xetra";
  xetra.time_zone = "Europe/Berlin";
  xetra.sessions.push_back({"trading", kMondayToFriday, window(9, 0, 17, 30)});
  const CalendarSet set =
      CalendarSet::build({xetra, payments().find("nyse")->definition()}).value();
  const auto spring = set.find("xetra")->occurrences(utc(2026, 3, 27), utc(2026, 3, 31));
  REQUIRE(spring.size() == 2);
  CHECK(spring[0].start_unix == utc(2026, 3, 27, 8, 0));  // CET, Fri before Mar 29
  CHECK(spring[1].start_unix == utc(2026, 3, 30, 7, 0));  // CEST
  const auto autumn = set.find("xetra")->occurrences(utc(2026, 10, 23), utc(2026, 10, 27));
  REQUIRE(autumn.size() == 2);
  CHECK(autumn[0].start_unix == utc(2026, 10, 23, 7, 0));  // CEST, Fri before Oct 25
  CHECK(autumn[1].start_unix == utc(2026, 10, 26, 8, 0));  // CET
  // Between Mar 8 and Mar 29 New York has moved and Berlin has not: the two
  // opens are 5.5 h apart instead of 6.5 h.
  const auto both = set.occurrences(utc(2026, 3, 16), utc(2026, 3, 17));
  REQUIRE(both.size() == 2);
  CHECK(both[1].start_unix - both[0].start_unix == 5 * 3600 + 1800);
  const auto later = set.occurrences(utc(2026, 4, 6), utc(2026, 4, 7));
  REQUIRE(later.size() == 2);
  CHECK(later[1].start_unix - later[0].start_unix == 6 * 3600 + 1800);
}

TEST_CASE("Sydney sessions follow southern-hemisphere DST (Apr 5 and Oct 4 2026)",
          "[calendar][dst]") {
  CalendarDefinition asx;
  asx.name = "asx";
  asx.time_zone = "Australia/Sydney";
  asx.sessions.push_back({"trading", kMondayToFriday, window(10, 0, 16, 0)});
  const CalendarSet set = single(asx);
  const auto all = set.occurrences(utc(2026, 3, 30), utc(2026, 10, 10));
  std::vector<std::int64_t> offsets_hours;
  for (const auto& o : all)
    offsets_hours.push_back((days_from_civil(o.local_date) * 86400 + 10 * 3600 - o.start_unix) /
                            3600);
  REQUIRE(!all.empty());
  for (std::size_t i = 0; i < all.size(); ++i) {
    const CivilDate d = all[i].local_date;
    const bool daylight = d < ymd(2026, 4, 5) || d > ymd(2026, 10, 4);
    CHECK(offsets_hours[i] == (daylight ? 11 : 10));
  }
  // Fri Apr 3 opens at 10:00 AEDT = Apr 2 23:00Z; Mon Apr 6 at 10:00 AEST = 00:00Z.
  CHECK(set.occurrences(utc(2026, 4, 2, 22), utc(2026, 4, 3, 1)).front().start_unix ==
        utc(2026, 4, 2, 23));
  CHECK(set.occurrences(utc(2026, 4, 5, 22), utc(2026, 4, 6, 1)).front().start_unix ==
        utc(2026, 4, 6, 0));
  CHECK(set.occurrences(utc(2026, 10, 4, 22), utc(2026, 10, 5, 1)).front().start_unix ==
        utc(2026, 10, 4, 23));
}

TEST_CASE("events on a 25-hour day and in a spring-forward gap keep wall-clock bounds",
          "[calendar][dst]") {
  CalendarDefinition ops;
  ops.name = "ops";
  ops.time_zone = "America/New_York";
  ops.events.push_back(
      {"night-batch", std::nullopt, {ymd(2026, 11, 1)}, DayAdjustment::none, window(0, 0, 4, 0)});
  ops.events.push_back(
      {"doubled-hour", std::nullopt, {ymd(2026, 11, 1)}, DayAdjustment::none, window(1, 0, 2, 0)});
  ops.events.push_back(
      {"gap-start", std::nullopt, {ymd(2026, 3, 8)}, DayAdjustment::none, window(2, 30, 5, 0)});
  ops.events.push_back(
      {"in-gap", std::nullopt, {ymd(2026, 3, 8)}, DayAdjustment::none, window(2, 0, 2, 30)});
  const CalendarSet set = single(ops);
  const auto nov = set.occurrences(utc(2026, 11, 1), utc(2026, 11, 2));
  REQUIRE(nov.size() == 2);
  CHECK(nov[0].name == "night-batch");
  CHECK(nov[0].start_unix == utc(2026, 11, 1, 4));  // 00:00 EDT
  CHECK(nov[0].end_unix == utc(2026, 11, 1, 9));    // 04:00 EST: five real hours
  CHECK(nov[1].name == "doubled-hour");
  CHECK(nov[1].start_unix == utc(2026, 11, 1, 5));  // the first 01:00 (EDT)
  CHECK(nov[1].end_unix == utc(2026, 11, 1, 7));    // 02:00 EST: two real hours
  const auto mar = set.occurrences(utc(2026, 3, 8), utc(2026, 3, 9));
  REQUIRE(mar.size() == 1);  // 02:00-02:30 does not exist on Mar 8
  CHECK(mar[0].name == "gap-start");
  CHECK(mar[0].start_unix == utc(2026, 3, 8, 7));  // 02:30 is skipped to 03:00 EDT
  CHECK(mar[0].end_unix == utc(2026, 3, 8, 9));
}

TEST_CASE("active occurrences per grid sample explain what is on", "[calendar]") {
  const CalendarSet set = payments();
  // 2026-03-31 (Tue, last business day, EDT) at 10-minute steps.
  const std::int64_t start = utc(2026, 3, 31, 9, 0);
  const auto active = set.active_on_grid(start, 600, 12 * 6);
  REQUIRE(active.rows() == 72);
  auto names_at = [&](std::size_t row) {
    std::vector<std::string> names;
    for (auto k : active.active(row)) names.push_back(active.occurrences[k].qualified_name());
    return names;
  };
  CHECK(names_at(0).empty());                                             // 05:00 local
  CHECK(names_at(6) == std::vector<std::string>{"payroll.payroll-end"});  // 06:00 local
  CHECK(names_at(27) ==
        (std::vector<std::string>{"payroll.payroll-end", "nyse.market-open"}));  // 09:30
  CHECK(names_at(36) == std::vector<std::string>{"nyse.market-open"});  // 11:00: payroll has ended
  const auto now = set.active_at(utc(2026, 3, 31, 10, 30));
  REQUIRE(now.size() == 1);
  CHECK(now[0].describe() == "calendar event payroll.payroll-end (06:00-11:00 America/New_York)");
}

TEST_CASE("bad definitions are errors naming the calendar and field", "[calendar]") {
  CalendarDefinition a;
  a.name = "a";
  a.time_zone = "Nowhere/City";
  CHECK_THAT(CalendarSet::build({a}).error().message, Catch::Contains("calendars.a.timezone"));
  a.time_zone = "UTC";
  a.business_days_from = "b";
  CHECK_THAT(CalendarSet::build({a}).error().message, Catch::Contains("unknown calendar 'b'"));
  CalendarDefinition b;
  b.name = "b";
  b.business_days_from = "a";
  CHECK_THAT(CalendarSet::build({a, b}).error().message, Catch::Contains("loops"));
  a.business_days_from.clear();
  a.sessions.push_back({"s", kMondayToFriday, window(16, 0, 9, 30)});
  CHECK_THAT(CalendarSet::build({a}).error().message, Catch::Contains("calendars.a.sessions[0]"));
}
