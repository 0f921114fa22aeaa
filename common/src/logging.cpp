#include "prescale/common/logging.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "prescale/common/time.hpp"

namespace prescale {

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

namespace {

// Through nlohmann's writer, as decision records are written: control
// characters escaped, and bytes that are not UTF-8 (a label, a Prometheus
// error body) replaced by U+FFFD, so every line stays valid JSON.
std::string json_string(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string number(double v) {
  if (!std::isfinite(v)) return "null";  // JSON has no NaN
  return fmt::format("{}", v);
}

// Text values are quoted only when they would not read as one token.
std::string text_value(const LogRecord::Value& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    if (!s->empty() && s->find_first_of(" \t\"=") == std::string::npos) return *s;
    return json_string(*s);
  }
  if (const auto* d = std::get_if<double>(&value)) return fmt::format("{:.6g}", *d);
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  return std::get<bool>(value) ? "true" : "false";
}

}  // namespace

std::string format_text(const LogRecord& record, std::int64_t unix_millis) {
  std::string line = fmt::format("{} {:<7} {}", format_rfc3339_millis(unix_millis),
                                 to_string(record.level), record.message);
  for (const auto& [key, value] : record.fields)
    line += fmt::format(" {}={}", key, text_value(value));
  return line;
}

std::string format_json(const LogRecord& record, std::int64_t unix_millis) {
  std::string line =
      fmt::format("{{\"ts\":\"{}\",\"level\":\"{}\",\"msg\":{}", format_rfc3339_millis(unix_millis),
                  to_string(record.level), json_string(record.message));
  for (const auto& [key, value] : record.fields) {
    line += "," + json_string(key) + ":";
    if (const auto* s = std::get_if<std::string>(&value)) {
      line += json_string(*s);
    } else if (const auto* d = std::get_if<double>(&value)) {
      line += number(*d);
    } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
      line += std::to_string(*i);
    } else {
      line += std::get<bool>(value) ? "true" : "false";
    }
  }
  return line + "}";
}

}  // namespace prescale
