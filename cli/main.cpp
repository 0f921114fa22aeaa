// prescale: predictive autoscaling for Kubernetes. This file only wires the
// subcommands; each lives in cmd_<name>.cpp.
#include <fmt/core.h>

#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "prescale/common/memory.hpp"
#include "prescale/common/version.hpp"

int main(int argc, char** argv) {
  prescale::keep_freed_memory_for_reuse();
  CLI::App app{
      "prescale: forecasts load from its history (daily, weekly and calendar seasonality in\n"
      "local time) and serves the forecast to the Kubernetes HPA as an external metric, so\n"
      "deployments scale before a recurring surge.\n\n"
      "Start with `prescale demo`, or `prescale forecast --input load.csv`.",
      "prescale"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "prescale " + std::string(prescale::version()),
                       "Print the version and exit (as `prescale version`)");
  app.fallthrough();
  prescale::cli::add_version_command(app);
  prescale::cli::add_demo_command(app);
  prescale::cli::add_serve_command(app);
  prescale::cli::add_check_config_command(app);
  prescale::cli::add_status_command(app);
  prescale::cli::add_fetch_command(app);
  prescale::cli::add_simulate_command(app);
  prescale::cli::add_tune_command(app);
  prescale::cli::add_forecast_command(app);
  prescale::cli::add_backtest_command(app);
  prescale::cli::add_generate_command(app);
  prescale::cli::add_bench_command(app);
  prescale::cli::add_explain_command(app);
  // Subcommands, in the order `--help` lists them.

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const prescale::cli::Failure& e) {
    fmt::print(stderr, "prescale: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "prescale: internal error: {}\n", e.what());
    return 70;
  }
  return 0;
}
