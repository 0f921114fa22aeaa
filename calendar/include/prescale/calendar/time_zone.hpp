#pragma once
// Local wall-clock time through the system tz database. Seasonal positions
// are taken from local time so that a DST change does not shift the day:
// on a 23-hour day some slots are skipped, on a 25-hour day one hour of
// slots is visited twice.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"

namespace date {
class time_zone;
}

namespace prescale::calendar {

inline constexpr std::int64_t kSecondsPerDay = 86400;
inline constexpr std::int64_t kSecondsPerWeek = 7 * kSecondsPerDay;

/// A tz database zone. Cheap to copy; immutable, safe to share across threads.
class TimeZone {
 public:
  /// "UTC", "America/New_York", ...; an error names the unknown zone.
  static Expected<TimeZone> find(std::string_view name);
  static TimeZone utc();

  [[nodiscard]] const std::string& name() const { return name_; }
  /// Offset from UTC in seconds at the UTC instant (e.g. -14400 for EDT).
  [[nodiscard]] std::int64_t utc_offset(std::int64_t utc_seconds) const;
  /// Local wall-clock seconds since 1970-01-01T00:00 local.
  [[nodiscard]] std::int64_t to_local(std::int64_t utc_seconds) const {
    return utc_seconds + utc_offset(utc_seconds);
  }
  /// The UTC offset in force at an instant and the UTC interval [begin, end)
  /// over which it holds, so grid code can look the zone up once per change.
  struct OffsetSpan {
    std::int64_t offset = 0;
    std::int64_t begin_unix = 0;
    std::int64_t end_unix = 0;
  };
  [[nodiscard]] OffsetSpan offset_span(std::int64_t utc_seconds) const;
  /// UTC instant of a local wall-clock time. A time in the spring-forward gap
  /// maps to the instant after the gap; an ambiguous one to its first instance.
  [[nodiscard]] std::int64_t to_utc(std::int64_t local_seconds) const;

 private:
  TimeZone(const date::time_zone* zone, std::string name) : zone_(zone), name_(std::move(name)) {}
  const date::time_zone* zone_ = nullptr;  // nullptr means UTC
  std::string name_;
};

/// Slot of each grid timestamp within a period of local wall-clock time:
/// floor(((local + Monday offset) mod period_seconds) / step_seconds).
/// Weeks start on Monday 00:00 local. period_seconds must be a multiple of
/// step_seconds. O(n) with one tz lookup per UTC-offset change.
[[nodiscard]] std::vector<std::uint32_t> seasonal_positions(const TimeZone& zone,
                                                            std::int64_t start_unix,
                                                            std::int64_t step_seconds,
                                                            std::size_t count,
                                                            std::int64_t period_seconds);

}  // namespace prescale::calendar
