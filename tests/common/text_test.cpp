// trim: the white space around a header value, a token or password file's
// content, an item of a comma-separated list. Cases from Go's
// strings_test.go (trimSpaceTests), whose strings.TrimSpace Kubernetes and
// Prometheus apply to the same inputs; the non-ASCII spaces it also trims
// (U+0085, U+00A0, U+2000, U+3000) are out of scope and stay.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "prescale/common/text.hpp"

using namespace prescale;
using namespace std::string_view_literals;

TEST_CASE("trim removes ASCII white space at both ends, as Go's TrimSpace", "[text]") {
  CHECK(trim("") == "");
  CHECK(trim("  a") == "a");
  CHECK(trim("b  ") == "b");
  CHECK(trim("abc") == "abc");
  CHECK(trim("\t\v\r\f\nabc\t\v\r\f\n") == "abc");
  CHECK(trim(" ") == "");
  CHECK(trim(" \t\r\n \t\t\r\r\n\n ") == "");
  CHECK(trim(" \t\r\n x\t\t\r\r\n\n ") == "x");
  CHECK(trim("1 \t\r\n2") == "1 \t\r\n2");  // white space inside stays
  CHECK(trim(" x\x80") == "x\x80");         // bytes above 0x7f are not white space,
  CHECK(trim(" x\xc0") == "x\xc0");         // whatever the locale says
  CHECK(trim("x \xc0\xc0 ") == "x \xc0\xc0");
  CHECK(trim("\xc2\xa0x\xc2\xa0") == "\xc2\xa0x\xc2\xa0");  // U+00A0: out of scope
  CHECK(trim("\0x\0"sv) == "\0x\0"sv);                      // NUL is not white space
}

TEST_CASE("trim returns a view into its argument", "[text]") {
  const std::string token = "  secret-token\n";
  const std::string_view trimmed = trim(token);
  CHECK(trimmed == "secret-token");
  CHECK(trimmed.data() == token.data() + 2);
  static_assert(trim(" a ") == "a");  // usable in constant expressions
}

TEST_CASE("is_space is the C locale's isspace set", "[text]") {
  for (int c = 0; c < 256; ++c) {
    const bool expected = c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
    INFO("byte " << c);
    CHECK(is_space(static_cast<char>(c)) == expected);
  }
}
