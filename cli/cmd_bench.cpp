// `prescale bench`: fitting throughput of the scalar and each SIMD
// Holt-Winters kernel on generated series (daily + weekly pattern + noise,
// 5-minute steps), as ratios against the scalar kernel measured in the same
// run. Raw kernel speed in candidate-points/s, whole fits in series/s.
#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "input_options.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/forecast/decomposition.hpp"
#include "prescale/forecast/holt_winters.hpp"
#include "prescale/forecast/kernels.hpp"

namespace prescale::cli {
namespace {

namespace fc = prescale::forecast;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kDaySlots = 288;  // 5-minute steps
constexpr std::uint32_t kWeekSlots = 2016;

struct BenchOptions {
  std::size_t series = 8;
  std::size_t points = 28 * kDaySlots;
  std::string kernel = "all";
  std::size_t threads = 1;
  std::size_t candidates = 256;
  double seconds = 1.0;
  std::string format = "table";
  // --suite: `prescale simulate` over each trace, one summary table.
  std::vector<std::string> suite;
  double capacity_per_replica = 0;
  bool auto_capacity = false;
  std::string startup = "3m";
  std::string timezone = "UTC";
  std::string refit_interval;  // "" = simulate's default
};

struct KernelFigures {
  const fc::kernels::Kernel* kernel = nullptr;
  double candidate_points_per_second = 0;
  double series_per_second = 0;
  double mean_fit_seconds = 0;
  double max_relative_difference = 0;  ///< of the raw SSEs against scalar
  std::string model;                   ///< fitted name, e.g. holt-winters(A,Ad,A;288,2016)
  std::size_t failed_fits = 0;
};

/// Load with a daily and a weekly shape (weekends lower), trend-free, noisy.
std::vector<double> generate_series(std::size_t points, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::uniform_real_distribution<double> scale(0.5, 2.0);
  const double level = 400 * scale(rng), amplitude = 120 * scale(rng), noise_sd = 15 * scale(rng);
  std::vector<double> y(points);
  for (std::size_t i = 0; i < points; ++i) {
    const double day = 2 * M_PI * static_cast<double>(i % kDaySlots) / kDaySlots;
    const bool weekend = (i % kWeekSlots) / kDaySlots >= 5;
    const double shape = std::sin(day - M_PI / 2) + 0.3 * std::sin(2 * day);
    y[i] = (weekend ? 0.6 : 1.0) * (level + amplitude * shape) + noise_sd * noise(rng);
  }
  return y;
}

std::vector<fc::SmoothingParameters> random_candidates(std::size_t count) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<fc::SmoothingParameters> candidates(count);
  for (auto& c : candidates) {
    c.alpha = 0.01 + 0.9 * unit(rng);
    c.beta = c.alpha * 0.2 * unit(rng);
    c.phi = 0.8 + 0.18 * unit(rng);
    c.gamma = {0.3 * (1 - c.alpha) * unit(rng), 0.3 * (1 - c.alpha) * unit(rng), 0};
  }
  return candidates;
}

/// Runs `work(thread_index)` on `threads` threads; returns the wall time.
template <class Work>
double timed_on_threads(std::size_t threads, Work work) {
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& thread : pool) thread.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Progress goes to stderr, so `--format json` output stays clean on stdout.
void progress(const std::string& line) {
  fmt::print(stderr, "bench: {}\n", line);
  std::fflush(stderr);
}

void run_bench(const BenchOptions& options) {
  // Kernels to measure: scalar always (the baseline of every ratio), then the rest.
  std::vector<const fc::kernels::Kernel*> kernels;
  const auto available = fc::kernels::available_kernels();
  if (options.kernel == "all") {
    kernels = available;
  } else {
    const auto* chosen = fc::kernels::find_kernel(options.kernel);
    if (!chosen) {
      std::string names;
      for (const auto* k : available) names += (names.empty() ? "" : ", ") + std::string(k->name);
      throw Failure(
          fmt::format("--kernel {}: not available on this CPU/build (available: {}, or all)",
                      options.kernel, names));
    }
    kernels.push_back(available.front());
    if (chosen != available.front()) kernels.push_back(chosen);
  }

  std::vector<std::vector<double>> series(options.series);
  for (std::size_t s = 0; s < options.series; ++s)
    series[s] = generate_series(options.points, static_cast<std::uint32_t>(1000 + s));
  const fc::SeasonLayout layout =
      fc::SeasonLayout::modular({kDaySlots, kWeekSlots}, options.points);
  std::size_t periods = 2;
  while (periods > 0 && options.points < 2 * std::size_t{layout.slots[periods - 1]}) --periods;

  // The raw problem: the first series with its decomposed initial state.
  auto initial = fc::decompose_initial_state(series[0], &layout, periods, true, false);
  if (!initial)
    throw Failure("--points " + std::to_string(options.points) + ": " + initial.error().message);
  fc::HwProblem problem;
  problem.y = series[0];
  problem.periods = periods;
  for (std::size_t k = 0; k < periods; ++k) {
    problem.slots[k] = layout.slots[k];
    problem.positions[k] = layout.positions[k].data();
    problem.initial_seasonal[k] = initial->seasonal[k].data();
  }
  problem.initial_level = initial->level;
  problem.initial_trend = initial->trend;
  const auto candidates = random_candidates(options.candidates);
  std::vector<double> reference(candidates.size());
  fc::sse_batch(problem, candidates, reference, kernels.front());

  std::vector<KernelFigures> figures;
  const std::size_t steps = kernels.size() * 2;
  std::size_t step = 0;
  for (const auto* kernel : kernels) {
    KernelFigures f;
    f.kernel = kernel;
    progress(fmt::format("[{}/{}] {}: raw kernel, {} candidates x {} points, ~{:.1f} s", ++step,
                         steps, kernel->name, candidates.size(), options.points, options.seconds));
    std::vector<double> sse(candidates.size());
    kernel->sse_batch(problem, candidates, sse);  // warm-up, and the agreement check
    for (std::size_t i = 0; i < sse.size(); ++i)
      if (std::isfinite(reference[i]))
        f.max_relative_difference =
            std::max(f.max_relative_difference,
                     std::abs(sse[i] - reference[i]) / std::max(1e-300, std::abs(reference[i])));
    std::atomic<std::size_t> batches{0};
    const double budget = options.seconds;
    const double elapsed = timed_on_threads(options.threads, [&](std::size_t) {
      std::vector<double> out(candidates.size());
      const auto start = Clock::now();
      do {
        kernel->sse_batch(problem, candidates, out);
        batches.fetch_add(1);
      } while (std::chrono::duration<double>(Clock::now() - start).count() < budget);
    });
    f.candidate_points_per_second = static_cast<double>(batches.load()) *
                                    static_cast<double>(candidates.size()) *
                                    static_cast<double>(options.points) / elapsed;

    progress(fmt::format("[{}/{}] {}: fitting {} series of {} points on {} thread(s)", ++step,
                         steps, kernel->name, options.series, options.points, options.threads));
    fc::HoltWintersOptions fit_options;
    fit_options.kernel = kernel;
    const fc::HoltWinters model({fc::Trend::damped, fc::Seasonality::additive}, fit_options);
    std::atomic<std::size_t> next{0}, failed{0};
    std::string model_name;
    std::vector<double> fit_seconds(options.series, 0.0);
    const double wall = timed_on_threads(options.threads, [&](std::size_t thread) {
      for (std::size_t s = next.fetch_add(1); s < options.series; s = next.fetch_add(1)) {
        fc::FitInput input;
        input.y = series[s];
        input.layout = &layout;
        const auto start = Clock::now();
        const auto result = model.fit(input);
        fit_seconds[s] = std::chrono::duration<double>(Clock::now() - start).count();
        if (result.status != fc::FitStatus::ok) {
          failed.fetch_add(1);
        } else if (s == 0) {
          model_name = result.fitted->name();
        }
        if (thread == 0 && options.series >= 16 && (s + 1) % (options.series / 4) == 0)
          progress(
              fmt::format("      {}: {} of {} series fitted", kernel->name, s + 1, options.series));
      }
    });
    f.series_per_second = static_cast<double>(options.series) / wall;
    double total = 0;
    for (double t : fit_seconds) total += t;
    f.mean_fit_seconds = total / static_cast<double>(options.series);
    f.failed_fits = failed.load();
    f.model = model_name;
    figures.push_back(f);
  }

  const KernelFigures& base = figures.front();
  if (options.format == "json") {
    nlohmann::json out;
    out["series"] = options.series;
    out["points"] = options.points;
    out["threads"] = options.threads;
    out["candidates"] = candidates.size();
    out["seasonal_slots"] = std::vector<std::uint32_t>(
        layout.slots.begin(), layout.slots.begin() + static_cast<long>(periods));
    out["default_kernel"] = std::string(fc::kernels::default_kernel().name);
    out["kernels"] = nlohmann::json::array();
    for (const auto& f : figures) {
      out["kernels"].push_back(
          {{"kernel", std::string(f.kernel->name)},
           {"lanes", f.kernel->lanes},
           {"block", f.kernel->block},
           {"candidate_points_per_second", f.candidate_points_per_second},
           {"raw_ratio_vs_scalar",
            f.candidate_points_per_second / base.candidate_points_per_second},
           {"series_per_second", f.series_per_second},
           {"fit_ratio_vs_scalar", f.series_per_second / base.series_per_second},
           {"mean_fit_seconds", f.mean_fit_seconds},
           {"max_relative_sse_difference", f.max_relative_difference},
           {"model", f.model},
           {"failed_fits", f.failed_fits}});
    }
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print(
      "Holt-Winters fitting throughput: {} series x {} points (5-min steps, seasons {}), {} "
      "thread(s)\n",
      options.series, options.points, periods == 2 ? "288,2016" : (periods == 1 ? "288" : "none"),
      options.threads);
  fmt::print("{:<8} {:>5} {:>18} {:>9} {:>11} {:>9} {:>13} {:>12}\n", "kernel", "lanes",
             "cand-points/s", "x scalar", "series/s", "x scalar", "s/fit (mean)", "max rel diff");
  for (const auto& f : figures) {
    fmt::print("{:<8} {:>5} {:>18.4g} {:>9.2f} {:>11.2f} {:>9.2f} {:>13.4f} {:>12.1e}\n",
               f.kernel->name, f.kernel->lanes, f.candidate_points_per_second,
               f.candidate_points_per_second / base.candidate_points_per_second,
               f.series_per_second, f.series_per_second / base.series_per_second,
               f.mean_fit_seconds, f.max_relative_difference);
  }
  fmt::print("model: {}; default kernel here: {}{}\n", base.model,
             fc::kernels::default_kernel().name,
             fc::kernels::default_kernel_choice().note.empty()
                 ? ""
                 : " (" + fc::kernels::default_kernel_choice().note + ")");
  for (const auto& f : figures)
    if (f.failed_fits > 0)
      fmt::print("warning: {} of {} fits failed with {}\n", f.failed_fits, options.series,
                 f.kernel->name);
}

// ---- --suite: simulate over several traces --------------------------------

std::string shell_quote(const std::string& text) {
  std::string out(1, '\'');
  for (char c : text) {
    if (c == '\'') {
      out.append("'\\''");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

/// --auto-capacity: one pod serves a tenth of the trace's 95th-percentile
/// load, so every trace peaks near 10 replicas whatever its units.
double auto_capacity(const fc::Series& series) {
  std::vector<double> v;
  for (double x : series.values)
    if (std::isfinite(x)) v.push_back(x);
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(0.95 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k] / 10;
}

struct SuiteRow {
  std::string trace;
  double capacity = 0;
  std::size_t steps = 0;
  bool predictive = false;
  double violation[3] = {0, 0, 0};  // reactive, predictive, oracle
  double replica_hours[3] = {0, 0, 0};
  std::optional<double> mase;
  std::string model;
  std::string error;
  double seconds = 0;
  double cut_percent() const {
    return violation[0] > 0 ? 100 * (violation[0] - violation[1]) / violation[0] : 0;
  }
  double extra_percent() const {
    return replica_hours[0] > 0 ? 100 * (replica_hours[1] - replica_hours[0]) / replica_hours[0]
                                : 0;
  }
};

// Runs this binary's own `simulate` (the code the user runs) and reads its JSON.
SuiteRow simulate_trace(const BenchOptions& options, const std::string& trace) {
  SuiteRow row;
  row.trace = std::filesystem::path(trace).filename().string();
  InputOptions input;
  input.input = trace;
  input.timezone = options.timezone;
  const fc::Series series = load_series(input);
  row.capacity = options.auto_capacity ? auto_capacity(series) : options.capacity_per_replica;
  if (!(row.capacity > 0))
    throw Failure(fmt::format("{}: no positive load to derive a capacity from", trace));

  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec)
    throw Failure("bench --suite: cannot find this executable (/proc/self/exe): " + ec.message());
  std::string command = fmt::format(
      "{} simulate --input {} --timezone {} --capacity-per-replica {:.17g} "
      "--startup {} --format json",
      shell_quote(self.string()), shell_quote(trace), shell_quote(options.timezone), row.capacity,
      shell_quote(options.startup));
  if (!options.refit_interval.empty())
    command += " --refit-interval " + shell_quote(options.refit_interval);
  const auto started = Clock::now();
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) throw Failure("bench --suite: cannot run " + command);
  std::string text;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) text.append(buffer, n);
  const int status = ::pclose(pipe);
  row.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  if (status != 0) {
    row.error = fmt::format("simulate failed (status {})", status);
    return row;
  }
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded()) {
    row.error = "simulate printed no JSON";
    return row;
  }
  row.steps = json.value("steps", std::size_t{0});
  row.predictive = json.value("predictive_available", false);
  for (const auto& run : json.at("runs")) {
    const std::string name = run.value("name", "");
    const int slot = name == "reactive" ? 0 : name == "predictive" ? 1 : name == "oracle" ? 2 : -1;
    if (slot < 0) continue;
    row.violation[slot] = run.value("slo_violation_minutes", 0.0);
    row.replica_hours[slot] = run.value("replica_hours", 0.0);
  }
  // MASE of the model the engine would pick, backtested at the lead window
  // (start-up + 15 s sync + one step) over the whole trace.
  auto startup = config::parse_duration_seconds(options.startup);
  fc::SelectionOptions selection;
  const std::int64_t lead = (startup ? *startup : 180) + 15 + series.step_seconds;
  try {
    const auto prepared = prepare_and_select(input, selection, std::to_string(lead) + "s");
    row.mase = prepared.selection.selected_mase;
    row.model = prepared.selection.model;
  } catch (const Failure& e) {
    row.model = std::string("backtest failed: ") + e.what();
  }
  return row;
}

void run_suite(const BenchOptions& options) {
  if (options.auto_capacity == (options.capacity_per_replica > 0))
    throw Failure("bench --suite: give exactly one of --capacity-per-replica X or --auto-capacity");
  if (auto s = config::parse_duration_seconds(options.startup); !s || *s <= 0)
    throw Failure("--startup: '" + options.startup + "' is not a positive duration (e.g. 90s, 3m)");
  std::vector<SuiteRow> rows;
  for (const auto& trace : options.suite) {
    if (options.format == "table") std::fprintf(stderr, "simulating %s ...\n", trace.c_str());
    rows.push_back(simulate_trace(options, trace));
  }
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json j = {{"trace", r.trace},
                          {"capacity_per_replica", r.capacity},
                          {"steps", r.steps},
                          {"predictive_available", r.predictive},
                          {"violation_minutes",
                           {{"reactive", r.violation[0]},
                            {"predictive", r.violation[1]},
                            {"oracle", r.violation[2]}}},
                          {"replica_hours",
                           {{"reactive", r.replica_hours[0]},
                            {"predictive", r.replica_hours[1]},
                            {"oracle", r.replica_hours[2]}}},
                          {"violation_cut_percent", r.cut_percent()},
                          {"extra_replica_hours_percent", r.extra_percent()},
                          {"model", r.model},
                          {"seconds", r.seconds}};
      j["mase"] = r.mase ? nlohmann::json(*r.mase) : nlohmann::json(nullptr);
      if (!r.error.empty()) j["error"] = r.error;
      out.push_back(j);
    }
    fmt::print("{}\n", out.dump(2));
    return;
  }
  fmt::print("startup {} · capacity {} · violation = minutes demand exceeded ready capacity\n",
             options.startup,
             options.auto_capacity ? "p95(demand)/10 per trace (--auto-capacity)" : "given");
  fmt::print("{:<42} {:>9} {:>27} {:>7} {:>27} {:>7} {:>6}\n", "trace", "capacity",
             "violation min reac/pred/orc", "cut %", "replica-h reac/pred/orc", "extra %", "MASE");
  for (const auto& r : rows) {
    if (!r.error.empty()) {
      fmt::print("{:<42} {:>9.4g} {}\n", r.trace, r.capacity, r.error);
      continue;
    }
    fmt::print(
        "{:<42} {:>9.4g} {:>27} {:>7.1f} {:>27} {:>7.1f} {:>6}\n", r.trace, r.capacity,
        fmt::format("{:.0f}/{}/{:.0f}", r.violation[0],
                    r.predictive ? fmt::format("{:.0f}", r.violation[1]) : "-", r.violation[2]),
        r.cut_percent(),
        fmt::format("{:.1f}/{}/{:.1f}", r.replica_hours[0],
                    r.predictive ? fmt::format("{:.1f}", r.replica_hours[1]) : "-",
                    r.replica_hours[2]),
        r.extra_percent(), r.mase ? fmt::format("{:.3f}", *r.mase) : "-");
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand(
      "bench",
      "Measure Holt-Winters fitting throughput of the scalar and each SIMD kernel\n"
      "on generated series (daily + weekly pattern + noise, 5-minute steps; 28 days\n"
      "by default). Reports raw kernel candidate-points/s and whole fits in series/s,\n"
      "each with its ratio to the scalar kernel measured in the same run.\n"
      "Example: prescale bench --series 16 --threads 2 --format json\n\n"
      "--suite F1.csv F2.csv ... instead runs `prescale simulate` over each trace and\n"
      "prints one table: SLO-violation minutes and replica-hours of the reactive,\n"
      "predictive and oracle runs, the predictive cut and extra cost, and the backtest\n"
      "MASE of the chosen model at the lead window.\n"
      "Example: prescale bench --suite nyc_taxi.csv trace.csv --auto-capacity --startup 3m");
  cmd->add_option("--series", options->series, "Series fitted per kernel")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--points", options->points,
                  "Samples per series (8064 = 28 days of 5-minute steps)")
      ->check(CLI::Range(std::size_t{8}, std::size_t{10'000'000}))
      ->capture_default_str();
  cmd->add_option(
         "--kernel", options->kernel,
         "Kernel to measure besides the scalar baseline: scalar, avx2, avx512, neon, or all")
      ->capture_default_str();
  cmd->add_option("--threads", options->threads,
                  "Threads fitting (and running the raw kernel) at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
      ->capture_default_str();
  cmd->add_option("--candidates", options->candidates,
                  "Candidate parameter vectors per raw kernel batch")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  cmd->add_option("--seconds", options->seconds, "Seconds spent measuring each raw kernel")
      ->check(CLI::Range(0.01, 600.0))
      ->capture_default_str();
  cmd->add_option("--format", options->format, "Output: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_option("--suite", options->suite,
                  "Traces (CSV) to simulate instead of measuring kernels")
      ->check(CLI::ExistingFile);
  cmd->add_option("--capacity-per-replica", options->capacity_per_replica,
                  "--suite: requests/s one pod serves, the same for every trace");
  cmd->add_flag("--auto-capacity", options->auto_capacity,
                "--suite: per trace, capacity = 95th percentile of its load / 10 (so each\n"
                "trace needs about 10 pods at its busy times, whatever its units)");
  cmd->add_option("--startup", options->startup, "--suite: pod start-up time")
      ->capture_default_str();
  cmd->add_option("--timezone", options->timezone, "--suite: zone the seasons are counted in")
      ->capture_default_str();
  cmd->add_option("--refit-interval", options->refit_interval,
                  "--suite: the predictive engine's refit interval (default: simulate's)");
  cmd->callback([options] {
    if (!options->suite.empty()) {
      run_suite(*options);
    } else {
      run_bench(*options);
    }
  });
}

}  // namespace prescale::cli
