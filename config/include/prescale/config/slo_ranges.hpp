#pragma once
// The ranges of a declared SLO's values (a target's `slo:`), in one place for
// the YAML keys (config/src/target_fields.cpp) and the command-line flags
// that set the same values (simulate --slo-tuning's --slo-*, --frontier and
// tune's --slo-percent, tune's --margin-percent): a flag and its key refuse
// the same values, in the same words. Each check returns an empty string
// for a value in range, else a message that opens with `name` (the key or
// the flag, as the user wrote it) and `text` (the value as written).
#include <cstdint>
#include <string>
#include <string_view>

namespace prescale::config::slo_ranges {

/// slo.history bounds: a day at least (the tuning replays whole daily
/// cycles), five weeks at most (the decisions a target keeps).
inline constexpr std::int64_t kMinHistorySeconds = 86400;
inline constexpr std::int64_t kMaxHistorySeconds = 35 * 86400;

/// maxShortPercent: % of minutes with load above ready capacity, [0, 100).
[[nodiscard]] std::string max_short_percent_problem(std::string_view name, std::string_view text,
                                                    double percent);
/// marginPercent: the most % of the SLO held back when tuning on history, [0, 100).
[[nodiscard]] std::string margin_percent_problem(std::string_view name, std::string_view text,
                                                 double percent);
/// history: whole seconds in [kMinHistorySeconds, kMaxHistorySeconds].
[[nodiscard]] std::string history_problem(std::string_view name, std::string_view text,
                                          std::int64_t seconds);
/// reactiveTargetPercent: % of capacityPerReplica, [10, 100].
[[nodiscard]] std::string reactive_target_percent_problem(std::string_view name,
                                                          std::string_view text, double percent);

}  // namespace prescale::config::slo_ranges
