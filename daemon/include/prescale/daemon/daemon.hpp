#pragma once
// `prescale serve`: the configuration, the engine and the External Metrics
// API server wired together, with hot reload (SIGHUP, or the file changing
// on disk). A bad new configuration is rejected with a logged error and the
// running one keeps serving.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/engine.hpp"
#include "prescale/common/logging.hpp"
#include "prescale/common/snapshot.hpp"
#include "prescale/config/config.hpp"

namespace prescale::daemon {

/// A Source per target from the `prometheus:` section (query_range over
/// libcurl, chunked; auth, headers and CA from the config).
autoscaler::SourceFactory prometheus_sources(const config::PrometheusConfig& prometheus);

struct DaemonOptions {
  std::filesystem::path config_path;
  LogFunction log;                                 ///< thread-safe; may be empty
  std::chrono::milliseconds watch_interval{2000};  ///< how often the file is checked for changes
  std::size_t tick_threads = 2;
  std::size_t fit_threads = 1;
  /// Overrides the config's Prometheus (tests and the demo); empty = Prometheus.
  autoscaler::SourceFactory sources;
  /// Null = the wall clock.
  const autoscaler::Clock* clock = nullptr;
  /// Listen on this port instead of server.address's (the config refuses
  /// port 0); 0 = any free port, read back with port(). Tests and the demo.
  std::optional<int> listen_port;
};

/// Thread-safety: start() and stop() from the controlling thread; reload()
/// from any thread (signal handler thread, the file watcher).
class Daemon {
 public:
  /// Loads and validates the config; throws config::ConfigError naming the
  /// YAML path, or std::invalid_argument for a server option that cannot work.
  explicit Daemon(DaemonOptions options);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  /// Binds the server and starts the engine and the file watcher.
  Status start();
  /// Re-reads the config file. False (with an error logged) when the new
  /// file is rejected; the running config keeps serving. Never throws.
  bool reload(std::string_view why);
  /// Stops the watcher, the engine and the server (draining requests).
  void stop();

  /// The server's bound port (0 before start()).
  [[nodiscard]] int port() const;
  [[nodiscard]] const SnapshotStore& snapshots() const;
  /// Recent decision records (what GET /decisions serves). Thread-safe.
  [[nodiscard]] const autoscaler::DecisionRing& decisions() const;
  [[nodiscard]] config::Config current_config() const;
  [[nodiscard]] std::size_t reloads_applied() const { return reloads_applied_; }
  [[nodiscard]] std::size_t reloads_rejected() const { return reloads_rejected_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::size_t> reloads_applied_{0};
  std::atomic<std::size_t> reloads_rejected_{0};
};

}  // namespace prescale::daemon
