#pragma once
// Calendar dates on day numbers, and instants as the wire formats and logs
// write them: RFC 3339 in UTC ("2026-01-05T14:30:00Z"), from Unix seconds.
// One formatter, so the External Metrics API, Prometheus queries, logs, CSV
// files and the CLI agree on every instant (parsing, which needs time
// zones, is calendar::parse_timestamp).
#include <compare>
#include <cstdint>
#include <string>

namespace prescale {

/// A calendar date, e.g. 2026-03-20 (proleptic Gregorian). Value type.
struct CivilDate {
  int year = 1970;
  unsigned month = 1;  ///< 1..12
  unsigned day = 1;    ///< 1..31
  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

/// Days since 1970-01-01 (negative before). Howard Hinnant's days_from_civil.
constexpr std::int64_t days_from_civil(CivilDate date) {
  const std::int64_t y = static_cast<std::int64_t>(date.year) - (date.month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t mp = (static_cast<std::int64_t>(date.month) + 9) % 12;
  const std::int64_t doy = (153 * mp + 2) / 5 + static_cast<std::int64_t>(date.day) - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/// Inverse of days_from_civil.
constexpr CivilDate civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0)), month, day};
}

/// "2026-01-05T14:30:00Z": RFC 3339, UTC, whole seconds, the year on at
/// least four digits (instants before 1970 included).
[[nodiscard]] std::string format_rfc3339(std::int64_t unix_seconds);

/// "2026-01-05T14:30:00.123Z": the same with milliseconds, as log lines
/// carry them.
[[nodiscard]] std::string format_rfc3339_millis(std::int64_t unix_millis);

}  // namespace prescale
