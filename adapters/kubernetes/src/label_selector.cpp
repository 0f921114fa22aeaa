#include "prescale/kubernetes/label_selector.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>

#include "prescale/common/kubernetes_names.hpp"

namespace prescale::kubernetes {
namespace {

// Tokens of k8s.io/apimachinery/pkg/labels/selector.go's lexer.
enum class Token {
  end,
  identifier,
  comma,
  does_not_exist,  // !
  double_equals,
  equals,
  greater_than,
  less_than,
  in,
  not_equals,
  not_in,
  open_paren,
  close_paren,
};

struct Lexeme {
  Token token;
  std::string text;
};

bool is_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_special(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

std::vector<Lexeme> lex(std::string_view s) {
  std::vector<Lexeme> out;
  std::size_t pos = 0;
  while (true) {
    while (pos < s.size() && is_whitespace(s[pos])) ++pos;
    if (pos >= s.size()) break;
    const char c = s[pos];
    if (is_special(c)) {
      // The longest operator wins: "!=" before "!", "==" before "=".
      const bool next_is_equals = pos + 1 < s.size() && s[pos + 1] == '=';
      switch (c) {
        case '=':
          out.push_back(next_is_equals ? Lexeme{Token::double_equals, "=="}
                                       : Lexeme{Token::equals, "="});
          pos += next_is_equals ? 2 : 1;
          continue;
        case '!':
          out.push_back(next_is_equals ? Lexeme{Token::not_equals, "!="}
                                       : Lexeme{Token::does_not_exist, "!"});
          pos += next_is_equals ? 2 : 1;
          continue;
        case '(':
          out.push_back({Token::open_paren, "("});
          break;
        case ')':
          out.push_back({Token::close_paren, ")"});
          break;
        case ',':
          out.push_back({Token::comma, ","});
          break;
        case '>':
          out.push_back({Token::greater_than, ">"});
          break;
        case '<':
          out.push_back({Token::less_than, "<"});
          break;
        default:
          break;
      }
      ++pos;
      continue;
    }
    std::size_t end = pos;
    while (end < s.size() && !is_whitespace(s[end]) && !is_special(s[end])) ++end;
    std::string word(s.substr(pos, end - pos));
    const Token token = word == "in"      ? Token::in
                        : word == "notin" ? Token::not_in
                                          : Token::identifier;
    out.push_back({token, std::move(word)});
    pos = end;
  }
  out.push_back({Token::end, ""});
  return out;
}

std::string quoted(std::string_view s) {
  std::string out(1, '"');
  out.append(s).push_back('"');
  return out;
}

std::optional<std::int64_t> parse_int64(std::string_view s) {
  std::int64_t value = 0;
  const auto* first = s.data();
  const auto* last = s.data() + s.size();
  if (first != last && *first == '+') ++first;  // strconv.ParseInt accepts a leading '+'
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || first == last) return std::nullopt;
  return value;
}

const char* operator_text(SelectorOperator op) {
  switch (op) {
    case SelectorOperator::equals:
      return "=";
    case SelectorOperator::double_equals:
      return "==";
    case SelectorOperator::not_equals:
      return "!=";
    case SelectorOperator::in:
      return " in ";
    case SelectorOperator::not_in:
      return " notin ";
    case SelectorOperator::greater_than:
      return ">";
    case SelectorOperator::less_than:
      return "<";
    case SelectorOperator::exists:
    case SelectorOperator::does_not_exist:
      return "";
  }
  return "";
}

// Builds a requirement with NewRequirement's checks.
Expected<Requirement> make_requirement(std::string key, SelectorOperator op,
                                       std::vector<std::string> values) {
  if (auto problem = qualified_name_problem(key); !problem.empty()) {
    return make_error("invalid label key " + quoted(key) + ": " + problem);
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  switch (op) {
    case SelectorOperator::in:
    case SelectorOperator::not_in:
      if (values.empty())
        return make_error("for 'in', 'notin' operators, values set can't be empty");
      break;
    case SelectorOperator::equals:
    case SelectorOperator::double_equals:
    case SelectorOperator::not_equals:
      if (values.size() != 1)
        return make_error("exact-match compatibility requires one single value");
      break;
    case SelectorOperator::exists:
    case SelectorOperator::does_not_exist:
      if (!values.empty())
        return make_error("values set must be empty for exists and does not exist");
      break;
    case SelectorOperator::greater_than:
    case SelectorOperator::less_than:
      if (values.size() != 1)
        return make_error("for 'Gt', 'Lt' operators, exactly one value is required");
      if (!parse_int64(values.front())) {
        return make_error("for 'Gt', 'Lt' operators, the value must be an integer, got " +
                          quoted(values.front()));
      }
      break;
  }
  for (const auto& value : values) {
    if (auto problem = label_value_problem(value); !problem.empty()) {
      return make_error("invalid label value: " + quoted(value) + ": at key: " + quoted(key) +
                        ": " + problem);
    }
  }
  return Requirement{std::move(key), op, std::move(values)};
}

// Recursive-descent parser over the lexemes, mirroring selector.go's Parser.
class Parser {
 public:
  explicit Parser(std::vector<Lexeme> lexemes) : lexemes_(std::move(lexemes)) {}

  Expected<std::vector<Requirement>> parse() {
    std::vector<Requirement> requirements;
    while (true) {
      const Lexeme& next = peek_value();
      if (next.token == Token::end) return requirements;
      if (next.token != Token::identifier && next.token != Token::does_not_exist) {
        return make_error("found '" + next.text + "', expected: !, identifier, or 'end of string'");
      }
      auto requirement = parse_requirement();
      if (!requirement)
        return make_error("unable to parse requirement: " + requirement.error().message);
      requirements.push_back(std::move(*requirement));
      const Lexeme after = take_value();
      if (after.token == Token::end) return requirements;
      if (after.token != Token::comma) {
        return make_error("found '" + after.text + "', expected: ',' or 'end of string'");
      }
      const Lexeme& following = peek_value();
      if (following.token != Token::identifier && following.token != Token::does_not_exist) {
        return make_error("found '" + following.text + "', expected: identifier after ','");
      }
    }
  }

 private:
  // Inside values and keys, "in" and "notin" are plain identifiers.
  static Lexeme as_value(Lexeme lexeme) {
    if (lexeme.token == Token::in || lexeme.token == Token::not_in)
      lexeme.token = Token::identifier;
    return lexeme;
  }
  const Lexeme& raw_peek() const { return lexemes_[std::min(position_, lexemes_.size() - 1)]; }
  Lexeme peek_value() const { return as_value(raw_peek()); }
  Lexeme take_value() { return as_value(take_raw()); }
  Lexeme take_raw() {
    Lexeme lexeme = raw_peek();
    if (position_ < lexemes_.size() - 1) ++position_;
    return lexeme;
  }

  Expected<Requirement> parse_requirement() {
    bool negated = false;
    Lexeme key = take_value();
    if (key.token == Token::does_not_exist) {
      negated = true;
      key = take_value();
    }
    if (key.token != Token::identifier)
      return make_error("found '" + key.text + "', expected: identifier");
    if (auto problem = qualified_name_problem(key.text); !problem.empty()) {
      return make_error("invalid label key " + quoted(key.text) + ": " + problem);
    }
    const Token next = peek_value().token;
    if (negated) return make_requirement(key.text, SelectorOperator::does_not_exist, {});
    if (next == Token::end || next == Token::comma)
      return make_requirement(key.text, SelectorOperator::exists, {});

    const Lexeme op_lexeme = take_raw();
    SelectorOperator op;
    switch (op_lexeme.token) {
      case Token::in:
        op = SelectorOperator::in;
        break;
      case Token::not_in:
        op = SelectorOperator::not_in;
        break;
      case Token::equals:
        op = SelectorOperator::equals;
        break;
      case Token::double_equals:
        op = SelectorOperator::double_equals;
        break;
      case Token::not_equals:
        op = SelectorOperator::not_equals;
        break;
      case Token::greater_than:
        op = SelectorOperator::greater_than;
        break;
      case Token::less_than:
        op = SelectorOperator::less_than;
        break;
      default:
        return make_error("found '" + op_lexeme.text + "', expected: in, notin, =, ==, !=, gt, lt");
    }
    auto values = (op == SelectorOperator::in || op == SelectorOperator::not_in)
                      ? parse_value_set()
                      : parse_exact_value();
    if (!values) return values.error();
    return make_requirement(key.text, op, std::move(*values));
  }

  Expected<std::vector<std::string>> parse_exact_value() {
    const Lexeme next = peek_value();
    if (next.token == Token::end || next.token == Token::comma) return std::vector<std::string>{""};
    const Lexeme value = take_value();
    if (value.token == Token::identifier) return std::vector<std::string>{value.text};
    return make_error("found '" + value.text + "', expected: identifier");
  }

  Expected<std::vector<std::string>> parse_value_set() {
    const Lexeme open = take_value();
    if (open.token != Token::open_paren)
      return make_error("found '" + open.text + "' expected: '('");
    const Lexeme next = peek_value();
    if (next.token == Token::close_paren) {  // "()" is the set holding the empty value
      take_value();
      return std::vector<std::string>{""};
    }
    if (next.token != Token::identifier && next.token != Token::comma) {
      return make_error("found '" + next.text + "', expected: ',', ')' or identifier");
    }
    std::vector<std::string> values;
    while (true) {
      const Lexeme item = take_value();
      if (item.token == Token::identifier) {
        values.push_back(item.text);
        const Lexeme after = peek_value();
        if (after.token == Token::comma) continue;
        if (after.token == Token::close_paren) break;
        return make_error("found '" + after.text + "', expected: ',' or ')'");
      }
      if (item.token == Token::comma) {
        // Empty members: "(,a)", "(a,)" and "(a,,b)" all hold "".
        if (values.empty()) values.emplace_back();
        const Token after = peek_value().token;
        if (after == Token::close_paren) {
          values.emplace_back();
          break;
        }
        if (after == Token::comma) {
          take_value();
          values.emplace_back();
        }
        continue;
      }
      return make_error("found '" + item.text + "', expected: ',', or identifier");
    }
    const Lexeme close = take_value();
    if (close.token != Token::close_paren)
      return make_error("found '" + close.text + "', expected: ')'");
    return values;
  }

  std::vector<Lexeme> lexemes_;
  std::size_t position_ = 0;
};

}  // namespace

bool Requirement::matches(const std::map<std::string, std::string>& labels) const {
  const auto found = labels.find(key);
  const bool has = found != labels.end();
  auto contains = [&](const std::string& v) {
    return std::binary_search(values.begin(), values.end(), v);
  };
  switch (op) {
    case SelectorOperator::equals:
    case SelectorOperator::double_equals:
    case SelectorOperator::in:
      return has && contains(found->second);
    case SelectorOperator::not_equals:
    case SelectorOperator::not_in:
      return !has || !contains(found->second);
    case SelectorOperator::exists:
      return has;
    case SelectorOperator::does_not_exist:
      return !has;
    case SelectorOperator::greater_than:
    case SelectorOperator::less_than: {
      if (!has || values.size() != 1) return false;
      const auto label_value = parse_int64(found->second);
      const auto bound = parse_int64(values.front());
      if (!label_value || !bound) return false;
      return op == SelectorOperator::greater_than ? *label_value > *bound : *label_value < *bound;
    }
  }
  return false;
}

std::string Requirement::to_string() const {
  std::string out;
  if (op == SelectorOperator::does_not_exist) out += "!";
  out += key;
  if (op == SelectorOperator::exists || op == SelectorOperator::does_not_exist) return out;
  out += operator_text(op);
  if (op == SelectorOperator::in || op == SelectorOperator::not_in) {
    out += "(";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) out.push_back(',');
      out.append(values[i]);
    }
    out += ")";
  } else {
    out += values.front();
  }
  return out;
}

Expected<LabelSelector> LabelSelector::parse(std::string_view text) {
  Parser parser(lex(text));
  auto requirements = parser.parse();
  if (!requirements) return requirements.error();
  LabelSelector selector;
  selector.requirements_ = std::move(*requirements);
  std::stable_sort(selector.requirements_.begin(), selector.requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return selector;
}

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const Requirement& r) { return r.matches(labels); });
}

std::string LabelSelector::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < requirements_.size(); ++i) {
    if (i) out.push_back(',');
    out.append(requirements_[i].to_string());
  }
  return out;
}

}  // namespace prescale::kubernetes
