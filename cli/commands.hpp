#pragma once
// One function per subcommand: it adds its options to `app` and sets the
// callback that runs it. Callbacks throw CLI::Error subclasses (or
// prescale::cli::Failure) for bad usage; main turns them into exit codes.
#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace prescale::cli {

/// A command failed for a reason the user must see (bad input file, ...).
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// `serve` and `demo` run the daemon. They are built into prescale-server
// (cmd_serve.cpp, cmd_demo.cpp); in `prescale` they hand over to it
// (server_forward.cpp), so both list them with the same words.
inline constexpr std::string_view kServeDescription =
    "Run the daemon: forecast every target of the config from Prometheus and serve the\n"
    "forecasts as Kubernetes external metrics (external.metrics.k8s.io/v1beta1) over HTTPS.\n"
    "Reloads the config on SIGHUP and when the file changes (a bad file is rejected and the\n"
    "running config keeps serving); stops on SIGTERM or SIGINT within 8 s (fetches in flight\n"
    "are cancelled; after 8 s it exits whatever is left).\n"
    "Example: prescale serve --config /etc/prescale/config.yaml --log-format json";
inline constexpr std::string_view kDemoDescription =
    "Run prescale end to end on this machine, no cluster or Prometheus needed: five weeks of a\n"
    "synthetic payments trace (NYSE open at 09:30 New York, payroll days) feed the engine on an\n"
    "accelerated clock, and the forecast is served as an external metric over HTTPS on\n"
    "localhost. Prints the curl and kubectl commands that read it, then one status line per\n"
    "simulated step. Ends by itself when the trace does (two simulated days, about 5 minutes)\n"
    "with a summary: forecasts served, surges pre-scaled in time against a reactive HPA,\n"
    "fallbacks and why, and an HTML report of the run. Ctrl-C or --duration end it earlier.";

void add_version_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_check_config_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_fetch_command(CLI::App& app);     // cmd_fetch.cpp: export Prometheus history to CSV
void add_simulate_command(CLI::App& app);  // cmd_simulate.cpp: HPA replay over a trace
void add_forecast_command(CLI::App& app);  // cmd_forecast.cpp: forecast a CSV history
void add_backtest_command(CLI::App& app);  // cmd_backtest.cpp: score models on a CSV history
void add_generate_command(CLI::App& app);  // cmd_generate.cpp: synthetic traces
void add_bench_command(CLI::App& app);     // cmd_bench.cpp: Holt-Winters kernel throughput
void add_explain_command(CLI::App& app);   // cmd_explain.cpp: the decision in force and why
void add_tune_command(CLI::App& app);      // cmd_tune.cpp: cheapest settings meeting an SLO
// Each subcommand lives in cmd_<name>.cpp and is listed in main.cpp.

}  // namespace prescale::cli
