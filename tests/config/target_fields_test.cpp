// Each target field is declared once (config/src/target_fields.cpp); these
// tests walk the same table, so a field added there is covered without
// editing them: it is read, written back by to_yaml, compared by same_as
// (hot reload) and part of the settings text the decision digest hashes.
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "config/one_target_yaml.hpp"
#include "prescale/config/config.hpp"

using prescale::config::Config;
using prescale::config::ConfigError;
using prescale::config::parse_config;
using prescale::config::target_keys;
using prescale::config::TargetConfig;
using prescale::config::to_yaml;

namespace {

using prescale::test::kOneCalendarYaml;

// A key whose example needs another one set (`slo` counts minutes short of capacity).
std::string companion_of(const std::string& key) {
  return key == "slo" ? "capacityPerReplica: 100" : "";
}

// One target with `key: value` set (metric and query replaced when they are the key).
std::string target_with(const std::string& key, const std::string& value) {
  const bool other = !key.empty() && key != "metric" && key != "query";
  std::string lines = other ? "    " + key + ": " + value + "\n" : "";
  if (const auto companion = companion_of(key); !companion.empty())
    lines += "    " + companion + "\n";
  return prescale::test::one_target_yaml(lines, key == "metric" ? value : "a",
                                         key == "query" ? value : "up");
}

std::string error_of(const std::string& yaml) {
  try {
    (void)parse_config(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("every target key is read, written back, compared and digested", "[config]") {
  const TargetConfig plain = parse_config(target_with("", "")).targets.at(0);
  const auto keys = target_keys();
  REQUIRE(keys.size() >= 18);
  for (const auto& key : keys) {
    const std::string name(key.key);
    INFO("key " << name << ": " << key.example);
    const Config config = parse_config(target_with(name, std::string(key.example)));
    const TargetConfig& set = config.targets.at(0);
    // The example is not the default: the setting shows, for reload and digest.
    CHECK_FALSE(set.same_as(plain));
    CHECK(set.settings_text() != plain.settings_text());
    // to_yaml writes the key, and its output reads back as the same target.
    const std::string yaml = to_yaml(config);
    CHECK(YAML::Load(yaml)["targets"][0][name].IsDefined());
    const Config back = parse_config(yaml);
    REQUIRE(back.targets.size() == 1);
    CHECK(back.targets[0].same_as(set));
    CHECK(back.targets[0].settings_text() == set.settings_text());
    if (key.in_defaults) {
      // Under `defaults:` the key means the same.
      const auto companion = companion_of(name);
      const Config defaulted =
          parse_config(kOneCalendarYaml + "defaults:\n  " + name + ": " + std::string(key.example) +
                       (companion.empty() ? "" : "\n  " + companion) +
                       "\ntargets:\n  - metric: a\n    query: up\n");
      CHECK(defaulted.targets.at(0).same_as(set));
    } else {
      // metric and query belong to one target: `defaults:` refuses them.
      CHECK_THAT(error_of(kOneCalendarYaml + "defaults:\n  " + name + ": x\n" +
                          "targets:\n  - metric: a\n    query: up\n"),
                 Catch::Contains("defaults") && Catch::Contains(name));
    }
  }
}

TEST_CASE("to_yaml writes a target's keys from the table: no more, no fewer", "[config]") {
  const Config config = parse_config(target_with("", ""));
  const YAML::Node written = YAML::Load(to_yaml(config))["targets"][0];
  std::set<std::string> keys;
  for (const auto& item : written) keys.insert(item.first.as<std::string>());
  std::set<std::string> table;
  for (const auto& key : target_keys()) table.emplace(key.key);
  CHECK(keys == table);
}

TEST_CASE("a key outside the table is refused, naming the closest one", "[config]") {
  CHECK_THAT(error_of(target_with("leadtime", "5m")),
             Catch::Contains("targets[0]") && Catch::Contains("leadTime"));
}

TEST_CASE("the decisions section is part of every target's setup", "[config]") {
  const auto plain = parse_config(target_with("", "")).targets.at(0);
  for (const char* section :
       {"decisions:\n  changeThreshold: 0.2\n", "decisions:\n  anomalySteps: 4\n",
        "decisions:\n  shiftSteps: 20\n"}) {
    INFO(section);
    const auto changed = parse_config(section + target_with("", "")).targets.at(0);
    CHECK_FALSE(changed.same_as(plain));
    CHECK(changed.settings_text() != plain.settings_text());
  }
}
