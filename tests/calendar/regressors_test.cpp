#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "prescale/calendar/regressors.hpp"

using namespace prescale::calendar;

namespace {
std::int64_t utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
  return days_from_civil({year, month, day}) * 86400 + hour * 3600 + minute * 60;
}

CalendarSet new_york_ops() {
  CalendarDefinition nyse;
  nyse.name = "nyse";
  nyse.time_zone = "America/New_York";
  nyse.holidays = {{2026, 1, 19}};
  nyse.sessions.push_back({"market-open", kMondayToFriday, {9 * 3600 + 1800, 16 * 3600}});
  CalendarDefinition ops;
  ops.name = "ops";
  ops.time_zone = "America/New_York";
  ops.business_days_from = "nyse";
  // On the 23-hour day 2026-03-08: 00:00-06:00 local lasts five real hours.
  ops.events.push_back({"early", std::nullopt, {{2026, 3, 8}}, DayAdjustment::none, {0, 6 * 3600}});
  auto set = CalendarSet::build({nyse, ops});
  REQUIRE(set.has_value());
  return std::move(set).value();
}
}  // namespace

TEST_CASE("elapsed buckets are geometric in steps and bounded", "[calendar][regressors]") {
  CHECK(elapsed_bucket_count(1, 12) == 1);
  CHECK(elapsed_bucket_count(2, 12) == 2);
  CHECK(elapsed_bucket_count(6, 12) == 4);     // [0,1) [1,2) [2,4) [4,..)
  CHECK(elapsed_bucket_count(390, 12) == 10);  // 09:30-16:00 at 1 minute
  CHECK(elapsed_bucket_count(390, 6) == 6);
  CHECK(elapsed_bucket_count(78, 12) == 8);  // the same session at 5 minutes
  CHECK(elapsed_bucket(0, 10) == 0);
  CHECK(elapsed_bucket(1, 10) == 1);
  CHECK(elapsed_bucket(3, 10) == 2);
  CHECK(elapsed_bucket(4, 10) == 3);
  CHECK(elapsed_bucket(389, 10) == 9);
  CHECK(elapsed_bucket(100000, 10) == 9);  // clamped to the open-ended last bucket
}

TEST_CASE("regressor columns on a 23-hour day follow local time", "[calendar][regressors][dst]") {
  const CalendarSet set = new_york_ops();
  // Hourly from 2026-03-07 00:00 EST for three local days (71 real hours).
  const std::int64_t start = utc(2026, 3, 7, 5);
  const auto m = calendar_regressors(set, start, 3600, 71);
  REQUIRE(m.rows == 71);
  REQUIRE(m.values.size() == m.rows * m.cols());
  // ops borrows nyse's business days: one pair of business-day columns only.
  CHECK(m.column("nyse.business_day") < m.cols());
  CHECK(m.column("ops.business_day") == m.cols());
  const std::vector<std::string> early = {"ops.early.on", "ops.early.elapsed[0,1)",
                                          "ops.early.elapsed[1,2)", "ops.early.elapsed[2,4)"};
  for (const auto& name : early) REQUIRE(m.column(name) < m.cols());
  CHECK(m.column("ops.early.elapsed[4,8)") == m.cols());  // the last bucket is the .on baseline

  auto value = [&](std::int64_t t, const std::string& name) {
    return m.at(static_cast<std::size_t>((t - start) / 3600), m.column(name));
  };
  // 2026-03-08 00:00 EST = 05:00Z; 06:00 EDT = 10:00Z: five hourly samples.
  CHECK(value(utc(2026, 3, 8, 4), "ops.early.on") == 0);
  for (int h = 5; h < 10; ++h) CHECK(value(utc(2026, 3, 8, h), "ops.early.on") == 1);
  CHECK(value(utc(2026, 3, 8, 10), "ops.early.on") == 0);
  CHECK(value(utc(2026, 3, 8, 5), "ops.early.elapsed[0,1)") == 1);
  CHECK(value(utc(2026, 3, 8, 6), "ops.early.elapsed[1,2)") == 1);
  CHECK(value(utc(2026, 3, 8, 7), "ops.early.elapsed[2,4)") == 1);
  CHECK(value(utc(2026, 3, 8, 8), "ops.early.elapsed[2,4)") == 1);
  CHECK(value(utc(2026, 3, 8, 9), "ops.early.elapsed[2,4)") == 0);  // tail: .on alone
  // The local date changes at local midnight: 23:00 EST Saturday is 04:00Z.
  CHECK(value(utc(2026, 3, 8, 4), "nyse.business_days_to_month_end") == 17);
  CHECK(value(utc(2026, 3, 8, 4), "nyse.business_day") == 0);
  // Monday Mar 9 begins at 04:00Z (EDT): a business day, 16 left after it.
  CHECK(value(utc(2026, 3, 9, 3), "nyse.business_day") == 0);
  CHECK(value(utc(2026, 3, 9, 4), "nyse.business_day") == 1);
  CHECK(value(utc(2026, 3, 9, 4), "nyse.business_days_to_month_end") == 16);
  // The session opens at 13:30Z on Monday (EDT); hourly samples hit 14:00Z first.
  CHECK(value(utc(2026, 3, 9, 13), "nyse.market-open.on") == 0);
  CHECK(value(utc(2026, 3, 9, 14), "nyse.market-open.on") == 1);
  CHECK(value(utc(2026, 3, 9, 19), "nyse.market-open.on") == 1);
  CHECK(value(utc(2026, 3, 9, 20), "nyse.market-open.on") == 0);
  // Every row's elapsed columns add up to at most its .on column.
  for (std::size_t r = 0; r < m.rows; ++r) {
    double sum = 0;
    for (std::size_t c = m.column("ops.early.elapsed[0,1)");
         c <= m.column("ops.early.elapsed[2,4)"); ++c)
      sum += m.at(r, c);
    CHECK(sum <= m.at(r, m.column("ops.early.on")));
  }
}

TEST_CASE("minute regressors resolve the market-open burst in both DST regimes",
          "[calendar][regressors][dst]") {
  const CalendarSet set = new_york_ops();
  for (const auto& [day_start, open] : {std::pair{utc(2026, 1, 16, 0), utc(2026, 1, 16, 14, 30)},
                                        std::pair{utc(2026, 7, 16, 0), utc(2026, 7, 16, 13, 30)}}) {
    const auto m = calendar_regressors(set, day_start, 60, 1440);
    const std::size_t on = m.column("nyse.market-open.on");
    const std::size_t first = m.column("nyse.market-open.elapsed[0,1)");
    const std::size_t fourth = m.column("nyse.market-open.elapsed[4,8)");
    REQUIRE(first < m.cols());
    const auto row = static_cast<std::size_t>((open - day_start) / 60);
    CHECK(m.at(row - 1, on) == 0);
    CHECK(m.at(row, on) == 1);
    CHECK(m.at(row, first) == 1);
    CHECK(m.at(row + 5, fourth) == 1);
    CHECK(m.at(row + 389, on) == 1);
    CHECK(m.at(row + 390, on) == 0);
  }
  // A holiday (MLK day) has the session columns all zero.
  const auto holiday = calendar_regressors(set, utc(2026, 1, 19, 5), 60, 1440);
  const std::size_t on = holiday.column("nyse.market-open.on");
  double total = 0;
  for (std::size_t r = 0; r < holiday.rows; ++r) total += holiday.at(r, on);
  CHECK(total == 0);
}

TEST_CASE("options bound the columns", "[calendar][regressors]") {
  const CalendarSet set = new_york_ops();
  RegressorOptions only_on;
  only_on.max_elapsed_buckets = 1;
  only_on.business_day_columns = false;
  const auto m = calendar_regressors(set, utc(2026, 3, 2), 300, 288, only_on);
  CHECK(m.names == std::vector<std::string>{"nyse.market-open.on", "ops.early.on"});
  CHECK(calendar_regressors(set, 0, 60, 0).values.empty());
  RegressorOptions ops_only;
  ops_only.calendars = {"ops"};
  const auto ops = calendar_regressors(set, utc(2026, 3, 8, 5), 3600, 3, ops_only);
  CHECK(ops.names == std::vector<std::string>{"ops.business_day", "ops.business_days_to_month_end",
                                              "ops.early.on", "ops.early.elapsed[0,1)",
                                              "ops.early.elapsed[1,2)", "ops.early.elapsed[2,4)"});
  CHECK(ops.at(0, 2) == 1);
  CHECK(ops.at(1, 4) == 1);
}
