#pragma once
// KEDA external scaler: serves prescale's forecasts to KEDA over gRPC
// (KEDA's `externalscaler.ExternalScaler` service), for clusters where KEDA
// already owns the External Metrics API. Reads the same immutable snapshot
// as the HTTPS server; never fits or fetches inside a call.
//
// A ScaledObject trigger points at it like this:
//   triggers:
//     - type: external
//       metadata:
//         scalerAddress: prescale.prescale.svc:9443
//         metricName: payments-rps-forecast   # a metric prescale serves
//         targetValue: "120"                  # per-replica capacity (AverageValue)
//         activationValue: "0"                # optional: active above this value
//         labelSelector: "app=payments"       # optional: among targets serving the
//                                             # same metric, those whose labels match
//       authenticationRef:                    # caCert (and tlsClientCert/Key for mTLS)
//         name: prescale
//         kind: ClusterTriggerAuthentication
//
// A trigger whose metadata carries `query` (self-service) is its own target:
// ScalerOptions::self_service finds or creates it at every call and names
// the metric it is served under.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/certificate_expiry.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/common/snapshot.hpp"

namespace prescale::keda {

/// What ScalerOptions::self_service answers for a trigger carrying a target.
struct TriggerTarget {
  /// Maps onto the gRPC status KEDA gets (ok, INVALID_ARGUMENT,
  /// RESOURCE_EXHAUSTED, PERMISSION_DENIED, UNAVAILABLE).
  enum class Code { ok, invalid, exhausted, denied, unavailable } code = Code::ok;
  std::string metric;   ///< ok: the metric the target is served under (in the trigger's namespace)
  std::string message;  ///< otherwise: names the bad key or the limit
};

/// Finds or creates the target a trigger carries; called on gRPC threads, concurrently.
using SelfServiceFunction =
    std::function<TriggerTarget(const std::string& namespace_name, const std::string& scaled_object,
                                const std::map<std::string, std::string>& metadata)>;

struct ScalerOptions {
  std::string address = "0.0.0.0:9443";  ///< host:port; port 0 picks a free one
  std::string cert_file;                 ///< TLS when cert_file and key_file are set
  std::string key_file;
  std::string client_ca_file;  ///< with TLS: require client certificates it signed
  /// How often the certificate, key and client CA files are re-read: a
  /// rotated Secret is served to new connections without a restart. Replace
  /// the files atomically (Kubernetes Secret volumes swap a symlink).
  std::chrono::seconds certificate_reload_interval{2};
  /// How often StreamIsActive looks at the snapshot for a change.
  std::chrono::milliseconds stream_poll{1000};
  /// Self-service targets; empty: a trigger carrying `query` is refused
  /// (FAILED_PRECONDITION), never silently served another target.
  SelfServiceFunction self_service;
  /// Where the scaler reports (level: "info", "warn", "error"); optional.
  std::function<void(std::string_view level, std::string_view message)> log;
};

/// The gRPC server. start() and stop() from one thread; calls are served on
/// gRPC's threads and only read the SnapshotStore (thread-safe).
class ExternalScaler {
 public:
  ExternalScaler(ScalerOptions options, const SnapshotStore& store);
  ~ExternalScaler();
  ExternalScaler(const ExternalScaler&) = delete;
  ExternalScaler& operator=(const ExternalScaler&) = delete;

  /// Binds and starts serving; the error names the address or the bad file.
  [[nodiscard]] Status start();
  /// The bound port (after start()).
  [[nodiscard]] int port() const;
  /// Expiry of the serving certificate ("keda-serving") and of the client CA
  /// ("keda-client-ca"), read from the files now (what the next connection
  /// gets); empty without TLS, an unreadable file is left out. Thread-safe.
  [[nodiscard]] std::vector<CertificateExpiry> certificate_expiry() const;
  /// Ends open streams, waits up to `grace` for calls in flight, stops.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::keda
