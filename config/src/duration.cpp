#include "prescale/config/duration.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace prescale::config {

Expected<std::int64_t> parse_duration_seconds(std::string_view text) {
  // Prometheus/Kubernetes style: one or more <number><unit> groups, e.g. 1h30m.
  if (text.empty()) return make_error("empty duration (expected e.g. 30s, 5m, 1h, 1d, 1w)");
  std::int64_t total = 0;
  std::size_t i = 0;
  const std::string quoted = "'" + std::string(text) + "'";
  while (i < text.size()) {
    std::size_t digits_start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == digits_start)
      return make_error("bad duration " + quoted + " (expected e.g. 30s, 5m, 1h, 1d, 1w)");
    if (i - digits_start > 12) return make_error("duration " + quoted + " is too large");
    const std::int64_t number =
        std::strtoll(std::string(text.substr(digits_start, i - digits_start)).c_str(), nullptr, 10);
    std::int64_t unit = 0;
    if (text.substr(i, 2) == "ms") {
      return make_error("duration " + quoted +
                        " is below one second; prescale works in whole seconds");
    } else if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        case 'w':
          unit = 7 * 86400;
          break;
        case 'y':
          unit = 365 * 86400;
          break;
        default:
          break;
      }
    }
    if (unit == 0)
      return make_error("bad duration " + quoted + ": a number needs a unit s, m, h, d, w or y");
    ++i;
    // Checked before multiplying: 555555555555y would overflow int64 (found by fuzzing).
    constexpr std::int64_t kMaxSeconds = 100LL * 365 * 86400;
    if (number > kMaxSeconds / unit || total + number * unit > kMaxSeconds)
      return make_error("duration " + quoted + " is too large (at most 100 years)");
    total += number * unit;
  }
  return total;
}

std::string format_duration(std::int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out;
  if (seconds < 0) {
    out = "-";
    seconds = -seconds;
  }
  const std::pair<std::int64_t, char> units[] = {
      {7 * 86400, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (const auto& [size, suffix] : units) {
    if (seconds >= size) {
      out += std::to_string(seconds / size);
      out += suffix;
      seconds %= size;
    }
  }
  return out;
}

}  // namespace prescale::config
