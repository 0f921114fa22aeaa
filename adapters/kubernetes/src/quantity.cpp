#include "prescale/kubernetes/quantity.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace prescale::kubernetes {
namespace {

// A decimal number as sign, integer mantissa digits and a base-10 exponent.
struct Decimal {
  bool negative = false;
  std::string digits;  // no sign, may have leading zeros
  long exponent = 0;
};

int suffix_exponent(char suffix) {
  switch (suffix) {
    case 'n':
      return -9;
    case 'u':
      return -6;
    case 'm':
      return -3;
    case 'k':
      return 3;
    case 'M':
      return 6;
    case 'G':
      return 9;
    case 'T':
      return 12;
    case 'P':
      return 15;
    case 'E':
      return 18;
    default:
      return std::numeric_limits<int>::min();
  }
}

const char* suffix_for(long exponent) {
  switch (exponent) {
    case -9:
      return "n";
    case -6:
      return "u";
    case -3:
      return "m";
    case 0:
      return "";
    case 3:
      return "k";
    case 6:
      return "M";
    case 9:
      return "G";
    case 12:
      return "T";
    case 15:
      return "P";
    case 18:
      return "E";
    default:
      return nullptr;
  }
}

// Exponents (and values) from 10^kMaxExponent up are refused.
constexpr long kMaxExponent = 100000;

Expected<Decimal> parse_decimal(std::string_view text) {
  std::string quoted(1, '"');
  quoted.append(text).push_back('"');
  Decimal out;
  std::size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-'))
    out.negative = text[pos++] == '-';
  bool any_digit = false;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
    out.digits += text[pos++], any_digit = true;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      out.digits += text[pos++];
      --out.exponent;
      any_digit = true;
    }
  }
  if (!any_digit) return make_error("quantity " + quoted + " has no digits");
  if (pos == text.size()) return out;
  const std::string_view rest = text.substr(pos);
  if (rest.size() == 1 && suffix_exponent(rest[0]) != std::numeric_limits<int>::min()) {
    out.exponent += suffix_exponent(rest[0]);
    return out;
  }
  if (rest[0] == 'e' || rest[0] == 'E') {
    long exponent = 0;
    std::size_t start = 1;
    if (start < rest.size() && rest[start] == '+') ++start;  // from_chars takes '-' but not '+'
    const auto* first = rest.data() + start;
    const auto* last = rest.data() + rest.size();
    const auto [ptr, ec] = std::from_chars(first, last, exponent);
    if (ec == std::errc() && ptr == last && first != last) {
      if (exponent <= -kMaxExponent) {
        return make_error("quantity " + quoted + " is too small (exponent below -" +
                          std::to_string(kMaxExponent) + ")");
      }
      out.exponent += std::min(exponent, kMaxExponent);
      // The bound is on the value, not on the written exponent: 1e13e99999
      // canonicalises to 1e100012, which must parse again.
      const auto leading = out.digits.find_first_not_of('0');
      if (leading != std::string::npos &&
          out.exponent + static_cast<long>(out.digits.size() - leading) - 1 >= kMaxExponent) {
        return make_error("quantity " + quoted + " is too large (10^" +
                          std::to_string(kMaxExponent) + " or more)");
      }
      return out;
    }
  }
  return make_error("quantity " + quoted + ": unsupported suffix \"" + std::string(rest) +
                    "\" (expected one of n u m k M G T P E or an exponent like e3)");
}

// Adds one to a string of decimal digits.
void increment(std::string& digits) {
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it != '9') {
      ++*it;
      return;
    }
    *it = '0';
  }
  digits.insert(digits.begin(), '1');
}

std::string canonicalize(Decimal number) {
  constexpr long kMilli = -3;
  // Round away from zero to a whole number of milli-units (Quantity.RoundUp).
  if (number.exponent < kMilli) {
    const auto drop = static_cast<std::size_t>(kMilli - number.exponent);
    std::string kept;
    std::string dropped = number.digits;
    if (drop < number.digits.size()) {
      kept = number.digits.substr(0, number.digits.size() - drop);
      dropped = number.digits.substr(number.digits.size() - drop);
    }
    const bool inexact = dropped.find_first_not_of('0') != std::string::npos;
    if (kept.empty()) kept.push_back('0');
    if (inexact) increment(kept);
    number.digits = kept;
    number.exponent = kMilli;
  }
  const auto first = number.digits.find_first_not_of('0');
  if (first == std::string::npos) return "0";  // never "-0" nor "0m"
  number.digits.erase(0, first);
  // Move trailing zeros into the exponent, then back down to a multiple of 3.
  while (number.digits.size() > 1 && number.digits.back() == '0') {
    number.digits.pop_back();
    ++number.exponent;
  }
  while (((number.exponent % 3) + 3) % 3 != 0) {
    number.digits.push_back('0');
    --number.exponent;
  }
  std::string out;
  if (number.negative) out.push_back('-');
  out.append(number.digits);
  if (const char* suffix = suffix_for(number.exponent)) {
    out += suffix;
  } else {
    // No SI suffix beyond E: exponent notation, as apimachinery does for 1e21.
    out.push_back('e');
    out.append(std::to_string(number.exponent));
  }
  return out;
}

}  // namespace

Expected<std::string> canonical_quantity(std::string_view decimal) {
  auto parsed = parse_decimal(decimal);
  if (!parsed) return parsed.error();
  return canonicalize(std::move(*parsed));
}

Expected<std::string> format_quantity(double value) {
  if (!std::isfinite(value)) return make_error("cannot serve a non-finite value as a quantity");
  // The shortest decimal that round-trips is the value the engine meant
  // (0.1 stays 0.1 rather than 0.1000000000000000055...).
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) return make_error("cannot format value as a quantity");
  return canonical_quantity(std::string_view(buffer, static_cast<std::size_t>(end - buffer)));
}

}  // namespace prescale::kubernetes
