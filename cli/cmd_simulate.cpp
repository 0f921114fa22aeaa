// `prescale simulate`: replays a load trace through the Kubernetes HPA model
// and reports what each autoscaling strategy would have cost and missed.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"
#include "input_options.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/common/version.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/config/slo_ranges.hpp"
#include "prescale/report/frontier.hpp"
#include "prescale/report/report.hpp"
#include "prescale/simulate/frontier.hpp"
#include "prescale/simulate/hpa.hpp"
#include "prescale/simulate/predictive.hpp"
#include "prescale/simulate/simulation.hpp"
#include "simulate_frontier.hpp"
#include "simulate_run.hpp"

namespace prescale::cli {
namespace {

void write_file(const std::string& path, const std::string& what, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Failure(fmt::format("{}: cannot open for writing the {}", path, what));
  out << text;
  out.close();
  if (!out) throw Failure(fmt::format("{}: writing the {} failed", path, what));
}

std::string describe_behavior(const std::optional<simulate::HpaBehavior>& behavior,
                              const std::string& file) {
  if (!behavior) return "no behavior: scale-down window 300 s, scale-up ≤ max(2×, 4) per sync";
  auto rules = [](const simulate::ResolvedScalingRules& r) {
    std::string text = fmt::format("window {} s, {}", r.stabilization_window_seconds,
                                   simulate::to_string(r.select_policy));
    for (const auto& p : r.policies) {
      text +=
          fmt::format(", {} {}/{}s", p.value,
                      p.type == simulate::ScalingPolicyType::pods ? "pods" : "%", p.period_seconds);
    }
    return text;
  };
  return fmt::format("behavior from {}: up ({}); down ({})", file,
                     rules(simulate::resolve_scale_up(behavior->scale_up)),
                     rules(simulate::resolve_scale_down(behavior->scale_down)));
}

nlohmann::json to_json(const simulate::SimulationResult& result,
                       const std::vector<std::string>& notes, bool predictive_available) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& s : result.summaries) {
    runs.push_back({{"name", s.name},
                    {"slo_violation_minutes", s.slo_violation_minutes},
                    {"unserved_requests", s.unserved_requests},
                    {"replica_hours", s.replica_hours},
                    {"overprovisioned_replica_hours", s.overprovisioned_replica_hours},
                    {"scale_events", s.scale_events},
                    {"scale_ups", s.scale_ups},
                    {"scale_downs", s.scale_downs},
                    {"peak_replicas", s.peak_replicas}});
  }
  const auto& c = result.config;
  return {{"steps", result.steps()},
          {"step_seconds", c.step_seconds},
          {"start_unix", c.start_unix},
          {"missing_steps", result.missing_steps},
          {"capacity_per_replica", c.capacity_per_replica},
          {"target_per_replica", c.target_per_replica.value_or(c.capacity_per_replica)},
          {"startup_seconds", c.startup_seconds},
          {"min_replicas", c.min_replicas},
          {"max_replicas", c.max_replicas},
          {"predictive_available", predictive_available},
          {"notes", notes},
          {"runs", runs}};
}

// --slo-tuning's `slo:`, each flag refused by its key's range in the same
// words (config/slo_ranges.hpp).
config::SloConfig slo_from_flags(const SimulateArgs& args) {
  using namespace config::slo_ranges;
  const auto text = [](double value) { return fmt::format("{}", value); };
  config::SloConfig slo;
  slo.max_short_percent = args.frontier.slo_percent;
  slo.margin_percent = args.slo_margin_percent;
  slo.history_seconds = duration_seconds("--slo-history", args.slo_history);
  slo.reactive_target_percent = args.slo_reactive_target_percent;
  for (const std::string& problem :
       {max_short_percent_problem("--slo-percent", text(slo.max_short_percent),
                                  slo.max_short_percent),
        margin_percent_problem("--slo-margin-percent", text(slo.margin_percent),
                               slo.margin_percent),
        history_problem("--slo-history", args.slo_history, slo.history_seconds),
        reactive_target_percent_problem("--slo-reactive-target-percent",
                                        text(slo.reactive_target_percent),
                                        slo.reactive_target_percent)})
    if (!problem.empty()) throw Failure(problem);
  return slo;
}

// What `serve` would have served over the trace: the target the flags
// describe, replayed by the engine (prescale::simulate::replay_predictive).
struct PredictiveRun {
  std::string error;  // why there is no predictive run ("" = there is)
  simulate::PredictiveSeries series;
  std::vector<std::string> notes;
};

PredictiveRun replay_predictive(const SimulateArgs& args, const forecast::Series& series,
                                std::int64_t startup_seconds) {
  PredictiveRun out;
  const std::int64_t step = series.step_seconds;
  const std::int64_t trace_seconds = static_cast<std::int64_t>(series.size()) * step;
  const std::int64_t requested_history = duration_seconds("--history", args.history);
  const std::int64_t history = simulate::history_for_trace(requested_history, trace_seconds, step);
  if (history != requested_history) {
    out.notes.push_back(fmt::format("--history shortened to {} (half of the trace)",
                                    config::format_duration(history)));
  }
  // The target forecast and backtest would describe with the same options
  // (time zone, seasons, calendars), then what only the replay sets.
  FlagTarget flags = target_from_flags(args.input, step);
  config::TargetConfig& target = flags.target;
  target.metric = "simulated-load";
  target.query = "trace";
  target.history_seconds = history;
  target.model = args.model;
  target.lead_time_seconds = args.lead_time.empty()
                                 ? startup_seconds + simulate::kHpaSyncPeriodSeconds + step
                                 : duration_seconds("--lead-time", args.lead_time);
  target.quantile = args.quantile;
  target.backtest_origins = args.origins;
  target.keep_outliers = args.keep_outliers;
  target.capacity_per_replica = args.capacity_per_replica;
  target.min_replicas = args.min_replicas;
  target.max_replicas = args.max_replicas;
  target.refit_interval_seconds = duration_seconds("--refit-interval", args.refit_interval);
  if (args.slo_tuning) target.slo = slo_from_flags(args);
  if (flags.calendars) {
    out.notes.push_back(fmt::format("predictive: calendars {}", fmt::join(target.calendars, ", ")));
  }

  auto replayed = simulate::replay_predictive(series, target, flags.calendars.get());
  if (!replayed) {
    out.error = replayed.error().message;
    return out;
  }
  if (!args.decisions.empty()) {
    std::ofstream file(args.decisions, std::ios::binary | std::ios::trunc);
    for (const auto& record : replayed->decisions) file << autoscaler::to_json(record) << "\n";
    if (!file) {
      out.error = fmt::format("--decisions {}: cannot write the file", args.decisions);
      return out;
    }
    out.notes.push_back(fmt::format(
        "predictive: {} decision records written to {} (read them with prescale explain)",
        replayed->decisions.size(), args.decisions));
  }
  out.notes.insert(out.notes.end(), replayed->notes.begin(), replayed->notes.end());
  out.series = std::move(*replayed);
  return out;
}

}  // namespace

PreparedSimulation prepare_simulation(const SimulateArgs& args) {
  if (!(args.capacity_per_replica > 0) || !std::isfinite(args.capacity_per_replica)) {
    throw Failure("--capacity-per-replica: must be a positive number of requests/s one pod serves");
  }
  auto startup = config::parse_duration_seconds(args.startup);
  if (!startup) throw Failure("--startup: " + startup.error().message);
  auto zone = calendar::TimeZone::find(args.input.timezone);
  if (!zone) throw Failure("--timezone: " + zone.error().message);

  PreparedSimulation out;
  out.zone = *zone;
  auto& notes = out.notes;
  out.series = load_series(args.input, &notes);
  auto& series = out.series;
  // The engine reads its source on multiples of the step since the epoch (as
  // Prometheus query_range steps are); move an offset grid onto it.
  if (const std::int64_t offset = floor_mod(series.start_unix, series.step_seconds); offset != 0) {
    series.start_unix -= offset;
    notes.push_back(fmt::format("timestamps moved {} s earlier onto the {} grid the engine uses",
                                offset, config::format_duration(series.step_seconds)));
  }

  auto& config = out.config;
  config.start_unix = series.start_unix;
  config.step_seconds = series.step_seconds;
  config.capacity_per_replica = args.capacity_per_replica;
  if (args.target_per_replica > 0) config.target_per_replica = args.target_per_replica;
  config.startup_seconds = *startup;
  config.min_replicas = args.min_replicas;
  config.max_replicas = args.max_replicas;
  config.initial_replicas = args.initial_replicas;
  if (!args.hpa_behavior.empty()) {
    auto behavior = simulate::read_hpa_behavior_file(args.hpa_behavior);
    if (!behavior) throw Failure("--hpa-behavior: " + behavior.error().message);
    config.behavior = *behavior;
  }
  out.lead_seconds = args.lead_time.empty()
                         ? *startup + simulate::kHpaSyncPeriodSeconds + series.step_seconds
                         : duration_seconds("--lead-time", args.lead_time);

  // The predictive run replays the engine `serve` runs over the trace: each
  // decision at t sees only samples before t. All runs are compared over the
  // replayed stretch (after the first history window).
  out.demand = series.values;
  if (args.no_predictive) {
    notes.insert(notes.begin(), "predictive run skipped (--no-predictive)");
    return out;
  }
  PredictiveRun predictive = replay_predictive(args, series, *startup);
  if (!predictive.error.empty()) {
    notes.insert(notes.begin(), "predictive run not simulated: " + predictive.error);
    return out;
  }
  out.predictive_available = true;
  const auto skip = static_cast<std::size_t>((predictive.series.start_unix - series.start_unix) /
                                             series.step_seconds);
  out.demand.erase(out.demand.begin(), out.demand.begin() + static_cast<std::ptrdiff_t>(skip));
  config.start_unix = predictive.series.start_unix;
  notes.insert(notes.end(), predictive.notes.begin(), predictive.notes.end());
  out.predictive = std::move(predictive.series);
  return out;
}

namespace {

void run_simulate(const SimulateArgs& args) {
  if (args.format != "table" && args.format != "json") {
    throw Failure(fmt::format("--format: '{}' is not table or json", args.format));
  }
  auto frontier_sweep = args.frontier.wanted()
                            ? std::optional(frontier_options(args.frontier, args.observation_lag))
                            : std::nullopt;
  // The holdout's offline choice holds back the same share of the SLO as the daemon's tuning.
  if (frontier_sweep && args.slo_tuning)
    frontier_sweep->tuning_margin = args.slo_margin_percent / 100;
  PreparedSimulation prepared = prepare_simulation(args);
  const auto& config = prepared.config;
  const auto& demand = prepared.demand;
  const auto& notes = prepared.notes;
  const auto* zone = &prepared.zone;
  const bool predictive_available = prepared.predictive_available;
  simulate::ForecastBand band;
  std::vector<simulate::RunSpec> runs = {simulate::reactive_run(demand, args.observation_lag)};
  if (predictive_available) {
    runs.push_back(
        simulate::predictive_run(demand, prepared.predictive.served, args.observation_lag));
    band = prepared.predictive.band;
    band.mean = prepared.predictive.forecast;
  }
  runs.push_back(simulate::oracle_run(demand, config));

  auto result = simulate::simulate(config, demand, runs, std::move(band));
  if (!result) throw Failure(result.error().message);
  std::optional<simulate::FrontierResult> frontier;
  if (frontier_sweep) {
    auto swept = simulate::sweep_frontier(
        config, demand, predictive_available ? &prepared.predictive : nullptr, *frontier_sweep);
    if (!swept) throw Failure("--frontier: " + swept.error().message);
    frontier = std::move(*swept);
  }
  RecommendContext recommend_context;
  recommend_context.capacity_per_replica = args.capacity_per_replica;
  recommend_context.lead_seconds = prepared.lead_seconds;
  recommend_context.floor_percent = args.frontier.floor_percent;

  if (!args.timeline.empty()) {
    std::ofstream out(args.timeline, std::ios::binary);
    if (!out) throw Failure(fmt::format("{}: cannot open for writing the timeline", args.timeline));
    report::write_timeline_csv(out, *result, *zone);
    out.close();
    if (!out) throw Failure(fmt::format("{}: writing the timeline failed", args.timeline));
  }
  const std::string trace_name = std::filesystem::path(args.input.input).filename().string();
  if (!args.plot.empty()) {
    write_file(
        args.plot, "plot",
        report::render_trace_svg(*result, *zone, "Demand and ready capacity · " + trace_name));
  }
  if (!args.report.empty()) {
    report::ReportOptions options;
    options.trace_name = trace_name;
    options.zone = *zone;
    options.notes = notes;
    options.hpa_description = describe_behavior(config.behavior, args.hpa_behavior);
    if (config.target_per_replica) {
      options.hpa_description +=
          fmt::format("; target {} requests/s per pod", *config.target_per_replica);
    }
    options.generator = fmt::format("prescale {}", version());
    if (frontier) options.frontier = &*frontier;
    write_file(args.report, "report", report::render_report_html(*result, options));
  }

  if (args.format == "json") {
    auto json = to_json(*result, notes, predictive_available);
    if (frontier) json["frontier"] = frontier_json(*frontier);
    if (frontier && args.frontier.recommend)
      json["recommendation"] = recommendation_json(*frontier, recommend_context);
    fmt::print("{}\n", json.dump(2));
    return;
  }
  fmt::print("{} · {} steps of {} · capacity {} requests/s per pod · start-up {}\n", trace_name,
             result->steps(), config::format_duration(config.step_seconds),
             args.capacity_per_replica, config::format_duration(config.startup_seconds));
  for (const auto& note : notes) fmt::print("note: {}\n", note);
  fmt::print("\n{}", report::format_summary_table(*result));
  if (frontier) fmt::print("\nfrontier\n{}", report::format_frontier_table(*frontier));
  if (frontier && args.frontier.recommend)
    fmt::print("\n{}", format_recommendation(*frontier, recommend_context));
  for (const auto& [path, what] :
       {std::pair{args.timeline, "timeline"}, std::pair{args.plot, "plot"},
        std::pair{args.report, "report"}}) {
    if (!path.empty()) fmt::print("wrote {} {}\n", what, path);
  }
}

}  // namespace

CLI::Option* add_trace_and_hpa_options(CLI::App& command, SimulateArgs& args,
                                       bool with_no_predictive) {
  auto* cmd = &command;
  add_input_options(*cmd, args.input);
  cmd->add_option("--capacity-per-replica", args.capacity_per_replica,
                  "Requests/s one ready pod serves (the HPA's AverageValue target unless\n"
                  "--target-per-replica is given)")
      ->required();
  cmd->add_option("--startup", args.startup, "Pod start-up time: created -> ready (e.g. 90s, 3m)")
      ->capture_default_str();
  cmd->add_option("--min-replicas", args.min_replicas, "HPA minReplicas")->capture_default_str();
  cmd->add_option("--max-replicas", args.max_replicas, "HPA maxReplicas")->capture_default_str();
  cmd->add_option("--initial-replicas", args.initial_replicas,
                  "Replicas at the start of the trace (default: enough for the first sample)");
  cmd->add_option("--hpa-behavior", args.hpa_behavior,
                  "YAML file with the HPA's `behavior` (autoscaling/v2 shape: a whole HPA\n"
                  "manifest, a `behavior:` block, or {scaleUp, scaleDown}); default: none")
      ->check(CLI::ExistingFile);
  cmd->add_option("--observation-lag", args.observation_lag,
                  "Steps by which the observed-load metric trails demand (0 = the HPA sees\n"
                  "each step's load at once: the kindest assumption for reactive)")
      ->capture_default_str();
  CLI::Option* no_predictive = nullptr;
  if (with_no_predictive)
    no_predictive = cmd->add_flag(
        "--no-predictive", args.no_predictive,
        "Skip the predictive run (replaying the forecasting engine costs model fits)");
  cmd->add_option("--history", args.history,
                  "Predictive: history each fit uses; the simulation starts after the first one\n"
                  "(shortened to half the trace when longer)")
      ->capture_default_str();
  cmd->add_option("--refit-interval", args.refit_interval,
                  "Predictive: how often the engine refits")
      ->capture_default_str();
  cmd->add_option("--lead-time", args.lead_time,
                  "Predictive: how far ahead the served forecast looks (default: start-up +\n"
                  "15 s sync + one step)");
  cmd->add_option("--model", args.model, "Predictive: forecasting model (auto picks by backtest)")
      ->capture_default_str();
  cmd->add_option("--quantile", args.quantile,
                  "Predictive: forecast quantile the engine is replayed at (others are applied\n"
                  "to the same forecasts)")
      ->capture_default_str();
  command
      .add_option("--origins", args.origins,
                  "Predictive: backtest origins each fit chooses its model by (backtestOrigins)")
      ->capture_default_str()
      ->check(CLI::Range(1, 50));
  command.add_flag("--keep-outliers", args.keep_outliers,
                   "Predictive: fit on the history as it is, one-off incidents not replaced by\n"
                   "the seasonal baseline (keepOutliers)");
  return no_predictive;
}

void add_simulate_command(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  auto* cmd = app.add_subcommand(
      "simulate",
      "Replay a load trace through the Kubernetes HPA model (autoscaling/v2: 15 s sync,\n"
      "0.1 tolerance, stabilization, behavior policies; pods serve only once started)\n"
      "and compare autoscaling runs: SLO-violation minutes (demand above ready capacity),\n"
      "unserved requests, replica-hours, over-provisioning, scale events.\n"
      "Runs: reactive (the HPA on the observed load), predictive (the HPA on the observed\n"
      "load and prescale's served forecast, the engine replayed with only data before\n"
      "each decision), and oracle (the HPA fed the true peak of the next start-up + sync\n"
      "period: the best any forecast can do with this HPA).\n\n"
      "Example:\n"
      "  prescale simulate --input load.csv --capacity-per-replica 250 --startup 2m \\\n"
      "      --timezone America/New_York --report sim.html --timeline sim.csv");
  auto* no_predictive = add_trace_and_hpa_options(*cmd, *args, true);
  cmd->add_option("--target-per-replica", args->target_per_replica,
                  "The HPA's AverageValue target per pod (default: the capacity); set it lower\n"
                  "for headroom, since the HPA ignores ratios within 10 % of its target");
  cmd->add_option("--timeline", args->timeline,
                  "Write the per-step timeline CSV (demand, served metric, replicas, ready pods,\n"
                  "violation seconds per run)");
  cmd->add_option("--plot", args->plot, "Write an SVG plot of demand and ready capacity");
  cmd->add_option(
      "--decisions", args->decisions,
      "Predictive: write the engine's decision records (JSON lines, as serve logs them) for "
      "prescale explain");
  cmd->add_option("--report", args->report,
                  "Write a self-contained HTML report (summary, full trace, worst surges)");
  cmd->add_option("--format", args->format, "Summary on stdout: table or json")
      ->capture_default_str();
  add_frontier_options(*cmd, args->frontier);
  auto* slo_tuning = cmd->add_flag(
      "--slo-tuning", args->slo_tuning,
      "Predictive: replay the target with `slo: {maxShortPercent: <--slo-percent>,\n"
      "marginPercent: <--slo-margin-percent>, history: <--slo-history>}`: quantile and\n"
      "headroom retuned at each refit on the decisions before it, as the daemon does\n"
      "(the first fit tunes at once, on decisions replayed from the history before it).\n"
      "The predictive run is then the daemon's own operating point; --frontier adds it\n"
      "as the \"daemon\" run, and beside it \"reactive-tuned\": a reactive HPA whose\n"
      "per-pod target follows the reactive choice of each refit's tuning");
  cmd->add_option(
         "--slo-margin-percent", args->slo_margin_percent,
         "--slo-tuning: the most of the SLO held back when tuning (marginPercent); from two "
         "weeks of decisions on, less where the target's own earlier choices held")
      ->capture_default_str()
      ->needs(slo_tuning);
  cmd->add_option(
         "--slo-history", args->slo_history,
         fmt::format("--slo-tuning: decisions kept and replayed at each refit (history, {}..{})",
                     config::format_duration(config::slo_ranges::kMinHistorySeconds),
                     config::format_duration(config::slo_ranges::kMaxHistorySeconds)))
      ->capture_default_str()
      ->needs(slo_tuning);
  cmd->add_option("--slo-reactive-target-percent", args->slo_reactive_target_percent,
                  "--slo-tuning: the HPA's per-pod target for the observed load, % of capacity\n"
                  "(reactiveTargetPercent): the predictive run's observed metric is read there")
      ->capture_default_str()
      ->needs(slo_tuning);
  // What only the predictive run reads is refused with --no-predictive, not ignored.
  for (const char* name : {"--decisions", "--history", "--refit-interval", "--lead-time", "--model",
                           "--quantile", "--origins", "--keep-outliers", "--seasonality",
                           "--calendar", "--calendar-use", "--slo-tuning"})
    cmd->get_option(name)->excludes(no_predictive);
  cmd->callback([args] { run_simulate(*args); });
}

}  // namespace prescale::cli
