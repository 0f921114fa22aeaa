// `prescale check-config FILE`: validate and print the resolved config.
#include <fmt/core.h>

#include "commands.hpp"
#include "prescale/config/config.hpp"

namespace prescale::cli {

void add_check_config_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "check-config",
      "Validate a config file and print it resolved (defaults applied, durations normalised).\n"
      "An error names the YAML path and line, e.g.\n"
      "  targets[2].leadTime: bad duration '5x' (expected e.g. 30s, 5m, 1h, 1d, 1w) (line 31)\n"
      "Exit status 0 when valid, 1 otherwise. Example: prescale check-config config/example.yaml");
  auto file = std::make_shared<std::string>();
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("file", *file, "Config file")->required();
  cmd->add_flag("-q,--quiet", *quiet, "Print nothing when valid");
  cmd->callback([file, quiet] {
    config::Config config;
    try {
      config = config::load_config_file(*file);
    } catch (const config::ConfigError& e) {
      // load_config_file names the file for I/O errors; add it to path errors.
      const std::string message = e.what();
      throw Failure(message.rfind(*file, 0) == 0 ? message : *file + ": " + message);
    }
    if (*quiet) return;
    fmt::print("# {}: valid, {} target(s)\n{}", *file, config.targets.size(),
               config::to_yaml(config));
  });
}

}  // namespace prescale::cli
