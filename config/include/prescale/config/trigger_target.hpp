#pragma once
// A target carried by a KEDA trigger (self-service): the trigger's metadata
// holds the keys of a `targets:` entry (query, step, history, timezone,
// seasonality, calendars, leadTime, quantile, ...), read through the same
// field table as the file's, so keys, checks and messages are the same; an
// error names the metadata key, e.g.
//   trigger metadata 'leadTime': bad duration '5x'
// Metadata values are strings: list keys take "1d,7d" or YAML flow "[1d, 7d]",
// map keys (slo, anomaly) YAML flow "{maxShortPercent: 0.5}".
#include <map>
#include <string>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/config/config.hpp"

namespace prescale::config {

/// Metadata keys of KEDA's external trigger and of prescale's scaler
/// (scalerAddress, metricName, targetValue, ...): allowed beside the target's.
const std::vector<std::string>& trigger_scaler_keys();

/// The trigger asks for a target of its own: its metadata carries `query`.
bool carries_target(const std::map<std::string, std::string>& metadata);

/// The target the metadata describes, starting from the file's `defaults:`
/// (config.target_defaults), served as `metric` in `namespace_name`; its
/// calendars must be in config's `calendars:`. The error names the key.
Expected<TargetConfig> target_from_trigger(const std::map<std::string, std::string>& metadata,
                                           const Config& config, const std::string& metric,
                                           const std::string& namespace_name);

}  // namespace prescale::config
