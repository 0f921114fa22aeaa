// `serve` and `demo` in the `prescale` executable: they hand over to
// prescale-server, installed beside it, which carries the server stack
// (HTTPS, gRPC, /metrics) that no other command needs. exec keeps the process
// id, so signals (SIGTERM from the kubelet, Ctrl-C) reach the daemon itself.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "commands.hpp"

namespace prescale::cli {
namespace {

std::filesystem::path server_executable() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    throw Failure("cannot find this executable's directory (/proc/self/exe: " + error.message() +
                  ")");
  return self.parent_path() / "prescale-server";
}

void add_forwarded_command(CLI::App& app, const std::string& name, std::string_view description) {
  auto* cmd = app.add_subcommand(name, std::string(description));
  // Every argument, --help included, is prescale-server's to parse.
  cmd->prefix_command();
  cmd->allow_extras();
  cmd->fallthrough(false);
  cmd->set_help_flag();
  cmd->callback([cmd, name] {
    const std::filesystem::path server = server_executable();
    std::vector<std::string> args{server.string(), name};
    for (const std::string& arg : cmd->remaining()) args.push_back(arg);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    execv(server.c_str(), argv.data());
    const int why = errno;
    throw Failure(
        "`prescale " + name + "` runs " + server.string() + ", which " +
        (why == ENOENT
             ? std::string("is missing: install it beside prescale (the build makes both)")
             : "could not be started: " + std::string(std::strerror(why))));
  });
}

}  // namespace

void add_serve_command(CLI::App& app) {
  add_forwarded_command(app, "serve", kServeDescription);
}

void add_demo_command(CLI::App& app) {
  add_forwarded_command(app, "demo", kDemoDescription);
}

}  // namespace prescale::cli
