// The calendars section comes from the user's config file: any text must load
// or be refused with a CalendarsConfigError that names a YAML path; what loads
// must evaluate (occurrences, active events, regressors) without crashing.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "prescale/calendar/regressors.hpp"
#include "prescale/config/calendars_yaml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A holidaysFile could name /dev/zero; file reading is tested elsewhere.
  if (text.find("holidaysFile") != std::string_view::npos) return 0;
  prescale::calendar::CalendarSet set;
  try {
    set = prescale::config::parse_calendars_document(text, "/nonexistent");
  } catch (const prescale::config::CalendarsConfigError& e) {
    if (std::string(e.what()).empty()) std::abort();
    return 0;
  }
  // 2026-02-25 .. 2026-04-05 at 1 hour: a month end and the US DST change.
  const std::int64_t start = 1771977600;
  const auto occurrences = set.occurrences(start, start + 40 * 86400);
  for (const auto& o : occurrences)
    if (o.end_unix <= o.start_unix || o.describe().empty()) std::abort();
  const auto active = set.active_on_grid(start, 3600, 40 * 24);
  if (active.rows() != 40 * 24) std::abort();
  const auto m = prescale::calendar::calendar_regressors(set, start, 3600, 40 * 24);
  if (m.values.size() != m.rows * m.cols()) std::abort();
  return 0;
}
