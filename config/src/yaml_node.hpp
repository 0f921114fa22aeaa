#pragma once
// A yaml-cpp node that knows its YAML path (targets[2].leadTime) and line,
// so every validation error can name both. Private to prescale::config.
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prescale/config/config.hpp"

namespace prescale::config::detail {

class Node {
 public:
  Node(YAML::Node node, std::string path, std::int64_t line)
      : node_(std::move(node)), path_(std::move(path)), line_(line) {}

  /// Parses a whole document; a syntax error becomes a ConfigError with its line.
  static Node parse(std::string_view text, const std::string& source);

  [[nodiscard]] const std::string& path() const { return path_; }
  /// 1-based line of the value (of its key when the value is empty).
  [[nodiscard]] std::int64_t line() const { return line_; }
  [[nodiscard]] bool is_null() const { return !node_ || node_.IsNull(); }
  [[nodiscard]] const YAML::Node& raw() const { return node_; }
  /// The scalar as written, for messages.
  [[nodiscard]] std::string text() const;

  /// Throws ConfigError "<path>: <message> (line N)".
  [[noreturn]] void fail(const std::string& message) const;

  void require_map() const;
  /// Unknown or repeated keys fail, suggesting the closest allowed key.
  void check_keys(const std::vector<std::string>& allowed) const;
  [[nodiscard]] std::optional<Node> get(const std::string& key) const;

  [[nodiscard]] std::string as_string() const;
  /// A finite decimal number (no hex, no inf/nan).
  [[nodiscard]] double as_double() const;
  /// A whole number in [min, max]; out of range names both bounds (a 25-digit
  /// number is out of range, never an overflow).
  [[nodiscard]] std::int64_t as_int(std::int64_t min, std::int64_t max) const;
  [[nodiscard]] bool as_bool() const;
  /// A duration (30s, 5m, 1h30m, 1d, 1w) in [min_seconds, max_seconds].
  [[nodiscard]] std::int64_t as_duration(std::int64_t min_seconds,
                                         std::int64_t max_seconds = kMaxDurationSeconds) const;
  /// A byte size (1048576, 64Mi, 1Gi) in [min, max].
  [[nodiscard]] std::int64_t as_byte_size(std::int64_t min, std::int64_t max) const;
  /// host:port with a port 1-65535.
  [[nodiscard]] HostPort as_host_port(std::string_view example) const;

  /// What parse_duration_seconds accepts at most (100 years).
  static constexpr std::int64_t kMaxDurationSeconds = 100LL * 365 * 86400;
  [[nodiscard]] std::vector<Node> as_list() const;
  /// A map of scalars to scalars (labels, headers).
  [[nodiscard]] std::vector<std::pair<struct NodeText, struct NodeText>> as_string_map() const;

 private:
  [[nodiscard]] std::string type_name() const;
  YAML::Node node_;
  std::string path_;
  std::int64_t line_;
};

/// A scalar's text and where it is.
struct NodeText {
  std::string text;
  Node node;
};

/// Validates the `calendars:` section (through prescale::calendar's loader),
/// keeps it as YAML text, and returns every calendar name a target may use.
std::vector<std::string> load_calendars_section(const Node& root,
                                                const std::filesystem::path& base_dir,
                                                std::string& calendars_yaml,
                                                calendar::CalendarSet& calendars);

}  // namespace prescale::config::detail
