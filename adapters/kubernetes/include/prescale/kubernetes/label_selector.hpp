#pragma once
// Kubernetes label selectors (k8s.io/apimachinery/pkg/labels): the grammar
// the HPA sends in ?labelSelector=, e.g. "a=b,c!=d,e in (x,y),f notin (z),g,!h".
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"

namespace prescale::kubernetes {

enum class SelectorOperator {
  equals,          ///< a=b
  double_equals,   ///< a==b
  not_equals,      ///< a!=b (also matches when a is absent)
  in,              ///< a in (x,y)
  not_in,          ///< a notin (x,y) (also matches when a is absent)
  exists,          ///< a
  does_not_exist,  ///< !a
  greater_than,    ///< a>5 (integers)
  less_than,       ///< a<5 (integers)
};

/// One comma-separated term. Value type.
struct Requirement {
  std::string key;
  SelectorOperator op = SelectorOperator::exists;
  std::vector<std::string> values;  ///< sorted, unique
  [[nodiscard]] bool matches(const std::map<std::string, std::string>& labels) const;
  [[nodiscard]] std::string to_string() const;
};

/// A parsed selector: requirements sorted by key, all must hold. An empty
/// selector matches everything. Immutable value; thread-safe to share.
class LabelSelector {
 public:
  /// Parses with Kubernetes' lexer and rules (keys are qualified names,
  /// values valid label values); the error names the offending token.
  static Expected<LabelSelector> parse(std::string_view text);

  [[nodiscard]] bool matches(const std::map<std::string, std::string>& labels) const;
  [[nodiscard]] bool empty() const { return requirements_.empty(); }
  [[nodiscard]] const std::vector<Requirement>& requirements() const { return requirements_; }
  /// Canonical text, as labels.Selector.String() prints it.
  [[nodiscard]] std::string to_string() const;

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace prescale::kubernetes
