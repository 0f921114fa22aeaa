// The `calendars:` section: parsed and resolved by the calendar loader
// (calendars_yaml.cpp), kept as YAML text for `check-config`.
#include <yaml-cpp/yaml.h>

#include "prescale/config/calendars_yaml.hpp"
#include "yaml_node.hpp"

namespace prescale::config::detail {

std::vector<std::string> load_calendars_section(const Node& root,
                                                const std::filesystem::path& base_dir,
                                                std::string& calendars_yaml,
                                                calendar::CalendarSet& calendars) {
  calendars_yaml.clear();
  calendars = calendar::CalendarSet();
  const auto section = root.get("calendars");
  if (!section || section->is_null()) return {};
  try {
    calendars = parse_calendars(section->raw(), base_dir, "calendars");
  } catch (const CalendarsConfigError& e) {
    throw ConfigError(e.what());  // already names the YAML path and line
  }
  YAML::Emitter out;
  out << section->raw();
  calendars_yaml = out.c_str();
  std::vector<std::string> names;
  for (const auto& c : calendars.calendars()) names.push_back(c.name());
  return names;
}

}  // namespace prescale::config::detail
