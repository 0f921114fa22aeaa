#include "prescale/calendar/regressors.hpp"

#include <algorithm>
#include <bit>
#include <limits>
#include <map>
#include <utility>

#include "prescale/common/integer.hpp"

namespace prescale::calendar {
namespace {

std::string bucket_label(std::size_t bucket) {
  if (bucket == 0) return "[0,1)";
  const std::uint64_t lo = std::uint64_t{1} << (bucket - 1);
  std::string label = "[";  // appended: g++-12 warns falsely on "[" + std::string (PR 105651)
  label += std::to_string(lo);
  label += ',';
  label += std::to_string(lo * 2);
  label += ')';
  return label;
}

// Columns of one session or event: `.on` then the elapsed buckets but the last.
struct OccurrenceColumns {
  std::size_t on_column = 0;
  std::size_t bucket_count = 1;
};

}  // namespace

std::size_t RegressorMatrix::column(const std::string& name) const {
  return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

std::size_t elapsed_bucket(std::int64_t elapsed_steps, std::size_t bucket_count) {
  if (elapsed_steps <= 0 || bucket_count <= 1) return 0;
  const auto bucket =
      static_cast<std::size_t>(std::bit_width(static_cast<std::uint64_t>(elapsed_steps)));
  return std::min(bucket, bucket_count - 1);
}

std::size_t elapsed_bucket_count(std::int64_t window_steps, std::size_t max_buckets) {
  const std::size_t cap = std::max<std::size_t>(max_buckets, 1);
  if (window_steps <= 1) return 1;
  return std::min(elapsed_bucket(window_steps - 1, std::numeric_limits<std::size_t>::max()) + 1,
                  cap);
}

RegressorMatrix calendar_regressors(const CalendarSet& calendars, std::int64_t start_unix,
                                    std::int64_t step_seconds, std::size_t count,
                                    const RegressorOptions& options) {
  RegressorMatrix matrix;
  matrix.rows = count;
  if (step_seconds <= 0) return matrix;

  struct BusinessDayColumns {
    const Calendar* calendar;
    std::size_t first_column;
  };
  std::vector<BusinessDayColumns> business_day_columns;
  std::vector<std::pair<const TimeZone*, const std::vector<std::int64_t>*>> seen_business_sets;
  std::map<std::pair<std::string, std::string>, OccurrenceColumns> occurrence_columns;

  auto selected = [&](const std::string& name) {
    return options.calendars.empty() ||
           std::find(options.calendars.begin(), options.calendars.end(), name) !=
               options.calendars.end();
  };
  for (const Calendar& calendar : calendars.calendars()) {
    const std::string& c = calendar.name();
    if (!selected(c)) continue;
    if (options.business_day_columns) {
      const bool duplicate =
          std::any_of(seen_business_sets.begin(), seen_business_sets.end(), [&](const auto& seen) {
            return seen.first->name() == calendar.time_zone().name() &&
                   *seen.second == calendar.holiday_days();
          });
      if (!duplicate) {
        seen_business_sets.emplace_back(&calendar.time_zone(), &calendar.holiday_days());
        business_day_columns.push_back({&calendar, matrix.names.size()});
        matrix.names.push_back(c + ".business_day");
        matrix.names.push_back(c + ".business_days_to_month_end");
      }
    }
    if (!options.occurrence_columns) continue;
    auto add_group = [&](const std::string& name, const TimeWindow& window) {
      const std::int64_t length = window.end_seconds - window.start_seconds;
      const std::int64_t window_steps = (length + step_seconds - 1) / step_seconds;
      OccurrenceColumns group{matrix.names.size(),
                              elapsed_bucket_count(window_steps, options.max_elapsed_buckets)};
      const std::string prefix = c + "." + name;
      matrix.names.push_back(prefix + ".on");
      for (std::size_t b = 0; b + 1 < group.bucket_count; ++b)
        matrix.names.push_back(prefix + ".elapsed" + bucket_label(b));
      occurrence_columns[{c, name}] = group;
    };
    for (const SessionDefinition& session : calendar.definition().sessions)
      add_group(session.name, session.window);
    for (const EventDefinition& event : calendar.definition().events)
      add_group(event.name, event.window);
  }

  const std::size_t cols = matrix.names.size();
  matrix.values.assign(count * cols, 0.0);
  if (count == 0 || cols == 0) return matrix;
  const std::int64_t end_unix = start_unix + static_cast<std::int64_t>(count) * step_seconds;

  for (const BusinessDayColumns& columns : business_day_columns) {
    const Calendar& calendar = *columns.calendar;
    TimeZone::OffsetSpan span{0, 1, 0};  // empty: forces the first lookup
    std::int64_t cached_day = std::numeric_limits<std::int64_t>::min();
    double business_day = 0, days_left = 0;
    for (std::size_t r = 0; r < count; ++r) {
      const std::int64_t t = start_unix + static_cast<std::int64_t>(r) * step_seconds;
      if (t < span.begin_unix || t >= span.end_unix) span = calendar.time_zone().offset_span(t);
      const std::int64_t day = floor_div(t + span.offset, kSecondsPerDay);
      if (day != cached_day) {
        cached_day = day;
        const CivilDate date = civil_from_days(day);
        business_day = calendar.is_business_day(date) ? 1.0 : 0.0;
        days_left = calendar.business_days_left_in_month(date);
      }
      matrix.values[r * cols + columns.first_column] = business_day;
      matrix.values[r * cols + columns.first_column + 1] = days_left;
    }
  }

  if (options.occurrence_columns) {
    for (const Occurrence& o : calendars.occurrences(start_unix, end_unix)) {
      if (!selected(o.calendar)) continue;
      const OccurrenceColumns& group = occurrence_columns.at({o.calendar, o.name});
      const std::int64_t first =
          std::max<std::int64_t>(0, -floor_div(-(o.start_unix - start_unix), step_seconds));
      const std::int64_t last = std::min<std::int64_t>(
          static_cast<std::int64_t>(count), -floor_div(-(o.end_unix - start_unix), step_seconds));
      for (std::int64_t r = first; r < last; ++r) {
        const std::int64_t t = start_unix + r * step_seconds;
        double* row = &matrix.values[static_cast<std::size_t>(r) * cols];
        row[group.on_column] = 1.0;
        const std::size_t bucket =
            elapsed_bucket(floor_div(t - o.start_unix, step_seconds), group.bucket_count);
        if (bucket + 1 < group.bucket_count) row[group.on_column + 1 + bucket] = 1.0;
      }
    }
  }
  return matrix;
}

}  // namespace prescale::calendar
