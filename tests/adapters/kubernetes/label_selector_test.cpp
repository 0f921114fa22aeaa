#include <catch2/catch.hpp>
#include <string>

#include "prescale/kubernetes/api.hpp"
#include "prescale/kubernetes/label_selector.hpp"

using prescale::kubernetes::LabelSelector;
using Labels = std::map<std::string, std::string>;

namespace {
LabelSelector parsed(const std::string& text) {
  auto selector = LabelSelector::parse(text);
  INFO("selector: " << text);
  REQUIRE(selector.has_value());
  return *selector;
}
bool matches(const std::string& text, const Labels& labels) {
  return parsed(text).matches(labels);
}
std::string without_spaces(std::string text) {
  text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
  return text;
}
}  // namespace

// kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/labels/selector_test.go,
// TestSelectorParse.
TEST_CASE("selectors parse and print back as TestSelectorParse", "[selector]") {
  for (const char* good :
       {"x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1", "x>1,z<5"}) {
    INFO(good);
    CHECK(parsed(good).to_string() == without_spaces(good));
  }
  for (const char* bad : {"x=a||y=b", "x==a==b", "!x=a", "x<a"}) {
    INFO(bad);
    CHECK_FALSE(LabelSelector::parse(bad).has_value());
  }
}

// selector_test.go, TestDeterministicParse: requirements are sorted by key.
TEST_CASE("parse order does not change the selector", "[selector]") {
  CHECK(parsed("x=a,a=x").to_string() == parsed("a=x,x=a").to_string());
  CHECK(parsed("x=a,a=x").to_string() == "a=x,x=a");
}

// selector_test.go, TestSelectorMatches.
TEST_CASE("matching as TestSelectorMatches", "[selector]") {
  CHECK(matches("", {{"x", "y"}}));
  CHECK(matches("x=y", {{"x", "y"}}));
  CHECK(matches("x=y,z=w", {{"x", "y"}, {"z", "w"}}));
  CHECK(matches("x!=y,z!=w", {{"x", "z"}, {"z", "a"}}));
  CHECK(matches("notin=in", {{"notin", "in"}}));  // in and notin as plain words
  CHECK(matches("x", {{"x", "z"}}));
  CHECK(matches("!x", {{"y", "z"}}));
  CHECK(matches("x>1", {{"x", "2"}}));
  CHECK(matches("x<1", {{"x", "0"}}));
  CHECK_FALSE(matches("x=z", {}));
  CHECK_FALSE(matches("x=y", {{"x", "z"}}));
  CHECK_FALSE(matches("x=y,z=w", {{"x", "w"}, {"z", "w"}}));
  CHECK_FALSE(matches("x!=y,z!=w", {{"x", "z"}, {"z", "w"}}));
  CHECK_FALSE(matches("x", {{"y", "z"}}));
  CHECK_FALSE(matches("!x", {{"x", "z"}}));
  CHECK_FALSE(matches("x>1", {{"x", "0"}}));
  CHECK_FALSE(matches("x<1", {{"x", "2"}}));
  const Labels labelset{{"foo", "bar"}, {"baz", "blah"}};
  CHECK(matches("foo=bar", labelset));
  CHECK(matches("baz=blah", labelset));
  CHECK(matches("foo=bar,baz=blah", labelset));
  CHECK_FALSE(matches("foo=blah", labelset));
  CHECK_FALSE(matches("baz=bar", labelset));
  CHECK_FALSE(matches("foo=bar,foobar=bar,baz=blah", labelset));
}

// selector_test.go, TestRequirementSelectorMatching, with the requirements written as text.
TEST_CASE("set-based matching as TestRequirementSelectorMatching", "[selector]") {
  CHECK(matches("x in (foo),y notin (alpha)", {{"x", "foo"}, {"y", "baz"}}));
  CHECK_FALSE(matches("x in (foo),y in (alpha)", {{"x", "foo"}, {"y", "baz"}}));
  CHECK(matches("x notin (),y", {{"y", ""}}));
  CHECK(matches("!x,y", {{"y", ""}}));
  CHECK_FALSE(matches("x notin (),!y", {{"y", ""}}));
  CHECK_FALSE(matches("x in ()", {{"y", "baz"}}));
  CHECK(matches("z>1", {{"z", "2"}}));
  CHECK_FALSE(matches("z>1", {{"z", "v2"}}));
}

// selector_test.go, TestSetSelectorParser: valid inputs and their parsed form.
TEST_CASE("set-based parsing as TestSetSelectorParser", "[selector]") {
  CHECK(parsed("").empty());
  CHECK(parsed("\rx").to_string() == "x");
  CHECK(parsed("this-is-a-dns.domain.com/key-with-dash").to_string() ==
        "this-is-a-dns.domain.com/key-with-dash");
  CHECK(parsed("this-is-another-dns.domain.com/key-with-dash in (so,what)").to_string() ==
        "this-is-another-dns.domain.com/key-with-dash in (so,what)");
  CHECK(parsed("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)").to_string() ==
        "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)");
  CHECK(parsed("foo  in\t (abc)").to_string() == "foo in (abc)");
  CHECK(parsed("x notin\n (abc)").to_string() == "x notin (abc)");
  CHECK(parsed("x  notin\t\t\t(abc,def)").to_string() == "x notin (abc,def)");
  CHECK(parsed("x in (abc,def)").to_string() == "x in (abc,def)");
  CHECK(parsed("x in (abc,)").to_string() == "x in (,abc)");
  CHECK(parsed("x in ()").to_string() == "x in ()");
  CHECK(parsed("x notin (abc,,def),bar,z in (),w").to_string() ==
        "bar,w,x notin (,abc,def),z in ()");
  CHECK(parsed("x,y in (a)").to_string() == "x,y in (a)");
  CHECK(parsed("x=a").to_string() == "x=a");
  CHECK(parsed("x>1").to_string() == "x>1");
  CHECK(parsed("x<7").to_string() == "x<7");
  CHECK(parsed("x=a,y!=b").to_string() == "x=a,y!=b");
  CHECK(parsed("x=a,y!=b,z in (h,i,j)").to_string() == "x=a,y!=b,z in (h,i,j)");
  CHECK(parsed("x notin ( )").to_string() == "x notin ()");
  CHECK(parsed("x notin (, a)").to_string() == "x notin (,a)");
  CHECK(parsed("a ").to_string() == "a");
  CHECK(parsed("a in (x,y,notin, z,in)").to_string() ==
        "a in (in,notin,x,y,z)");  // operators as values
  for (const char* bad : {"x=a||y=b", "x,,y", ",x,y", "x nott in (y)", "a in (xyz),",
                          "a in (xyz)b notin ()", "a in (xyz abc)", "a notin(", "a (", "("}) {
    INFO(bad);
    CHECK_FALSE(LabelSelector::parse(bad).has_value());
  }
}

// selector_test.go, TestToString (written as text, then printed back).
TEST_CASE("printing as TestToString", "[selector]") {
  CHECK(parsed("x in (abc,def),y notin (jkl),z").to_string() == "x in (abc,def),y notin (jkl),z");
  CHECK(parsed("x notin (abc,def),y!=jkl,!z").to_string() == "x notin (abc,def),y!=jkl,!z");
  CHECK(parsed("x notin (abc),y in (jkl,mno),z notin ()").to_string() ==
        "x notin (abc),y in (jkl,mno),z notin ()");
  CHECK(parsed("x=abc,y==jkl,z!=a,z").to_string() == "x=abc,y==jkl,z!=a,z");
  CHECK(parsed("x>2,y<8,z").to_string() == "x>2,y<8,z");
}

// selector_test.go, TestRequirementConstructor: the key and value checks.
TEST_CASE("requirements are validated as TestRequirementConstructor", "[selector]") {
  CHECK(LabelSelector::parse("1foo in (bar)").has_value());
  CHECK(LabelSelector::parse("1234 in (bar)").has_value());
  CHECK(LabelSelector::parse("y>1").has_value());
  CHECK(LabelSelector::parse("z<6").has_value());
  CHECK_FALSE(LabelSelector::parse("foo>bar").has_value());
  CHECK_FALSE(LabelSelector::parse("barz<blah").has_value());
  CHECK_FALSE(
      LabelSelector::parse(std::string(254, 'a')).has_value());  // len(key) <= 253 / name <= 63
  CHECK_FALSE(LabelSelector::parse(std::string(64, 'a')).has_value());
  CHECK(LabelSelector::parse(std::string(63, 'a')).has_value());
  CHECK_FALSE(LabelSelector::parse("Bad_Prefix.com/key")
                  .has_value());  // prefix must be a lower-case DNS subdomain
  CHECK_FALSE(LabelSelector::parse("x=" + std::string(64, 'v')).has_value());
  CHECK_FALSE(LabelSelector::parse("x=-v").has_value());
}

TEST_CASE("errors name the offending token", "[selector]") {
  CHECK_THAT(LabelSelector::parse("x nott in (y)").error().message,
             Catch::Contains("found 'nott', expected: in, notin, =, ==, !=, gt, lt"));
  CHECK_THAT(LabelSelector::parse("!x=a").error().message,
             Catch::Contains("found '=', expected: ',' or 'end of string'"));
  CHECK_THAT(LabelSelector::parse("x<a").error().message, Catch::Contains("must be an integer"));
  CHECK_THAT(LabelSelector::parse("x,,y").error().message,
             Catch::Contains("expected: identifier after ','"));
  CHECK_THAT(LabelSelector::parse("x=a||y=b").error().message, Catch::Contains("a||y"));
}

// What the HPA sends: the selector form-encoded in the query string.
TEST_CASE("form-encoded selectors decode before parsing", "[selector]") {
  const auto target = prescale::kubernetes::parse_target(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/"
      "m?labelSelector=app%3Dweb%2Ctier+in+%28a%2Cb%29");
  REQUIRE(target.query.count("labelSelector") == 1);
  CHECK(target.query.find("labelSelector")->second == "app=web,tier in (a,b)");
  CHECK(
      parsed(target.query.find("labelSelector")->second).matches({{"app", "web"}, {"tier", "b"}}));
}
