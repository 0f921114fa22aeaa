#pragma once
// Every field of a TargetConfig, declared once: its YAML key, how it is read
// and validated, how to_yaml writes it, and its canonical text. The key list
// (unknown-key checks), parsing, to_yaml, TargetConfig::same_as (hot reload)
// and the decision records' config digest all walk this table, so a new
// field is one new row in target_fields.cpp. Private to prescale::config.
#include <yaml-cpp/yaml.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/config/config.hpp"
#include "yaml_node.hpp"

namespace prescale::config::detail {

struct TargetField {
  /// Key in a target entry, or the path of a value copied from another
  /// section ("decisions.shiftSteps": compared and digested, not read here).
  std::string_view key;
  /// A valid value other than the default, as YAML (tests walk the table with it).
  std::string_view example;
  /// Also allowed under `defaults:` (every key but metric and query).
  bool in_defaults = true;
  /// Reads and validates the value; nullptr when the key is not a target's.
  void (*read)(const Node& value, TargetConfig& target, const Config& config) = nullptr;
  /// Writes the value (to_yaml writes the key); nullptr with `read`.
  void (*write)(YAML::Emitter& out, const TargetConfig& target) = nullptr;
  /// The value as canonical text, exact for numbers: what same_as compares
  /// and the digest hashes.
  std::string (*text)(const TargetConfig& target) = nullptr;
};

/// The table, in the order parsing reads and to_yaml writes the keys.
[[nodiscard]] std::span<const TargetField> target_fields();

/// The keys a target entry (is_defaults: `defaults:`) may set.
[[nodiscard]] std::vector<std::string> allowed_target_keys(bool is_defaults);

/// Checks that need every key of a target resolved (defaults applied);
/// `node` is the target's entry (config.cpp).
void check_target(const Node& node, const TargetConfig& target);

}  // namespace prescale::config::detail
