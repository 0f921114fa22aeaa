// The limit a forecast can reach on the generated payments traces with the
// daemon's HPA set-up (bench/frontier/run's): a forecast that knows the
// trace's signal exactly (the generator's rhythm, market-open bursts and
// payroll surges, each day's drawn sizes included) but neither its noise
// nor its unexplained spikes, which no forecast can know ahead. Each
// decision serves the signal's peak over the lead window times a headroom
// (swept), beside the HPA's own observed-load metric at
// --reactive-target-percent of capacity, and reads the step before as the
// daemon does. Set against the reactive HPA's frontier and the oracle (which
// knows the noise and spikes too), it tells how much of the gap between the
// daemon's saving and the oracle's a better forecast could close, and how
// much is the noise's: what the bench's >= 30 % asks of the forecast.
//
// That forecast also knows each day's random draws (the open burst's size,
// 1.1-1.5, and the payroll peak, 2.5-3.5) before the day, which none can.
// The fairer column, "draws expected", serves the signal with every day's
// draws at their expected value (open burst 1.3, payroll peak 3.0) while the
// load keeps its real draws.
//
//   prescale_bench_frontier_bound [--seeds 1,2,3] [--days 42] [--last-days 20]
//       [--step 300] [--lead-steps 2] [--slo-percent 0.1] [--reactive-target-percent 80]
//
// The defaults are bench/frontier/run's: 42 days at 5 minutes from
// 2026-01-05 in New York, capacity the 95th percentile of the load / 10,
// pods ready 3 minutes after creation, the daemon's lead of 8m15s (2 steps:
// a window of 3), its table from the second day (the last 20 days).
#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/simulate/frontier.hpp"

using namespace prescale;

namespace {

struct Args {
  std::vector<std::uint64_t> seeds = {1, 2, 3};
  int days = 42, last_days = 20;
  std::int64_t step = 300;
  std::size_t lead_steps = 2;
  double slo_percent = 0.1, reactive_target_percent = 80;
};

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--seeds") {
      args.seeds.clear();
      std::stringstream list(value);
      for (std::string seed; std::getline(list, seed, ',');)
        args.seeds.push_back(std::stoull(seed));
    } else if (flag == "--days") {
      args.days = std::stoi(value);
    } else if (flag == "--last-days") {
      args.last_days = std::stoi(value);
    } else if (flag == "--step") {
      args.step = std::stoll(value);
    } else if (flag == "--lead-steps") {
      args.lead_steps = std::stoul(value);
    } else if (flag == "--slo-percent") {
      args.slo_percent = std::stod(value);
    } else if (flag == "--reactive-target-percent") {
      args.reactive_target_percent = std::stod(value);
    } else {
      fmt::print(stderr, "unknown flag {}\n", flag);
      std::exit(2);
    }
  }
  return args;
}

// The load, its signal (noise and unexplained spikes taken out) or that
// signal with each day's drawn sizes at their expected value.
enum class TraceView { load, signal, signal_expected_draws };

forecast::Series trace(const Args& args, std::uint64_t seed, TraceView view) {
  autoscaler::TraceOptions options;
  options.start_unix =
      calendar::days_from_civil({2026, 1, 5}) * calendar::kSecondsPerDay + 5 * 3600;
  options.days = args.days;
  options.step_seconds = args.step;
  options.seed = seed;
  if (view != TraceView::load) {
    // The generator draws its spikes from a stream of their own, so the
    // rest of the trace (each day's payroll size included) stays the same.
    options.noise = 0;
    options.random_spikes = false;
  }
  if (view == TraceView::signal_expected_draws) {
    options.open_burst_size = 1.3;                              // the mean of 1.1-1.5
    options.payroll_mid_size = options.payroll_end_size = 3.0;  // the mean of 2.5-3.5
    options.payroll_jitter = 0;
  }
  auto series = autoscaler::generate_trace(options);
  if (!series) {
    fmt::print(stderr, "generate: {}\n", series.error().message);
    std::exit(1);
  }
  return std::move(*series);
}

// The cheapest point of `run` within the SLO, as "rh (target %, minutes)".
std::string cheapest(const simulate::FrontierResult& result, const std::string& run, double slo) {
  const simulate::FrontierPoint* best = nullptr;
  for (const auto& p : result.points)
    if (p.run == run && p.violation_minutes <= slo &&
        (!best || p.replica_hours < best->replica_hours))
      best = &p;
  if (!best) return "not met";
  return fmt::format("{:.0f} ({:.1f}%, {:.0f} min)", best->replica_hours,
                     best->target_fraction * 100, best->violation_minutes);
}

std::optional<double> cheapest_hours(const simulate::FrontierResult& result, const std::string& run,
                                     double slo) {
  std::optional<double> best;
  for (const auto& p : result.points)
    if (p.run == run && p.violation_minutes <= slo && (!best || p.replica_hours < *best))
      best = p.replica_hours;
  return best;
}

std::string saved(std::optional<double> hours, std::optional<double> reactive) {
  if (!hours || !reactive) return "–";
  return fmt::format("{:.1f}", 100 * (1 - *hours / *reactive));
}

// Each decision sees `forecast` over the lead window and the load's sample
// before, as the daemon does.
simulate::PredictiveSeries served_from(const forecast::Series& load,
                                       const forecast::Series& forecast, std::size_t from,
                                       std::size_t window, std::int64_t start_unix) {
  simulate::PredictiveSeries known;
  known.start_unix = start_unix;
  for (std::size_t i = from; i < load.size(); ++i) {
    forecast::Forecast f;
    for (std::size_t h = 0; h < window; ++h) {
      f.mean.push_back(forecast.values[std::min(i + h, forecast.size() - 1)]);
      f.sigma.push_back(0);
    }
    known.windows.push_back(std::move(f));
    known.observed.push_back(load.values[i - 1]);  // the daemon's newest sample
    known.served.push_back(0);                     // a decision at every step
  }
  return known;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const std::size_t window = args.lead_steps + 1;
  fmt::print(
      "| seed | SLO min | reactive at SLO: rh (target, min) | signal known: rh at SLO | saved % | "
      "signal known, half the SLO (a 50 % margin) | saved % | signal known, draws expected: rh "
      "at SLO | saved % | oracle saved % |\n"
      "| --- | ---: | --- | --- | ---: | --- | ---: | --- | ---: | ---: |\n");
  for (std::uint64_t seed : args.seeds) {
    const forecast::Series load = trace(args, seed, TraceView::load);
    const forecast::Series signal = trace(args, seed, TraceView::signal);
    const forecast::Series expected = trace(args, seed, TraceView::signal_expected_draws);
    std::vector<double> sorted = load.values;
    std::sort(sorted.begin(), sorted.end());
    const double capacity = sorted[static_cast<std::size_t>(0.95 * (sorted.size() - 1))] / 10;
    const std::size_t per_day = static_cast<std::size_t>(86400 / args.step);
    const std::size_t from = load.size() - static_cast<std::size_t>(args.last_days) * per_day;

    simulate::SimulationConfig config;
    config.start_unix = load.time_at(from);
    config.step_seconds = args.step;
    config.capacity_per_replica = capacity;
    config.startup_seconds = 180;
    const std::vector<double> demand(load.values.begin() + static_cast<std::ptrdiff_t>(from),
                                     load.values.end());
    simulate::FrontierOptions options;
    options.headroom_in_served = true;
    options.observed_target = args.reactive_target_percent / 100;
    options.slo_short_fraction = args.slo_percent / 100;
    options.quantiles = {0.5};  // no spread: every quantile is the signal
    options.predictive_targets.clear();
    for (int k = 0; k <= 40; ++k) options.predictive_targets.push_back(1.0 - 0.0125 * k);
    // The reactive and oracle runs see the load alone: the same in both sweeps.
    const auto known = served_from(load, signal, from, window, config.start_unix);
    const auto guessed = served_from(load, expected, from, window, config.start_unix);
    auto result = simulate::sweep_frontier(config, demand, &known, options);
    auto fair = simulate::sweep_frontier(config, demand, &guessed, options);
    if (!result || !fair) {
      fmt::print(stderr, "seed {}: {}\n", seed, (result ? fair : result).error().message);
      return 1;
    }
    const double slo = result->headline.slo_minutes;
    const auto reactive = cheapest_hours(*result, "reactive", slo);
    fmt::print("| {} | {:.0f} | {} | {} | {} | {} | {} | {} | {} | {} |\n", seed, slo,
               cheapest(*result, "reactive", slo), cheapest(*result, "predictive", slo),
               saved(cheapest_hours(*result, "predictive", slo), reactive),
               cheapest(*result, "predictive", slo / 2),
               saved(cheapest_hours(*result, "predictive", slo / 2), reactive),
               cheapest(*fair, "predictive", slo),
               saved(cheapest_hours(*fair, "predictive", slo), reactive),
               saved(cheapest_hours(*result, "oracle", slo), reactive));
  }
}
