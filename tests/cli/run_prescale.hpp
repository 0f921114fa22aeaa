#pragma once
// The prescale executable run as a user runs it, for the CLI suites: through
// the shell, stdin from /dev/null, stdout and stderr captured, exit code.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "test_support.hpp"

namespace prescale::test {

struct Run {
  int exit_code;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// `prescale <args>` (our paths need no shell quoting). Its stdout and
/// stderr pass through files in `dir`, named per process and call so that
/// suites running at once do not share them, and removed once read.
inline Run run_prescale(const std::string& args,
                        const std::filesystem::path& dir = std::filesystem::temp_directory_path()) {
  static int counter = 0;
  const std::string tag = std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::filesystem::path out = dir / ("prescale_cli_out_" + tag);
  const std::filesystem::path err = dir / ("prescale_cli_err_" + tag);
  const std::string command = prescale_bin().string() + " " + args + " >" + out.string() + " 2>" +
                              err.string() + " </dev/null";
  const int status = std::system(command.c_str());
  Run run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  std::error_code ignored;
  std::filesystem::remove(out, ignored);
  std::filesystem::remove(err, ignored);
  return run;
}

}  // namespace prescale::test
