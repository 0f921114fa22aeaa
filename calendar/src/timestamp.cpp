#include "prescale/calendar/timestamp.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "prescale/calendar/civil_date.hpp"
#include "prescale/common/text.hpp"

namespace prescale::calendar {
namespace {

// Reads exactly `width` digits at s[pos].
bool digits(std::string_view s, std::size_t pos, std::size_t width, unsigned& out) {
  if (pos + width > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (!is_digit(s[i])) return false;
    out = out * 10 + static_cast<unsigned>(s[i] - '0');
  }
  return true;
}

Error bad_timestamp(std::string_view text, std::string_view why) {
  return make_error("timestamp '" + std::string(text) + "' " + std::string(why) +
                    " (expected RFC 3339 like 2026-01-05T14:30:00Z, '2026-01-05 14:30:00' or "
                    "Unix seconds)");
}

}  // namespace

Expected<double> parse_timestamp(std::string_view text,
                                 const std::optional<calendar::TimeZone>& zone) {
  text = trim_cell(text);
  if (text.empty()) return bad_timestamp(text, "is empty");
  // Unix seconds: digits only (with an optional fraction).
  if (text.size() < 10 || text[4] != '-') {
    auto seconds = parse_number(text);
    if (!seconds || !std::isfinite(*seconds)) return bad_timestamp(text, "is not a date");
    // Years 1970-9999, like the RFC 3339 forms: larger values overflowed the
    // grid arithmetic (found by fuzz/csv_fuzzer).
    if (*seconds > 253402300799.0) return bad_timestamp(text, "is after the year 9999");
    return *seconds;
  }
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text, 0, 4, year) || text[4] != '-' || !digits(text, 5, 2, month) ||
      text.size() < 8 || text[7] != '-' || !digits(text, 8, 2, day)) {
    return bad_timestamp(text, "has no valid YYYY-MM-DD date");
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(static_cast<int>(year), month)) {
    return bad_timestamp(text, "is not a calendar date");
  }
  std::size_t pos = 10;
  double fraction = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') {
      return bad_timestamp(text, "needs 'T' or a space between date and time");
    }
    ++pos;
    if (!digits(text, pos, 2, hour) || pos + 2 >= text.size() || text[pos + 2] != ':' ||
        !digits(text, pos + 3, 2, minute)) {
      return bad_timestamp(text, "has no valid HH:MM time");
    }
    pos += 5;
    if (pos < text.size() && text[pos] == ':') {
      if (!digits(text, pos + 1, 2, second)) return bad_timestamp(text, "has bad seconds");
      pos += 3;
      if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
        const std::size_t start = pos + 1;
        std::size_t end = start;
        double scale = 0.1;
        while (end < text.size() && is_digit(text[end])) {
          fraction += (text[end] - '0') * scale;
          scale /= 10;
          ++end;
        }
        if (end == start) return bad_timestamp(text, "has an empty fraction of a second");
        pos = end;
      }
    }
    // 24:00 is not accepted; a leap second 60 is folded into the next minute.
    if (hour > 23 || minute > 59 || second > 60)
      return bad_timestamp(text, "has a bad time of day");
  }
  const std::int64_t wall = days_from_civil(CivilDate{static_cast<int>(year), month, day}) * 86400 +
                            hour * 3600 + minute * 60 + second;
  if (pos == text.size()) {
    // No offset: local time in the input zone, UTC by default.
    const std::int64_t utc = zone ? zone->to_utc(wall) : wall;
    return static_cast<double>(utc) + fraction;
  }
  const std::string_view offset = text.substr(pos);
  if (offset == "Z" || offset == "z") return static_cast<double>(wall) + fraction;
  if (offset[0] != '+' && offset[0] != '-') return bad_timestamp(text, "has a bad UTC offset");
  unsigned off_h = 0, off_m = 0;
  const bool colon = offset.size() == 6 && offset[3] == ':';
  if (!digits(offset, 1, 2, off_h) || !(offset.size() == 3 || colon || offset.size() == 5) ||
      (offset.size() > 3 && !digits(offset, colon ? 4 : 3, 2, off_m)) || off_h > 23 || off_m > 59) {
    return bad_timestamp(text, "has a bad UTC offset");
  }
  const std::int64_t off =
      (offset[0] == '-' ? -1 : 1) * static_cast<std::int64_t>(off_h * 3600 + off_m * 60);
  return static_cast<double>(wall - off) + fraction;
}

}  // namespace prescale::calendar
