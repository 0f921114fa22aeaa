// `prescale tune`: the settings that meet an SLO at the least cost on a
// trace's own history, for the reactive HPA and for prescale, with the
// frontier they were chosen from and the YAML that applies them.
#include <fmt/core.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/config/slo_ranges.hpp"
#include "prescale/report/frontier.hpp"
#include "prescale/simulate/tune.hpp"
#include "simulate_frontier.hpp"
#include "simulate_run.hpp"

namespace prescale::cli {
namespace {

struct TuneArgs {
  SimulateArgs run;
  double margin_percent = config::SloConfig{}.margin_percent;
};

nlohmann::json choice_json(const simulate::TuneResult& tuned,
                           const std::optional<simulate::SettingChoice>& choice,
                           double capacity_per_replica) {
  if (!choice) return nullptr;
  const auto& p = tuned.at(*choice);
  nlohmann::json j = {{"target_percent", 100 * p.target_fraction},
                      {"violation_minutes", p.violation_minutes},
                      {"replica_hours", p.replica_hours},
                      {"meets_slo", choice->meets_slo},
                      {"average_value", p.target_fraction * capacity_per_replica}};
  if (p.run == "predictive") {
    j["quantile"] = p.quantile;
    j["observed_target_percent"] = 100 * p.observed_fraction();
    j["observed_average_value"] = p.observed_fraction() * capacity_per_replica;
  }
  return j;
}

std::string choice_text(const simulate::TuneResult& tuned,
                        const std::optional<simulate::SettingChoice>& choice, bool reactive,
                        const RecommendContext& context) {
  if (!choice) return "  predictive: not simulated (see the notes)\n";
  const auto& p = tuned.at(*choice);
  std::string text;
  if (!choice->meets_slo)
    text = fmt::format(
        "  no swept {} setting meets it; the safest one follows (widen the sweep, or\n"
        "  declare a looser SLO)\n",
        reactive ? "reactive" : "predictive");
  if (reactive) return text + reactive_setting_text(p, context);
  std::string comment;
  if (tuned.reactive && tuned.reactive->meets_slo && choice->meets_slo) {
    const double base = tuned.at(*tuned.reactive).replica_hours;
    if (base > 0)
      comment = ", " + report::saving_against_reactive(100 * (1 - p.replica_hours / base));
  }
  return text + predictive_setting_text(p, context, comment);
}

void run_tune(const TuneArgs& args) {
  const auto& run = args.run;
  if (run.format != "table" && run.format != "json")
    throw Failure(fmt::format("--format: '{}' is not table or json", run.format));
  // slo.marginPercent's range and words (config/slo_ranges.hpp).
  if (auto problem = config::slo_ranges::margin_percent_problem(
          "--margin-percent", fmt::format("{}", args.margin_percent), args.margin_percent);
      !problem.empty())
    throw Failure(problem);
  auto options = frontier_options(run.frontier, run.observation_lag);
  options.tuning_margin = args.margin_percent / 100;
  PreparedSimulation prepared = prepare_simulation(run);
  auto tuned = simulate::tune_for_slo(
      prepared.config, prepared.demand,
      prepared.predictive_available ? &prepared.predictive : nullptr, options);
  if (!tuned) throw Failure(tuned.error().message);

  RecommendContext context;
  context.capacity_per_replica = run.capacity_per_replica;
  context.lead_seconds = prepared.lead_seconds;
  if (run.format == "json") {
    nlohmann::json json = {
        {"steps", prepared.demand.size()},
        {"step_seconds", prepared.config.step_seconds},
        {"start_unix", prepared.config.start_unix},
        {"capacity_per_replica", run.capacity_per_replica},
        {"predictive_available", prepared.predictive_available},
        {"notes", prepared.notes},
        {"slo_percent", run.frontier.slo_percent},
        {"margin_percent", args.margin_percent},
        {"slo_minutes", tuned->slo_minutes},
        {"tuning_slo_minutes", tuned->tuning_slo_minutes},
        {"reactive", choice_json(*tuned, tuned->reactive, run.capacity_per_replica)},
        {"predictive", choice_json(*tuned, tuned->predictive, run.capacity_per_replica)},
        {"lead_time_seconds", prepared.lead_seconds},
        {"frontier", frontier_json(tuned->frontier)}};
    fmt::print("{}\n", json.dump(2));
    return;
  }
  const std::string trace_name = std::filesystem::path(run.input.input).filename().string();
  fmt::print("{} · {} steps of {} simulated · capacity {} requests/s per pod · start-up {}\n",
             trace_name, prepared.demand.size(),
             config::format_duration(prepared.config.step_seconds), run.capacity_per_replica,
             config::format_duration(prepared.config.startup_seconds));
  for (const auto& note : prepared.notes) fmt::print("note: {}\n", note);
  fmt::print("\nfrontier\n{}", report::format_frontier_table(tuned->frontier));
  fmt::print(
      "\nSLO: at most {:g} % of minutes short of capacity = {:.1f} minutes on this history;\n"
      "settings chosen for {:.1f} minutes ({:g} % of the SLO held back: what meets it to the\n"
      "minute on past load misses it about half the time on later load)\n",
      run.frontier.slo_percent, tuned->slo_minutes, tuned->tuning_slo_minutes, args.margin_percent);
  fmt::print("{}", choice_text(*tuned, tuned->reactive, true, context));
  fmt::print("{}", choice_text(*tuned, tuned->predictive, false, context));
}

}  // namespace

void add_tune_command(CLI::App& app) {
  auto args = std::make_shared<TuneArgs>();
  auto* cmd = app.add_subcommand(
      "tune",
      "Find the cheapest settings that meet an SLO on a trace's own history: the reactive\n"
      "HPA's per-pod target, and prescale's served quantile with the per-pod target for\n"
      "its metric. The engine is replayed over the trace once (each decision sees only\n"
      "data before it, as `serve`); every setting is then simulated through the HPA model\n"
      "over the same stretch, and the cheapest one whose violation minutes (demand above\n"
      "ready capacity) stay within the SLO less a safety margin is printed with the YAML\n"
      "that applies it, after the frontier it was chosen from (see docs/targets.md).\n"
      "--holdout also chooses on the first half of the stretch and judges the choice on\n"
      "the second: the honest preview of what a tuned setting does next week.\n"
      "To have the daemon retune on its own recent decisions at every refit, declare\n"
      "the SLO on the target instead: slo: {maxShortPercent: 0.1, marginPercent: 50}\n"
      "(with capacityPerReplica; docs/targets.md, \"Let the daemon tune for an SLO\").\n\n"
      "Example:\n"
      "  prescale tune --input payments.csv --capacity-per-replica 100 --startup 3m \\\n"
      "      --timezone America/New_York --calendar nyse --slo-percent 0.1 --holdout");
  add_trace_and_hpa_options(*cmd, args->run, false);
  auto& sweep = args->run.frontier;
  sweep.targets_flag = "--reactive-targets";
  sweep.predictive_targets_flag = "--predictive-targets";
  sweep.observed_targets_flag = "--observed-targets";
  sweep.quantiles_flag = "--quantiles";
  sweep.refine_flag = "--refine-percent";
  sweep.floor_flag = "--floor-percent";
  cmd->add_option("--slo-percent", sweep.slo_percent,
                  "The SLO: the largest share of minutes with demand above ready capacity\n"
                  "(0.1 = at most 0.1 % of minutes short, about 10 minutes a week)")
      ->capture_default_str();
  cmd->add_option("--margin-percent", args->margin_percent,
                  "Share of the SLO held back when choosing: the choice must meet\n"
                  "(100 - margin) % of the SLO on the history")
      ->capture_default_str();
  cmd->add_flag("--holdout", sweep.holdout,
                "Also choose on the first half of the stretch and judge the choice on the\n"
                "second (against that half's own reactive frontier)");
  cmd->add_option("--reactive-targets", sweep.reactive_targets,
                  "Reactive per-pod targets to sweep, percent of capacity (default 110,100,95,\n"
                  "...,45)")
      ->delimiter(',');
  cmd->add_option("--predictive-targets", sweep.predictive_targets,
                  "Predictive per-pod targets to sweep (the forecast metric's), percent of\n"
                  "capacity (default 100,95,...,70)")
      ->delimiter(',');
  cmd->add_option("--observed-targets", sweep.observed_targets,
                  "Per-pod targets of the predictive HPA's observed-load metric, percent of\n"
                  "capacity, each swept beside every predictive target (default: the\n"
                  "predictive targets)")
      ->delimiter(',');
  cmd->add_option("--quantiles", sweep.quantiles,
                  "Served quantiles to sweep (default 0.5,0.75,0.9,0.95,0.99)")
      ->delimiter(',');
  cmd->add_option("--refine-percent", sweep.refine_percent,
                  "Between the cheapest reactive target meeting the SLO and the next cheaper\n"
                  "one swept, also sweep every this many percent of capacity, and the same for\n"
                  "the cheapest predictive setting's forecast target (an HPA's averageValue can\n"
                  "be any number; 0: the swept targets only)")
      ->capture_default_str();
  cmd->add_option("--floor-percent", sweep.floor_percent,
                  "When no listed target of a run meets the SLO, go on below them, each 5 %\n"
                  "below the one before, down to this and stop at the first that meets it\n"
                  "(0: the listed targets only)")
      ->capture_default_str();
  cmd->add_option("--format", args->run.format, "Output on stdout: table or json")
      ->capture_default_str();
  cmd->callback([args] { run_tune(*args); });
}

}  // namespace prescale::cli
