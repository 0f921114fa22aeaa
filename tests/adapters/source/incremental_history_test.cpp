// IncrementalHistory: full load, tail-only refreshes, last good data kept on
// failure with its age. The Source is an in-memory one (the seam's test double).
#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

#include "prescale/source/incremental_history.hpp"

using prescale::Expected;
using prescale::forecast::Series;
using prescale::source::HistoryOptions;
using prescale::source::IncrementalHistory;

namespace {

// value(t) = t / 60, except that samples at or after `published_until` are
// not there yet (NaN) and `failing` makes every fetch fail.
class RecordingSource final : public prescale::source::Source {
 public:
  std::vector<std::pair<std::int64_t, std::int64_t>> requests;
  bool failing = false;
  std::int64_t published_until = 1LL << 40;

  std::string describe() const override { return "recording"; }
  Expected<Series> fetch(std::int64_t start, std::int64_t end, std::int64_t step) override {
    requests.emplace_back(start, end);
    if (failing) return prescale::make_error("connection refused");
    Series series{start, step, {}};
    for (std::int64_t t = start; t < end; t += step) {
      series.values.push_back(t < published_until ? static_cast<double>(t) / 60.0
                                                  : prescale::forecast::kMissing);
    }
    return series;
  }
};

void check_matches_clock(const Series& series) {
  for (std::size_t i = 0; i < series.size(); ++i) {
    INFO("index " << i);
    CHECK(series.values[i] == static_cast<double>(series.time_at(i)) / 60.0);
  }
}

}  // namespace

TEST_CASE("first refresh loads the window, later ones only the tail", "[source][history]") {
  RecordingSource source;
  HistoryOptions options;
  options.step_seconds = 60;
  options.window_seconds = 3600;
  options.refetch_steps = 2;
  IncrementalHistory history(source, options);
  const std::int64_t now = 1'700'000'010;  // 30 s into a step
  REQUIRE(history.refresh(now));
  REQUIRE(source.requests.size() == 1);
  const std::int64_t end = 1'699'999'980 + 60;  // exclusive: the step holding now is included
  CHECK(source.requests[0] == std::pair<std::int64_t, std::int64_t>{end - 3600, end});
  CHECK(history.series().size() == 60);
  CHECK(history.series().start_unix == end - 3600);
  check_matches_clock(history.series());

  REQUIRE(history.refresh(now + 300));  // five steps later
  REQUIRE(source.requests.size() == 2);
  CHECK(source.requests[1] == std::pair<std::int64_t, std::int64_t>{end - 120, end + 300});
  CHECK(history.last_fetched_points() == 7);
  CHECK(history.series().size() == 60);  // the window slid
  CHECK(history.series().end_unix() == end + 300);
  check_matches_clock(history.series());
}

TEST_CASE("late samples are filled in by the refetched steps", "[source][history]") {
  RecordingSource source;
  IncrementalHistory history(source, HistoryOptions{60, 3600, 2});
  const std::int64_t now = 1'699'999'980;
  source.published_until = now;  // the newest step is not scraped yet
  REQUIRE(history.refresh(now));
  CHECK(std::isnan(history.series().values.back()));
  CHECK(*history.data_age_seconds(now) == 60);
  source.published_until = now + 120;  // both late steps arrive
  REQUIRE(history.refresh(now + 60));
  check_matches_clock(history.series());
  CHECK(*history.data_age_seconds(now + 60) == 0);
}

TEST_CASE("a failed refresh keeps the last good data and reports its age", "[source][history]") {
  RecordingSource source;
  IncrementalHistory history(source, HistoryOptions{60, 3600, 2});
  const std::int64_t now = 1'699'999'980;
  REQUIRE(history.refresh(now));
  const Series before = history.series();
  source.failing = true;
  const prescale::Status status = history.refresh(now + 600);
  REQUIRE_FALSE(status);
  CHECK(status.error().message == "connection refused");
  CHECK(history.last_error() == "connection refused");
  CHECK(history.consecutive_failures() == 1);
  CHECK(history.series().values == before.values);
  CHECK(*history.data_age_seconds(now + 600) == 600);
  CHECK(*history.last_success_unix() == now);
  source.failing = false;
  REQUIRE(history.refresh(now + 660));
  CHECK(history.last_error().empty());
  CHECK(history.consecutive_failures() == 0);
  check_matches_clock(history.series());
  CHECK(history.series().end_unix() == now + 720);
}

TEST_CASE("an outage longer than the window reloads it whole", "[source][history]") {
  RecordingSource source;
  IncrementalHistory history(source, HistoryOptions{60, 3600, 2});
  REQUIRE(history.refresh(1'699'999'980));
  REQUIRE(history.refresh(1'699'999'980 + 7200));
  CHECK(source.requests.back().first == 1'699'999'980 + 7200 + 60 - 3600);
  CHECK(history.series().size() == 60);
  check_matches_clock(history.series());
}

TEST_CASE("no data yet: no age", "[source][history]") {
  RecordingSource source;
  source.published_until = 0;
  IncrementalHistory history(source, HistoryOptions{60, 600, 2});
  CHECK_FALSE(history.has_data());
  CHECK_FALSE(history.data_age_seconds(1000).has_value());
  REQUIRE(history.refresh(1'699'999'980));
  CHECK(history.has_data());
  CHECK_FALSE(history.data_age_seconds(1'699'999'980).has_value());
}
