#pragma once
// Structured log records. Library code never prints: it calls a LogFunction
// the process owner (the CLI) passes in, which writes text or JSON lines.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace prescale {

enum class LogLevel { debug, info, warning, error };
std::string_view to_string(LogLevel level);

/// One event: a message and typed fields (numbers stay numbers in JSON). Value type.
struct LogRecord {
  using Value = std::variant<std::string, double, std::int64_t, bool>;
  LogLevel level = LogLevel::info;
  std::string message;
  std::vector<std::pair<std::string, Value>> fields;

  LogRecord& with(std::string key, Value value) {
    fields.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

/// Where records go. Called from engine and server threads: must be thread-safe.
using LogFunction = std::function<void(const LogRecord&)>;

/// `2026-01-05T14:30:00.123Z info refit target=payments-rps-forecast model=...`
std::string format_text(const LogRecord& record, std::int64_t unix_millis);
/// One JSON object per line: {"ts":"...","level":"info","msg":"...",<fields>}
std::string format_json(const LogRecord& record, std::int64_t unix_millis);

}  // namespace prescale
