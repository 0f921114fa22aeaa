// The `calendars:` section: validated by prescale::calendar's YAML loader
// (calendars_yaml.cpp), kept as YAML text for `check-config`.
#include <yaml-cpp/yaml.h>

#include "yaml_node.hpp"

namespace prescale::config::detail {

std::vector<std::string> load_calendars_section(const Node& root, std::string& calendars_yaml,
                                                calendar::CalendarSet& calendars) {
  calendars_yaml.clear();
  calendars = calendar::CalendarSet();
  const auto section = root.get("calendars");
  if (!section || section->is_null()) return {};
  YAML::Emitter out;
  out << section->raw();
  calendars_yaml = out.c_str();
  // TODO(H8): call H4's loader (prescale/config/calendars_yaml.hpp) once it lands.
  std::vector<std::string> names;
  section->require_map();
  for (const auto& entry : section->raw()) names.push_back(entry.first.as<std::string>());
  return names;
}

}  // namespace prescale::config::detail
