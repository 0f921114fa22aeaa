#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/config/calendars_yaml.hpp"
#include "test_support.hpp"

using namespace prescale;
using autoscaler::generate_trace;
using autoscaler::TraceKind;
using autoscaler::TraceOptions;
using calendar::CivilDate;

namespace {

std::int64_t utc(int year, unsigned month, unsigned day, int hour = 0, int minute = 0) {
  return calendar::days_from_civil({year, month, day}) * 86400 + hour * 3600 + minute * 60;
}

const calendar::TimeZone& new_york() {
  static const calendar::TimeZone zone = calendar::TimeZone::find("America/New_York").value();
  return zone;
}
std::int64_t ny(int year, unsigned month, unsigned day, int hour, int minute = 0) {
  return new_york().to_utc(calendar::days_from_civil({year, month, day}) * 86400 + hour * 3600 +
                           minute * 60);
}

// The example trace: 12 weeks of 1-minute samples from 2026-02-02.
TraceOptions twelve_weeks() {
  TraceOptions options;
  options.start_unix = ny(2026, 2, 2, 0);
  options.days = 84;
  options.step_seconds = 60;
  options.seed = 1;
  return options;
}

// Mean of the samples in [from, to).
double mean(const forecast::Series& s, std::int64_t from, std::int64_t to) {
  double sum = 0;
  int n = 0;
  for (std::int64_t t = from; t < to; t += s.step_seconds) {
    const auto i = static_cast<std::size_t>((t - s.start_unix) / s.step_seconds);
    REQUIRE(i < s.size());
    sum += s.values[i];
    ++n;
  }
  return sum / n;
}

// Rise of the load just after a UTC instant over the 20 minutes before it, in
// units of the busy-hour level (additive: payroll mornings triple the base).
double jump_at(const forecast::Series& s, std::int64_t instant, double level) {
  return (mean(s, instant + 3 * 60, instant + 10 * 60) -
          mean(s, instant - 20 * 60, instant - 5 * 60)) /
         level;
}

}  // namespace

TEST_CASE("the market-open burst is at 14:30Z in winter and 13:30Z in summer, never on holidays",
          "[autoscaler][trace]") {
  TraceOptions options = twelve_weeks();
  options.random_spikes = false;  // keeps every per-day comparison about the calendar alone
  const auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  REQUIRE(trace->size() == 84u * 1440u);
  const CivilDate holidays[] = {{2026, 2, 16}, {2026, 4, 3}};
  int business_days = 0;
  for (CivilDate d = {2026, 2, 2}; d < CivilDate{2026, 4, 27};
       d = calendar::civil_from_days(calendar::days_from_civil(d) + 1)) {
    const bool summer = d > CivilDate{2026, 3, 8};
    const std::int64_t open = utc(d.year, d.month, d.day, summer ? 13 : 14, 30);
    const std::int64_t not_open = utc(d.year, d.month, d.day, summer ? 14 : 13, 30);
    const bool weekend = calendar::weekday_of(d) >= calendar::Weekday::saturday;
    const bool holiday = d == holidays[0] || d == holidays[1];
    INFO(calendar::to_string(d));
    if (weekend || holiday) {
      CHECK(jump_at(*trace, open, options.level) < 0.25);
    } else {
      ++business_days;
      const double at_open = jump_at(*trace, open, options.level);
      CHECK(at_open > 0.6);
      // An hour off (the other DST regime) there is no burst, only the rhythm.
      CHECK(jump_at(*trace, not_open, options.level) < at_open - 0.4);
    }
  }
  CHECK(business_days == 58);
}

TEST_CASE(
    "a fixed open-burst size gives every business day the same burst; without one, each day "
    "draws its own",
    "[autoscaler][trace][events]") {
  // Noise-free, no payroll: the load less the same trace without the open is the burst alone.
  TraceOptions base = twelve_weeks();
  base.noise = 0;
  base.random_spikes = false;
  base.payroll = false;
  TraceOptions closed = base;
  closed.market_open = false;
  TraceOptions fixed = base;
  fixed.open_burst_size = 1.3;
  const auto without = generate_trace(closed), drawn = generate_trace(base),
             same = generate_trace(fixed);
  REQUIRE(without.has_value());
  REQUIRE(drawn.has_value());
  REQUIRE(same.has_value());
  // 09:35 New York, 5 minutes into the burst, on a Tuesday in winter and a Wednesday in summer.
  auto burst = [&](const forecast::Series& s, CivilDate d) {
    const auto i = static_cast<std::size_t>((ny(d.year, d.month, d.day, 9, 35) - s.start_unix) /
                                            s.step_seconds);
    return s.values[i] - without->values[i];
  };
  const CivilDate tuesday{2026, 2, 3}, wednesday{2026, 3, 11};
  // +8 % for the session plus 1.3 x the burst's curve 5 minutes in, (1 - e^-2.5) e^-0.2.
  const double expected = 1000 * (0.08 + 1.3 * (1 - std::exp(-2.5)) * std::exp(-0.2));
  CHECK(burst(*same, tuesday) == Approx(expected).margin(0.002));
  CHECK(burst(*same, wednesday) == Approx(expected).margin(0.002));
  CHECK(std::abs(burst(*drawn, tuesday) - burst(*drawn, wednesday)) > 1);
  TraceOptions bad = base;
  bad.open_burst_size = -0.5;
  CHECK_THAT(generate_trace(bad).error().message, Catch::Contains("--open-burst-size"));
}

TEST_CASE("payroll surges land on the 15th (moved back) and the last business day",
          "[autoscaler][trace]") {
  TraceOptions options = twelve_weeks();
  options.random_spikes = false;
  const auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  // Mornings 07:30-09:15 New York (before the market opens) against the same
  // weekday a week earlier, which is not a payroll day.
  auto surge = [&](CivilDate day) {
    const CivilDate before = calendar::civil_from_days(calendar::days_from_civil(day) - 7);
    return mean(*trace, ny(day.year, day.month, day.day, 7, 30),
                ny(day.year, day.month, day.day, 9, 15)) /
           mean(*trace, ny(before.year, before.month, before.day, 7, 30),
                ny(before.year, before.month, before.day, 9, 15));
  };
  // Feb 15 is a Sunday and Feb 16 a holiday: Friday the 13th. Feb 28 is a
  // Saturday: Friday the 27th. Mar 15 is a Sunday: the 13th.
  for (CivilDate payday : {CivilDate{2026, 2, 13}, CivilDate{2026, 2, 27}, CivilDate{2026, 3, 13},
                           CivilDate{2026, 3, 31}, CivilDate{2026, 4, 15}}) {
    INFO(calendar::to_string(payday));
    CHECK(surge(payday) > 2.0);
    CHECK(surge(payday) < 4.5);
  }
  for (CivilDate ordinary : {CivilDate{2026, 2, 12}, CivilDate{2026, 2, 26}, CivilDate{2026, 3, 30},
                             CivilDate{2026, 4, 14}, CivilDate{2026, 4, 16}}) {
    INFO(calendar::to_string(ordinary));
    CHECK(surge(ordinary) < 1.3);
    CHECK(surge(ordinary) > 0.75);
  }
  // The surge starts at 06:00 local: before 06:00 the payday is ordinary.
  CHECK(mean(*trace, ny(2026, 2, 27, 4), ny(2026, 2, 27, 5, 45)) /
            mean(*trace, ny(2026, 2, 20, 4), ny(2026, 2, 20, 5, 45)) <
        1.3);
}

TEST_CASE("the trace is deterministic for a seed and extends itself", "[autoscaler][trace]") {
  TraceOptions options = twelve_weeks();
  options.days = 14;
  const auto a = generate_trace(options);
  const auto b = generate_trace(options);
  REQUIRE(a.has_value());
  CHECK(a->values == b->values);
  options.seed = 2;
  const auto other = generate_trace(options);
  CHECK(other->values != a->values);
  options.seed = 1;
  options.days = 7;
  const auto shorter = generate_trace(options);
  REQUIRE(shorter->size() == a->size() / 2);
  CHECK(std::equal(shorter->values.begin(), shorter->values.end(), a->values.begin()));
}

TEST_CASE("shape: night trough, weekends lower, small random spikes, no gaps",
          "[autoscaler][trace]") {
  const auto trace = generate_trace(twelve_weeks());
  REQUIRE(trace.has_value());
  CHECK(trace->missing_count() == 0);
  for (double v : trace->values) REQUIRE(v >= 0);
  const double night = mean(*trace, ny(2026, 2, 4, 3), ny(2026, 2, 4, 4));
  const double midday = mean(*trace, ny(2026, 2, 4, 10, 30), ny(2026, 2, 4, 11, 30));
  CHECK(night / midday < 0.4);
  const double saturday = mean(*trace, ny(2026, 2, 7, 10, 30), ny(2026, 2, 7, 11, 30));
  CHECK(saturday / midday < 0.8);
  // With spikes on, some samples differ from the spike-free trace by > 15%.
  TraceOptions quiet = twelve_weeks();
  quiet.random_spikes = false;
  const auto without = generate_trace(quiet);
  int spiky = 0;
  for (std::size_t i = 0; i < trace->size(); ++i)
    spiky += trace->values[i] > 1.15 * without->values[i] ? 1 : 0;
  CHECK(spiky > 20);
  CHECK(spiky < 2000);
}

TEST_CASE("crossing DST keeps the rhythm continuous in local time", "[autoscaler][trace][dst]") {
  TraceOptions options = twelve_weeks();
  options.noise = 0;
  options.random_spikes = false;
  const auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  for (std::int64_t t = utc(2026, 3, 8, 0); t < utc(2026, 3, 9, 0); t += 60) {
    const auto i = static_cast<std::size_t>((t - trace->start_unix) / 60);
    // At 07:00Z the wall clock skips 02:00-03:00: the night profile moves an hour.
    const double tolerance = t + 60 == utc(2026, 3, 8, 7) ? 0.15 : 0.05;
    CHECK(std::abs(trace->values[i + 1] / trace->values[i] - 1) < tolerance);
  }
  // The same local hour has the same level on both sides of the change.
  CHECK(mean(*trace, ny(2026, 3, 7, 4), ny(2026, 3, 7, 5)) ==
        Approx(mean(*trace, ny(2026, 3, 14, 4), ny(2026, 3, 14, 5))).epsilon(0.03));
}

TEST_CASE("outages halve traffic; unannounced spikes stand out of a flat trace",
          "[autoscaler][trace]") {
  TraceOptions options = twelve_weeks();
  options.days = 14;
  const auto normal = generate_trace(options);
  const auto outage_window = autoscaler::parse_trace_window("2026-02-10T14:00Z/1h", new_york());
  REQUIRE(outage_window.has_value());
  options.outages.push_back(*outage_window);
  const auto outage = generate_trace(options);
  for (std::size_t i = 0; i < normal->size(); ++i) {
    const std::int64_t t = normal->time_at(i);
    const bool inside = t >= utc(2026, 2, 10, 14) && t < utc(2026, 2, 10, 15);
    REQUIRE(outage->values[i] == Approx(normal->values[i] * (inside ? 0.5 : 1.0)).margin(0.001));
  }

  TraceOptions flat;
  flat.kind = TraceKind::flat_spike;
  flat.start_unix = ny(2026, 2, 2, 0);
  flat.days = 28;
  const auto spiked = generate_trace(flat);
  REQUIRE(spiked.has_value());
  // Default spike: day 21 (Feb 23), 15:00-15:45 New York, x3 at its peak.
  CHECK(mean(*spiked, ny(2026, 2, 23, 15, 10), ny(2026, 2, 23, 15, 25)) > 2.5 * flat.level);
  CHECK(mean(*spiked, ny(2026, 2, 23, 12), ny(2026, 2, 23, 14)) ==
        Approx(flat.level).epsilon(0.05));
  flat.kind = TraceKind::flat;
  const auto plain = generate_trace(flat);
  const double peak = *std::max_element(plain->values.begin(), plain->values.end());
  CHECK(peak < 1.4 * flat.level);
  CHECK(std::accumulate(plain->values.begin(), plain->values.end(), 0.0) / plain->size() ==
        Approx(flat.level).epsilon(0.02));
}

TEST_CASE("the trace's calendars are the shipped config/calendars/payments.yaml",
          "[autoscaler][trace]") {
  const auto shipped =
      config::load_calendars_file(test::source_dir() / "config" / "calendars" / "payments.yaml");
  const auto built = autoscaler::payments_calendars();
  REQUIRE(built.has_value());
  REQUIRE(shipped.calendars().size() == built->calendars().size());
  for (const auto& calendar : built->calendars()) {
    const auto* twin = shipped.find(calendar.name());
    REQUIRE(twin != nullptr);
    CHECK(twin->holiday_days() == calendar.holiday_days());
    CHECK(twin->time_zone().name() == calendar.time_zone().name());
  }
  const auto a = shipped.occurrences(utc(2025, 1, 1), utc(2028, 1, 1));
  const auto b = built->occurrences(utc(2025, 1, 1), utc(2028, 1, 1));
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].qualified_name() == b[i].qualified_name());
    CHECK(a[i].start_unix == b[i].start_unix);
    CHECK(a[i].end_unix == b[i].end_unix);
  }
}

TEST_CASE("trace times and windows parse local dates, RFC 3339 and durations",
          "[autoscaler][trace]") {
  using autoscaler::parse_trace_time;
  CHECK(parse_trace_time("2026-02-02", new_york()).value() == utc(2026, 2, 2, 5));
  CHECK(parse_trace_time("2026-07-01", new_york()).value() == utc(2026, 7, 1, 4));
  CHECK(parse_trace_time("2026-07-01T09:30", new_york()).value() == utc(2026, 7, 1, 13, 30));
  CHECK(parse_trace_time("2026-03-10T14:00Z", new_york()).value() == utc(2026, 3, 10, 14));
  CHECK(parse_trace_time("2026-03-10T14:00:00-05:00", new_york()).value() == utc(2026, 3, 10, 19));
  CHECK(parse_trace_time("2026-03-10T14:00+01:00", new_york()).value() == utc(2026, 3, 10, 13));
  CHECK_THAT(parse_trace_time("2026-03-10T25:00Z", new_york()).error().message,
             Catch::Contains("'2026-03-10T25:00Z'"));
  CHECK_FALSE(parse_trace_time("yesterday", new_york()).has_value());
  const auto window = autoscaler::parse_trace_window("2026-03-10T14:00Z/1h30m", new_york());
  CHECK(window->end_unix - window->start_unix == 5400);
  CHECK_THAT(autoscaler::parse_trace_window("2026-03-10T14:00Z", new_york()).error().message,
             Catch::Contains("<start>/<duration>"));
  CHECK_THAT(autoscaler::parse_trace_kind("sine").error().message,
             Catch::Contains("payments, flat or flat-spike"));
  TraceOptions bad;
  bad.time_zone = "Mars/Olympus";
  CHECK_THAT(generate_trace(bad).error().message, Catch::Contains("Mars/Olympus"));
  bad = TraceOptions{};
  bad.days = 0;
  CHECK_THAT(generate_trace(bad).error().message, Catch::Contains("--days"));
}

TEST_CASE("payroll effects: additive, multiplicative, interacting with the open; shapes; sizes",
          "[autoscaler][trace][events]") {
  // Noise-free so the shapes can be read off exactly; Tue 2026-03-31 is payroll-end.
  TraceOptions base = twelve_weeks();
  base.noise = 0;
  base.random_spikes = false;
  base.payroll_mid_size = 2.0;
  base.payroll_end_size = 3.0;
  base.payroll_jitter = 0;
  auto make = [&](autoscaler::EventEffect effect, autoscaler::EventShape shape) {
    TraceOptions options = base;
    options.payroll_effect = effect;
    options.payroll_shape = shape;
    auto trace = generate_trace(options);
    REQUIRE(trace.has_value());
    return std::move(*trace);
  };
  using autoscaler::EventEffect;
  using autoscaler::EventShape;
  const auto mult = make(EventEffect::multiplicative, EventShape::plateau);
  const auto add = make(EventEffect::additive, EventShape::plateau);
  const auto interacting = make(EventEffect::interacting, EventShape::plateau);
  const auto ramp = make(EventEffect::multiplicative, EventShape::ramp);
  const auto spike = make(EventEffect::multiplicative, EventShape::spike);
  auto at = [](const forecast::Series& s, std::int64_t t) {
    return s.values[static_cast<std::size_t>((t - s.start_unix) / s.step_seconds)];
  };
  auto ratio = [&](const forecast::Series& s, int hour, int minute) {
    return at(s, ny(2026, 3, 31, hour, minute)) / at(s, ny(2026, 3, 24, hour, minute));
  };
  // Multiplicative: the rhythm times 3 on the plateau (08:00), the open burst added on top.
  CHECK(ratio(mult, 8, 0) == Approx(3.0).epsilon(0.03));
  // Additive: +2 x the busy-hour level (1000) whatever the hour's rhythm.
  CHECK(at(add, ny(2026, 3, 31, 8, 0)) - at(add, ny(2026, 3, 24, 8, 0)) ==
        Approx(2000).epsilon(0.03));
  // Interacting: the 09:35 open burst is scaled too, so it stands higher than multiplicative's.
  // (The ordinary day's burst had its own size: the ratio is near 3, not exactly.)
  CHECK(ratio(interacting, 9, 35) > 2.7);
  CHECK(ratio(mult, 9, 35) < 2.6);
  CHECK(ratio(interacting, 9, 35) > ratio(mult, 9, 35) + 0.5);
  // Ramp: climbing through the morning; spike: peaks at 07:00, mostly gone by 09:00.
  CHECK(ratio(ramp, 7, 0) < ratio(ramp, 9, 0));
  // 08:00 is 120 of the 270 climbing minutes: 1 + 2 x 120/270.
  CHECK(ratio(ramp, 8, 0) == Approx(1 + 2.0 * 120 / 270).epsilon(0.03));
  CHECK(ratio(spike, 7, 0) == Approx(3.0).epsilon(0.03));
  CHECK(ratio(spike, 6, 30) < 1.05);
  CHECK(ratio(spike, 9, 0) < 1.2);
  // Sizes per event: payroll-mid (Fri Mar 13) peaks at 2x.
  CHECK(at(mult, ny(2026, 3, 13, 8, 0)) / at(mult, ny(2026, 3, 6, 8, 0)) ==
        Approx(2.0).epsilon(0.03));
}

TEST_CASE("an extra holiday moves payroll-mid to the business day before, calendars included",
          "[autoscaler][trace][events]") {
  TraceOptions options = twelve_weeks();
  options.noise = 0;
  options.random_spikes = false;
  options.extra_holidays = {{2026, 4, 15}};
  const auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  auto morning = [&](unsigned day) {
    return mean(*trace, ny(2026, 4, day, 7, 30), ny(2026, 4, day, 9, 15));
  };
  CHECK(morning(14) > 2 * mean(*trace, ny(2026, 4, 7, 7, 30), ny(2026, 4, 7, 9, 15)));
  CHECK(morning(15) < morning(14) / 2);  // a closed day, not a payday
  // The YAML the generator writes for --calendar says the same.
  const std::string yaml = autoscaler::payments_calendars_yaml("America/New_York", {{2026, 4, 15}});
  const auto parsed = config::parse_calendars_document(yaml, std::filesystem::path());
  const auto days = parsed.occurrences(ny(2026, 4, 13, 0), ny(2026, 4, 17, 0));
  bool mid_on_14th = false;
  for (const auto& o : days)
    if (o.qualified_name() == "payroll.payroll-mid") mid_on_14th = o.local_date.day == 14;
  CHECK(mid_on_14th);
}
