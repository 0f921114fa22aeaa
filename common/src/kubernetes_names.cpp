#include "prescale/common/kubernetes_names.hpp"

#include <algorithm>

namespace prescale {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool is_dns1123_label_text(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_lower_alnum(c) || c == '-'; });
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool is_qualified_name_part(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

constexpr std::string_view kSubdomainMessage =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com')";

}  // namespace

std::string dns1123_subdomain_problem(std::string_view name) {
  if (name.size() > 253) return "must be no more than 253 characters";
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const auto label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!is_dns1123_label_text(label)) return std::string(kSubdomainMessage);
    if (dot == std::string_view::npos) return {};
    start = dot + 1;
  }
}

std::string dns1123_label_problem(std::string_view name) {
  if (name.size() > 63) return "must be no more than 63 characters";
  if (!is_dns1123_label_text(name)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
           "and must start and end with an alphanumeric character (e.g. 'my-name',  or "
           "'123-abc')";
  }
  return {};
}

std::string qualified_name_problem(std::string_view key) {
  std::string_view name = key;
  const auto slash = key.find('/');
  if (slash != std::string_view::npos) {
    const std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (name.find('/') != std::string_view::npos) {
      return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an "
             "optional DNS subdomain prefix and '/'";
    }
    if (prefix.empty()) return "prefix part must be non-empty";
    if (auto problem = dns1123_subdomain_problem(prefix); !problem.empty()) {
      return "prefix part " + problem;
    }
  }
  if (name.empty()) return "name part must be non-empty";
  if (name.size() > 63) return "name part must be no more than 63 characters";
  if (!is_qualified_name_part(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
           "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc')";
  }
  return {};
}

std::string label_value_problem(std::string_view value) {
  if (value.size() > 63) return "must be no more than 63 characters";
  if (!value.empty() && !is_qualified_name_part(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
           "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
           "'my_value',  or '12345')";
  }
  return {};
}

}  // namespace prescale
