#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <random>

#include "prescale/forecast/selection.hpp"

using namespace prescale::forecast;

namespace {
// Daily (24) and weekly (168) cycles with noise: 6 weeks hourly.
std::vector<double> seasonal_series(double noise_sd, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_sd);
  std::vector<double> y(24 * 7 * 6);
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double day = std::sin(2 * M_PI * static_cast<double>(i % 24) / 24);
    const bool weekend = (i / 24) % 7 >= 5;
    y[i] = 100 + 30 * day * (weekend ? 0.5 : 1.0) + noise(rng);
  }
  return y;
}

struct Fixture {
  std::vector<double> y;
  SeasonLayout layout;
  FitInput input;
  explicit Fixture(std::vector<double> values, std::size_t horizon = 24)
      : y(std::move(values)), layout(SeasonLayout::modular({24, 168}, y.size() + horizon)) {
    input.y = y;
    input.layout = &layout;
  }
};
}  // namespace

TEST_CASE("auto picks a model no worse than seasonal naive and says why", "[forecast][selection]") {
  Fixture f(seasonal_series(3.0, 1));
  SelectionOptions options;
  options.horizon = 6;
  const Selection s = select_and_fit(f.input, options);
  REQUIRE(s.status == FitStatus::ok);
  REQUIRE(s.fitted != nullptr);
  REQUIRE(s.selected_mase.has_value());
  CHECK(*s.selected_mase <= s.seasonal_naive_mase);
  CHECK(s.origins == 8);
  CHECK_THAT(s.reason, Catch::Contains("seasonal naive"));
  CHECK_THAT(s.reason, Catch::StartsWith(s.model));
  bool naive_scored = false;
  for (const auto& score : s.scores) naive_scored |= score.model.rfind("seasonal-naive", 0) == 0;
  CHECK(naive_scored);
  CHECK(s.scores.size() >= 2);
  CHECK(s.fitted->next_index() == f.y.size());
  CHECK(s.fitted->forecast(24).size() == 24);
  // Smooth seasonal data with noise: exponential smoothing must win here,
  // alone or in the median of the candidates that score alike (and a log
  // transform of it scores alike on data far above zero).
  CHECK_THAT(s.model, Catch::StartsWith("holt-winters") || Catch::StartsWith("median("));
  CHECK_THAT(s.model, Catch::Contains("holt-winters("));
  CHECK(*s.selected_mase < s.seasonal_naive_mase);
}

namespace {
// Forecasts the history's mean: a poor model on seasonal data.
class MeanModel final : public Model {
 public:
  std::string name() const override { return "mean"; }
  FitResult fit(const FitInput& input) const override {
    double sum = 0;
    std::size_t n = 0;
    for (double v : input.y)
      if (!std::isnan(v)) sum += v, ++n;
    FitResult r;
    r.status = FitStatus::ok;
    r.fitted = std::make_unique<Fitted>(n ? sum / double(n) : 0.0, input.y.size());
    return r;
  }

 private:
  struct Fitted final : FittedModel {
    Fitted(double m, std::size_t next) : mean(m), next(next) {}
    std::string name() const override { return "mean"; }
    std::map<std::string, double> parameters() const override { return {{"mean", mean}}; }
    std::size_t next_index() const override { return next; }
    void update(double) override { ++next; }
    Forecast forecast(std::size_t h) const override {
      return Forecast{std::vector<double>(h, mean), std::vector<double>(h, 1.0)};
    }
    double residual_variance() const override { return 1.0; }
    std::unique_ptr<FittedModel> clone() const override { return std::make_unique<Fitted>(*this); }
    double mean;
    std::size_t next;
  };
};
}  // namespace

TEST_CASE("auto keeps seasonal naive when nothing beats it", "[forecast][selection]") {
  Fixture f(seasonal_series(1.0, 2));
  SelectionOptions options;
  options.horizon = 12;
  std::vector<std::unique_ptr<Model>> candidates;
  candidates.push_back(std::make_unique<MeanModel>());
  const Selection s = select_and_fit(f.input, options, std::move(candidates));
  REQUIRE(s.status == FitStatus::ok);
  CHECK_THAT(s.model, Catch::StartsWith("seasonal-naive"));
  CHECK_THAT(s.reason, Catch::Contains("no model beat seasonal naive"));
  CHECK_THAT(s.reason, Catch::Contains("best other mean"));
  REQUIRE(s.selected_mase.has_value());
  CHECK(*s.selected_mase == Approx(s.seasonal_naive_mase));
  REQUIRE(s.scores.size() == 2);

  // Forced, the poor model is fitted, and its MASE says it loses.
  options.model = "mean";
  std::vector<std::unique_ptr<Model>> forced;
  forced.push_back(std::make_unique<MeanModel>());
  const Selection m = select_and_fit(f.input, options, std::move(forced));
  REQUIRE(m.status == FitStatus::ok);
  CHECK(m.model == "mean");
  CHECK(*m.selected_mase > m.seasonal_naive_mase);
}

TEST_CASE("on a seasonal random walk auto is never worse than seasonal naive",
          "[forecast][selection]") {
  // y[t] = y[t - 168] + e[t]: seasonal naive is the optimal forecast.
  std::mt19937 rng(11);
  std::normal_distribution<double> shock(0.0, 5.0);
  std::vector<double> y(24 * 7 * 6);
  for (std::size_t i = 0; i < y.size(); ++i) y[i] = (i < 168 ? 100.0 : y[i - 168]) + shock(rng);
  Fixture f(y);
  SelectionOptions options;
  options.horizon = 12;
  const Selection s = select_and_fit(f.input, options);
  REQUIRE(s.status == FitStatus::ok);
  REQUIRE(s.selected_mase.has_value());
  CHECK(*s.selected_mase <= s.seasonal_naive_mase);
}

TEST_CASE("forced models are backtested beside seasonal naive", "[forecast][selection]") {
  Fixture f(seasonal_series(3.0, 3));
  SelectionOptions options;
  options.model = "seasonal-naive";
  options.horizon = 6;
  const Selection naive = select_and_fit(f.input, options);
  REQUIRE(naive.status == FitStatus::ok);
  CHECK(naive.scores.size() == 1);
  CHECK(*naive.selected_mase == Approx(naive.seasonal_naive_mase));

  options.model = "holt-winters:damped-additive";
  const Selection hw = select_and_fit(f.input, options);
  REQUIRE(hw.status == FitStatus::ok);
  CHECK_THAT(hw.model, Catch::StartsWith("holt-winters(A,Ad,A"));
  CHECK(hw.scores.size() == 2);
  CHECK_FALSE(std::isnan(hw.seasonal_naive_mase));

  options.model = "holt-winters:A,N,A";
  CHECK(candidate_models(options.model).has_value());
  CHECK(candidate_models("holt-winters")->size() == 12);  // every season, and the shortest alone
}

TEST_CASE("bad model names and short histories are explained", "[forecast][selection]") {
  Fixture f(seasonal_series(1.0, 4));
  SelectionOptions options;
  options.model = "prophet";
  const Selection bad = select_and_fit(f.input, options);
  CHECK(bad.status == FitStatus::invalid_input);
  CHECK(bad.fitted == nullptr);
  CHECK_THAT(bad.reason, Catch::Contains("unknown model 'prophet'"));
  CHECK_THAT(bad.reason, Catch::Contains("seasonal-naive"));

  Fixture tiny(std::vector<double>{5, 6, 7, 8, 9});
  options.model = "auto";
  const Selection short_history = select_and_fit(tiny.input, options);
  REQUIRE(short_history.status == FitStatus::ok);
  CHECK_THAT(short_history.model, Catch::StartsWith("seasonal-naive"));
  CHECK_THAT(short_history.reason, Catch::Contains("too short for a backtest"));
  CHECK_FALSE(short_history.selected_mase.has_value());
}

TEST_CASE("zeros in the history skip multiplicative seasonality", "[forecast][selection]") {
  std::vector<double> y = seasonal_series(2.0, 5);
  for (std::size_t i = 0; i < y.size(); i += 24) y[i] = 0;
  Fixture f(y);
  SelectionOptions options;
  options.horizon = 6;
  const Selection s = select_and_fit(f.input, options);
  REQUIRE(s.status == FitStatus::ok);
  for (const auto& score : s.scores) CHECK(score.model.find(",M") == std::string::npos);
  bool noted = false;
  for (const auto& note : s.notes) noted |= note.find("multiplicative") != std::string::npos;
  CHECK(noted);
}

TEST_CASE("auto chooses and forecasts the same on any number of threads", "[forecast][selection]") {
  // Every family (ARIMA with Fourier terms included) and the combinations.
  Fixture f(seasonal_series(3.0, 4));
  SelectionOptions options;
  options.horizon = 6;
  const Selection one = select_and_fit(f.input, options);
  options.threads = 4;
  const Selection four = select_and_fit(f.input, options);
  REQUIRE(one.status == FitStatus::ok);
  REQUIRE(four.status == FitStatus::ok);
  CHECK(four.model == one.model);
  CHECK(four.reason == one.reason);
  REQUIRE(four.scores.size() == one.scores.size());
  for (std::size_t i = 0; i < one.scores.size(); ++i) {
    CHECK(four.scores[i].model == one.scores[i].model);
    const double x = one.scores[i].mase, y = four.scores[i].mase;
    CHECK(((std::isnan(x) && std::isnan(y)) || x == y));
  }
  const Forecast a = one.fitted->forecast(6), b = four.fitted->forecast(6);
  CHECK(a.mean == b.mean);
}

TEST_CASE("a selection cancelled from another thread stops after the model it is scoring",
          "[forecast][selection]") {
  // A daemon stopping (SIGTERM) or a target removed by a reload cancels its
  // fit: nobody will read it, and a fit of weeks of 15-second samples would
  // otherwise hold shutdown well past its deadline.
  Fixture f(seasonal_series(3.0, 1));
  SelectionOptions options;
  options.horizon = 6;
  std::atomic<bool> cancel{false};
  options.cancel = &cancel;
  std::size_t scored = 0;
  const Selection s = select_and_fit(f.input, options, [&](std::size_t, std::size_t, const auto&) {
    ++scored;
    cancel = true;  // as Engine::stop() would, while the first model is scored
  });
  CHECK(s.status == FitStatus::cancelled);
  CHECK(s.fitted == nullptr);
  CHECK(scored == 1);  // the other candidates were skipped, not backtested
  // Not cancelled: the same selection fits.
  cancel = false;
  CHECK(select_and_fit(f.input, options).status == FitStatus::ok);
}
