#pragma once
// One function per subcommand: it adds its options to `app` and sets the
// callback that runs it. Callbacks throw CLI::Error subclasses (or
// prescale::cli::Failure) for bad usage; main turns them into exit codes.
#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

namespace prescale::cli {

/// A command failed for a reason the user must see (bad input file, ...).
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void add_version_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_check_config_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_demo_command(CLI::App& app);
void add_fetch_command(CLI::App& app);  // cmd_fetch.cpp: export Prometheus history to CSV
void add_simulate_command(CLI::App& app);  // cmd_simulate.cpp: HPA replay over a trace
void add_forecast_command(CLI::App& app);  // cmd_forecast.cpp: forecast a CSV history
void add_backtest_command(CLI::App& app);  // cmd_backtest.cpp: score models on a CSV history
void add_generate_command(CLI::App& app);  // cmd_generate.cpp: synthetic traces
void add_bench_command(CLI::App& app);     // cmd_bench.cpp: Holt-Winters kernel throughput
void add_explain_command(CLI::App& app);   // cmd_explain.cpp: the decision in force and why
// Each subcommand lives in cmd_<name>.cpp and is listed in main.cpp.

}  // namespace prescale::cli
