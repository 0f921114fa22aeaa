// The cost/SLO frontier: each run's lower-left envelope, interpolation on
// it, the sweep and its headline numbers, and the shared replay (one replay
// of the engine, many policy settings applied to its forecasts).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "prescale/simulate/frontier.hpp"
#include "prescale/simulate/predictive.hpp"
#include "prescale/simulate/replay.hpp"
#include "prescale/simulate/tune.hpp"
#include "replay_fixture.hpp"

using namespace prescale::simulate;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

FrontierPoint point(const char* run, double rh, double minutes) {
  FrontierPoint p;
  p.run = run;
  p.replica_hours = rh;
  p.violation_minutes = minutes;
  return p;
}

// A day of 5-minute steps, repeated: a night floor, a morning ramp and a
// short surge at 09:30 that a reactive HPA with 5-minute start-up misses.
std::vector<double> surging_days(std::size_t days) {
  std::vector<double> demand;
  for (std::size_t i = 0; i < days * 288; ++i) {
    const std::size_t slot = i % 288;
    double load = 300 + 500 * std::sin(M_PI * static_cast<double>(slot) / 288.0);
    if (slot >= 114 && slot < 120) load += 900;  // 09:30 - 10:00
    // Deterministic jitter inside the HPA's tolerance band.
    load *= 1 + 0.04 * std::sin(static_cast<double>(i) * 1.3);
    demand.push_back(load);
  }
  return demand;
}

SimulationConfig five_minute_config() {
  SimulationConfig config;
  config.start_unix = 1767225600;
  config.step_seconds = 300;
  config.capacity_per_replica = 100;
  config.startup_seconds = 300;
  config.max_replicas = 200;
  return config;
}

// Reactive targets from 100 % down to 40 % of capacity in 10 % steps, the
// swept targets only (no refinement between them, none below them).
FrontierOptions ten_percent_grid() {
  FrontierOptions options;
  options.reactive_targets = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
  options.refine_step = 0;
  options.sweep_floor = 0;
  return options;
}

// Every whole percent of capacity from `from` down to `to`, as fractions.
std::vector<double> every_percent(int from, int to) {
  std::vector<double> out;
  for (int percent = from; percent >= to; --percent) out.push_back(percent / 100.0);
  return out;
}

// A forecast that knows each day's shape from the previous day only (causal:
// step i reads demand[i - 288 ...]): the lead window of decision i is the
// same minutes one day earlier, with a band of +-8 %.
PredictiveSeries yesterday_forecast(const std::vector<double>& demand, std::size_t lead_steps) {
  PredictiveSeries out;
  out.quantile = 0.9;
  out.served.assign(demand.size(), kNaN);
  out.observed.assign(demand.size(), kNaN);
  out.windows.assign(demand.size(), {});
  for (std::size_t i = 0; i < demand.size(); ++i) {
    out.observed[i] = i > 0 ? demand[i - 1] : kNaN;
    if (i >= 288) {
      prescale::forecast::Forecast window;
      for (std::size_t h = 0; h <= lead_steps; ++h) {
        window.mean.push_back(demand[i - 288 + h]);
        window.sigma.push_back(0.08 * demand[i - 288 + h] / 1.2816);
      }
      out.windows[i] = window;
    }
    out.served[i] = 0;  // a decision was made at every step
  }
  return out;
}

// `days` surging days, yesterday's forecast of them (lead 2 steps), and a
// sweep of reactive targets 1.0 .. 0.4 beside the predictive settings given.
struct SurgingSweep {
  std::vector<double> demand;
  SimulationConfig config;
  PredictiveSeries predictive;
  FrontierOptions options;
};
SurgingSweep surging_sweep(std::size_t days, std::vector<double> predictive_targets,
                           std::vector<double> quantiles) {
  SurgingSweep sweep{surging_days(days), five_minute_config(), {}, {}};
  sweep.predictive = yesterday_forecast(sweep.demand, 2);
  sweep.options.reactive_targets = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
  sweep.options.predictive_targets = std::move(predictive_targets);
  sweep.options.quantiles = std::move(quantiles);
  sweep.options.refine_reactive_only = true;  // the swept settings only: the tests count them
  sweep.options.sweep_floor = 0;
  return sweep;
}

// `days` of a load of 1000 by day (08:00-20:00) with noise inside and beyond
// the HPA's tolerance (+-15 % a step, uniform, a fixed seed) and one surge to
// 1800 at 09:30-10:00, and a quiet night of 600 without noise; `signal` gets
// the load without the noise.
std::vector<double> noisy_days(std::size_t days, std::vector<double>& signal) {
  std::mt19937 noise(15);
  std::vector<double> demand;
  signal.clear();
  for (std::size_t i = 0; i < days * 288; ++i) {
    const std::size_t slot = i % 288;
    const bool day = slot >= 96 && slot < 240;
    const double level = slot >= 114 && slot < 120 ? 1800 : day ? 1000 : 600;
    const double u = static_cast<double>(noise()) / 4294967296.0;  // [0, 1): the raw draw is fixed
    signal.push_back(level);
    demand.push_back(day ? level * (1 + 0.15 * (2 * u - 1)) : level);
  }
  return demand;
}

// A forecast of the signal (the surge announced, the noise unseen) over a
// lead window of `lead_steps`, with a band of +-10 % at q0.9, that over-
// forecasts the quiet night by 30 %: capacity where there is no noise to buy.
PredictiveSeries signal_forecast(const std::vector<double>& demand,
                                 const std::vector<double>& signal, std::size_t lead_steps) {
  PredictiveSeries out;
  out.quantile = 0.9;
  out.served.assign(demand.size(), 0);  // a decision at every step
  out.observed.assign(demand.size(), kNaN);
  out.windows.assign(demand.size(), {});
  for (std::size_t i = 0; i < demand.size(); ++i) {
    out.observed[i] = i > 0 ? demand[i - 1] : kNaN;
    prescale::forecast::Forecast window;
    for (std::size_t h = 0; h <= lead_steps; ++h) {
      const std::size_t at = std::min(i + h, signal.size() - 1);
      const double level = signal[at] < 1000 ? 1.3 * signal[at] : signal[at];
      window.mean.push_back(level);
      window.sigma.push_back(0.1 * level / 1.2816);
    }
    out.windows[i] = window;
  }
  return out;
}

// `days` noisy days (noisy_days), the forecast of their signal (lead 2
// steps) and a sweep of the reactive and predictive targets given.
SurgingSweep noisy_sweep(std::size_t days, std::vector<double> reactive_targets,
                         std::vector<double> predictive_targets,
                         std::vector<double> observed_targets) {
  std::vector<double> signal;
  SurgingSweep sweep{noisy_days(days, signal), five_minute_config(), {}, {}};
  sweep.predictive = signal_forecast(sweep.demand, signal, 2);
  sweep.options.reactive_targets = std::move(reactive_targets);
  sweep.options.predictive_targets = std::move(predictive_targets);
  sweep.options.observed_targets = std::move(observed_targets);
  sweep.options.quantiles = {0.5, 0.9};
  sweep.options.refine_reactive_only = true;  // the swept settings only: the tests count them
  sweep.options.sweep_floor = 0;
  return sweep;
}

}  // namespace

TEST_CASE("frontier_of keeps the settings no other one beats on cost and violations",
          "[frontier]") {
  const std::vector<FrontierPoint> points = {
      point("reactive", 100, 500), point("reactive", 120, 200), point("reactive", 130, 250),
      point("reactive", 150, 20),  point("reactive", 200, 20),  point("oracle", 90, 0)};
  const auto frontier = frontier_of(points, "reactive");
  REQUIRE(frontier == std::vector<std::size_t>{0, 1, 3});
  // Linear between neighbours; past the costliest point, its minimum; before the cheapest, unknown.
  CHECK(*frontier_minutes_at(points, "reactive", 110) == Approx(350));
  CHECK(*frontier_minutes_at(points, "reactive", 135) == Approx(110));
  CHECK(*frontier_minutes_at(points, "reactive", 400) == Approx(20));
  CHECK_FALSE(frontier_minutes_at(points, "reactive", 99).has_value());
  CHECK_FALSE(frontier_minutes_at(points, "predictive", 150).has_value());
}

TEST_CASE("The sweep: lower reactive targets buy fewer violations with more replica-hours",
          "[frontier]") {
  const auto demand = surging_days(3);
  const auto config = five_minute_config();
  const FrontierOptions options = ten_percent_grid();
  const auto swept = sweep_frontier(config, demand, nullptr, options);
  REQUIRE(swept.has_value());
  std::vector<FrontierPoint> reactive, oracle;
  for (const auto& p : swept->points) (p.run == "reactive" ? reactive : oracle).push_back(p);
  REQUIRE(reactive.size() == 7);
  REQUIRE(oracle.size() == 7);
  for (std::size_t k = 1; k < reactive.size(); ++k) {
    INFO("target " << reactive[k].target_fraction);
    CHECK(reactive[k].replica_hours > reactive[k - 1].replica_hours);
    CHECK(reactive[k].violation_minutes <= reactive[k - 1].violation_minutes);
  }
  CHECK(reactive.front().violation_minutes > 60);  // the surges, every day
  // The oracle at the same target is never short where the reactive HPA is not.
  for (std::size_t k = 0; k < reactive.size(); ++k)
    CHECK(oracle[k].violation_minutes <= reactive[k].violation_minutes);

  const auto& h = swept->headline;
  CHECK(h.observed_minutes == Approx(3 * 24 * 60));
  CHECK(h.slo_minutes == Approx(0.001 * 3 * 24 * 60));
  REQUIRE(h.oracle_at_slo.has_value());
  const auto& oracle_at = swept->points[*h.oracle_at_slo];
  CHECK(oracle_at.violation_minutes <= h.slo_minutes);
  // No cheaper oracle setting meets the SLO.
  for (const auto& p : oracle)
    if (p.replica_hours < oracle_at.replica_hours) CHECK(p.violation_minutes > h.slo_minutes);
  if (h.reactive_at_slo) {
    CHECK(swept->points[*h.reactive_at_slo].replica_hours >= oracle_at.replica_hours);
    REQUIRE(h.oracle_saved_percent.has_value());
    CHECK(*h.oracle_saved_percent >= 0);
  }
  CHECK_FALSE(h.saved_percent.has_value());  // no predictive run
  CHECK_FALSE(h.operating_point.has_value());
}

namespace {

// The refined sweep's cheapest setting of a run within the SLO (headline
// member `at`) is cheaper than the grid's, within the SLO, and the one a
// sweep of every whole percent finds. Returns the grid's and the refined one.
std::pair<FrontierPoint, FrontierPoint> check_refined(
    const FrontierResult& grid, const FrontierResult& fine, const FrontierResult& all,
    std::optional<std::size_t> FrontierHeadline::*at) {
  const auto g = grid.headline.*at, f = fine.headline.*at, a = all.headline.*at;
  REQUIRE(g.has_value());
  REQUIRE(f.has_value());
  REQUIRE(a.has_value());
  const auto& from_grid = grid.points[*g];
  const auto& from_fine = fine.points[*f];
  CHECK(from_fine.replica_hours < from_grid.replica_hours);
  CHECK(from_fine.target_fraction > from_grid.target_fraction);
  CHECK(from_fine.violation_minutes <= fine.headline.slo_minutes);
  CHECK(from_fine.replica_hours == Approx(all.points[*a].replica_hours));
  CHECK(from_fine.target_fraction == Approx(all.points[*a].target_fraction));
  return {from_grid, from_fine};
}

}  // namespace

TEST_CASE("The cheapest reactive and oracle targets within the SLO are refined between swept ones",
          "[frontier]") {
  // An HPA's averageValue can be any number: the headline's reactive HPA is
  // the cheapest target meeting the SLO, not the cheapest on a 10 % grid.
  const auto demand = surging_days(3);
  const auto config = five_minute_config();
  FrontierOptions coarse = ten_percent_grid();
  // 21.6 minutes: the reactive HPA meets it at 88 % (20 minutes), the oracle at 92 %.
  coarse.slo_short_fraction = 0.005;
  FrontierOptions refined = coarse;
  refined.refine_step = 0.01;
  FrontierOptions every = coarse;
  every.reactive_targets = every_percent(100, 40);
  const auto grid = sweep_frontier(config, demand, nullptr, coarse);
  const auto fine = sweep_frontier(config, demand, nullptr, refined);
  const auto all = sweep_frontier(config, demand, nullptr, every);
  REQUIRE(grid.has_value());
  REQUIRE(fine.has_value());
  REQUIRE(all.has_value());
  for (auto [at, run] : {std::pair{&FrontierHeadline::reactive_at_slo, "reactive"},
                         std::pair{&FrontierHeadline::oracle_at_slo, "oracle"}}) {
    INFO(run);
    // Cheaper than the grid's, and as cheap as sweeping every percent.
    const auto [from_grid, from_fine] = check_refined(*grid, *fine, *all, at);
    // Only between the grid's choice and the next cheaper swept target.
    for (const auto& p : fine->points) {
      if (p.run != run) continue;
      const bool swept =
          std::any_of(coarse.reactive_targets.begin(), coarse.reactive_targets.end(),
                      [&](double t) { return std::abs(t - p.target_fraction) < 1e-9; });
      if (swept) continue;
      CHECK(p.target_fraction > from_grid.target_fraction);
      CHECK(p.target_fraction < from_grid.target_fraction + 0.1 + 1e-9);
    }
  }
  // The saving is counted against the refined reactive HPA.
  CHECK(*fine->headline.oracle_saved_percent == Approx(*all->headline.oracle_saved_percent));

  refined.refine_step = 0.0001;
  const auto bad = sweep_frontier(config, demand, nullptr, refined);
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("refine step: 0.0001"));
}

TEST_CASE("A run no listed target of which meets the SLO is swept below them, down to the floor",
          "[frontier]") {
  // A grid that ends above the target the SLO needs must not say that no
  // reactive HPA meets it (NAB's cpu_utilization_asg_misconfiguration: the
  // default grid ended at 45 %, a reactive HPA at 44 % met the SLO).
  const auto demand = surging_days(3);
  const auto config = five_minute_config();
  FrontierOptions listed = ten_percent_grid();
  listed.reactive_targets = {1.0, 0.9};
  FrontierOptions below = listed;
  below.sweep_floor = 0.1;
  FrontierOptions every = listed;
  every.reactive_targets = every_percent(100, 10);
  const auto grid = sweep_frontier(config, demand, nullptr, listed);
  const auto extended = sweep_frontier(config, demand, nullptr, below);
  const auto all = sweep_frontier(config, demand, nullptr, every);
  REQUIRE(grid.has_value());
  REQUIRE(extended.has_value());
  REQUIRE(all.has_value());
  CHECK_FALSE(grid->headline.reactive_at_slo.has_value());
  REQUIRE(all->headline.reactive_at_slo.has_value());
  const double needed = all->points[*all->headline.reactive_at_slo].target_fraction;
  REQUIRE(needed < 0.85);  // a few steps below the listed grid
  // Below 90 %: each target 5 % below the one before (a whole percent at
  // least), in whole percents, so that no step costs much more than the last.
  std::vector<double> steps;
  for (const auto& p : extended->points)
    if (p.run == "reactive" && p.target_fraction < 0.9 - 1e-9) steps.push_back(p.target_fraction);
  std::sort(steps.begin(), steps.end(), std::greater<>());
  REQUIRE(steps.size() >= 2);
  double above = 0.9;
  for (double t : steps) {
    INFO("step " << above << " -> " << t);
    CHECK(std::abs(t * 100 - std::round(t * 100)) < 1e-9);
    CHECK(t <= above - 0.01 + 1e-9);
    CHECK(t >= above * 0.95 - 0.005 - 1e-9);
    above = t;
  }
  // It stops at the first target that meets the SLO: the one above missed,
  // and nothing cheaper and safer is bought.
  REQUIRE(extended->headline.reactive_at_slo.has_value());
  const auto& found = extended->points[*extended->headline.reactive_at_slo];
  CHECK(found.target_fraction == Approx(steps.back()));
  CHECK(found.target_fraction <= needed + 1e-9);
  for (const auto& p : extended->points)
    if (p.run == "reactive" && p.target_fraction > found.target_fraction + 1e-9)
      CHECK(p.violation_minutes > extended->headline.slo_minutes);

  // Refined between it and the target above, as a listed crossing is: the
  // same target as a sweep of every whole percent.
  FrontierOptions refined = below;
  refined.refine_step = 0.01;
  const auto fine = sweep_frontier(config, demand, nullptr, refined);
  REQUIRE(fine.has_value());
  REQUIRE(fine->headline.reactive_at_slo.has_value());
  const auto& crossing = fine->points[*fine->headline.reactive_at_slo];
  CHECK(crossing.target_fraction == Approx(needed));
  CHECK(crossing.replica_hours ==
        Approx(all->points[*all->headline.reactive_at_slo].replica_hours));

  // A floor above the target needed: swept down to the floor, and not met.
  FrontierOptions shallow = listed;
  shallow.sweep_floor = needed + 0.03;
  const auto short_of = sweep_frontier(config, demand, nullptr, shallow);
  REQUIRE(short_of.has_value());
  CHECK_FALSE(short_of->headline.reactive_at_slo.has_value());
  double lowest = 1;
  for (const auto& p : short_of->points)
    if (p.run == "reactive") lowest = std::min(lowest, p.target_fraction);
  CHECK(lowest >= shallow.sweep_floor - 1e-9);
  CHECK(lowest * 0.95 < shallow.sweep_floor + 0.005);  // one step more would pass it

  shallow.sweep_floor = 1.5;
  const auto bad = sweep_frontier(config, demand, nullptr, shallow);
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("sweep floor: 1.5"));
}

TEST_CASE("A predictive setting is swept below its listed forecast targets when none meets",
          "[frontier]") {
  // The daemon's tuning ends its headroom at x1.43: a load whose SLO needs
  // more got the safest swept setting, short of its SLO.
  auto [demand, config, predictive, options] = surging_sweep(4, {1.0}, {0.5});
  options.slo_short_fraction = 0.0005;
  const auto listed = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(listed.has_value());
  REQUIRE_FALSE(listed->headline.predictive_at_slo.has_value());
  options.sweep_floor = 0.1;
  const auto below = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(below.has_value());
  REQUIRE(below->headline.predictive_at_slo.has_value());
  const auto& met = below->points[*below->headline.predictive_at_slo];
  CHECK(met.target_fraction < 1.0);
  CHECK(met.violation_minutes <= below->headline.slo_minutes);
  // Every other predictive target swept below the grid missed the SLO.
  for (const auto& p : below->points)
    if (p.run == "predictive" && p.target_fraction > met.target_fraction + 1e-9)
      CHECK(p.violation_minutes > below->headline.slo_minutes);

  // A lower target swept beside the grid that meets it (the tuning's
  // setting in force, x5 here) does not stop the sweep above it: the same
  // first target is found, and it is the cheaper choice. Before, a tuning
  // that once served x4 on Twitter GOOG kept x4 at every refit.
  REQUIRE(met.target_fraction > 0.2);
  options.also_predictive_targets = {0.2};
  const auto beside = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(beside.has_value());
  REQUIRE(beside->headline.predictive_at_slo.has_value());
  const auto& cheaper = beside->points[*beside->headline.predictive_at_slo];
  CHECK(cheaper.target_fraction == Approx(met.target_fraction));
  CHECK(cheaper.replica_hours == Approx(met.replica_hours));
  CHECK(std::any_of(beside->points.begin(), beside->points.end(), [](const FrontierPoint& p) {
    return p.run == "predictive" && std::abs(p.target_fraction - 0.2) < 1e-9;
  }));  // the setting beside the grid is swept too: the tuning judges its move from it
}

TEST_CASE("The predictive sweep applies each quantile and target to one set of forecasts",
          "[frontier]") {
  auto [demand, config, predictive, options] = surging_sweep(4, {1.0, 0.9, 0.8}, {0.5, 0.9, 0.99});
  const auto swept = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(swept.has_value());
  std::size_t predictive_points = 0;
  for (const auto& p : swept->points) predictive_points += p.run == "predictive" ? 1 : 0;
  CHECK(predictive_points == 9);
  // A higher quantile serves at least as much at every step.
  const auto low = served_at_quantile(predictive, 0.5);
  const auto high = served_at_quantile(predictive, 0.99);
  for (std::size_t i = 0; i < demand.size(); ++i) CHECK(high[i] >= low[i]);
  // Served never below the observed load (the policy's floor).
  for (std::size_t i = 1; i < demand.size(); ++i) CHECK(low[i] >= demand[i - 1]);

  const auto& h = swept->headline;
  // Yesterday's shape announces the 09:30 surge: at the SLO the predictive
  // run needs fewer replica-hours than the cheapest reactive target.
  REQUIRE(h.predictive_at_slo.has_value());
  REQUIRE(h.reactive_at_slo.has_value());
  CHECK(*h.saved_percent > 10);
  REQUIRE(h.operating_point == h.predictive_at_slo);
  REQUIRE(h.reactive_minutes_at_equal_cost.has_value());
  const auto& op = swept->points[*h.operating_point];
  CHECK(*h.reactive_minutes_at_equal_cost ==
        Approx(*frontier_minutes_at(swept->points, "reactive", op.replica_hours)));
}

TEST_CASE("Holdout: settings tuned on the first half are judged on the second", "[frontier]") {
  auto [demand, config, predictive, options] = surging_sweep(6, {1.0, 0.9, 0.8}, {0.5, 0.9, 0.99});
  options.holdout = true;
  const auto swept = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(swept.has_value());
  REQUIRE(swept->holdout.has_value());
  const auto& check = *swept->holdout;
  CHECK(check.slo_minutes == Approx(0.001 * 3 * 24 * 60));

  // The same choice as a sweep of the first half alone.
  const std::size_t half = demand.size() / 2;
  PredictiveSeries first = predictive;
  first.served.resize(half);
  first.observed.resize(half);
  first.windows.resize(half);
  options.holdout = false;
  const auto tuned =
      sweep_frontier(config, std::span<const double>(demand.data(), half), &first, options);
  REQUIRE(tuned.has_value());
  REQUIRE(tuned->headline.reactive_at_slo.has_value());
  REQUIRE(check.reactive.has_value());
  CHECK(check.reactive->target_fraction ==
        tuned->points[*tuned->headline.reactive_at_slo].target_fraction);
  // The first day has no forecast (nothing to repeat yet): when no
  // predictive setting met the SLO on the first half, the safest one is judged.
  REQUIRE(check.predictive.has_value());
  CHECK(check.predictive_met_in_tuning == tuned->headline.predictive_at_slo.has_value());
  if (tuned->headline.predictive_at_slo)
    CHECK(check.predictive->quantile == tuned->points[*tuned->headline.predictive_at_slo].quantile);
  // Judged against the second half's own reactive frontier as well.
  REQUIRE(check.hindsight_reactive.has_value());
  CHECK(check.hindsight_reactive->violation_minutes <= check.slo_minutes);
  if (check.reactive_minutes_at_equal_cost && *check.reactive_minutes_at_equal_cost > 0)
    CHECK(*check.violation_ratio ==
          Approx(check.predictive->violation_minutes / *check.reactive_minutes_at_equal_cost));
  // Judged on the second half: its own replica-hours, not the first half's.
  CHECK(check.reactive->replica_hours > 0);
  CHECK(check.reactive->replica_hours <
        0.75 * swept->points[*swept->headline.reactive_at_slo].replica_hours);
  // Without the option there is no check.
  CHECK_FALSE(tuned->holdout.has_value());
}

TEST_CASE("choose_setting: the cheapest within the SLO, else the safest", "[frontier]") {
  std::vector<FrontierPoint> points = {point("reactive", 100, 40), point("reactive", 120, 12),
                                       point("reactive", 150, 3), point("reactive", 140, 3),
                                       point("oracle", 90, 0)};
  auto choice = choose_setting(points, "reactive", 15);
  REQUIRE(choice.has_value());
  CHECK(choice->point == 1);
  CHECK(choice->meets_slo);
  // Out of reach: the fewest violation minutes, the cheaper of a tie, flagged.
  choice = choose_setting(points, "reactive", 1);
  REQUIRE(choice.has_value());
  CHECK(choice->point == 3);
  CHECK_FALSE(choice->meets_slo);
  CHECK_FALSE(choose_setting(points, "predictive", 15).has_value());
}

TEST_CASE("Tuning for an SLO holds part of it back: never a cheaper, riskier choice",
          "[frontier]") {
  auto [demand, config, predictive, options] =
      surging_sweep(4, {1.0, 0.9, 0.8, 0.7}, {0.5, 0.75, 0.9, 0.99});
  options.slo_short_fraction = 0.004;
  const auto loose = tune_for_slo(config, demand, &predictive, options);
  options.tuning_margin = 0.5;
  const auto strict = tune_for_slo(config, demand, &predictive, options);
  REQUIRE(loose.has_value());
  REQUIRE(strict.has_value());
  CHECK(strict->slo_minutes == Approx(0.004 * 4 * 24 * 60));
  CHECK(strict->tuning_slo_minutes == Approx(0.5 * strict->slo_minutes));
  // Without a margin the choice is the frontier's cheapest setting at the SLO.
  REQUIRE(loose->predictive.has_value());
  REQUIRE(loose->frontier.headline.predictive_at_slo.has_value());
  CHECK(loose->predictive->point == *loose->frontier.headline.predictive_at_slo);
  for (const auto* tuned : {&*loose, &*strict}) {
    REQUIRE(tuned->predictive.has_value());
    REQUIRE(tuned->reactive.has_value());
    CHECK(tuned->predictive->meets_slo);
    CHECK(tuned->at(*tuned->predictive).run == "predictive");
    CHECK(tuned->at(*tuned->predictive).violation_minutes <= tuned->tuning_slo_minutes);
    CHECK(tuned->at(*tuned->reactive).run == "reactive");
  }
  CHECK(strict->at(*strict->predictive).replica_hours >=
        loose->at(*loose->predictive).replica_hours);
  CHECK(strict->at(*strict->reactive).replica_hours >= loose->at(*loose->reactive).replica_hours);
  options.tuning_margin = 1;
  const auto bad = tune_for_slo(config, demand, &predictive, options);
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("tuning margin: 1"));
}

TEST_CASE("The sweep names a bad option and a predictive run of the wrong length", "[frontier]") {
  const auto demand = surging_days(1);
  const auto config = five_minute_config();
  FrontierOptions options;
  options.quantiles = {0.9, 1.5};
  auto bad = sweep_frontier(config, demand, nullptr, options);
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("quantiles: 1.5"));
  options = {};
  options.reactive_targets = {0.9, 0};
  bad = sweep_frontier(config, demand, nullptr, options);
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("reactive targets: 0"));
  const auto predictive = yesterday_forecast(surging_days(2), 2);
  bad = sweep_frontier(config, demand, &predictive, FrontierOptions{});
  REQUIRE_FALSE(bad.has_value());
  CHECK_THAT(bad.error().message, Catch::Contains("576 decisions for 288 demand steps"));
}

TEST_CASE("One replay serves every quantile: at the replayed one it is the replay itself",
          "[frontier][engine]") {
  const auto series = prescale::test::five_daily_cycles();
  const auto target = prescale::test::daily_cycle_target("frontier-test");
  const auto replayed = replay_predictive(series, target);
  REQUIRE(replayed.has_value());
  REQUIRE(replayed->windows.size() == replayed->served.size());
  std::size_t forecasting = 0;
  for (const auto& w : replayed->windows) forecasting += w.size() == 4 ? 1 : 0;
  CHECK(forecasting > replayed->windows.size() / 2);

  const auto same = served_at_quantile(*replayed, 0.9);
  REQUIRE(same.size() == replayed->served.size());
  for (std::size_t i = 0; i < same.size(); ++i) {
    INFO("step " << i);
    CHECK(same[i] == replayed->served[i]);  // bit for bit: the same policy on the same forecast
  }
  const auto lower = served_at_quantile(*replayed, 0.6);
  std::size_t below = 0;
  for (std::size_t i = 0; i < same.size(); ++i) {
    CHECK(lower[i] <= same[i]);
    below += lower[i] < same[i] ? 1 : 0;
  }
  CHECK(below > 0);
}

TEST_CASE("Two targets: a lower observed one buys off the noise, a forecast one above it the surge",
          "[frontier]") {
  // At the cheap end the misses are noise in the daytime load. With one
  // target for both metrics the forecast carries the same headroom as the
  // observed load, and its capacity goes also where there is no noise to buy
  // (the over-forecast quiet night): the diagonal lies above the reactive
  // frontier there. The observed load at its own lower target beside the
  // forecast at a higher one buys the noise off as the reactive HPA does and
  // keeps the surge announced.
  auto [demand, config, predictive, options] = noisy_sweep(
      4, {1.1, 1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6}, {1.0, 0.95, 0.9, 0.85, 0.8}, {});
  const auto diagonal = sweep_frontier(config, demand, &predictive, options);
  options.predictive_targets = {1.3, 1.2, 1.1, 1.0, 0.95, 0.9, 0.85, 0.8};
  options.observed_targets = {1.0, 0.95, 0.9, 0.85, 0.8};
  const auto plane = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(diagonal.has_value());
  REQUIRE(plane.has_value());
  // Every observed target beside every forecast target: 8 x 5 pairs, 35 of
  // them with two targets, at each of two quantiles.
  std::size_t two = 0, one = 0;
  for (const auto& p : plane->points) {
    if (p.run != "predictive") continue;
    (p.two_targets() ? two : one) += 1;
  }
  CHECK(two == 2 * 35);
  CHECK(one == 2 * 5);
  // The diagonal's settings are simulated as before: the same figures.
  for (const auto& d : diagonal->points) {
    if (d.run != "predictive") continue;
    CHECK_FALSE(d.two_targets());
    const auto same = std::find_if(plane->points.begin(), plane->points.end(), [&](const auto& p) {
      return p.run == "predictive" && !p.two_targets() && p.target_fraction == d.target_fraction &&
             p.quantile == d.quantile;
    });
    REQUIRE(same != plane->points.end());
    CHECK(same->violation_minutes == d.violation_minutes);
    CHECK(same->replica_hours == d.replica_hours);
  }
  // The diagonal's worst point lies well above the reactive frontier ...
  const auto& before = diagonal->headline;
  REQUIRE(before.worst_excess_point.has_value());
  const auto& worst = diagonal->points[*before.worst_excess_point];
  INFO("diagonal's worst: " << worst.target_fraction << " q" << worst.quantile << ", "
                            << worst.replica_hours << " rh, " << worst.violation_minutes << " min, "
                            << *before.worst_excess_minutes << " above reactive");
  CHECK(*before.worst_excess_minutes > 100);
  // ... and a setting with two targets is cheaper and better than it, near
  // the reactive frontier at its cost, so the worst point is off the plane's
  // frontier.
  std::optional<FrontierPoint> better;
  for (const auto& p : plane->points) {
    if (p.run == "predictive" && p.two_targets() && p.replica_hours < worst.replica_hours &&
        p.violation_minutes < worst.violation_minutes &&
        (!better || p.violation_minutes < better->violation_minutes))
      better = p;
  }
  REQUIRE(better.has_value());
  CHECK(better->observed_fraction() < better->target_fraction);
  const auto reactive = frontier_minutes_at(plane->points, "reactive", better->replica_hours);
  REQUIRE(reactive.has_value());
  CHECK(better->violation_minutes - *reactive < *before.worst_excess_minutes / 3);
  for (std::size_t i : frontier_of(plane->points, "predictive")) {
    const auto& p = plane->points[i];
    CHECK_FALSE((!p.two_targets() && p.target_fraction == worst.target_fraction &&
                 p.quantile == worst.quantile));
  }
  // The plane's frontier is nowhere above the diagonal's. (Its own worst
  // excess need not be smaller: a setting at observed 100 %, forecast
  // 120 % is on it between reactive 100 % and 95 %, above their chord: a
  // forecast spent where the load is quiet buys less than headroom for the
  // noise. docs/targets.md.)
  for (std::size_t i : frontier_of(diagonal->points, "predictive")) {
    const auto& d = diagonal->points[i];
    CHECK(*frontier_minutes_at(plane->points, "predictive", d.replica_hours) <=
          d.violation_minutes);
  }
}

TEST_CASE("Two targets are read alike with the headroom in the served value or in the HPA target",
          "[frontier]") {
  // The daemon applies a forecast target as headroom in what it serves (the
  // HPA at capacity); prescale tune's YAML sets it as the HPA's averageValue.
  // Either way the HPA's ratios are the same, so are the figures.
  auto [demand, config, predictive, options] = noisy_sweep(3, {1.0, 0.8}, {1.2, 0.8}, {0.9, 1.0});
  const auto in_target = sweep_frontier(config, demand, &predictive, options);
  options.headroom_in_served = true;
  options.observed_target = 0.7;  // unused: observed_targets are given
  const auto in_served = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(in_target.has_value());
  REQUIRE(in_served.has_value());
  std::size_t compared = 0;
  for (const auto& a : in_target->points) {
    if (a.run != "predictive") continue;
    for (const auto& b : in_served->points) {
      if (b.run != "predictive" || b.target_fraction != a.target_fraction ||
          b.observed_fraction() != a.observed_fraction() || b.quantile != a.quantile)
        continue;
      INFO(a.observed_fraction() << " / " << a.target_fraction << " q" << a.quantile);
      CHECK(b.violation_minutes == Approx(a.violation_minutes).margin(5));
      CHECK(b.replica_hours == Approx(a.replica_hours).epsilon(0.002));
      ++compared;
    }
  }
  CHECK(compared == 2 * 2 * 2);
}

TEST_CASE("Holdout: a setting with two targets is judged with both", "[frontier]") {
  // Every setting reads the load at 80 %.
  auto [demand, config, predictive, options] =
      noisy_sweep(6, {1.0, 0.9, 0.8, 0.7, 0.6}, {1.0, 0.9}, {0.8});
  options.holdout = true;
  const auto swept = sweep_frontier(config, demand, &predictive, options);
  REQUIRE(swept.has_value());
  REQUIRE(swept->holdout.has_value());
  REQUIRE(swept->holdout->predictive.has_value());
  const auto& judged = *swept->holdout->predictive;
  CHECK(judged.observed_fraction() == 0.8);
  // The same setting swept alone on the second half: the same figures.
  const std::size_t half = demand.size() / 2;
  PredictiveSeries second = predictive;
  second.served.erase(second.served.begin(), second.served.begin() + half);
  second.observed.erase(second.observed.begin(), second.observed.begin() + half);
  second.windows.erase(second.windows.begin(), second.windows.begin() + half);
  SimulationConfig later = config;
  later.start_unix += static_cast<std::int64_t>(half) * config.step_seconds;
  FrontierOptions alone = options;
  alone.holdout = false;
  alone.predictive_targets = {judged.target_fraction};
  alone.quantiles = {judged.quantile};
  const auto again =
      sweep_frontier(later, std::span<const double>(demand).subspan(half), &second, alone);
  REQUIRE(again.has_value());
  const auto same = std::find_if(again->points.begin(), again->points.end(),
                                 [](const auto& p) { return p.run == "predictive"; });
  REQUIRE(same != again->points.end());
  CHECK(same->violation_minutes == judged.violation_minutes);
  CHECK(same->replica_hours == judged.replica_hours);
}

TEST_CASE("The cheapest predictive setting's forecast target is refined as the reactive one",
          "[frontier]") {
  // Savings compare the two cheapest settings meeting the SLO: refining only
  // the reactive one would count a coarse predictive grid against it.
  auto [demand, config, predictive, options] = surging_sweep(4, {1.0, 0.9, 0.8, 0.7}, {0.5, 0.9});
  options.refine_reactive_only = false;
  options.refine_step = 0;
  const auto grid = sweep_frontier(config, demand, &predictive, options);
  options.refine_step = 0.01;
  const auto fine = sweep_frontier(config, demand, &predictive, options);
  FrontierOptions daemon_like = options;
  daemon_like.refine_reactive_only = true;
  const auto kept = sweep_frontier(config, demand, &predictive, daemon_like);
  FrontierOptions every = options;  // every whole percent from 100 % down to 70 %
  every.refine_step = 0;
  every.predictive_targets.clear();
  for (int percent = 100; percent >= 70; --percent)
    every.predictive_targets.push_back(percent / 100.0);
  const auto all = sweep_frontier(config, demand, &predictive, every);
  REQUIRE(grid.has_value());
  REQUIRE(fine.has_value());
  REQUIRE(kept.has_value());
  REQUIRE(all.has_value());
  const auto [from_grid, from_fine] =
      check_refined(*grid, *fine, *all, &FrontierHeadline::predictive_at_slo);
  CHECK(from_fine.quantile == from_grid.quantile);
  // Off (as the daemon's tuning sweeps): the predictive settings are the swept ones.
  const auto k = kept->headline.predictive_at_slo;
  REQUIRE(k.has_value());
  CHECK(kept->points[*k].replica_hours == Approx(from_grid.replica_hours));
  for (const auto& p : fine->points) {
    if (p.run != "predictive" ||
        std::abs(std::round(p.target_fraction * 10) - p.target_fraction * 10) < 1e-6)
      continue;
    CHECK(p.target_fraction > from_grid.target_fraction);
    CHECK(p.target_fraction < from_grid.target_fraction + 0.1);
    CHECK(p.quantile == from_grid.quantile);
  }
}
