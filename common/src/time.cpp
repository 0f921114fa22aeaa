#include "prescale/common/time.hpp"

#include <fmt/core.h>

#include "prescale/common/integer.hpp"

namespace prescale {
namespace {

std::string format_utc(std::int64_t unix_seconds, const char* fraction) {
  const std::int64_t days = floor_div(unix_seconds, 86400);
  const auto seconds_of_day = static_cast<unsigned>(unix_seconds - days * 86400);
  const CivilDate date = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}Z", date.year, date.month, date.day,
                     seconds_of_day / 3600, seconds_of_day / 60 % 60, seconds_of_day % 60,
                     fraction);
}

}  // namespace

std::string format_rfc3339(std::int64_t unix_seconds) {
  return format_utc(unix_seconds, "");
}

std::string format_rfc3339_millis(std::int64_t unix_millis) {
  const std::string fraction = fmt::format(".{:03}", floor_mod(unix_millis, 1000));
  return format_utc(floor_div(unix_millis, 1000), fraction.c_str());
}

}  // namespace prescale
