#pragma once
// `prescale demo`: no cluster, no Prometheus. The bundled payments trace is
// replayed on an accelerated clock through the daemon (same engine, same
// External Metrics API server over TLS), on localhost.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "prescale/common/expected.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo_run.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::daemon {

/// PEM files of a throw-away CA, a server certificate for localhost and
/// 127.0.0.1, and a client certificate (CN = user, O = group), all signed by
/// the CA. Value type.
struct DemoCertificates {
  std::filesystem::path ca_cert;
  std::filesystem::path server_cert, server_key;
  std::filesystem::path client_cert, client_key;
};

/// Writes the certificates into `dir` with OpenSSL (EC P-256, valid a day).
/// An error names the step that failed.
Expected<DemoCertificates> write_demo_certificates(
    const std::filesystem::path& dir, const std::string& client_user = "prescale-demo",
    const std::string& client_group = "system:masters");

struct DemoOptions {
  std::filesystem::path work_dir;  ///< certificates, config and kubeconfig go here
  double speed = 600;              ///< simulated seconds per real second
  std::int64_t step_seconds = 300;
  int history_days = 35;  ///< trace before the replay starts (five weeks)
  int port = 0;           ///< 0 = a free port
  /// Declares `slo: {maxShortPercent: ...}` on the demo's target: the daemon
  /// tunes quantile and headroom on its own decisions (docs/targets.md).
  std::optional<double> slo_percent;
  LogFunction log;
};

/// Thread-safety: as Daemon.
class Demo {
 public:
  /// Generates the trace and certificates, writes the config; throws
  /// std::runtime_error naming what failed.
  explicit Demo(DemoOptions options);
  ~Demo();
  Status start();
  void stop();

  [[nodiscard]] int port() const;
  [[nodiscard]] const autoscaler::Clock& clock() const;
  [[nodiscard]] const SnapshotStore& snapshots() const;
  [[nodiscard]] const DemoCertificates& certificates() const { return certificates_; }
  [[nodiscard]] const std::filesystem::path& config_path() const { return config_path_; }
  [[nodiscard]] const std::filesystem::path& kubeconfig_path() const { return kubeconfig_path_; }
  [[nodiscard]] const forecast::Series& trace() const { return trace_; }
  [[nodiscard]] std::int64_t step_seconds() const { return options_.step_seconds; }
  /// Unix time just past the trace's last sample: from then on the data
  /// would only grow stale, so the demo ends there.
  [[nodiscard]] std::int64_t trace_end_unix() const { return trace_.end_unix(); }
  /// The deployment the demo config describes, for the run's summary.
  [[nodiscard]] DemoDeployment deployment() const;
  /// The path of the forecast metric on the External Metrics API.
  [[nodiscard]] std::string metric_path(bool replicas = false) const;

 private:
  DemoOptions options_;
  forecast::Series trace_;
  DemoCertificates certificates_;
  std::filesystem::path config_path_, kubeconfig_path_;
  std::unique_ptr<autoscaler::AcceleratedClock> clock_;
  std::unique_ptr<Daemon> daemon_;
};

}  // namespace prescale::daemon
