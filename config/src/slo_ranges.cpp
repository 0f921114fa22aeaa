#include "prescale/config/slo_ranges.hpp"

#include <fmt/core.h>

#include "prescale/config/duration.hpp"

namespace prescale::config::slo_ranges {

// Written so that NaN is refused too (every comparison with it is false).

std::string max_short_percent_problem(std::string_view name, std::string_view text,
                                      double percent) {
  if (percent >= 0 && percent < 100) return {};
  return fmt::format(
      "{} {} is not a percentage of minutes in [0, 100) (e.g. 0.1: about 10 minutes a week "
      "short of capacity)",
      name, text);
}

std::string margin_percent_problem(std::string_view name, std::string_view text, double percent) {
  if (percent >= 0 && percent < 100) return {};
  return fmt::format(
      "{} {} is not a percentage of the SLO in [0, 100) (e.g. 50: tune for half the SLO)", name,
      text);
}

std::string history_problem(std::string_view name, std::string_view text, std::int64_t seconds) {
  if (seconds >= kMinHistorySeconds && seconds <= kMaxHistorySeconds) return {};
  return fmt::format(
      "{} {} is not between {} and {} (the decisions replayed at each refit: whole days, as "
      "many as a target keeps)",
      name, text, format_duration(kMinHistorySeconds), format_duration(kMaxHistorySeconds));
}

std::string reactive_target_percent_problem(std::string_view name, std::string_view text,
                                            double percent) {
  if (percent >= 10 && percent <= 100) return {};
  return fmt::format(
      "{} {} is not a percentage of capacityPerReplica in [10, 100] (the averageValue of the "
      "HPA's metric for the observed load, e.g. 80)",
      name, text);
}

}  // namespace prescale::config::slo_ranges
