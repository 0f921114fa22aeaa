// `prescale backtest`: every model scored on the end of a CSV history.
#include <fmt/core.h>

#include "commands.hpp"
#include "input_options.hpp"
#include "output.hpp"

namespace prescale::cli {
namespace {

struct BacktestArgs {
  InputOptions input;
  forecast::SelectionOptions selection;
  std::string horizon = "1h";
  std::string format = "table";
  std::string lead_time;
};

}  // namespace

void add_backtest_command(CLI::App& app) {
  auto args = std::make_shared<BacktestArgs>();
  auto* cmd = app.add_subcommand(
      "backtest", "Score the models on the end of a CSV history (rolling origins) and pick one");
  cmd->footer(
      "Each model is fitted on the data before the first origin and carried forward with\n"
      "update() (no data after an origin reaches its forecast); MASE is scaled by the\n"
      "in-sample seasonal naive error of each origin's history (longest season), coverage is\n"
      "the share of actual values inside the [1-q, q] interval. 'auto' never selects a model\n"
      "that loses to seasonal naive. With --calendar, up to --event-origins more origins sit\n"
      "before past calendar events (payroll days, holidays), each fitted on the data before it;\n"
      "their mean MASE counts for a third of a model's MASE (the rest: the rolling origins).\n"
      "With --lead-time, each model's decision loss is shown beside its MASE, as the daemon\n"
      "measures it for a target with that leadTime: the pinball loss at --quantile of the served\n"
      "value (the largest q-quantile over the lead window) against the load's peak in it, over\n"
      "seasonal naive's (a unit short costs q/(1-q) units idle). The choice stays by MASE and\n"
      "sMAPE.\n\n"
      "Example:\n"
      "  prescale backtest --input load.csv --horizon 1h --origins 16\n"
      "  prescale backtest --input load.csv --timezone Europe/London --format json\n"
      "  prescale backtest --input load.csv --horizon 30m --lead-time 3m --quantile 0.95");
  add_input_options(*cmd, args->input);
  add_history_options(*cmd, args->input);
  add_model_options(*cmd, args->selection, args->horizon, args->format);
  cmd->add_option(
      "--lead-time", args->lead_time,
      "Score models on what a target with this leadTime serves (e.g. 3m): the decision\n"
      "loss of the largest --quantile over the lead window, shown beside MASE; its\n"
      "window (lead steps + 1) must fit in --horizon");
  cmd->callback([args] {
    PreparedFit prepared =
        prepare_and_select(args->input, args->selection, args->horizon, args->lead_time);
    BacktestReport report;
    report.selection = &prepared.selection;
    report.horizon_seconds =
        static_cast<std::int64_t>(prepared.horizon_steps) * prepared.series.step_seconds;
    report.quantile = args->selection.quantile;
    report.notes = prepared.notes;
    report.served = prepared.served;
    fmt::print("{}", render_backtest(report, args->format));
  });
}

}  // namespace prescale::cli
