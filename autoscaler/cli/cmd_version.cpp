#include <fmt/core.h>

#include "commands.hpp"
#include "prescale/autoscaler/version.hpp"

namespace prescale::cli {

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the prescale version");
  cmd->callback([] { fmt::print("prescale {}\n", prescale::autoscaler::version()); });
}

}  // namespace prescale::cli
