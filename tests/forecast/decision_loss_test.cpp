// The decision loss (decision_loss.hpp) and the ranking it drives when a
// served window is declared (selection.hpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <random>

#include "prescale/forecast/decision_loss.hpp"
#include "prescale/forecast/selection.hpp"

using namespace prescale::forecast;

namespace {

// Errors of one origin (index = origin + step) forecasting `mean` with `sigma`.
std::vector<BacktestError> origin_errors(std::span<const double> y, std::size_t origin,
                                         std::span<const double> mean, double sigma) {
  std::vector<BacktestError> errors;
  for (std::size_t h = 0; h < mean.size(); ++h)
    errors.push_back({h, origin + h, y[origin + h] - mean[h], sigma});
  return errors;
}

}  // namespace

TEST_CASE("pinball loss weighs a unit short q and a unit idle 1 - q", "[forecast][decision]") {
  CHECK(pinball_loss(10, 8, 0.9) == Approx(1.8));  // short by 2
  CHECK(pinball_loss(8, 10, 0.9) == Approx(0.2));  // 2 idle
  CHECK(pinball_loss(5, 5, 0.9) == 0);
}

TEST_CASE("decision loss of known windows: the served peak against the load's peak",
          "[forecast][decision]") {
  // Origin 4 forecasts 11 for four steps; the load is 10, 14, 12, 9.
  const std::vector<double> y{0, 0, 0, 0, 10, 14, 12, 9};
  const std::vector<double> mean{11, 11, 11, 11};
  ServedWindow window{2, 0.9};

  // sigma 0: served 11 in every window; the peaks of windows [4,5], [5,6],
  // [6,7] are 14, 14, 12: short by 3, 3, 1 -> 0.9 * (3 + 3 + 1) / 3.
  CHECK(decision_loss(origin_errors(y, 4, mean, 0.0), y, window) == Approx(2.1));

  // sigma 2: served 11 + z_0.9 * 2 = 13.563 (z_0.9 = 1.28155): short by 0.437
  // twice, 1.563 idle once.
  const double served = 11 + 1.2815515655 * 2;
  const double expected = (0.9 * (14 - served) * 2 + 0.1 * (served - 12)) / 3;
  CHECK(decision_loss(origin_errors(y, 4, mean, 2.0), y, window) == Approx(expected));

  // The whole horizon as one window: one peak (14) against one served value.
  window.steps = 4;
  CHECK(decision_loss(origin_errors(y, 4, mean, 0.0), y, window) == Approx(0.9 * 3));

  // A missing actual drops the windows holding it (step 1: [4,5] and [5,6]).
  window.steps = 2;
  auto gappy = origin_errors(y, 4, mean, 0.0);
  gappy.erase(gappy.begin() + 1);
  CHECK(decision_loss(gappy, y, window) == Approx(0.9 * 1));

  // Origins are told apart by index - step and averaged window by window;
  // `origins` keeps only those listed.
  auto two = origin_errors(y, 4, mean, 0.0);
  const std::vector<double> exact{10, 14};
  const auto second = origin_errors(y, 2, exact, 0.0);  // origin 2: y[2..3] = 0, 0 vs 10, 14
  two.insert(two.end(), second.begin(), second.end());
  CHECK(decision_loss(two, y, window) == Approx((0.9 * 7 + 0.1 * 14) / 4));
  const std::vector<std::size_t> only_four{4};
  CHECK(decision_loss(two, y, window, {}, only_four) == Approx(2.1));

  // The calibration the fitted model would get replaces the model's sigma
  // (here 1 instead of 2, within its 0.5x-2x bounds).
  IntervalCalibration calibration;
  calibration.upper = {1.0};
  calibration.lower = {1.0};
  const double calibrated = 11 + 1.2815515655 * 1;
  CHECK(decision_loss(origin_errors(y, 4, mean, 2.0), y, window, calibration) ==
        Approx((0.9 * (14 - calibrated) * 2 + 0.1 * (calibrated - 12)) / 3));

  // No window fits, or no quantile: NaN.
  window.steps = 5;
  CHECK(std::isnan(decision_loss(origin_errors(y, 4, mean, 0.0), y, window)));
  CHECK(std::isnan(decision_loss(origin_errors(y, 4, mean, 0.0), y, ServedWindow{2, 1.0})));
}

namespace {

// A daily cycle the test models know exactly; the series adds noise to it.
double cycle(std::size_t t) {
  return 100 + 30 * std::sin(2 * M_PI * double(t % 24) / 24);
}

// Forecasts the cycle shifted by `offset`, with a narrow band: one model a
// little below the load (better MASE), one further above it (fewer short
// windows at q0.9).
class OffsetModel final : public Model {
 public:
  explicit OffsetModel(double offset) : offset_(offset) {}
  std::string name() const override { return "offset" + std::to_string(int(offset_)); }
  FitResult fit(const FitInput& input) const override {
    FitResult r;
    r.status = FitStatus::ok;
    r.fitted = std::make_unique<Fitted>(offset_, input.y.size(), name());
    return r;
  }

 private:
  struct Fitted final : FittedModel {
    Fitted(double offset, std::size_t next, std::string name)
        : offset(offset), next(next), label(std::move(name)) {}
    std::string name() const override { return label; }
    std::map<std::string, double> parameters() const override { return {{"offset", offset}}; }
    std::size_t next_index() const override { return next; }
    void update(double) override { ++next; }
    Forecast forecast(std::size_t h) const override {
      Forecast f{std::vector<double>(h), std::vector<double>(h, 0.5)};
      for (std::size_t k = 0; k < h; ++k) f.mean[k] = cycle(next + k) + offset;
      return f;
    }
    double residual_variance() const override { return 0.25; }
    std::unique_ptr<FittedModel> clone() const override { return std::make_unique<Fitted>(*this); }
    double offset;
    std::size_t next;
    std::string label;
  };
  double offset_;
};

Selection select_offsets(const FitInput& input, const SelectionOptions& options) {
  std::vector<std::unique_ptr<Model>> candidates;
  candidates.push_back(std::make_unique<OffsetModel>(-1));
  candidates.push_back(std::make_unique<OffsetModel>(2));
  return select_and_fit(input, options, std::move(candidates));
}

}  // namespace

TEST_CASE("a served window reports the decision loss over seasonal naive's; it ranks when asked",
          "[forecast][decision][selection]") {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0.0, 3.0);
  std::vector<double> y(24 * 7 * 6);
  for (std::size_t t = 0; t < y.size(); ++t) y[t] = cycle(t) + noise(rng);
  const SeasonLayout layout = SeasonLayout::modular({24, 168}, y.size() + 24);
  FitInput input;
  input.y = y;
  input.layout = &layout;
  SelectionOptions options;
  options.model = "offsets";  // forced: the better of the two, whatever seasonal naive scores
  options.horizon = 2;

  // No served window: MASE and sMAPE rank; offset -1 is nearer the mean.
  const Selection plain = select_offsets(input, options);
  REQUIRE(plain.status == FitStatus::ok);
  CHECK(plain.model == "offset-1");
  CHECK_FALSE(plain.selected_decision.has_value());
  for (const BacktestScore& score : plain.scores) CHECK(std::isnan(score.decision));
  CHECK_THAT(plain.reason, !Catch::Contains("decision loss"));

  // A served window alone is reported, not ranked on: the same choice.
  options.served = ServedWindow{2, 0.9};
  const Selection reported = select_offsets(input, options);
  REQUIRE(reported.status == FitStatus::ok);
  CHECK(reported.model == "offset-1");
  REQUIRE(reported.selected_decision.has_value());
  CHECK(*reported.selected_decision == Approx(reported.scores[1].decision));
  CHECK_THAT(reported.reason, Catch::Contains("; decision loss at q0.9 of the 2-step lead window"));
  CHECK_THAT(reported.reason, !Catch::Contains("ranked by"));

  // Ranked by it, serving the q0.9 peak of 2 steps: offset +2 is short less
  // often, and a unit short costs nine units idle.
  options.rank_by_decision = true;
  const Selection served = select_offsets(input, options);
  REQUIRE(served.status == FitStatus::ok);
  CHECK(served.model == "offset2");
  REQUIRE(served.scores.size() == 3);  // seasonal naive (the yardstick), offset-1, offset2
  CHECK(served.scores[0].model.rfind("seasonal-naive", 0) == 0);
  CHECK(served.scores[0].decision == Approx(1.0));  // scaled by seasonal naive's own
  CHECK(served.scores[2].decision < served.scores[1].decision);
  REQUIRE(served.selected_decision.has_value());
  CHECK(*served.selected_decision == Approx(served.scores[2].decision));
  CHECK_THAT(served.reason,
             Catch::Contains("; ranked by decision loss at q0.9 of the 2-step lead window"));
  // MASE stays in the scores, as without the window, and still prefers offset -1.
  for (std::size_t i = 0; i < served.scores.size(); ++i)
    CHECK(served.scores[i].mase == Approx(plain.scores[i].mase));
  CHECK(served.scores[1].mase < served.scores[2].mase);
}
