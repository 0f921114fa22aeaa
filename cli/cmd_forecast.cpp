// `prescale forecast`: the forecast of a CSV history, with its intervals.
#include <fmt/core.h>

#include "commands.hpp"
#include "input_options.hpp"
#include "output.hpp"

namespace prescale::cli {
namespace {

struct ForecastArgs {
  InputOptions input;
  forecast::SelectionOptions selection;
  std::string horizon = "1h";
  std::string format = "json";
};

void run_forecast(const ForecastArgs& args) {
  PreparedFit prepared = prepare_and_select(args.input, args.selection, args.horizon);
  const forecast::Selection& s = prepared.selection;
  ForecastReport report;
  report.selection = &s;
  report.step_seconds = prepared.series.step_seconds;
  report.quantile = args.selection.quantile;
  report.notes.push_back("model choice: " + s.reason);
  for (const std::string& note : prepared.notes) report.notes.push_back(note);
  const forecast::Forecast f = s.fitted->forecast(prepared.horizon_steps);
  for (std::size_t h = 0; h < f.size(); ++h) {
    report.points.push_back(
        {prepared.series.end_unix() + static_cast<std::int64_t>(h) * prepared.series.step_seconds,
         f.mean[h], f.quantile(h, 1 - args.selection.quantile),
         f.quantile(h, args.selection.quantile)});
  }
  fmt::print("{}", render_forecast(report, args.format));
}

}  // namespace

void add_forecast_command(CLI::App& app) {
  auto args = std::make_shared<ForecastArgs>();
  auto* cmd = app.add_subcommand("forecast",
                                 "Forecast a load history from CSV, with a prediction interval");
  cmd->footer(
      "The model is chosen by a rolling-origin backtest (--origins forecasts of --horizon from\n"
      "the end of the history) unless --model forces one; the first point is one step after\n"
      "the last input sample. Seasons follow --timezone wall-clock time, so DST does not\n"
      "shift them. JSON: {model, parameters, step_seconds, fit_seconds, points: [{timestamp,\n"
      "mean, lower, upper}], notes}.\n\n"
      "Example:\n"
      "  prescale forecast --input load.csv --timezone America/New_York --horizon 2h --format "
      "table\n"
      "  prescale forecast --input load.csv --model holt-winters:damped-additive --quantile 0.95");
  add_input_options(*cmd, args->input);
  add_history_options(*cmd, args->input);
  add_model_options(*cmd, args->selection, args->horizon, args->format);
  cmd->callback([args] { run_forecast(*args); });
}

}  // namespace prescale::cli
