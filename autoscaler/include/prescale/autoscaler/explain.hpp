#pragma once
// `prescale explain`: the decision in force for a target at a time, and the
// inputs behind it, in words a person can read. Pure functions over records.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/autoscaler/decisions.hpp"
#include "prescale/common/expected.hpp"

namespace prescale::autoscaler {

/// The record in force at a time and the one before it. Value type.
struct DecisionInForce {
  DecisionRecord record;  ///< the latest record of the target at or before the time
  std::optional<DecisionRecord> previous;  ///< the record before it
};

/// Finds the decision in force for `target` at `at_unix` among `records`
/// (any order). The error says why there is none: an unknown target (naming
/// the known ones) or a time before its first record (naming that time).
[[nodiscard]] Expected<DecisionInForce> decision_in_force(
    const std::vector<DecisionRecord>& records, std::string_view target, std::int64_t at_unix);

/// The explanation as text: what was served and why, the model, observed vs
/// forecast, the anomaly standing, and what changed since the previous record.
[[nodiscard]] std::string explain_text(const DecisionInForce& decision, std::int64_t at_unix);

}  // namespace prescale::autoscaler
