// The Prometheus JSON reply parser and the NaN-aware combination of series.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "prescale/prometheus/client.hpp"
#include "prescale/prometheus/prometheus_source.hpp"
#include "prescale/prometheus/reply.hpp"

using namespace prescale::prometheus;

namespace {
// A reply exactly as Prometheus 2.x writes it (float seconds, string values).
std::string matrix(const std::string& result, const std::string& extra = "") {
  return R"({"status":"success","data":{"resultType":"matrix","result":[)" + result + "]}" + extra +
         "}";
}
}  // namespace

TEST_CASE("sample values as Prometheus formats them", "[prometheus][reply]") {
  CHECK(*parse_sample_value("1.5") == 1.5);
  CHECK(*parse_sample_value("-2e-3") == -0.002);
  CHECK(*parse_sample_value("+4") == 4.0);
  CHECK(std::isnan(*parse_sample_value("NaN")));
  CHECK(*parse_sample_value("+Inf") == std::numeric_limits<double>::infinity());
  CHECK(*parse_sample_value("-Inf") == -std::numeric_limits<double>::infinity());
  CHECK(*parse_sample_value("0.30000000000000004") ==
        0.30000000000000004);  // round trip, bit exact
  CHECK_FALSE(parse_sample_value("").has_value());
  CHECK_FALSE(parse_sample_value("12abc").has_value());
  CHECK(parse_sample_value("x").error().message.find("'x' is not a number") != std::string::npos);
}

TEST_CASE("a matrix reply lands on the grid, gaps as NaN", "[prometheus][reply]") {
  ReplyParser parser;
  // Points at 1000, 1060 and 1180; 1120 is missing (a gap), 1240 too (the tail).
  const std::string json = matrix(
      R"({"metric":{"__name__":"load","job":"api"},"values":[[1000,"1"],[1060.000,"NaN"],[1180,"+Inf"]]})");
  auto reply = parser.parse_range(json, Grid{1000, 60, 5});
  REQUIRE(reply.has_value());
  REQUIRE(reply->series.size() == 1);
  const auto& values = reply->series[0].values;
  REQUIRE(values.size() == 5);
  CHECK(values[0] == 1.0);
  CHECK(std::isnan(values[1]));
  CHECK(std::isnan(values[2]));
  CHECK(std::isinf(values[3]));
  CHECK(std::isnan(values[4]));
  CHECK(reply->series[0].labels == R"(load{job="api"})");
}

TEST_CASE("a point off the grid is an error, not a shifted value", "[prometheus][reply]") {
  ReplyParser parser;
  auto off_step =
      parser.parse_range(matrix(R"({"metric":{},"values":[[1030,"1"]]})"), Grid{1000, 60, 5});
  REQUIRE_FALSE(off_step.has_value());
  CHECK(off_step.error().message.find("off the grid") != std::string::npos);
  auto past_end =
      parser.parse_range(matrix(R"({"metric":{},"values":[[1300,"1"]]})"), Grid{1000, 60, 5});
  CHECK_FALSE(past_end.has_value());
  auto before =
      parser.parse_range(matrix(R"({"metric":{},"values":[[940,"1"]]})"), Grid{1000, 60, 5});
  CHECK_FALSE(before.has_value());
}

TEST_CASE("status error surfaces errorType and error", "[prometheus][reply]") {
  ReplyParser parser;
  auto reply = parser.parse_range(
      R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"})",
      Grid{0, 60, 1});
  REQUIRE_FALSE(reply.has_value());
  CHECK(reply.error().message.find("bad_data: 1:5: parse error: unclosed left parenthesis") !=
        std::string::npos);
}

TEST_CASE("warnings are kept", "[prometheus][reply]") {
  ReplyParser parser;
  auto reply = parser.parse_range(matrix("", R"(,"warnings":["partial response: store 3 down"])"),
                                  Grid{0, 60, 1});
  REQUIRE(reply.has_value());
  CHECK(reply->series.empty());
  REQUIRE(reply->warnings.size() == 1);
  CHECK(reply->warnings[0] == "partial response: store 3 down");
}

TEST_CASE("invalid JSON and wrong shapes are clear errors", "[prometheus][reply]") {
  ReplyParser parser;
  for (const std::string& json :
       {std::string("<html>502 Bad Gateway</html>"), std::string("{\"status\":"), std::string("{}"),
        std::string(R"({"status":"success"})"),
        std::string(R"({"status":"success","data":{"resultType":"vector","result":[]}})"),
        matrix(R"({"metric":{},"values":[[1000]]})"),
        matrix(R"({"metric":{},"values":[[1000,1.5]]})"),
        matrix(R"({"metric":{},"values":[["1000","1"]]})"), matrix(R"({"metric":{}})")}) {
    auto reply = parser.parse_range(json, Grid{1000, 60, 2});
    INFO(json);
    REQUIRE_FALSE(reply.has_value());
    CHECK(reply.error().message.find("invalid reply from Prometheus") != std::string::npos);
  }
}

TEST_CASE("instant replies: vector and scalar", "[prometheus][reply]") {
  ReplyParser parser;
  auto vector = parser.parse_instant(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1700000000.5,"42"]}]}})");
  REQUIRE(vector.has_value());
  REQUIRE(vector->samples.size() == 1);
  CHECK(vector->samples[0].value == 42.0);
  CHECK(vector->samples[0].time_unix == 1700000000.5);
  CHECK(vector->samples[0].labels == R"({job="a"})");
  auto scalar = parser.parse_instant(
      R"({"status":"success","data":{"resultType":"scalar","result":[5,"-Inf"]}})");
  REQUIRE(scalar.has_value());
  CHECK(scalar->samples[0].value == -std::numeric_limits<double>::infinity());
}

TEST_CASE("label values are escaped as PromQL writes them", "[prometheus][reply]") {
  ReplyParser parser;
  auto reply =
      parser.parse_range(matrix(R"({"metric":{"path":"a\"b\\c"},"values":[]})"), Grid{0, 60, 1});
  REQUIRE(reply.has_value());
  CHECK(reply->series[0].labels == R"({path="a\"b\\c"})");
}

TEST_CASE("combining series skips gaps, NaN only where all miss", "[prometheus][combine]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<LabeledSeries> series{{"a", {1, nan, 3, nan}}, {"b", {10, 20, nan, nan}}};
  const auto sum = combine_series(series, Combine::sum);
  CHECK(sum[0] == 11);
  CHECK(sum[1] == 20);
  CHECK(sum[2] == 3);
  CHECK(std::isnan(sum[3]));
  const auto max = combine_series(series, Combine::max);
  CHECK(max[0] == 10);
  CHECK(max[2] == 3);
  const auto min = combine_series(series, Combine::min);
  CHECK(min[0] == 1);
  CHECK(*parse_combine("max") == Combine::max);
  CHECK_FALSE(parse_combine("avg").has_value());
}

TEST_CASE("backoff doubles up to its cap", "[prometheus][retry]") {
  RetryPolicy policy;
  policy.initial_backoff = std::chrono::milliseconds(100);
  policy.max_backoff = std::chrono::milliseconds(500);
  CHECK(backoff_delay(policy, 1).count() == 100);
  CHECK(backoff_delay(policy, 2).count() == 200);
  CHECK(backoff_delay(policy, 3).count() == 400);
  CHECK(backoff_delay(policy, 4).count() == 500);
  CHECK(backoff_delay(policy, 30).count() == 500);
}

TEST_CASE("a large reply's parse buffers are freed, small ones reused", "[prometheus][reply]") {
  // One parser per target used to keep the buffers of its largest reply
  // (several times its size): six targets with 66 MB replies held 1.55 GB.
  ReplyParser parser;
  const Grid grid{1'700'000'000, 60, 3};
  const std::string small = matrix(R"({"metric":{},"values":[[1700000000,"1"],[1700000060,"2"]]})");
  REQUIRE(parser.parse_range(small, grid).has_value());
  const auto small_capacity = parser.kept_capacity();
  CHECK(small_capacity >= small.size());  // kept for the next tick's few points
  CHECK(small_capacity <= 1024 * 1024);

  std::string series;
  for (int i = 0; i < 40'000; ++i)
    series += (i ? "," : "") + std::string(R"({"metric":{"i":")") + std::to_string(i) +
              R"("},"values":[[1700000000,"1"]]})";
  const std::string large = matrix(series);
  REQUIRE(large.size() > 2 * 1024 * 1024);
  auto reply = parser.parse_range(large, grid);
  REQUIRE(reply.has_value());
  CHECK(reply->series.size() == 40'000);  // parsed in full, then let go
  CHECK(parser.kept_capacity() <= 1024 * 1024);
  // An error on a large reply lets go too.
  CHECK_FALSE(parser.parse_range(large.substr(0, large.size() - 3), grid).has_value());
  CHECK(parser.kept_capacity() <= 1024 * 1024);
  REQUIRE(parser.parse_range(small, grid).has_value());
}
