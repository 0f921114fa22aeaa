// `behavior` blocks in the autoscaling/v2 YAML shape, with errors that name
// the YAML path, so a typo in a 40-line manifest points at its line.
#include <fmt/core.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>
#include <string>

#include "prescale/simulate/hpa.hpp"

namespace prescale::simulate {
namespace {

// yaml-cpp reports problems as exceptions; this parser turns them into
// Errors at its boundary, naming the path and the line.
struct YamlError {
  std::string message;
};

std::string join(const std::string& path, const std::string& child) {
  return path.empty() ? child : path + "." + child;
}

std::string where(const YAML::Node& node) {
  const auto mark = node.Mark();
  return mark.line >= 0 ? fmt::format(" (line {})", mark.line + 1) : std::string{};
}

void require_map(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap()) throw YamlError{fmt::format("{}: expected a mapping{}", path, where(node))};
}

void reject_unknown_keys(const YAML::Node& node, const std::string& path,
                         std::initializer_list<std::string_view> known) {
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    bool found = false;
    for (auto k : known) found = found || key == k;
    if (!found) {
      std::string expected;
      for (auto k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
      throw YamlError{fmt::format("{}: unknown field{} (expected one of: {})", join(path, key),
                                  where(entry.first), expected)};
    }
  }
}

std::int32_t read_int(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar())
    throw YamlError{fmt::format("{}: expected an integer{}", path, where(node))};
  const auto text = node.Scalar();
  try {
    std::size_t used = 0;
    const long long value = std::stoll(text, &used);
    if (used != text.size() || value < std::numeric_limits<std::int32_t>::min() ||
        value > std::numeric_limits<std::int32_t>::max()) {
      throw std::invalid_argument(text);
    }
    return static_cast<std::int32_t>(value);
  } catch (const std::logic_error&) {
    throw YamlError{fmt::format("{}: '{}' is not an integer{}", path, text, where(node))};
  }
}

ScalingRules read_rules(const YAML::Node& node, const std::string& path) {
  require_map(node, path);
  reject_unknown_keys(node, path, {"stabilizationWindowSeconds", "selectPolicy", "policies"});
  ScalingRules rules;
  if (const auto window = node["stabilizationWindowSeconds"]) {
    rules.stabilization_window_seconds = read_int(window, join(path, "stabilizationWindowSeconds"));
  }
  if (const auto select = node["selectPolicy"]) {
    const auto select_path = join(path, "selectPolicy");
    if (!select.IsScalar())
      throw YamlError{fmt::format("{}: expected Max, Min or Disabled", select_path)};
    const auto text = select.Scalar();
    if (text == "Max") {
      rules.select_policy = SelectPolicy::max;
    } else if (text == "Min") {
      rules.select_policy = SelectPolicy::min;
    } else if (text == "Disabled") {
      rules.select_policy = SelectPolicy::disabled;
    } else {
      throw YamlError{
          fmt::format("{}: '{}' is not Max, Min or Disabled{}", select_path, text, where(select))};
    }
  }
  if (const auto policies = node["policies"]) {
    const auto policies_path = join(path, "policies");
    if (!policies.IsSequence()) {
      throw YamlError{
          fmt::format("{}: expected a list of policies{}", policies_path, where(policies))};
    }
    // The API server rejects an explicit empty list (only an absent one defaults).
    if (policies.size() == 0) {
      throw YamlError{
          fmt::format("{}: must specify at least one policy{}", policies_path, where(policies))};
    }
    for (std::size_t i = 0; i < policies.size(); ++i) {
      const auto item = policies[i];
      const auto item_path = fmt::format("{}[{}]", policies_path, i);
      require_map(item, item_path);
      reject_unknown_keys(item, item_path, {"type", "value", "periodSeconds"});
      for (const char* required : {"type", "value", "periodSeconds"}) {
        if (!item[required]) {
          throw YamlError{fmt::format("{}: required field is missing{}", join(item_path, required),
                                      where(item))};
        }
      }
      ScalingPolicy policy;
      const auto type = item["type"];
      const auto type_text = type.IsScalar() ? type.Scalar() : std::string{};
      if (type_text == "Pods") {
        policy.type = ScalingPolicyType::pods;
      } else if (type_text == "Percent") {
        policy.type = ScalingPolicyType::percent;
      } else {
        throw YamlError{fmt::format("{}: '{}' is not Pods or Percent{}", join(item_path, "type"),
                                    type_text, where(type))};
      }
      policy.value = read_int(item["value"], join(item_path, "value"));
      policy.period_seconds = read_int(item["periodSeconds"], join(item_path, "periodSeconds"));
      rules.policies.push_back(policy);
    }
  }
  return rules;
}

HpaBehavior read_behavior(const YAML::Node& node, const std::string& path) {
  require_map(node, path.empty() ? "behavior" : path);
  reject_unknown_keys(node, path, {"scaleUp", "scaleDown"});
  HpaBehavior behavior;
  if (const auto up = node["scaleUp"]) behavior.scale_up = read_rules(up, join(path, "scaleUp"));
  if (const auto down = node["scaleDown"]) {
    behavior.scale_down = read_rules(down, join(path, "scaleDown"));
  }
  return behavior;
}

}  // namespace

Expected<HpaBehavior> parse_hpa_behavior_yaml(std::string_view text, std::string_view source_name) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsMap()) {
      throw YamlError{"expected a mapping: an HPA manifest, `behavior:` or {scaleUp, scaleDown}"};
    }
    HpaBehavior behavior;
    if (const auto spec = root["spec"]) {
      if (!spec.IsMap() || !spec["behavior"]) {
        throw YamlError{"spec.behavior: the manifest has no behavior block"};
      }
      behavior = read_behavior(spec["behavior"], "spec.behavior");
    } else if (const auto block = root["behavior"]) {
      behavior = read_behavior(block, "behavior");
    } else {
      behavior = read_behavior(root, "");
    }
    HpaSpec probe;
    probe.behavior = behavior;
    if (auto status = validate(probe); !status) throw YamlError{status.error().message};
    return behavior;
  } catch (const YamlError& e) {
    return make_error(fmt::format("{}: {}", source_name, e.message));
  } catch (const YAML::Exception& e) {
    return make_error(fmt::format("{}: invalid YAML: {}", source_name, e.what()));
  }
}

Expected<HpaBehavior> read_hpa_behavior_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return make_error(fmt::format("{}: cannot open the HPA behavior file", path));
  std::ostringstream text;
  text << file.rdbuf();
  return parse_hpa_behavior_yaml(text.str(), path);
}

}  // namespace prescale::simulate
