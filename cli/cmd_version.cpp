#include <fmt/core.h>

#include "commands.hpp"
#include "prescale/common/version.hpp"

namespace prescale::cli {

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the prescale version");
  cmd->callback([] { fmt::print("prescale {}\n", prescale::version()); });
}

}  // namespace prescale::cli
