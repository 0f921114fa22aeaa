#pragma once
// Kubernetes' rules for names, label keys and label values, in one place for
// the config loader and the External Metrics API: the functions of
// k8s.io/apimachinery/pkg/util/validation/validation.go (IsDNS1123Subdomain,
// IsDNS1123Label, IsQualifiedName, IsValidLabelValue) with their messages.
// Each returns an empty string when the text is valid, else why not.
#include <string>
#include <string_view>

namespace prescale {

/// IsDNS1123Subdomain: at most 253 characters; dot-separated labels of
/// [a-z0-9-], each starting and ending with [a-z0-9] (so "a..b" and "a.-b"
/// are not). Resource names in URLs, e.g. an external metric's name.
[[nodiscard]] std::string dns1123_subdomain_problem(std::string_view name);

/// IsDNS1123Label: one such label of at most 63 characters, e.g. a namespace.
[[nodiscard]] std::string dns1123_label_problem(std::string_view name);

/// IsQualifiedName: a label key, [prefix/]name, the prefix a DNS-1123
/// subdomain, the name at most 63 characters of [A-Za-z0-9-_.] starting and
/// ending with [A-Za-z0-9].
[[nodiscard]] std::string qualified_name_problem(std::string_view key);

/// IsValidLabelValue: empty, or a name part as above (at most 63 characters).
[[nodiscard]] std::string label_value_problem(std::string_view value);

}  // namespace prescale
