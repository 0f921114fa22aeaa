#include <catch2/catch.hpp>

#include <cmath>

#include "prescale/forecast/seasonal_naive.hpp"

using namespace prescale::forecast;

namespace {
FitResult fit_naive(const std::vector<double>& y, const SeasonLayout& layout) {
  FitInput input;
  input.y = y;
  input.layout = &layout;
  return SeasonalNaive().fit(input);
}
}  // namespace

TEST_CASE("seasonal naive repeats the last value of each slot", "[forecast][seasonal-naive]") {
  const auto layout = SeasonLayout::modular({4}, 20);
  const std::vector<double> y = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  auto fit = fit_naive(y, layout);
  REQUIRE(fit.status == FitStatus::ok);
  const Forecast f = fit.fitted->forecast(6);
  // Index 10 is slot 2: last seen at index 6 (value 7).
  CHECK(f.mean == std::vector<double>{7, 8, 9, 10, 7, 8});
  // The in-sample one-step error is always 4 (y[t] - y[t-4]).
  CHECK(fit.fitted->residual_variance() == Approx(16.0));
  CHECK(f.sigma[0] == Approx(4.0));
  CHECK(f.sigma[3] == Approx(4.0));
  CHECK(f.sigma[4] == Approx(4.0 * std::sqrt(2.0)));  // one more season
  CHECK(fit.fitted->name() == "seasonal-naive(4)");
}

TEST_CASE("update is streaming and NaN advances time without learning",
          "[forecast][seasonal-naive]") {
  const auto layout = SeasonLayout::modular({3}, 12);
  const std::vector<double> y = {1, 2, 3};
  auto fit = fit_naive(y, layout);
  REQUIRE(fit.status == FitStatus::ok);
  auto& model = *fit.fitted;
  model.update(10);        // slot 0
  model.update(kMissing);  // slot 1 keeps 2
  CHECK(model.next_index() == 5);
  const Forecast f = model.forecast(4);
  CHECK(f.mean == std::vector<double>{3, 10, 2, 3});
  auto copy = model.clone();
  copy->update(99);
  CHECK(model.forecast(1).mean[0] == 3);
  CHECK(copy->forecast(1).mean[0] == 10);
}

TEST_CASE("unseen slots fall back to shorter seasons, then to the last value",
          "[forecast][seasonal-naive]") {
  // Daily 4 slots, weekly 8 slots; 6 samples: weekly slots 6,7 never seen.
  const auto layout = SeasonLayout::modular({4, 8}, 16);
  const std::vector<double> y = {1, 2, 3, 4, 5, 6};
  auto fit = fit_naive(y, layout);
  REQUIRE(fit.status == FitStatus::ok);
  CHECK_FALSE(fit.message.empty());  // says the history is shorter than the week
  const Forecast f = fit.fitted->forecast(3);
  CHECK(f.mean[0] == 3);  // weekly slot 6 unseen -> daily slot 2 (value 3)
  CHECK(f.mean[1] == 4);
  CHECK(f.mean[2] == 1);  // weekly slot 0 seen
  // Without any season: the naive model.
  FitInput plain;
  plain.y = y;
  auto naive = SeasonalNaive().fit(plain);
  REQUIRE(naive.status == FitStatus::ok);
  CHECK(naive.fitted->forecast(2).mean == std::vector<double>{6, 6});
}

TEST_CASE("a 23-hour DST day: the slot is the local time, not the index",
          "[forecast][seasonal-naive]") {
  // Hourly samples, daily season of 24 slots; day 2 skips local 02:00.
  SeasonLayout layout;
  layout.slots = {24};
  std::vector<std::uint32_t> pos;
  for (std::uint32_t h = 0; h < 24; ++h) pos.push_back(h);
  for (std::uint32_t h = 0; h < 24; ++h)
    if (h != 2) pos.push_back(h);
  for (std::uint32_t h = 0; h < 24; ++h) pos.push_back(h);
  layout.positions = {pos};
  std::vector<double> y;
  for (int i = 0; i < 24 + 23; ++i) y.push_back(pos[i] == 9 ? 100.0 + i : 1.0);  // 09:00 surge
  auto fit = fit_naive(y, layout);
  REQUIRE(fit.status == FitStatus::ok);
  const Forecast f = fit.fitted->forecast(24);
  CHECK(f.mean[9] == 100.0 + 24 + 8);  // 09:00 on day 3 repeats 09:00 of day 2 (index 32)
  CHECK(f.mean[8] == 1.0);
  CHECK(f.mean[10] == 1.0);
}

TEST_CASE("seasonal naive refuses empty or all-missing histories", "[forecast][seasonal-naive]") {
  const auto layout = SeasonLayout::modular({4}, 8);
  CHECK(fit_naive({}, layout).status == FitStatus::too_short);
  CHECK(fit_naive({kMissing, kMissing}, layout).status == FitStatus::too_short);
  const auto short_layout = SeasonLayout::modular({4}, 2);
  CHECK(fit_naive({1, 2, 3}, short_layout).status == FitStatus::invalid_input);
}
