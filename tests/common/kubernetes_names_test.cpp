// Kubernetes' name rules, with cases in the manner of
// k8s.io/apimachinery/pkg/util/validation/validation_test.go
// (TestIsDNS1123Subdomain, TestIsDNS1123Label, TestIsQualifiedName,
// TestIsValidLabelValue).
#include <catch2/catch.hpp>

#include <initializer_list>
#include <string>

#include "prescale/common/kubernetes_names.hpp"

using namespace prescale;

TEST_CASE("DNS-1123 subdomains: dot-separated lowercase labels", "[names]") {
  for (const std::string& good : std::initializer_list<std::string>{"a",
                                                                    "ab",
                                                                    "abc",
                                                                    "a1",
                                                                    "a-1",
                                                                    "a--1--2--b",
                                                                    "0",
                                                                    "01",
                                                                    "012",
                                                                    "1a",
                                                                    "1-a",
                                                                    "1--a--b--2",
                                                                    "a.a",
                                                                    "ab.a",
                                                                    "a-1.a",
                                                                    "a.1",
                                                                    "0.a",
                                                                    "a.b.c.d.e",
                                                                    "1.2.3.4.5",
                                                                    "11.22.33.44.55",
                                                                    "payments-rps-forecast",
                                                                    std::string(253, 'a')}) {
    INFO(good);
    CHECK(dns1123_subdomain_problem(good).empty());
  }
  for (const std::string& bad : std::initializer_list<std::string>{
           "",     "A",   "ABC", "aBc",  "A1",   "-",
           "a-",   "-a",  "1-",  "-1",   "_",    "a_b",
           ".",    "a.",  ".a",  "a..b", "1..2", "a.-b",
           "a-.b", " ",   "a b", "A.a",  "ab.A", "a@b",
           "a,b",  "a;b", "a:b", "a%b",  "a/b",  std::string(254, 'a')}) {
    INFO(bad);
    CHECK_FALSE(dns1123_subdomain_problem(bad).empty());
  }
  CHECK(dns1123_subdomain_problem(std::string(254, 'a')) == "must be no more than 253 characters");
  CHECK_THAT(dns1123_subdomain_problem("a..b"),
             Catch::StartsWith("a lowercase RFC 1123 subdomain must consist of"));
}

TEST_CASE("DNS-1123 labels: one lowercase label of at most 63 characters", "[names]") {
  for (const std::string& good : std::initializer_list<std::string>{
           "a", "ab", "a-1", "1-a", "payments", std::string(63, 'a')}) {
    INFO(good);
    CHECK(dns1123_label_problem(good).empty());
  }
  for (const std::string& bad : std::initializer_list<std::string>{"", "A", "a.b", "-a", "a-",
                                                                   "a_b", std::string(64, 'a')}) {
    INFO(bad);
    CHECK_FALSE(dns1123_label_problem(bad).empty());
  }
}

TEST_CASE("qualified names (label keys) and label values", "[names]") {
  for (const std::string& good : std::initializer_list<std::string>{
           "simple", "now-with-dashes", "1-starts-with-num", "1234", "simple/simple",
           "now-with-dashes/simple", "now-with-dashes/now-with-dashes", "now.with.dots/simple",
           "now-with.dashes-and.dots/simple", "1-num.2-num/3-num", "1234/5678", "1.2.3.4/5678",
           "Uppercase_Is_OK_123", "example.com/Uppercase_Is_OK_123", "requests.storage-foo",
           std::string(63, 'a'), std::string(253, 'a') + "/" + std::string(63, 'b')}) {
    INFO(good);
    CHECK(qualified_name_problem(good).empty());
  }
  for (const std::string& bad : std::initializer_list<std::string>{
           "nospecialchars%^=@", "cantendwithadash-", "-cantstartwithadash-", "only/one/slash",
           "Example.com/abc", "example_com/abc", "example.com/", "/simple", "a..b/c", "a.-b/c",
           std::string(64, 'a'), std::string(254, 'a') + "/abc"}) {
    INFO(bad);
    CHECK_FALSE(qualified_name_problem(bad).empty());
  }
  CHECK(qualified_name_problem("/simple") == "prefix part must be non-empty");
  CHECK_THAT(qualified_name_problem("a..b/c"),
             Catch::StartsWith("prefix part a lowercase RFC 1123 subdomain"));

  for (const std::string& good : std::initializer_list<std::string>{
           "", "simple", "now-with-dashes", "1-starts-with-num", "end-with-num-1", "1234",
           std::string(63, 'a'), "Uppercase_Is_OK_123"}) {
    INFO(good);
    CHECK(label_value_problem(good).empty());
  }
  for (const std::string& bad : std::initializer_list<std::string>{
           "nospecialchars%^=@", "Tama-nui-te-rā.is.Māori.sun", "\\backslashes\\are\\bad",
           "-starts-with-dash", "ends-with-dash-", ".starts.with.dot", "ends.with.dot.",
           std::string(64, 'a')}) {
    INFO(bad);
    CHECK_FALSE(label_value_problem(bad).empty());
  }
}
