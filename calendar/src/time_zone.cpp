#include "prescale/calendar/time_zone.hpp"

#include <date/tz.h>

#include <chrono>
#include <exception>
#include <limits>

#include "prescale/common/integer.hpp"

namespace prescale::calendar {
namespace {
// 1970-01-01 was a Thursday; adding three days makes weeks start on Monday.
constexpr std::int64_t kMondayShift = 3 * kSecondsPerDay;

}  // namespace

Expected<TimeZone> TimeZone::find(std::string_view name) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC" || name == "Z") return utc();
  try {
    const date::time_zone* zone = date::locate_zone(std::string(name));
    return TimeZone(zone, std::string(name));
  } catch (const std::exception&) {
    return make_error("unknown time zone '" + std::string(name) +
                      "' (expected a tz database name such as America/New_York or UTC)");
  }
}

TimeZone TimeZone::utc() {
  return TimeZone(nullptr, "UTC");
}

std::int64_t TimeZone::utc_offset(std::int64_t utc_seconds) const {
  if (zone_ == nullptr) return 0;
  const date::sys_seconds instant{std::chrono::seconds(utc_seconds)};
  return zone_->get_info(instant).offset.count();
}

TimeZone::OffsetSpan TimeZone::offset_span(std::int64_t utc_seconds) const {
  if (zone_ == nullptr)
    return {0, std::numeric_limits<std::int64_t>::min() / 2,
            std::numeric_limits<std::int64_t>::max() / 2};
  const date::sys_seconds instant{std::chrono::seconds(utc_seconds)};
  const date::sys_info info = zone_->get_info(instant);
  return {info.offset.count(), info.begin.time_since_epoch().count(),
          info.end.time_since_epoch().count()};
}

std::int64_t TimeZone::to_utc(std::int64_t local_seconds) const {
  if (zone_ == nullptr) return local_seconds;
  const date::local_seconds local{std::chrono::seconds(local_seconds)};
  const date::local_info info = zone_->get_info(local);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      return local_seconds - info.first.offset.count();
    case date::local_info::nonexistent:
    default:
      // The gap's end: the first instant of the second offset.
      return info.second.begin.time_since_epoch().count();
  }
}

std::vector<std::uint32_t> seasonal_positions(const TimeZone& zone, std::int64_t start_unix,
                                              std::int64_t step_seconds, std::size_t count,
                                              std::int64_t period_seconds) {
  std::vector<std::uint32_t> positions(count);
  std::int64_t offset = 0;
  std::int64_t offset_valid_until = std::numeric_limits<std::int64_t>::min();
  std::int64_t offset_valid_from = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t t = start_unix + static_cast<std::int64_t>(i) * step_seconds;
    if (t >= offset_valid_until || t < offset_valid_from) {
      offset = zone.utc_offset(t);
      // Offsets change at most a few times a year: re-check once a day.
      offset_valid_from = t;
      offset_valid_until = t + kSecondsPerDay;
      if (zone.utc_offset(offset_valid_until) != offset) offset_valid_until = t + step_seconds;
    }
    const std::int64_t local = t + offset + kMondayShift;
    positions[i] = static_cast<std::uint32_t>(floor_mod(local, period_seconds) / step_seconds);
  }
  return positions;
}

}  // namespace prescale::calendar
