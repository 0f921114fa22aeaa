// The config file is operator input, but a hot reload parses whatever lands on
// disk (a half-written ConfigMap, a bad merge): any text must load or be
// refused with a ConfigError naming a YAML path (never another exception,
// such as std::out_of_range from a number too long for its type); what loads must survive a
// round trip through `check-config`'s to_yaml() unchanged.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "prescale/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // A holidaysFile could name /dev/zero; file reading is tested elsewhere.
  if (text.find("holidaysFile") != std::string_view::npos) return 0;
  prescale::config::Config config;
  try {
    config = prescale::config::parse_config(text, "<string>");
  } catch (const prescale::config::ConfigError& e) {
    const std::string message = e.what();
    if (message.empty()) std::abort();
    // parse_config turns any other exception into this message as a last
    // resort; reaching it means some value was not checked where it was read.
    if (message.find("cannot read the config (") != std::string::npos) std::abort();
    return 0;
  }
  if (config.targets.empty()) std::abort();
  for (const auto& t : config.targets)
    if (t.metric.empty() || t.step_seconds <= 0 || t.lead_steps() < 1) std::abort();
  // What check-config prints must load again and print the same.
  const std::string once = prescale::config::to_yaml(config);
  std::string twice;
  try {
    twice = prescale::config::to_yaml(prescale::config::parse_config(once, "<string>"));
  } catch (const prescale::config::ConfigError&) {
    std::abort();
  }
  if (once != twice) std::abort();
  return 0;
}
