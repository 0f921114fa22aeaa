// `prescale serve --config FILE`: the daemon. Logs go to stdout (text or
// JSON lines); SIGHUP reloads the config, SIGTERM/SIGINT stop gracefully
// (within 8 s, whatever is in flight).
#include <fmt/core.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "commands.hpp"
#include "prescale/config/config.hpp"
#include "prescale/daemon/daemon.hpp"

namespace prescale::cli {

LogFunction make_log_function(const std::string& format, std::FILE* out, LogLevel min_level) {
  auto mutex = std::make_shared<std::mutex>();
  const bool json = format == "json";
  return [mutex, json, out, min_level](const LogRecord& record) {
    if (static_cast<int>(record.level) < static_cast<int>(min_level)) return;
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const std::string line = json ? format_json(record, millis) : format_text(record, millis);
    std::lock_guard lock(*mutex);
    std::fprintf(out, "%s\n", line.c_str());
    std::fflush(out);
  };
}

// How long SIGTERM may take before the process exits regardless.
constexpr std::chrono::seconds kShutdownDeadline{8};

sigset_t block_control_signals() {
  // Blocked before any thread starts, so every thread inherits the mask and
  // only sigwait() in the main thread sees them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

void add_serve_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("serve", std::string(kServeDescription));
  struct Options {
    std::string config;
    std::string log_format = "text";
    std::string log_level = "info";
    std::size_t fit_threads = 1;
    std::size_t tick_threads = 2;
  };
  auto options = std::make_shared<Options>();
  cmd->add_option("-c,--config", options->config, "Config file (schema: config/example.yaml)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--log-format", options->log_format,
                  "text or json (JSON lines, one event a line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->add_option("--log-level", options->log_level, "debug, info, warning or error")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
  cmd->add_option("--fit-threads", options->fit_threads, "Threads fitting models (refits)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--tick-threads", options->tick_threads,
                  "Threads fetching new samples and updating forecasts; a slow target never holds "
                  "the others")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->callback([options] {
    const sigset_t signals = block_control_signals();
    const auto level = options->log_level == "debug"     ? LogLevel::debug
                       : options->log_level == "warning" ? LogLevel::warning
                       : options->log_level == "error"   ? LogLevel::error
                                                         : LogLevel::info;
    daemon::DaemonOptions daemon_options;
    daemon_options.config_path = options->config;
    daemon_options.log = make_log_function(options->log_format, stdout, level);
    daemon_options.fit_threads = options->fit_threads;
    daemon_options.tick_threads = options->tick_threads;
    std::unique_ptr<daemon::Daemon> daemon;
    try {
      daemon = std::make_unique<daemon::Daemon>(daemon_options);
    } catch (const config::ConfigError& e) {
      throw Failure(e.what());
    } catch (const std::exception& e) {
      // A server option that cannot work (std::invalid_argument) or a file
      // that cannot be read: a refused config, not an internal error.
      throw Failure(e.what());
    }
    if (auto started = daemon->start(); !started) throw Failure(started.error().message);
    for (;;) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal == SIGHUP) {
        daemon->reload("SIGHUP");
        continue;
      }
      daemon_options.log(LogRecord{LogLevel::info, "stopping", {}}.with(
          "signal", std::string(signal == SIGTERM ? "SIGTERM" : "SIGINT")));
      // stop() cancels fetches in flight, drops queued work and makes a fit
      // running give up after the model it is fitting, so it takes about a
      // second; one long model fit or a client connection that will not
      // drain could still hold it. Kubernetes kills the pod 30 s
      // after SIGTERM by default: leave well before, whatever is left.
      std::thread([log = daemon_options.log] {
        std::this_thread::sleep_for(kShutdownDeadline);
        log(LogRecord{
            LogLevel::warning,
            "shutdown deadline passed; exiting without waiting further",
            {}}.with("deadline_seconds", static_cast<std::int64_t>(kShutdownDeadline.count())));
        std::_Exit(0);
      }).detach();
      daemon->stop();
      daemon_options.log(LogRecord{LogLevel::info, "stopped", {}});
      return;
    }
  });
}

}  // namespace prescale::cli
