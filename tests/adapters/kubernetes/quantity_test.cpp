#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "prescale/kubernetes/quantity.hpp"

using prescale::kubernetes::canonical_quantity;
using prescale::kubernetes::format_quantity;

namespace {
std::string canonical(const char* text) {
  auto result = canonical_quantity(text);
  INFO(text);
  REQUIRE(result.has_value());
  return *result;
}
std::string formatted(double value) {
  auto result = format_quantity(value);
  INFO(value);
  REQUIRE(result.has_value());
  return *result;
}
}  // namespace

// kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/api/resource/quantity_test.go,
// TestQuantityString: the DecimalSI rows, written here as the decimal the
// decQuantity(mantissa, exponent) builds, with their "expect" and "alternate".
TEST_CASE("canonical DecimalSI form as apimachinery's TestQuantityString", "[quantity]") {
  CHECK(canonical("1e9") == "1G");
  CHECK(canonical("1000e6") == "1G");
  CHECK(canonical("0.001T") == "1G");  // alternate
  CHECK(canonical("1000000e3") == "1G");
  CHECK(canonical("1000000000") == "1G");
  CHECK(canonical("1000M") == "1G");  // also TestQuantityParseEmit
  CHECK(canonical("1e-3") == "1m");
  CHECK(canonical("1000u") == "1m");  // alternate
  CHECK(canonical("80e-3") == "80m");
  CHECK(canonical("1080e-3") == "1080m");
  CHECK(canonical("1.08") == "1080m");  // alternate
  CHECK(canonical("108e-2") == "1080m");
  CHECK(canonical("10800e-4") == "1080m");
  CHECK(canonical("300e6") == "300M");
  CHECK(canonical("1e12") == "1T");
  CHECK(canonical("1e18") == "1E");
  // No suffix beyond E: exponent notation rather than dropping magnitude.
  CHECK(canonical("1e21") == "1e21");
  CHECK(canonical("1000E") == "1e21");
  CHECK(canonical("5e21") == "5e21");
  CHECK(canonical("5000E") == "5e21");
  CHECK(canonical("1e24") == "1e24");
  CHECK(canonical("1000000E") == "1e24");
  CHECK(canonical("1234567e6") == "1234567M");
  CHECK(canonical("3e3") == "3k");
  CHECK(canonical("0") == "0");
}

TEST_CASE("negatives print with a sign, as TestQuantityString's negated table and TestQuantityNeg",
          "[quantity]") {
  CHECK(canonical("-1e9") == "-1G");
  CHECK(canonical("-80e-3") == "-80m");
  CHECK(canonical("-1e21") == "-1e21");
  CHECK(canonical("-3e3") == "-3k");
  CHECK(canonical("-9.01") == "-9010m");  // TestQuantityNeg: decQuantity(901, -2) negated
  CHECK(canonical("-0") == "0");          // never "-0"
}

// quantity_test.go TestQuantityParse rows at milli precision or coarser,
// printed canonically (the table gives decQuantity(mantissa, exponent)).
TEST_CASE("parsed decimals re-canonicalize as TestQuantityParse's expectations", "[quantity]") {
  CHECK(canonical("100.035k") == "100035");  // decQuantity(100035, 0)
  CHECK(canonical("0.0005k") == "500m");     // decQuantity(5, -1)
  CHECK(canonical("0.00050k") == "500m");
  CHECK(canonical("0.5") == "500m");
  CHECK(canonical("0.50000") == "500m");
  CHECK(canonical("0.05") == "50m");
  CHECK(canonical("0.005") == "5m");
  CHECK(canonical("0.001") == "1m");
  CHECK(canonical("10.035M") == "10035k");     // decQuantity(10035, 3)
  CHECK(canonical("1.2e3") == "1200");         // decQuantity(12, 2)
  CHECK(canonical("1.3E+6") == "1300k");       // decQuantity(13, 5)
  CHECK(canonical("1.40e9") == "1400M");       // decQuantity(14, 8)
  CHECK(canonical("1.53E12") == "1530G");      // decQuantity(153, 10)
  CHECK(canonical("9.01") == "9010m");         // decQuantity(901, -2)
  CHECK(canonical("8.1k") == "8100");          // decQuantity(81, 2)
  CHECK(canonical("7.123456M") == "7123456");  // decQuantity(7123456, 0)
  CHECK(canonical("6.987654321G") == "6987654321");
  CHECK(canonical("5.444T") == "5444G");  // decQuantity(5444, 9)
  CHECK(canonical("40.1T") == "40100G");  // decQuantity(401, 11)
  CHECK(canonical("2.5P") == "2500T");    // decQuantity(25, 14)
  CHECK(canonical("1.01E") == "1010P");   // decQuantity(101, 16)
  CHECK(canonical("12E") == "12E");
  CHECK(canonical(".001") == "1m");  // "things written by trolls"
  CHECK(canonical(".0001k") == "100m");
  CHECK(canonical("1.") == "1");
  CHECK(canonical("1.G") == "1G");
  CHECK(canonical("0n") == "0");
  CHECK(canonical("0k") == "0");
}

// TestMilliNewSet, TestNewSet and TestNewScaledSet (DecimalSI rows).
TEST_CASE("milli, unit and scaled values as TestMilliNewSet/TestNewSet/TestNewScaledSet",
          "[quantity]") {
  CHECK(canonical("1m") == "1m");
  CHECK(canonical("1000m") == "1");
  CHECK(canonical("1234000m") == "1234");
  CHECK(canonical("1") == "1");
  CHECK(canonical("1000") == "1k");
  CHECK(canonical("1234000") == "1234k");
  CHECK(canonical("1000u") == "1m");
  CHECK(canonical("1000000n") == "1m");
}

// apimachinery rounds up to nano ("Things that saturate/round" in
// TestQuantityParse: "3.001n" -> 4n, "0.00000012345" -> 124n); the server
// rounds up to milli the same way (Quantity.RoundUp: away from zero), so a
// served value is never below the computed one.
TEST_CASE("sub-milli precision rounds away from zero to a milli-unit", "[quantity]") {
  CHECK(canonical("3.001n") == "1m");
  CHECK(canonical("0.00000012345") == "1m");
  CHECK(canonical("1234.5678") == "1234568m");
  CHECK(canonical("-1234.5678") == "-1234568m");
  CHECK(canonical("1234.5670") == "1234567m");
  CHECK(canonical("0.9999") == "1");
  CHECK(canonical("999.9999") == "1k");
  CHECK(canonical("0.0000") == "0");
}

TEST_CASE("doubles format as the engine meant them", "[quantity]") {
  CHECK(formatted(0.5) == "500m");
  CHECK(formatted(1500) == "1500");
  CHECK(formatted(2000) == "2k");
  CHECK(formatted(1e9) == "1G");
  CHECK(formatted(0.1) == "100m");  // not 101m: the shortest round-trip decimal is used
  CHECK(formatted(0.3) == "300m");
  CHECK(formatted(1234.5678) == "1234568m");
  CHECK(formatted(-1234.5678) == "-1234568m");
  CHECK(formatted(-0.5) == "-500m");
  CHECK(formatted(0.0) == "0");
  CHECK(formatted(-0.0) == "0");
  CHECK(formatted(1e21) == "1e21");
  CHECK(formatted(2.5e-4) == "1m");
  CHECK(formatted(1e-300) == "1m");
  CHECK(formatted(123456789.123) == "123456789123m");
  CHECK(formatted(42) == "42");
}

TEST_CASE("non-finite values and malformed decimals are errors that name the input", "[quantity]") {
  CHECK_FALSE(format_quantity(std::numeric_limits<double>::quiet_NaN()).has_value());
  CHECK_FALSE(format_quantity(std::numeric_limits<double>::infinity()).has_value());
  CHECK_FALSE(format_quantity(-std::numeric_limits<double>::infinity()).has_value());
  for (const char* bad : {"", "abc", "1Ki", "1.5Gi", "5x", "1e", "--1", "."}) {
    INFO(bad);
    CHECK_FALSE(canonical_quantity(bad).has_value());
  }
  CHECK_THAT(canonical_quantity("1Ki").error().message, Catch::Contains("\"1Ki\""));
}

// Found by fuzz/quantity_fuzzer (kept in fuzz/corpus/quantity): the exponent
// limit applied to the written exponent only, so 10000000000000e99999 was
// accepted and canonicalised to 1e100012, which did not parse again.
TEST_CASE("canonical quantities parse again at the edge of the exponent range", "[quantity]") {
  for (const char* text : {"10000000000000e99999", "1e100000", "99999999e99993"}) {
    INFO(text);
    auto result = canonical_quantity(text);
    REQUIRE_FALSE(result.has_value());
    CHECK_THAT(result.error().message, Catch::Contains("too large"));
  }
  for (const char* text : {"1e99999", "10e99998", "0.001e99999", "0e99999", "1e-99999"}) {
    INFO(text);
    auto result = canonical_quantity(text);
    REQUIRE(result.has_value());
    auto again = canonical_quantity(*result);
    REQUIRE(again.has_value());
    CHECK(*again == *result);
  }
}
