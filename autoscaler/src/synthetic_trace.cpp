#include "prescale/autoscaler/synthetic_trace.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <numbers>

#include <fmt/core.h>

#include "prescale/calendar/timestamp.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/common/time.hpp"
#include "prescale/config/duration.hpp"

namespace prescale::autoscaler {
namespace {

using calendar::CalendarDefinition;
using calendar::CivilDate;
using calendar::DayAdjustment;
using calendar::DayOfMonth;
using calendar::EventDefinition;
using calendar::kSecondsPerDay;
using calendar::Occurrence;
using calendar::TimeWindow;

constexpr std::size_t kMaxSamples = 20'000'000;

TimeWindow hours(int start_hour, int start_minute, int end_hour, int end_minute) {
  return {start_hour * 3600 + start_minute * 60, end_hour * 3600 + end_minute * 60};
}

// SplitMix64: tiny, fast and identical everywhere (std:: distributions are not).
std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(splitmix64(seed)) {}
  double uniform() {  // [0, 1)
    state_ += 0x9E3779B97F4A7C15ULL;
    return static_cast<double>(splitmix64(state_) >> 11) * 0x1.0p-53;
  }
  double normal() {  // Box-Muller, both halves used
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform();  // (0, 1]: log is finite
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2 * std::numbers::pi * u2);
    has_spare_ = true;
    return r * std::cos(2 * std::numbers::pi * u2);
  }

 private:
  std::uint64_t state_;
  double spare_ = 0;
  bool has_spare_ = false;
};

// A uniform [0, 1) number fixed by the seed, a local date and a purpose, so
// an event's size does not depend on where the trace starts.
double draw_for_day(std::uint64_t seed, std::int64_t day, std::uint64_t purpose) {
  const std::uint64_t key =
      splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(day) * 0x100000001B3ULL + purpose));
  return static_cast<double>(key >> 11) * 0x1.0p-53;
}

double smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3 - 2 * x);
}

// Hourly anchors of the daily rhythm, as a fraction of the busy-hour level.
constexpr std::array<double, 24> kWeekdayProfile = {0.42, 0.33, 0.27, 0.25, 0.27, 0.34, 0.47, 0.64,
                                                    0.82, 0.93, 1.00, 1.00, 0.90, 0.87, 0.97, 1.00,
                                                    0.97, 0.90, 0.80, 0.72, 0.66, 0.60, 0.54, 0.48};
constexpr std::array<double, 24> kRestDayProfile = {0.45, 0.36, 0.29, 0.26, 0.26, 0.29, 0.34, 0.42,
                                                    0.52, 0.62, 0.70, 0.75, 0.76, 0.74, 0.72, 0.71,
                                                    0.70, 0.68, 0.65, 0.62, 0.59, 0.56, 0.52, 0.48};
constexpr double kRestDayScale = 0.8;

// Periodic Catmull-Rom through the hourly anchors: smooth, and exact at whole hours.
double profile_at(const std::array<double, 24>& anchors, double hour) {
  const int i = static_cast<int>(std::floor(hour));
  const double u = hour - i;
  auto at = [&](int k) { return anchors[static_cast<std::size_t>(((k % 24) + 24) % 24)]; };
  const double p0 = at(i - 1), p1 = at(i), p2 = at(i + 1), p3 = at(i + 2);
  return 0.5 * (2 * p1 + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u * u +
                (-p0 + 3 * p1 - 3 * p2 + p3) * u * u * u);
}

// Busy-hour rise after the open: reaches its peak ~5 minutes in, then decays
// with a 25-minute time constant (about +9% left after an hour).
double open_burst(double minutes) {
  if (minutes < 0) return 0;
  return (1 - std::exp(-minutes / 2.0)) * std::exp(-minutes / 25.0);
}

// Ramp up over `rise`, hold, ramp down over `fall` (all in seconds).
double plateau(double elapsed, double length, double rise, double fall) {
  return std::min(smoothstep(elapsed / rise), smoothstep((length - elapsed) / fall));
}

// 0..1 over a payroll window of `length` seconds, `elapsed` into it.
double payroll_profile(EventShape shape, double elapsed, double length) {
  switch (shape) {
    case EventShape::plateau:
      break;
    case EventShape::ramp: {
      const double top = length - 30 * 60;  // climb until the last half hour, then fall
      return elapsed < top ? std::clamp(elapsed / top, 0.0, 1.0)
                           : smoothstep((length - elapsed) / (30 * 60));
    }
    case EventShape::spike: {
      const double peak_at = 60 * 60;
      if (elapsed < peak_at - 10 * 60) return 0;
      if (elapsed < peak_at) return smoothstep((elapsed - (peak_at - 10 * 60)) / (10 * 60));
      return std::exp(-(elapsed - peak_at) / (40 * 60)) * smoothstep((length - elapsed) / 600);
    }
  }
  return plateau(elapsed, length, 45 * 60, 30 * 60);
}

struct LocalClock {
  const calendar::TimeZone& zone;
  calendar::TimeZone::OffsetSpan span{0, 1, 0};
  std::int64_t local(std::int64_t t) {
    if (t < span.begin_unix || t >= span.end_unix) span = zone.offset_span(t);
    return t + span.offset;
  }
};

// Appended: g++-12 warns falsely (-Wrestrict, PR 105651) on "'" + std::string(...).
std::string quote(std::string_view text) {
  std::string out = "'";
  out.append(text);
  out += '\'';
  return out;
}

Status check_window(const TraceWindow& window, const char* what) {
  if (window.end_unix <= window.start_unix)
    return make_error(std::string(what) + ": its end must be after its start");
  return Status::ok();
}

}  // namespace

Expected<TraceKind> parse_trace_kind(std::string_view text) {
  if (text == "payments") return TraceKind::payments;
  if (text == "flat") return TraceKind::flat;
  if (text == "flat-spike") return TraceKind::flat_spike;
  return make_error("unknown trace kind " + quote(text) +
                    " (expected payments, flat or flat-spike)");
}

Expected<EventEffect> parse_event_effect(std::string_view text) {
  if (text == "multiplicative") return EventEffect::multiplicative;
  if (text == "additive") return EventEffect::additive;
  if (text == "interacting") return EventEffect::interacting;
  return make_error("unknown event effect " + quote(text) +
                    " (expected multiplicative, additive or interacting)");
}

Expected<EventShape> parse_event_shape(std::string_view text) {
  if (text == "plateau") return EventShape::plateau;
  if (text == "ramp") return EventShape::ramp;
  if (text == "spike") return EventShape::spike;
  return make_error("unknown event shape " + quote(text) + " (expected plateau, ramp or spike)");
}

std::string_view to_string(EventEffect effect) {
  switch (effect) {
    case EventEffect::multiplicative:
      return "multiplicative";
    case EventEffect::additive:
      return "additive";
    case EventEffect::interacting:
      return "interacting";
  }
  return "multiplicative";
}

std::string_view to_string(EventShape shape) {
  switch (shape) {
    case EventShape::plateau:
      return "plateau";
    case EventShape::ramp:
      return "ramp";
    case EventShape::spike:
      return "spike";
  }
  return "plateau";
}

std::string_view to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::payments:
      return "payments";
    case TraceKind::flat:
      return "flat";
    case TraceKind::flat_spike:
      return "flat-spike";
  }
  return "payments";
}

const std::vector<CivilDate>& nyse_holidays() {
  static const std::vector<CivilDate> holidays = {
      {2025, 1, 1},  {2025, 1, 9},   {2025, 1, 20},  {2025, 2, 17},  {2025, 4, 18},  {2025, 5, 26},
      {2025, 6, 19}, {2025, 7, 4},   {2025, 9, 1},   {2025, 11, 27}, {2025, 12, 25}, {2026, 1, 1},
      {2026, 1, 19}, {2026, 2, 16},  {2026, 4, 3},   {2026, 5, 25},  {2026, 6, 19},  {2026, 7, 3},
      {2026, 9, 7},  {2026, 11, 26}, {2026, 12, 25}, {2027, 1, 1},   {2027, 1, 18},  {2027, 2, 15},
      {2027, 3, 26}, {2027, 5, 31},  {2027, 6, 18},  {2027, 7, 5},   {2027, 9, 6},   {2027, 11, 25},
      {2027, 12, 24}};
  return holidays;
}

std::vector<CalendarDefinition> payments_calendar_definitions(
    const std::string& time_zone, const std::vector<CivilDate>& extra_holidays) {
  CalendarDefinition nyse;
  nyse.name = "nyse";
  nyse.time_zone = "America/New_York";
  nyse.holidays = nyse_holidays();
  nyse.holidays.insert(nyse.holidays.end(), extra_holidays.begin(), extra_holidays.end());
  nyse.sessions.push_back({"market-open", calendar::kMondayToFriday, hours(9, 30, 16, 0)});

  CalendarDefinition payroll;
  payroll.name = "payroll";
  payroll.time_zone = time_zone;
  payroll.business_days_from = "nyse";
  payroll.events.push_back({"payroll-mid",
                            DayOfMonth::day(15),
                            {},
                            DayAdjustment::previous_business_day,
                            hours(6, 0, 11, 0)});
  payroll.events.push_back({"payroll-end",
                            DayOfMonth::last_business_day(),
                            {},
                            DayAdjustment::none,
                            hours(6, 0, 11, 0)});
  payroll.events.push_back(
      {"quad-witching", std::nullopt, {{2026, 3, 20}}, DayAdjustment::none, hours(9, 30, 16, 0)});

  CalendarDefinition settlement;
  settlement.name = "settlement";
  settlement.time_zone = time_zone;
  settlement.business_days_from = "nyse";
  settlement.events.push_back(
      {"month-end-batch", DayOfMonth::last_day(), {}, DayAdjustment::none, hours(20, 0, 23, 0)});
  return {nyse, payroll, settlement};
}

Expected<calendar::CalendarSet> payments_calendars(const std::string& time_zone,
                                                   const std::vector<CivilDate>& extra_holidays) {
  return calendar::CalendarSet::build(payments_calendar_definitions(time_zone, extra_holidays));
}

std::string payments_calendars_yaml(const std::string& time_zone,
                                    const std::vector<CivilDate>& extra_holidays) {
  std::string holidays;
  for (const auto* list : {&nyse_holidays(), &extra_holidays})
    for (const CivilDate& day : *list)
      holidays += (holidays.empty() ? "" : ", ") + calendar::to_string(day);
  std::string yaml = "calendars:\n";
  yaml += "  nyse:\n    timezone: America/New_York\n    holidays: [" + holidays + "]\n";
  yaml +=
      "    sessions:\n"
      "      - {name: market-open, days: [mon, tue, wed, thu, fri], start: \"09:30\", end: "
      "\"16:00\"}\n";
  yaml += "  payroll:\n    timezone: " + time_zone + "\n    businessDays: nyse\n    events:\n";
  yaml +=
      "      - {name: payroll-mid, dayOfMonth: 15, adjust: previous-business-day, start: "
      "\"06:00\", end: \"11:00\"}\n"
      "      - {name: payroll-end, dayOfMonth: last-business-day, start: \"06:00\", end: "
      "\"11:00\"}\n"
      "      - {name: quad-witching, date: 2026-03-20, start: \"09:30\", end: \"16:00\"}\n";
  yaml += "  settlement:\n    timezone: " + time_zone + "\n    businessDays: nyse\n    events:\n";
  yaml += "      - {name: month-end-batch, dayOfMonth: last, start: \"20:00\", end: \"23:00\"}\n";
  return yaml;
}

namespace {

// The options' ranges, in the order --help lists them; the sample count.
Expected<std::size_t> check_trace_options(const TraceOptions& options) {
  if (options.days < 1 || options.days > 3660)
    return make_error("--days must be 1 to 3660, got " + std::to_string(options.days));
  if (options.step_seconds < 1 || options.step_seconds > kSecondsPerDay)
    return make_error("--step must be 1s to 1d, got " + std::to_string(options.step_seconds) + "s");
  if (!(options.level > 0)) return make_error("--level must be > 0");
  if (!(options.noise >= 0 && options.noise <= 1))
    return make_error("--noise must be 0 to 1 (a log-scale standard deviation)");
  if (!(options.outage_factor >= 0)) return make_error("--outage-factor must be >= 0");
  if (!(options.spike_factor > 0)) return make_error("--spike-factor must be > 0");
  for (const TraceWindow& outage : options.outages)
    if (auto status = check_window(outage, "--outage"); !status) return status.error();
  for (const TraceIncident& incident : options.incidents) {
    if (auto status = check_window({incident.start_unix, incident.end_unix}, "incident"); !status)
      return status.error();
    if (!(incident.factor >= 0) || !std::isfinite(incident.factor))
      return make_error("incident factor must be a finite number >= 0");
  }
  if (options.spike)
    if (auto status = check_window(*options.spike, "--spike"); !status) return status.error();
  const std::size_t count = static_cast<std::size_t>(options.days) * kSecondsPerDay /
                            static_cast<std::size_t>(options.step_seconds);
  if (count == 0 || count > kMaxSamples)
    return make_error("the trace would have " + std::to_string(count) +
                      " samples (1 to 20,000,000)");
  return count;
}

Status check_event_options(const TraceOptions& options) {
  for (const auto& size : {options.payroll_mid_size, options.payroll_end_size})
    if (size && !(*size >= 1 && *size <= 100))
      return make_error("payroll sizes must be 1 to 100 (times the usual load at the peak)");
  if (!(options.payroll_jitter >= 0 && options.payroll_jitter < 1))
    return make_error("--payroll-jitter must be 0 to below 1");
  if (options.open_burst_size &&
      !(*options.open_burst_size >= 0 && *options.open_burst_size <= 100))
    return make_error("--open-burst-size must be 0 to 100 (0: the open adds only its +8 %)");
  return Status::ok();
}

// The trace's rows: row i is the sample at start + i x step.
struct TraceGrid {
  std::int64_t start_unix = 0;
  std::int64_t step = 0;
  std::size_t count = 0;

  [[nodiscard]] std::int64_t time_at(std::size_t i) const {
    return start_unix + static_cast<std::int64_t>(i) * step;
  }
  [[nodiscard]] std::int64_t end_unix() const { return time_at(count); }
  // The rows [first, last) whose samples start in [from, to).
  [[nodiscard]] std::pair<std::size_t, std::size_t> rows(std::int64_t from, std::int64_t to) const {
    auto first_at_or_after = [&](std::int64_t t) {
      return static_cast<std::size_t>(std::clamp<std::int64_t>(
          -floor_div(-(t - start_unix), step), 0, static_cast<std::int64_t>(count)));
    };
    return std::pair{first_at_or_after(from), first_at_or_after(to)};
  }
};

// (level x rhythm x payroll + additions) x spikes and outages x noise, row by
// row. The open burst apart from the other additions: an interacting payroll scales it.
struct TraceLayers {
  std::vector<double> base, payroll_factor, addition, open_addition, multiplier;
  TraceLayers(std::size_t count, double level)
      : base(count, level),
        payroll_factor(count, 1.0),
        addition(count, 0.0),
        open_addition(count, 0.0),
        multiplier(count, 1.0) {}
};

// The business-day rhythm in local time (weekends and holidays lower) and a
// slow growth: the base of a payments trace.
void add_daily_rhythm(const TraceOptions& options, const calendar::TimeZone& zone,
                      const calendar::Calendar& business, const TraceGrid& grid,
                      std::vector<double>& base) {
  const double level = options.level;
  LocalClock clock{zone};
  std::int64_t cached_day = std::numeric_limits<std::int64_t>::min();
  std::array<double, 3> day_scale{};  // yesterday, today, tomorrow
  std::array<const std::array<double, 24>*, 3> day_profile{};
  auto describe_day = [&](std::int64_t day, std::size_t slot) {
    const bool rest = options.weekly && !business.is_business_day(calendar::civil_from_days(day));
    const calendar::Weekday weekday = calendar::weekday_of_days(day);
    double scale = rest ? kRestDayScale : 1.0;
    if (options.weekly && !rest && weekday == calendar::Weekday::monday) scale = 1.03;
    if (options.weekly && !rest && weekday == calendar::Weekday::friday) scale = 1.02;
    day_scale[slot] = scale;
    day_profile[slot] = rest ? &kRestDayProfile : &kWeekdayProfile;
  };
  for (std::size_t i = 0; i < grid.count; ++i) {
    const std::int64_t t = grid.time_at(i);
    const std::int64_t local = clock.local(t);
    const std::int64_t day = floor_div(local, kSecondsPerDay);
    if (day != cached_day) {
      cached_day = day;
      for (std::size_t k = 0; k < 3; ++k) describe_day(day - 1 + static_cast<std::int64_t>(k), k);
    }
    const double hour = static_cast<double>(local - day * kSecondsPerDay) / 3600.0;
    auto value_of = [&](std::size_t slot) {
      return day_scale[slot] * profile_at(*day_profile[slot], hour);
    };
    // Blend the day types over the two hours around midnight, so a weekend
    // does not start with a step.
    double rhythm = value_of(1);
    if (hour < 1) rhythm = (0.5 - hour / 2) * value_of(0) + (0.5 + hour / 2) * value_of(1);
    if (hour > 23) rhythm = (1 - (hour - 23) / 2) * value_of(1) + ((hour - 23) / 2) * value_of(2);
    const double weeks = static_cast<double>(t - options.start_unix) / calendar::kSecondsPerWeek;
    base[i] = level * rhythm * (1 + 0.003 * weeks);
  }
}

// The calendars' events: the market-open burst, payroll surges, the
// quad-witching day and the month-end batch.
void add_calendar_events(const TraceOptions& options, const calendar::CalendarSet& calendars,
                         const TraceGrid& grid, TraceLayers& layers) {
  const double level = options.level;
  for (const Occurrence& o : calendars.occurrences(options.start_unix, grid.end_unix())) {
    const std::string name = o.qualified_name();
    const std::int64_t day = calendar::days_from_civil(o.local_date);
    const double length = static_cast<double>(o.end_unix - o.start_unix);
    const auto [first, last] = grid.rows(o.start_unix, o.end_unix);
    for (std::size_t i = first; i < last; ++i) {
      const double elapsed = static_cast<double>(grid.time_at(i) - o.start_unix);
      if (name == "nyse.market-open" && options.market_open) {
        const double size =
            options.open_burst_size.value_or(1.1 + 0.4 * draw_for_day(options.seed, day, 1));
        layers.open_addition[i] += level * (0.08 + size * open_burst(elapsed / 60));
      } else if ((name == "payroll.payroll-mid" || name == "payroll.payroll-end") &&
                 options.payroll) {
        const auto& size =
            name == "payroll.payroll-mid" ? options.payroll_mid_size : options.payroll_end_size;
        const double jitter = options.payroll_jitter * (2 * draw_for_day(options.seed, day, 2) - 1);
        const double peak =
            size ? 1 + (*size - 1) * (1 + jitter) : 2.5 + draw_for_day(options.seed, day, 2);
        const double profile = payroll_profile(options.payroll_shape, elapsed, length);
        if (options.payroll_effect == EventEffect::additive)
          layers.addition[i] += level * (peak - 1) * profile;
        else
          layers.payroll_factor[i] *= 1 + (peak - 1) * profile;
      } else if (name == "payroll.quad-witching" && options.payroll) {
        layers.addition[i] += level * (0.25 + 0.6 * open_burst(elapsed / 60));
      } else if (name == "settlement.month-end-batch" && options.month_end_batch) {
        layers.addition[i] += level * 0.8 * plateau(elapsed, length, 600, 600);
      }
    }
  }
}

// Unexplained short spikes, about two a week: their own random stream, so
// toggling them keeps the noise.
void add_random_spikes(const TraceOptions& options, const TraceGrid& grid,
                       std::vector<double>& multiplier, std::vector<TraceTruthEntry>* truth) {
  Random spikes(options.seed ^ 0x5350494B45ULL);
  const double per_step = static_cast<double>(grid.step) / (3.5 * kSecondsPerDay);
  for (std::size_t i = 0; i < grid.count; ++i) {
    if (spikes.uniform() >= per_step) continue;
    const double minutes = 3 + 9 * spikes.uniform();
    const double extra = 0.2 + 0.4 * spikes.uniform();
    const std::int64_t spike_end = grid.time_at(i) + static_cast<std::int64_t>(minutes * 60);
    const auto [first, last] = grid.rows(grid.time_at(i), spike_end);
    for (std::size_t k = first; k < last; ++k) multiplier[k] *= 1 + extra;
    if (truth) truth->push_back({"random-spike", grid.time_at(i), spike_end, 1 + extra});
  }
}

// The spike (flat-spike's own: three quarters into the trace, 15:00-15:45
// local), the outages and the incidents the options name; each in `truth`.
void add_windows(const TraceOptions& options, const calendar::TimeZone& zone, const TraceGrid& grid,
                 std::vector<double>& multiplier, std::vector<TraceTruthEntry>* truth) {
  std::optional<TraceWindow> spike = options.spike;
  if (!spike && options.kind == TraceKind::flat_spike) {
    const std::int64_t first_day = floor_div(zone.to_local(options.start_unix), kSecondsPerDay);
    const std::int64_t day = first_day + options.days * 3 / 4;
    const std::int64_t start = zone.to_utc(day * kSecondsPerDay + 15 * 3600);
    spike = TraceWindow{start, start + 45 * 60};
  }
  if (spike) {
    if (truth)
      truth->push_back({"spike", spike->start_unix, spike->end_unix, options.spike_factor});
    const double length = static_cast<double>(spike->end_unix - spike->start_unix);
    const double rise = std::min(300.0, length / 4), fall = std::min(900.0, length / 3);
    const auto [first, last] = grid.rows(spike->start_unix, spike->end_unix);
    for (std::size_t i = first; i < last; ++i) {
      const double elapsed = static_cast<double>(grid.time_at(i) - spike->start_unix);
      multiplier[i] *= 1 + (options.spike_factor - 1) * plateau(elapsed, length, rise, fall);
    }
  }
  for (const TraceWindow& outage : options.outages) {
    if (truth)
      truth->push_back({"outage", outage.start_unix, outage.end_unix, options.outage_factor});
    const auto [first, last] = grid.rows(outage.start_unix, outage.end_unix);
    for (std::size_t i = first; i < last; ++i) multiplier[i] *= options.outage_factor;
  }
  for (const TraceIncident& incident : options.incidents) {
    if (truth)
      truth->push_back({"incident", incident.start_unix, incident.end_unix, incident.factor});
    const auto [first, last] = grid.rows(incident.start_unix, incident.end_unix);
    for (std::size_t i = first; i < last; ++i) multiplier[i] *= incident.factor;
  }
  if (truth) {
    std::stable_sort(truth->begin(), truth->end(),
                     [](const auto& a, const auto& b) { return a.start_unix < b.start_unix; });
  }
}

// The layers combined, times AR(1) log-noise with a 10-minute memory plus a
// white part (total sd = noise), rounded to a thousandth.
std::vector<double> combine_with_noise(const TraceOptions& options, const TraceGrid& grid,
                                       const TraceLayers& layers) {
  Random noise(options.seed);
  const double phi = std::exp(-static_cast<double>(grid.step) / 600.0);
  const double ar_sd = options.noise * 0.8, white_sd = options.noise * 0.6;
  double ar = ar_sd * noise.normal();
  std::vector<double> values(grid.count);
  for (std::size_t i = 0; i < grid.count; ++i) {
    ar = phi * ar + std::sqrt(1 - phi * phi) * ar_sd * noise.normal();
    const double log_noise = ar + white_sd * noise.normal() - options.noise * options.noise / 2;
    const double open = options.payroll_effect == EventEffect::interacting
                            ? layers.open_addition[i] * layers.payroll_factor[i]
                            : layers.open_addition[i];
    const double value = (layers.base[i] * layers.payroll_factor[i] + (open + layers.addition[i])) *
                         layers.multiplier[i] * std::exp(log_noise);
    values[i] = std::round(std::max(value, 0.0) * 1000) /
                1000;  // millisecond-request precision keeps the CSV short
  }
  return values;
}

}  // namespace

Expected<forecast::Series> generate_trace(const TraceOptions& options,
                                          std::vector<TraceTruthEntry>* truth) {
  const auto count = check_trace_options(options);
  if (!count) return count.error();
  auto zone = calendar::TimeZone::find(options.time_zone);
  if (!zone) return make_error("--timezone: " + zone.error().message);
  if (auto status = check_event_options(options); !status) return status.error();
  auto calendars = payments_calendars(options.time_zone, options.extra_holidays);
  if (!calendars) return calendars.error();

  const TraceGrid grid{options.start_unix, options.step_seconds, *count};
  TraceLayers layers(*count, options.level);
  if (options.kind == TraceKind::payments) {
    add_daily_rhythm(options, *zone, *calendars->find("payroll"), grid, layers.base);
    add_calendar_events(options, *calendars, grid, layers);
    if (options.random_spikes) add_random_spikes(options, grid, layers.multiplier, truth);
  }
  add_windows(options, *zone, grid, layers.multiplier, truth);

  forecast::Series series;
  series.start_unix = options.start_unix;
  series.step_seconds = options.step_seconds;
  series.values = combine_with_noise(options, grid, layers);
  return series;
}

Expected<std::vector<TraceIncident>> draw_incidents(const TraceOptions& options,
                                                    const IncidentDraw& draw) {
  std::vector<TraceIncident> incidents;
  if (draw.count < 0 || draw.count > 10000)
    return make_error("--incidents must be 0 to 10000, got " + std::to_string(draw.count));
  if (draw.count == 0) return incidents;
  if (!(draw.drop_min > 0 && draw.drop_min <= draw.drop_max && draw.drop_max < 1))
    return make_error("--incident-drop: factors must satisfy 0 < min <= max < 1");
  if (!(draw.surge_min > 1 && draw.surge_min <= draw.surge_max && std::isfinite(draw.surge_max)))
    return make_error("--incident-surge: factors must satisfy 1 < min <= max");
  const std::int64_t step = options.step_seconds;
  if (step < 1) return make_error("--step must be positive");
  if (!(draw.min_seconds >= step && draw.min_seconds <= draw.max_seconds))
    return make_error("--incident-duration: must satisfy one step <= min <= max");
  if (draw.after_seconds < 0) return make_error("--incidents-after must not be negative");
  const std::int64_t trace_end =
      options.start_unix + static_cast<std::int64_t>(options.days) * kSecondsPerDay;
  const std::int64_t first = options.start_unix + draw.after_seconds;
  const std::int64_t room = trace_end - draw.max_seconds - first;
  const std::int64_t slice = room / draw.count;
  if (slice < draw.max_seconds + step)
    return make_error(fmt::format(
        "no room for {} incidents of up to {} each after {} (the trace is {} days long)",
        draw.count, config::format_duration(draw.max_seconds),
        config::format_duration(draw.after_seconds), options.days));
  Random random(draw.seed ^ 0x494E434944454E54ULL);
  for (int k = 0; k < draw.count; ++k) {
    // Within slice k, leaving the longest duration free before the next slice.
    const std::int64_t slice_start = first + k * slice;
    const std::int64_t offset =
        static_cast<std::int64_t>(random.uniform() * static_cast<double>(slice - draw.max_seconds));
    const std::int64_t start =
        options.start_unix + (slice_start + offset - options.start_unix) / step * step;
    const std::int64_t span = draw.max_seconds - draw.min_seconds;
    const std::int64_t duration = std::max(
        step, (draw.min_seconds +
               static_cast<std::int64_t>(random.uniform() * static_cast<double>(span + 1))) /
                  step * step);
    const bool surge = random.uniform() < 0.5;
    const double u = random.uniform();
    const double factor = surge ? draw.surge_min + u * (draw.surge_max - draw.surge_min)
                                : draw.drop_min + u * (draw.drop_max - draw.drop_min);
    incidents.push_back({start, start + duration, std::round(factor * 1000) / 1000});
  }
  return incidents;
}

std::string format_trace_truth(const std::vector<TraceTruthEntry>& truth) {
  std::string out = "kind,start,end,factor\n";
  for (const auto& entry : truth)
    out += fmt::format("{},{},{},{:.3f}\n", entry.kind, format_rfc3339(entry.start_unix),
                       format_rfc3339(entry.end_unix), entry.factor);
  return out;
}

Expected<std::int64_t> parse_trace_time(std::string_view text, const calendar::TimeZone& zone) {
  // calendar::parse_timestamp, less its Unix-seconds form and fractions of a
  // second: a trace starts on a date people write.
  const bool date_first = text.size() >= 10 && text[4] == '-';
  auto parsed = date_first ? calendar::parse_timestamp(text, zone) : Expected<double>(0.0);
  if (!date_first || !parsed || *parsed != std::floor(*parsed)) {
    return make_error("bad time " + quote(text) +
                      " (expected 2026-02-02, 2026-02-02T09:30 local, or RFC 3339 such as "
                      "2026-03-10T14:00Z)");
  }
  return static_cast<std::int64_t>(*parsed);
}

Expected<TraceWindow> parse_trace_window(std::string_view text, const calendar::TimeZone& zone) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos)
    return make_error("bad window " + quote(text) +
                      " (expected <start>/<duration>, e.g. 2026-03-10T14:00Z/1h)");
  auto start = parse_trace_time(text.substr(0, slash), zone);
  if (!start) return start.error();
  auto duration = config::parse_duration_seconds(text.substr(slash + 1));
  if (!duration) return make_error("bad window " + quote(text) + ": " + duration.error().message);
  if (*duration <= 0)
    return make_error("bad window " + quote(text) + ": the duration must be positive");
  return TraceWindow{*start, *start + *duration};
}

}  // namespace prescale::autoscaler
