#pragma once
// Text helpers shared by the parsers of user input (CSV rows, timestamps),
// so that a cell or a number is read the same way wherever it lands.
#include <charconv>
#include <string_view>

#include "prescale/common/expected.hpp"

namespace prescale {

/// A CSV cell or command-line value without the spaces, tabs and carriage
/// return around it (a file saved on Windows), and without one pair of
/// double quotes enclosing it (spreadsheets quote cells).
constexpr std::string_view trim_cell(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

/// An ASCII digit 0-9, whatever the locale (std::isdigit reads the locale
/// and is undefined for negative chars).
constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// The whole of `text` as a decimal number (a leading '+' allowed, as
/// spreadsheets write it; no spaces), or an error "not a number".
inline Expected<double> parse_number(std::string_view text) {
  double value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || first == last) return make_error("not a number");
  return value;
}

}  // namespace prescale
