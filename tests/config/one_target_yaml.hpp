// A config with one calendar (the `calendars` key's example) and one target,
// metric `a` on query `up`, for the tests that vary one target key at a time.
#pragma once

#include <string>

namespace prescale::test {

inline const std::string kOneCalendarYaml = R"(calendars:
  nyse:
    timezone: America/New_York
    sessions:
      - {name: market-open, days: [mon, tue, wed, thu, fri], start: "09:30", end: "16:00"}
)";

/// The calendar, then one target (metric `a`, query `up`, or `metric` and
/// `query` when given) followed by `lines` (indented target keys).
inline std::string one_target_yaml(const std::string& lines, const std::string& metric = "a",
                                   const std::string& query = "up") {
  return kOneCalendarYaml + "targets:\n  - metric: " + metric + "\n    query: " + query + "\n" +
         lines;
}

}  // namespace prescale::test
