#pragma once
// Durations as users write them in YAML and on the command line: 30s, 5m,
// 1h30m, 1d, 1w (Prometheus style).
#include <cstdint>
#include <string>
#include <string_view>

#include "prescale/common/expected.hpp"

namespace prescale::config {

/// Whole seconds; an error names the bad text.
Expected<std::int64_t> parse_duration_seconds(std::string_view text);
/// The shortest form, e.g. 5400 -> "1h30m", 604800 -> "1w".
std::string format_duration(std::int64_t seconds);

}  // namespace prescale::config
