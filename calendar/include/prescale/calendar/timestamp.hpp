#pragma once
// Instants as people and files write them: RFC 3339 ("2026-01-05T14:30:00Z",
// "2026-01-05T09:30:00-05:00"), a local wall-clock time in a zone
// ("2026-01-05 09:30"), or Unix seconds. The one parser behind CSV files and
// every time option of the CLI; formatting is prescale::format_rfc3339
// (common/time.hpp).
#include <optional>
#include <string_view>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/expected.hpp"

namespace prescale::calendar {

/// UTC seconds (fraction kept) of `text`: RFC 3339 with 'T', 't' or a space
/// between date and time, seconds and their fraction optional; a date alone
/// is its midnight. Without a UTC offset the time is local to `zone` (UTC
/// when unset). Digits alone are Unix seconds. Years 1970-9999. An error
/// quotes the text and says what is wrong.
[[nodiscard]] Expected<double> parse_timestamp(std::string_view text,
                                               const std::optional<TimeZone>& zone);

}  // namespace prescale::calendar
