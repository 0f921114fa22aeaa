#include "yaml_node.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "prescale/config/duration.hpp"

namespace prescale::config::detail {

namespace {

std::int64_t line_of(const YAML::Node& node, std::int64_t fallback) {
  if (!node) return fallback;
  const auto mark = node.Mark();
  return mark.line >= 0 ? mark.line + 1 : fallback;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

Node Node::parse(std::string_view text, const std::string& source) {
  try {
    return Node(YAML::Load(std::string(text)), "", 1);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: YAML syntax error: {} (line {})", source, e.msg,
                                  e.mark.line >= 0 ? e.mark.line + 1 : 0));
  }
}

std::string Node::text() const {
  if (node_ && node_.IsScalar()) return node_.Scalar();
  return type_name();
}

void Node::fail(const std::string& message) const {
  throw ConfigError(
      fmt::format("{}: {} (line {})", path_.empty() ? "(top level)" : path_, message, line_));
}

std::string Node::type_name() const {
  if (!node_ || node_.IsNull()) return "nothing";
  if (node_.IsMap()) return "a map";
  if (node_.IsSequence()) return "a list";
  return "'" + node_.Scalar() + "'";
}

void Node::require_map() const {
  if (!node_ || !node_.IsMap()) fail("expected a map of keys, got " + type_name());
}

void Node::check_keys(const std::vector<std::string>& allowed) const {
  std::set<std::string> seen;
  for (const auto& entry : node_) {
    const std::string prefix = path_.empty() ? "" : path_ + ".";
    if (!entry.first.IsScalar())
      Node(entry.first, path_, line_of(entry.first, line_)).fail("keys must be plain names");
    const std::string key = entry.first.Scalar();
    const Node key_node(entry.first, prefix + key, line_of(entry.first, line_));
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string closest;
      std::size_t best = 3;  // suggest only near misses (typos, wrong case)
      for (const auto& candidate : allowed) {
        const auto d = edit_distance(key, candidate);
        if (d < best) best = d, closest = candidate;
      }
      const std::string list = fmt::format("{}", fmt::join(allowed, ", "));
      key_node.fail(closest.empty() ? fmt::format("unknown key (allowed: {})", list)
                                    : fmt::format("unknown key; did you mean '{}'?", closest));
    }
    if (!seen.insert(key).second) key_node.fail("key given twice");
  }
}

std::optional<Node> Node::get(const std::string& key) const {
  for (const auto& entry : node_) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) {
      const auto key_line = line_of(entry.first, line_);
      const auto line =
          entry.second && !entry.second.IsNull() ? line_of(entry.second, key_line) : key_line;
      return Node(entry.second, (path_.empty() ? "" : path_ + ".") + key, line);
    }
  }
  return std::nullopt;
}

std::string Node::as_string() const {
  if (!node_ || !node_.IsScalar()) fail("expected a string, got " + type_name());
  return node_.Scalar();
}

double Node::as_double() const {
  const auto s = as_string();
  // from_chars: no locale, no hex floats, no leading '+' or spaces; inf and
  // nan parse and are refused below, 1e999 is out of range.
  double value = 0;
  const auto [end, code] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || code != std::errc() || end != s.data() + s.size() || !std::isfinite(value))
    fail("expected a number, got '" + s + "'");
  return value;
}

std::int64_t Node::as_int(std::int64_t min, std::int64_t max) const {
  const auto s = as_string();
  std::int64_t value = 0;
  const auto [end, code] = std::from_chars(s.data(), s.data() + s.size(), value);
  const bool digits = !s.empty() && end == s.data() + s.size();
  if (code == std::errc::result_out_of_range && digits)
    fail(fmt::format("'{}' is out of range (between {} and {})", s, min, max));
  if (code != std::errc() || !digits) fail("expected a whole number, got '" + s + "'");
  if (value < min || value > max)
    fail(fmt::format("{} is out of range (between {} and {})", value, min, max));
  return value;
}

bool Node::as_bool() const {
  const auto s = as_string();
  if (s == "true" || s == "True" || s == "yes") return true;
  if (s == "false" || s == "False" || s == "no") return false;
  fail("expected true or false, got '" + s + "'");
}

std::int64_t Node::as_duration(std::int64_t min_seconds, std::int64_t max_seconds) const {
  const auto s = as_string();
  auto parsed = parse_duration_seconds(s);
  if (!parsed) fail(parsed.error().message);
  if (*parsed < min_seconds)
    fail(fmt::format("duration '{}' must be at least {}", s, format_duration(min_seconds)));
  if (*parsed > max_seconds)
    fail(fmt::format("duration '{}' must be at most {}", s, format_duration(max_seconds)));
  return *parsed;
}

std::int64_t Node::as_byte_size(std::int64_t min, std::int64_t max) const {
  auto parsed = parse_byte_size(as_string(), min, max);
  if (!parsed) fail(parsed.error().message);
  return *parsed;
}

HostPort Node::as_host_port(std::string_view example) const {
  auto parsed = parse_host_port(as_string());
  if (!parsed) fail(fmt::format("{} (e.g. {})", parsed.error().message, example));
  return *parsed;
}

std::vector<Node> Node::as_list() const {
  if (!node_ || !node_.IsSequence()) fail("expected a list, got " + type_name());
  std::vector<Node> items;
  for (std::size_t i = 0; i < node_.size(); ++i) {
    items.emplace_back(node_[i], fmt::format("{}[{}]", path_, i), line_of(node_[i], line_));
  }
  return items;
}

std::vector<std::pair<NodeText, NodeText>> Node::as_string_map() const {
  require_map();
  std::vector<std::pair<NodeText, NodeText>> out;
  for (const auto& entry : node_) {
    const std::string prefix = path_ + ".";
    const Node key(entry.first, path_, line_of(entry.first, line_));
    const std::string name = key.as_string();
    const Node value(entry.second, prefix + name, line_of(entry.second, key.line()));
    out.push_back({NodeText{name, key}, NodeText{value.as_string(), value}});
  }
  return out;
}

}  // namespace prescale::config::detail
