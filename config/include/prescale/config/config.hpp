#pragma once
// The daemon's configuration: one YAML file (schema documented in
// config/example.yaml). Loading validates everything at once and names the
// YAML path and line of the first bad value, e.g.
//   targets[2].leadTime: bad duration '5x' (line 31)
// Values are resolved: `defaults:` applied, durations in seconds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/calendar/calendar.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/common/url.hpp"

namespace prescale::config {

/// Bad configuration: the message names the YAML path and line.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Bounds a config may not exceed. Each keeps one mistyped value from costing
/// unbounded memory or time (history: 100y at step: 1s would be 3e9 samples
/// a target) or from reaching arithmetic that overflows.
namespace limits {
/// The whole file. A ConfigMap holds at most 1 MiB; a 50 MB file took 8 s
/// and 400 MB to parse.
inline constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;
/// One target's PromQL. It travels in the URL of every query_range GET.
inline constexpr std::size_t kMaxQueryBytes = 16 * 1024;
/// Samples a target holds (history / step) and slots in one season (season / step).
inline constexpr std::int64_t kMaxSamples = 1'000'000;
/// leadTime: pod start-up plus margin; a forecast window of more than a day is a typo.
inline constexpr std::int64_t kMaxLeadTimeSeconds = 86400;
/// prometheus.timeout: one attempt of one request.
inline constexpr std::int64_t kMaxTimeoutSeconds = 3600;
/// server.authorization.cacheTTL: a revoked permission lasts this long at most.
inline constexpr std::int64_t kMaxCacheTtlSeconds = 3600;
/// minReplicas, maxReplicas: int32 in autoscaling/v2, as the HPA reads them.
inline constexpr std::int64_t kMaxReplicas = 2147483647;
/// decisions.anomalySteps and shiftSteps.
inline constexpr std::int64_t kMaxAnomalySteps = 100'000;
/// prometheus.maxReplySize bounds.
inline constexpr std::int64_t kMinReplyBytes = 64 * 1024;
inline constexpr std::int64_t kMaxReplyBytes = 1024LL * 1024 * 1024;
/// decisions.maxBytes bounds.
inline constexpr std::int64_t kMinDecisionFileBytes = 1024;
inline constexpr std::int64_t kMaxDecisionFileBytes = 1024LL * 1024 * 1024 * 1024;
}  // namespace limits

/// A listening address, `host:port` (host may be empty: every interface).
struct HostPort {
  std::string host;
  int port = 0;
};
/// Port 1-65535 (0, "any free port", is no address a Service can reach);
/// the error says what is wrong without a YAML path (callers add it).
Expected<HostPort> parse_host_port(std::string_view text);

/// Byte sizes as Kubernetes writes them: 1048576, 64Mi, 1Gi, 512Ki, 100M, 1G.
/// Whole bytes in [min, max]; the error names the text and the bounds.
Expected<std::int64_t> parse_byte_size(std::string_view text, std::int64_t min, std::int64_t max);
/// The shortest exact form: 67108864 -> "64Mi", 1000 -> "1000".
std::string format_byte_size(std::int64_t bytes);

/// Where load history comes from (`prometheus:`). Value type.
struct PrometheusConfig {
  std::string url = "http://127.0.0.1:9090";
  std::int64_t timeout_seconds = 30;
  std::string bearer_token_file;  ///< read at each request (token rotation)
  std::string basic_auth_username;
  std::string basic_auth_password_file;
  std::map<std::string, std::string> headers;  ///< extra HTTP headers, e.g. X-Scope-OrgID
  std::string ca_file;                         ///< verifies an https:// server; empty = system CAs
  bool insecure_skip_verify = false;
  /// A longer reply (after decompression) is refused as it arrives, with an
  /// error naming the target: bounds the memory one fetch can take (parsing
  /// takes about 3.5 times the reply on top). A target's query gives one
  /// series, at most 11,000 points (about 350 KB) a request: 16 MiB leaves
  /// room for a query that wrongly returns dozens of series to be parsed and
  /// named in the error.
  std::int64_t max_reply_bytes = 16 * 1024 * 1024;

  bool operator==(const PrometheusConfig&) const = default;
};

enum class AuthorizationMode { always_allow, webhook };
std::string_view to_string(AuthorizationMode mode);

/// The External Metrics API server (`server:`). Value type.
struct ServerConfig {
  std::string address = "0.0.0.0:6443";  ///< host:port to listen on
  /// host:port of the plain-HTTP port that serves only /healthz, /livez and
  /// /readyz (kubelet probes, answered whatever load the HTTPS port is
  /// under); empty = none.
  std::string probe_address;
  /// `publicMetrics`: /metrics answers without authentication (Prometheus
  /// scrapes without a certificate; it names targets and figures, never
  /// server names or error text). false: the API's authn/authz, so the
  /// scraper needs a token or certificate allowed `get` on /metrics.
  bool public_metrics = true;
  std::string tls_cert_file;  ///< serving certificate (PEM); required by `serve`
  std::string tls_key_file;
  /// Clients whose certificate verifies against this CA authenticate as their
  /// CN (kubectl with a client certificate). Empty = none.
  std::string client_ca_file;
  struct RequestHeader {
    /// The aggregator's front-proxy CA (requestheader-client-ca-file).
    std::string client_ca_file;
    /// Allowed CNs of the front-proxy certificate; empty = any.
    std::vector<std::string> allowed_names;
    std::vector<std::string> username_headers = {"X-Remote-User"};
    std::vector<std::string> group_headers = {"X-Remote-Group"};
    std::vector<std::string> extra_headers_prefix = {"X-Remote-Extra-"};
    /// Read the CA, allowed names and header names (and the client CA when
    /// clientCAFile is empty) from kube-system/extension-apiserver-authentication,
    /// as aggregated API servers do in a cluster (a Pod cannot mount that
    /// ConfigMap); used when clientCAFile is empty.
    bool from_cluster = false;
    bool operator==(const RequestHeader&) const = default;
  } request_header;
  AuthorizationMode authorization_mode = AuthorizationMode::always_allow;
  /// webhook mode: kubeconfig of the kube-apiserver that answers
  /// SubjectAccessReviews; empty = in-cluster service account.
  std::string authorization_kubeconfig;
  std::int64_t authorization_cache_ttl_seconds = 10;
  /// `authorization.tokenAudiences` (webhook mode): the audiences a bearer
  /// token must be for, sent as the TokenReview's spec.audiences; a token
  /// the apiserver finds for none of them is refused. Empty: the
  /// apiserver's own audiences (a service-account token made for the
  /// apiserver is accepted).
  std::vector<std::string> token_audiences;
  /// KEDA external-scaler gRPC service (`server.keda`), for clusters where
  /// KEDA owns external.metrics.k8s.io.
  struct Keda {
    bool enabled = false;
    std::string address = "0.0.0.0:9443";
    std::string cert_file;  ///< TLS when cert and key are set
    std::string key_file;
    std::string client_ca_file;  ///< with TLS: require client certificates it signed
    /// `selfService`: a trigger whose metadata carries `query` (and any other
    /// target key) gets a target of its own, created at KEDA's first call,
    /// dropped after `idleTimeout` without one (docs/deploy.md, "Self-service
    /// triggers"). The query runs against this daemon's Prometheus with its
    /// credentials: the caps bound what the ScaledObjects of a namespace, and
    /// of the whole cluster, can make it fetch and fit.
    struct SelfService {
      bool enabled = false;
      std::int64_t idle_timeout_seconds = 3600;
      std::int64_t max_per_namespace = 10;
      std::int64_t max_targets = 50;
      /// Namespaces whose ScaledObjects may create targets; empty = any.
      std::vector<std::string> namespaces;
      bool operator==(const SelfService&) const = default;
    } self_service;
    bool operator==(const Keda&) const = default;
  } keda;

  bool operator==(const ServerConfig&) const = default;
};

/// One forecast metric (`targets[i]`), defaults applied. Value type.
/// Each field is declared once more, in config/src/target_fields.cpp (its
/// key, reader with validation, writer and canonical text): a new field is
/// a member here plus a row there.
/// A target's declared SLO (`slo:`): the daemon replays what the target's
/// policy read over `history` at each refit and serves the cheapest quantile
/// and headroom that kept the minutes short of capacity within the SLO less
/// the margin (docs/targets.md, "Let the daemon tune for an SLO"). Value type.
struct SloConfig {
  double max_short_percent = 0.1;  ///< % of minutes with load above ready capacity
  double margin_percent = 50;      ///< most % of the SLO held back when tuning (less where it held)
  /// Decisions kept and replayed at each refit: long enough to hold the last
  /// month end and payroll days (a week rarely does, and the tuning then
  /// descends on quiet weeks).
  std::int64_t history_seconds = 35 * 86400;
  /// The `averageValue` of the HPA's own metric for the observed load (its
  /// reactive metric), in % of capacityPerReplica. The tuning scores it at
  /// that target: headroom there reaches a surge the forecast missed at the
  /// HPA's next sync, a step before the daemon's own next sample does.
  double reactive_target_percent = 100;
  /// PromQL giving the value this target served, as its Prometheus scraped
  /// it from prescale's /metrics (e.g. max(prescale_target_served{target="payments"})),
  /// or empty. A restarted process reads it back for the decisions it
  /// replays from history, so what was served before the restart still
  /// counts in the served figures (slo_figures.served) instead of
  /// starting again from nothing.
  std::string served_query;
  bool operator==(const SloConfig&) const = default;
};

struct TargetConfig {
  std::string metric;                         ///< served external metric name (DNS-1123 subdomain)
  std::string namespace_name = "*";           ///< namespace it is served in, "*" = all
  std::map<std::string, std::string> labels;  ///< matched by the HPA's labelSelector
  std::string query;                          ///< PromQL giving one series
  std::int64_t step_seconds = 60;
  std::int64_t history_seconds = 35 * 86400;
  /// Lookback for the past occurrences of the calendars' events beyond
  /// `history` (`eventHistory`): fetched as sparse windows, one query each
  /// with the same local hours a week before and after as their baseline;
  /// 0 (or not above `history`) fetches none.
  std::int64_t event_history_seconds = 183 * 86400;
  std::string timezone = "UTC";
  std::vector<std::int64_t> seasonality_seconds = {86400, 7 * 86400};
  std::vector<std::string> calendars;  ///< names from the `calendars:` section
  std::string model = "auto";
  std::int64_t lead_time_seconds = 300;  ///< pod start-up + HPA sync + margin
  double quantile = 0.9;
  std::optional<double> capacity_per_replica;  ///< also serve <metric>-replicas
  std::int64_t min_replicas = 1;
  std::int64_t max_replicas = 100;
  std::int64_t refit_interval_seconds = 3600;
  std::int64_t backtest_origins = 4;  ///< rolling-origin backtest windows
  /// Fit on the history as it is: one-off incidents (outages, unexplained
  /// spikes) are not replaced by the seasonal baseline (`keepOutliers`, the
  /// CLI's --keep-outliers).
  bool keep_outliers = false;
  // From the `decisions:` section (the same for every target).
  double decision_change_threshold = 0.1;  ///< record a decision when served moves by this fraction
  std::int64_t anomaly_steps = 3;  ///< steps outside the interval that make an anomaly record
  std::int64_t shift_steps = 15;   ///< steps outside that make a new normal: refit
  /// `anomaly: {externalMetric: true}`: also serve <metric>-anomaly, the
  /// newest sample's |standardised residual| (opt-in: an HPA or KEDA trigger
  /// on it is a deliberate choice, not a default).
  bool anomaly_external_metric = false;
  /// Tune quantile and headroom for this SLO (needs capacityPerReplica);
  /// unset: serve `quantile` with no headroom.
  std::optional<SloConfig> slo;
  std::int64_t line = 0;  ///< 1-based line of the entry in the file
  /// "namespace/ScaledObject/metricName" of the KEDA trigger that carries this
  /// target (self-service); empty for a target of the file. Not a setting:
  /// such a target does not hold back readiness while its history loads.
  std::string trigger;

  /// Samples in the lead window, at least one.
  [[nodiscard]] std::int64_t lead_steps() const {
    return std::max<std::int64_t>(1, (lead_time_seconds + step_seconds - 1) / step_seconds);
  }
  /// The -replicas twin's name when capacityPerReplica is set.
  [[nodiscard]] std::string replicas_metric() const { return metric + "-replicas"; }
  /// The -anomaly twin's name when anomaly.externalMetric is set.
  [[nodiscard]] std::string anomaly_metric() const { return metric + "-anomaly"; }
  /// Every setting as `key=value` lines, numbers exact, `line` left out:
  /// what same_as compares and the decision records' config digest hashes.
  [[nodiscard]] std::string settings_text() const;
  /// Same forecasting setup (line ignored): a reload keeps the target's state.
  [[nodiscard]] bool same_as(const TargetConfig& other) const;
};

/// A key a target entry may set, with a valid value other than the default.
struct TargetKey {
  std::string_view key;
  std::string_view example;  ///< YAML, e.g. "5m", "[1d]", "{app: payments}"
  bool in_defaults;          ///< also allowed under `defaults:` (all but metric, query)
};
/// Every key of a target entry, in the order to_yaml writes them.
std::vector<TargetKey> target_keys();

/// The decision audit trail (`decisions:`). Value type.
struct DecisionsConfig {
  double change_threshold = 0.1;  ///< fraction of the served value in force
  std::int64_t anomaly_steps = 3;
  std::int64_t shift_steps = 15;
  std::string file;                           ///< JSON-lines file; empty = stdout and memory only
  std::int64_t max_bytes = 10 * 1024 * 1024;  ///< per file; rotated to file.1 .. file.N
  std::int64_t max_files = 5;                 ///< N
  std::int64_t keep = 2000;                   ///< records kept in memory for GET /decisions
  bool operator==(const DecisionsConfig&) const = default;
};

/// The whole file, resolved. Value type.
struct Config {
  std::string source;  ///< file name (or "<string>") for messages
  PrometheusConfig prometheus;
  ServerConfig server;
  DecisionsConfig decisions;
  /// The calendars targets may name (`calendars:` section), resolved.
  calendar::CalendarSet calendars;
  /// Their names, for messages.
  std::vector<std::string> calendar_names;
  /// The `calendars:` section as written, re-emitted by to_yaml(); empty when absent.
  std::string calendars_yaml;
  std::vector<TargetConfig> targets;
  /// `defaults:` resolved (decisions values included): where a target a KEDA
  /// trigger carries starts from.
  TargetConfig target_defaults;
};

/// The model names `model:` accepts.
const std::vector<std::string>& known_models();

/// Parses and validates; throws ConfigError naming the YAML path and line
/// (and nothing else: any other failure inside becomes a ConfigError too).
/// `source` names the text in messages (a file name).
Config parse_config(std::string_view yaml, std::string_view source = "<string>");
/// Reads and parses a file; throws ConfigError (also when unreadable or
/// larger than limits::kMaxFileBytes).
Config load_config_file(const std::filesystem::path& path);
/// load_config_file as a value: for hot reload, where a bad file must not throw.
Expected<Config> try_load_config_file(const std::filesystem::path& path);
/// The file's text, as load_config_file reads it (size-checked); throws ConfigError.
std::string read_config_text(const std::filesystem::path& path);
/// The resolved configuration as YAML (every default spelled out), for
/// `prescale check-config`.
std::string to_yaml(const Config& config);

}  // namespace prescale::config
