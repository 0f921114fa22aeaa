// WindowHistory: sparse windows fetched one call each (touching ones
// merged), kept once fetched, bounded, and a failure keeps what was held.
#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <utility>
#include <vector>

#include "prescale/source/window_history.hpp"

using prescale::Expected;
using prescale::forecast::Series;
using prescale::source::Window;
using prescale::source::WindowHistory;
using prescale::source::WindowLimits;

namespace {

// value(t) = t / 60; fetches starting before `fail_before` fail.
class WindowSource final : public prescale::source::Source {
 public:
  std::vector<std::pair<std::int64_t, std::int64_t>> requests;
  std::int64_t fail_before = 0;

  std::string describe() const override { return "windows"; }
  Expected<Series> fetch(std::int64_t start, std::int64_t end, std::int64_t step) override {
    requests.emplace_back(start, end);
    if (start < fail_before) return prescale::make_error("connection refused");
    Series series{start, step, {}};
    for (std::int64_t t = start; t < end; t += step) series.values.push_back(t / 60.0);
    return series;
  }
};

constexpr std::int64_t kDay = 86400;

}  // namespace

TEST_CASE("window history: one call a window, touching ones merged, then none",
          "[source][events]") {
  WindowSource source;
  WindowHistory history(source, 300);
  const std::vector<Window> wanted = {{10 * kDay, 10 * kDay + 3600},
                                      {3 * kDay, 3 * kDay + 3600},
                                      {3 * kDay + 3600, 3 * kDay + 7200}};
  const auto first = history.fetch(wanted, WindowLimits{});
  CHECK(first.calls == 2);
  CHECK(first.points == 24 + 12);
  CHECK(first.error.empty());
  CHECK(source.requests.size() == 2);
  const auto values = history.values(3 * kDay + 3000, 3 * kDay + 4200);
  REQUIRE(values.size() == 4);
  CHECK(values[0] == (3 * kDay + 3000) / 60.0);
  CHECK(values[3] == (3 * kDay + 3900) / 60.0);
  CHECK(std::isnan(history.values(5 * kDay, 5 * kDay + 300)[0]));
  // Past data does not change: a second fit asks for nothing.
  const auto second = history.fetch(wanted, WindowLimits{});
  CHECK(second.calls == 0);
  CHECK(second.cached == 2);
  CHECK(source.requests.size() == 2);
  // A window the lookback moved past is forgotten.
  const std::vector<Window> later = {{10 * kDay, 10 * kDay + 3600}};
  CHECK(history.fetch(later, WindowLimits{}).calls == 0);
  CHECK(history.windows_held() == 1);
  CHECK_FALSE(history.holds(3 * kDay, 3 * kDay + 3600));
}

TEST_CASE("window history: limits and failures keep the newest windows fetched",
          "[source][events]") {
  std::vector<Window> wanted;
  for (std::int64_t d = 1; d <= 6; ++d) wanted.push_back({d * kDay, d * kDay + 3600});
  WindowSource source;
  WindowHistory history(source, 300);
  WindowLimits limits;
  limits.max_calls = 4;
  const auto bounded = history.fetch(wanted, limits);
  CHECK(bounded.calls == 4);
  CHECK(bounded.deferred == 2);
  CHECK(history.holds(6 * kDay, 6 * kDay + 3600));  // newest first
  CHECK_FALSE(history.holds(kDay, kDay + 3600));
  // The next fetch completes it; one failing call stops it and keeps the rest.
  source.fail_before = 2 * kDay + 1;
  const auto failed = history.fetch(wanted, WindowLimits{});
  CHECK(failed.calls == 1);
  CHECK(failed.error == "connection refused");
  CHECK(failed.deferred == 2);
  CHECK(history.windows_held() == 4);
  // Cancelled: no call at all.
  source.fail_before = 0;
  std::atomic<bool> cancel{true};
  const auto cancelled = history.fetch(wanted, WindowLimits{}, &cancel);
  CHECK(cancelled.calls == 0);
  CHECK(cancelled.deferred == 2);
}
