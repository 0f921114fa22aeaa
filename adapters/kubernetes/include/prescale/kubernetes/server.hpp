#pragma once
// The External Metrics API server (external.metrics.k8s.io/v1beta1) that the
// kube-apiserver aggregator and the HPA talk to. HTTPS (plus an optional
// plain-HTTP probe port); it serves from
// the latest immutable Snapshot and never fits or fetches inside a request.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/certificate_expiry.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/common/logging.hpp"
#include "prescale/common/snapshot.hpp"

namespace prescale::kubernetes {

/// Library code never prints: the daemon passes where log lines go, at the
/// levels every log record has (prescale::LogLevel). Called from server
/// threads, so it must be thread-safe.
using LogFunction = std::function<void(LogLevel, std::string_view message)>;

/// Where the kube-apiserver is, for SubjectAccessReviews.
struct ApiServerConnection {
  /// A kubeconfig file (current-context: server, CA, token or client cert).
  /// Empty: in-cluster (KUBERNETES_SERVICE_HOST/PORT, the service-account
  /// token and ca.crt under service_account_dir).
  std::string kubeconfig_file;
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
  std::chrono::milliseconds timeout{5000};
};

struct AuthorizationOptions {
  enum class Mode { always_allow, webhook };
  Mode mode = Mode::webhook;
  ApiServerConnection apiserver;
  /// How long an allow or deny answer is reused (Kubernetes' delegated
  /// authorizer default is 10 s for both).
  std::chrono::seconds allow_ttl{10};
  std::chrono::seconds deny_ttl{10};
  /// Members of these groups skip the review (as in Kubernetes).
  std::vector<std::string> always_allow_groups{"system:masters"};
};

/// Bearer tokens (`Authorization: Bearer ...`, as kubectl --token, client-go
/// and service accounts send them) checked with TokenReviews against the
/// kube-apiserver, beside client certificates: managed clusters (EKS, GKE,
/// AKS) hand out tokens, not certificates. A certificate that authenticates
/// wins; a token the review rejects is a 401; a review that cannot be made
/// (apiserver unreachable, HTTP error) is a 500, never an allow.
struct TokenReviewOptions {
  bool enabled = false;
  ApiServerConnection apiserver;
  /// How long an answer is reused (Kubernetes' delegated authenticator: 10 s
  /// for both). A revoked token keeps working this long at most.
  std::chrono::seconds success_ttl{10};
  std::chrono::seconds failure_ttl{10};
  /// spec.audiences of the review; empty: the apiserver's own audiences.
  std::vector<std::string> audiences;
};

/// Connection and request limits. Connections are served asynchronously (an
/// idle one costs a few kilobytes, no thread); handlers run on
/// request_threads. Every timeout is a total deadline for its phase, not a
/// per-read timeout, so a client sending a byte now and then is cut as well.
struct ServerLimits {
  /// Open HTTPS connections. At the cap a new connection closes the one that
  /// has waited longest for a request head (since its accept or its last
  /// response) without a verified client certificate, counted as
  /// evicted_unverified; when every open connection is verified or being
  /// answered, the new one is closed at accept.
  int max_connections = 1024;
  /// Open HTTPS connections from one client address without a client
  /// certificate verified by the request-header or client CA (in handshake,
  /// or authenticated by nothing); beyond it new ones from that address are
  /// closed at accept. The aggregator's connections carry its certificate.
  int max_unverified_connections_per_address = 32;
  std::chrono::milliseconds handshake_timeout{10000};
  /// A request's head and body, from the end of the handshake (first
  /// request) or from its first byte (later ones) to its last byte.
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds keep_alive_timeout{5000};  ///< idle between requests
  int keep_alive_max_requests = 1000;
  std::chrono::milliseconds write_timeout{10000};  ///< one whole response
  std::size_t max_uri_length = 4096;               ///< 414 beyond
  std::size_t max_header_bytes = 16384;            ///< header lines, CRLF included; 431 beyond
  std::size_t max_header_fields = 512;             ///< 431 beyond
  std::size_t max_body_bytes = 65536;              ///< 413 beyond (no route reads a body)
  int io_threads = 2;                              ///< TLS handshakes and socket I/O
  int request_threads = 16;  ///< handlers (a SubjectAccessReview may block one)
};

struct ServerOptions {
  std::string address = "0.0.0.0";
  int port = 6443;  ///< 0 picks a free port (see Server::port())
  /// Plain-HTTP port serving only /healthz, /livez and /readyz, on its own
  /// thread and connection budget, so kubelet probes are answered whatever
  /// happens on the HTTPS port (as kube components serve healthz). -1: off;
  /// 0 picks a free port (see Server::probe_port()). Address: probe_address,
  /// or `address` when empty.
  int probe_port = -1;
  std::string probe_address;
  std::string cert_file;  ///< serving certificate (PEM, may hold the chain)
  std::string key_file;
  /// Front proxy (aggregator) trust, from kube-system/extension-apiserver-authentication.
  std::string requestheader_client_ca_file;
  std::vector<std::string> requestheader_allowed_names;  ///< empty = any CN
  std::vector<std::string> requestheader_username_headers{"X-Remote-User"};
  std::vector<std::string> requestheader_group_headers{"X-Remote-Group"};
  std::vector<std::string> requestheader_extra_headers_prefix{"X-Remote-Extra-"};
  /// Client certificates signed by this CA authenticate as CN (groups = O).
  std::string client_ca_file;
  /// Read the front-proxy CA, allowed names and header names — and the
  /// client CA when client_ca_file is empty — from the ConfigMap
  /// kube-system/extension-apiserver-authentication, as Kubernetes'
  /// aggregated API servers do (a Pod cannot mount another namespace's
  /// ConfigMap). Used when requestheader_client_ca_file is empty; re-read
  /// every cluster_authentication_refresh.
  bool authentication_from_cluster = false;
  ApiServerConnection authentication_apiserver;  ///< kubeconfig or in-cluster
  std::chrono::seconds cluster_authentication_refresh{30};
  TokenReviewOptions token_review;
  AuthorizationOptions authorization;
  ServerLimits limits;
  /// /metrics without authentication (Prometheus scrapes without a client
  /// certificate); false applies the same authn/authz as the API.
  bool public_prometheus_metrics = true;
  /// How often the certificate, key and CA files are checked for rotation.
  std::chrono::milliseconds certificate_reload_interval{2000};
  LogFunction log;  ///< may be empty: then nothing is logged
  /// GET /decisions?target=&since= (authenticated like the API): the JSON
  /// body of recent decision records of `target` (empty = all) at or after
  /// `since_unix`. Empty function = 404. Called from request threads.
  std::function<std::string(std::string_view target, std::int64_t since_unix)> decisions;
  /// GET /decisions?steps=1&target=&since= (same path, so the same RBAC
  /// rule): the step trail behind the records, the served value and the
  /// newest sample at each step (a StepList). Empty function = 404.
  std::function<std::string(std::string_view target, std::int64_t since_unix)> steps;
  /// More certificates for the prescale_certificate_expiry_seconds gauge
  /// beside the server's own (serving, client-ca, requestheader-ca), e.g.
  /// the KEDA scaler's. Called at scrape time from request threads; may be empty.
  std::function<std::vector<CertificateExpiry>()> more_certificates;
};

/// The HTTPS server. start() binds and serves on background threads;
/// stop() (also run by the destructor) drains in-flight requests.
/// Thread-safety: start/stop/port from one controlling thread.
class Server {
 public:
  /// Throws std::invalid_argument for options that cannot work (missing
  /// cert_file, port out of range), naming the option.
  Server(ServerOptions options, const SnapshotStore& snapshots);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Loads certificates and binds; the error names the file or address.
  Status start();
  /// The bound port (useful with port 0); 0 before start().
  [[nodiscard]] int port() const;
  /// The bound probe port; 0 when off or before start().
  [[nodiscard]] int probe_port() const;
  /// Stops accepting, lets in-flight requests finish, closes idle
  /// connections; cuts open connections at `grace`, then waits for handlers
  /// still running (at most the apiserver timeout of a SubjectAccessReview).
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::kubernetes
