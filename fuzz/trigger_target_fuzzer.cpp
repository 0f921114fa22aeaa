// KEDA trigger metadata comes from anyone who may create a ScaledObject
// (server.keda.selfService): any keys and values must give a target or an
// error naming the trigger metadata, and never throw or crash. Input: lines
// of `key=value` (the first '=' splits; a line without one is a key with an
// empty value); `query` is added when absent so the target path is taken.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "prescale/config/config.hpp"
#include "prescale/config/trigger_target.hpp"

namespace {

const prescale::config::Config& central() {
  static const prescale::config::Config config = prescale::config::parse_config(
      "calendars:\n  nyse:\n    timezone: America/New_York\n    sessions:\n"
      "      - {name: open, days: [mon, tue, wed, thu, fri], start: \"09:30\", end: \"16:00\"}\n"
      "targets:\n  - metric: a\n    query: up\n");
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> metadata;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    const std::string_view line = text.substr(start, end - start);
    const auto equals = line.find('=');
    metadata[std::string(line.substr(0, equals))] =
        equals == std::string_view::npos ? "" : std::string(line.substr(equals + 1));
    start = end + 1;
  }
  metadata.emplace("query", "up");
  auto target = prescale::config::target_from_trigger(metadata, central(), "ns.so.m", "ns");
  if (!target && target.error().message.rfind("trigger metadata", 0) != 0) std::abort();
  if (target && (target->metric != "ns.so.m" || target->namespace_name != "ns")) std::abort();
  return 0;
}
