#pragma once
// Text helpers shared by the parsers of user input (CSV rows, timestamps),
// so that a cell or a number is read the same way wherever it lands.
#include <charconv>
#include <string_view>

#include "prescale/common/expected.hpp"

namespace prescale {

/// An ASCII white-space byte: space, tab, line feed, vertical tab, form feed,
/// carriage return (std::isspace in the "C" locale, the ASCII set of Go's
/// unicode.IsSpace). Not locale-dependent.
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/// `text` without the white space (is_space) around it: a header value, a
/// token or password file's content, one item of a comma-separated list. The
/// ASCII half of Go's strings.TrimSpace, which Kubernetes and Prometheus apply
/// to the same inputs. A view into `text`.
constexpr std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

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
