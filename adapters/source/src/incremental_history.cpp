#include "prescale/source/incremental_history.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "prescale/common/integer.hpp"

namespace prescale::source {

IncrementalHistory::IncrementalHistory(Source& source, HistoryOptions options)
    : source_(source), options_(options) {
  options_.step_seconds = std::max<std::int64_t>(1, options_.step_seconds);
  options_.window_seconds = std::max(options_.step_seconds, options_.window_seconds);
  options_.refetch_steps = std::max<std::int64_t>(0, options_.refetch_steps);
  series_.step_seconds = options_.step_seconds;
}

Status IncrementalHistory::fail(std::string message) {
  ++failures_;
  last_error_ = std::move(message);
  return make_error(last_error_);
}

Status IncrementalHistory::refresh(std::int64_t now_unix) {
  const std::int64_t step = options_.step_seconds;
  // The grid ends one step past the step containing now (its end is exclusive).
  const std::int64_t end = floor_to(now_unix, step) + step;
  const std::int64_t window_start = end - floor_to(options_.window_seconds, step);
  std::int64_t from = window_start;
  if (!series_.empty()) {
    from = std::max(window_start, series_.end_unix() - options_.refetch_steps * step);
  }
  if (from >= end) {  // the clock did not move past what we hold
    last_error_.clear();
    failures_ = 0;
    last_success_ = now_unix;
    last_fetched_points_ = 0;
    return Status::ok();
  }
  auto fetched = source_.fetch(from, end, step);
  if (!fetched) return fail(fetched.error().message);
  const auto expected_points = static_cast<std::size_t>((end - from) / step);
  if (fetched->start_unix != from || fetched->step_seconds != step ||
      fetched->size() != expected_points) {
    return fail(fmt::format("{} returned {} points from {} step {}s, asked for {} from {} step {}s",
                            source_.describe(), fetched->size(), fetched->start_unix,
                            fetched->step_seconds, expected_points, from, step));
  }
  if (series_.empty() || from <= series_.start_unix || from > series_.end_unix()) {
    series_ = std::move(*fetched);
  } else {
    // Overlap: the refetched steps replace ours, except that a value we
    // already hold is never replaced by a gap (nothing learnt is lost).
    const auto keep = static_cast<std::size_t>((from - series_.start_unix) / step);
    for (std::size_t i = 0; i < fetched->size(); ++i) {
      const std::size_t at = keep + i;
      if (at < series_.size()) {
        if (!std::isnan(fetched->values[i])) series_.values[at] = fetched->values[i];
      } else {
        series_.values.push_back(fetched->values[i]);
      }
    }
  }
  if (series_.start_unix < window_start) {
    const auto drop = static_cast<std::size_t>((window_start - series_.start_unix) / step);
    series_.values.erase(
        series_.values.begin(),
        series_.values.begin() + static_cast<std::ptrdiff_t>(std::min(drop, series_.size())));
    series_.start_unix = window_start;
  }
  last_error_.clear();
  failures_ = 0;
  last_success_ = now_unix;
  last_fetched_points_ = expected_points;
  return Status::ok();
}

std::optional<std::int64_t> IncrementalHistory::newest_sample_unix() const {
  for (std::size_t i = series_.size(); i > 0; --i) {
    if (!std::isnan(series_.values[i - 1])) return series_.time_at(i - 1);
  }
  return std::nullopt;
}

std::optional<std::int64_t> IncrementalHistory::data_age_seconds(std::int64_t now_unix) const {
  const auto newest = newest_sample_unix();
  if (!newest) return std::nullopt;
  return now_unix - *newest;
}

}  // namespace prescale::source
