#include "prescale/config/trigger_target.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <regex>

#include "prescale/common/kubernetes_names.hpp"
#include "prescale/common/text.hpp"
#include "target_fields.hpp"
#include "yaml_node.hpp"

namespace prescale::config {
namespace {

using detail::Node;

// A structured value (YAML flow) is parsed only when it is small and shallow:
// the metadata comes from anyone who may create a ScaledObject, and a
// parser's recursion must not be theirs to deepen.
constexpr std::size_t kMaxStructuredBytes = 4096;
constexpr int kMaxDepth = 3;

[[noreturn]] void fail_key(const std::string& key, const std::string& message) {
  throw ConfigError(fmt::format("{}: {} (line 0)", key, message));
}

YAML::Node flow_value(const std::string& key, const std::string& text) {
  if (text.size() > kMaxStructuredBytes)
    fail_key(key, fmt::format("{} bytes, more than the {} a list or map may be", text.size(),
                              kMaxStructuredBytes));
  int depth = 0;
  for (char c : text) {
    if (c == '[' || c == '{') ++depth;
    if (c == ']' || c == '}') --depth;
    if (depth > kMaxDepth) fail_key(key, "nested too deep (a flat list or map is expected)");
  }
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_key(key, fmt::format("'{}' is not a YAML flow list or map: {}", text, e.msg));
  }
}

// The metadata value as the YAML node a target entry would hold: scalars
// stay strings (a PromQL query is never reinterpreted as YAML); list keys
// also take "a,b"; lists and maps may be YAML flow.
YAML::Node value_node(const std::string& key, const std::string& value, std::string_view example) {
  const bool structured = !example.empty() && (example[0] == '[' || example[0] == '{');
  if (!structured) return YAML::Node(value);
  const std::string text(trim(value));
  if (!text.empty() && (text[0] == '[' || text[0] == '{')) return flow_value(key, text);
  if (example[0] == '{') return flow_value(key, text);  // the reader names what it expected
  YAML::Node list(YAML::NodeType::Sequence);
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = std::min(text.find(',', start), text.size());
    const std::string_view item = trim(std::string_view(text).substr(start, comma - start));
    if (!item.empty()) list.push_back(std::string(item));
    start = comma + 1;
  }
  return list;
}

// "leadTime: bad duration '5x' (line 0)" -> "trigger metadata 'leadTime': bad
// duration '5x'" (a nested value keeps its path: 'slo.history', 'calendars[0]').
std::string metadata_message(const std::string& what) {
  static const std::regex line_suffix(R"( \(line -?[0-9]+\)$)");
  const std::string text = std::regex_replace(what, line_suffix, "");
  const auto colon = text.find(": ");
  if (colon == std::string::npos) return "trigger metadata: " + text;
  const std::string path = text.substr(0, colon), message = text.substr(colon + 2);
  if (path == "(top level)") return "trigger metadata: " + message;
  return "trigger metadata '" + path + "': " + message;
}

}  // namespace

const std::vector<std::string>& trigger_scaler_keys() {
  // KEDA forwards the whole metadata map, its own keys included
  // (scalerAddress, and the TLS keys some triggers still set inline).
  static const std::vector<std::string> keys = {
      "scalerAddress", "metricName", "targetValue",   "activationValue", "labelSelector",
      "tlsCertFile",   "caCert",     "tlsClientCert", "tlsClientKey",    "unsafeSsl"};
  return keys;
}

bool carries_target(const std::map<std::string, std::string>& metadata) {
  return metadata.count("query") != 0;
}

Expected<TargetConfig> target_from_trigger(const std::map<std::string, std::string>& metadata,
                                           const Config& config, const std::string& metric,
                                           const std::string& namespace_name) {
  try {
    // Where the target is served follows from the ScaledObject, not from keys.
    for (const auto& [key, reason] :
         {std::pair{"metric", "the target is named by metricName"},
          std::pair{"namespace", "the target is served in the ScaledObject's namespace"},
          std::pair{"labels", "the trigger's target is its own; labels select among the file's"}})
      if (metadata.count(key)) fail_key(key, fmt::format("not a trigger key: {}", reason));

    std::vector<std::string> allowed = trigger_scaler_keys();
    for (const auto& key : detail::allowed_target_keys(false))
      if (key != "metric" && key != "namespace" && key != "labels") allowed.push_back(key);

    YAML::Node entry(YAML::NodeType::Map);
    for (const auto& [key, value] : metadata) {
      std::string_view example;
      for (const auto& field : detail::target_fields())
        if (field.key == key) example = field.example;
      entry[key] = value_node(key, value, example);
    }
    const Node node(entry, "", 0);
    node.check_keys(allowed);

    TargetConfig target = config.target_defaults;
    for (const auto& field : detail::target_fields()) {
      if (field.read == nullptr || field.key == "metric" || field.key == "namespace" ||
          field.key == "labels")
        continue;
      if (auto n = node.get(std::string(field.key))) field.read(*n, target, config);
    }
    target.metric = metric;
    target.namespace_name = namespace_name;
    target.labels.clear();
    target.line = 0;
    if (auto problem = dns1123_subdomain_problem(metric); !problem.empty())
      fail_key("metricName", fmt::format("the target's name '{}' is not a valid metric name: {}",
                                         metric, problem));
    detail::check_target(node, target);
    return target;
  } catch (const ConfigError& e) {
    return make_error(metadata_message(e.what()));
  } catch (const std::exception& e) {
    return make_error(std::string("trigger metadata: ") + e.what());
  }
}

}  // namespace prescale::config
