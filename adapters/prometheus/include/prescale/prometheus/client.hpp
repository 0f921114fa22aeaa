#pragma once
// An HTTP GET client for the Prometheus HTTP API (and the stores that speak
// it: Thanos, Mimir, VictoriaMetrics): timeouts, retries with backoff and
// jitter, bearer/basic auth, custom headers, TLS with a CA file, gzip.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prescale/common/expected.hpp"

namespace prescale::prometheus {

/// Retries on connection errors, timeouts, HTTP 429 and 5xx; never on other
/// 4xx (the request itself is wrong, asking again cannot help).
struct RetryPolicy {
  int max_attempts = 4;                            ///< including the first try
  std::chrono::milliseconds initial_backoff{250};  ///< doubled after each failure
  std::chrono::milliseconds max_backoff{8000};     ///< also caps Retry-After
  double jitter = 0.2;                             ///< each delay is scaled by 1 +- jitter
};

using Header = std::pair<std::string, std::string>;

struct ClientOptions {
  /// Base URL, e.g. http://prometheus:9090 or https://mimir/prometheus.
  std::string url;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{60000};  ///< per attempt
  RetryPolicy retry;
  std::string bearer_token;
  /// Read before each request when it changed (service-account tokens rotate).
  std::string bearer_token_file;
  std::string basic_auth_user;
  std::string basic_auth_password;
  std::vector<Header> headers;   ///< e.g. {"X-Scope-OrgID", "tenant-1"} for Mimir
  std::string ca_file;           ///< PEM bundle that verifies the server
  std::string client_cert_file;  ///< PEM client certificate (mutual TLS)
  std::string client_key_file;
  /// The same as inline PEM (a kubeconfig's *-data fields); each, when set,
  /// is used instead of its file.
  std::string ca_pem, client_cert_pem, client_key_pem;
  bool insecure_skip_verify = false;
  bool gzip = true;  ///< Accept-Encoding: gzip, deflate
  /// A longer reply (after decompression) is refused as it arrives: a hostile
  /// or runaway server cannot exhaust memory. 0 = no limit.
  std::size_t max_reply_bytes = 64 * 1024 * 1024;
  /// Sleeps between retries; tests inject a recorder. Null: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::uint64_t jitter_seed = 0;  ///< 0: seeded from std::random_device
};

struct HttpResponse {
  long status = 0;
  std::string body;  ///< decompressed; capacity padded for simdjson
  std::string content_type;
  int attempts = 1;  ///< how many tries it took
};

/// One connection to one server. Not thread-safe: one owner at a time
/// (the engine gives each target's Source to one worker); cancel() alone may
/// be called from any thread.
class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;

  /// GET url + path?params. Retries as the policy says; returns the last
  /// HTTP response whatever its status, or an Error when no response came
  /// (connection refused, timeout, TLS failure) after the last attempt.
  [[nodiscard]] Expected<HttpResponse> get(std::string_view path,
                                           const std::vector<Header>& params);
  [[nodiscard]] const ClientOptions& options() const;
  /// Thread-safe. Ends a get() in flight within about a second (libcurl's
  /// progress callback; a retry sleep at once) and makes every later get()
  /// fail: "GET <url>: cancelled". For a target a reload removed, and shutdown.
  void cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Delay before retry number `retry` (1 = the first retry), before jitter.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry);

}  // namespace prescale::prometheus
