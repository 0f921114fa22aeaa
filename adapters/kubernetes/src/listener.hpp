#pragma once
// The HTTP/1.1 listener under the API server (TLS) and the probe port
// (plain): Boost.Asio/Beast, asynchronous, so an idle or slow connection
// costs a few kilobytes and no thread. Every phase has a total deadline
// (handshake, request head and body, response write, keep-alive idle);
// requests are read with RequestReader's limits; pipelined requests are
// answered in order; connections without a verified client certificate are
// capped per client address, and at the connection cap the one of them that
// has waited longest for a request head makes room for a new connection.
#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "prescale/common/expected.hpp"
#include "prescale/kubernetes/request_reader.hpp"

namespace prescale::kubernetes::detail {

struct ListenerLimits {
  /// Open connections. At the cap a new one closes the connection that has
  /// waited longest for a request head (since its accept or its last
  /// response) without a verified client certificate; with none, it is refused.
  int max_connections = 1024;
  /// Open connections from one client address that have not shown a client
  /// certificate verified by trusted_peer (all of them on a plain listener).
  int max_unverified_per_address = 32;
  std::chrono::milliseconds handshake_timeout{10000};
  /// From the end of the handshake (first request) or the first byte of a
  /// request (later ones) to its last byte: the whole head and body.
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds keep_alive_timeout{5000};  ///< idle between requests
  std::chrono::milliseconds write_timeout{10000};      ///< the whole response
  int keep_alive_max_requests = 1000;
  RequestLimits request;
};

/// Why a connection ended early or was not accepted; counted by the owner.
enum class ConnectionEvent {
  refused_connection_limit,
  refused_address_limit,
  /// At max_connections: the connection that had waited longest for a
  /// request head, without a verified client certificate, was closed to
  /// admit a new one.
  evicted_unverified,
  handshake_timeout,
  handshake_failed,
  request_timeout,
  rejected_uri_too_long,
  rejected_headers_too_large,
  rejected_body_too_large,
  rejected_malformed,
};
std::string_view to_string(ConnectionEvent event);

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

struct IncomingRequest {
  HttpRequest http;
  /// The connection's TLS session (null on a plain listener). Only the
  /// thread running the handler touches it while the handler runs.
  const SSL* ssl = nullptr;
  std::string peer_address;
};

struct ListenerOptions {
  std::string name;  ///< for log lines: "https", "probes"
  std::string address;
  int port = 0;  ///< 0 picks a free port
  bool tls = false;
  /// Configures the server SSL_CTX (certificate callback, verify mode).
  std::function<bool(SSL_CTX&)> setup_tls;
  /// After the handshake: true when the peer's certificate verifies against a
  /// trusted CA, so the connection no longer counts against its address.
  std::function<bool(const SSL*)> trusted_peer;
  ListenerLimits limits;
  int io_threads = 1;
  /// Threads running the handler; 0 runs it on the I/O thread (it must not block).
  int request_threads = 0;
  /// Thread-safe; exceptions are the owner's bug and answered 500.
  std::function<Reply(const IncomingRequest&)> handler;
  /// Thread-safe; may be empty.
  std::function<void(ConnectionEvent)> on_event;
  std::function<void(std::string_view)> log_warning;  ///< may be empty
};

/// Thread-safety: start/stop/port from one controlling thread; the counters
/// from any thread.
class Listener {
 public:
  explicit Listener(ListenerOptions options);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// Binds and starts the threads; the error names the address.
  Status start();
  [[nodiscard]] int port() const;
  /// Stops accepting, closes idle connections, lets requests in flight be
  /// answered, cuts what remains at `grace`; then waits for running handlers.
  void stop(std::chrono::milliseconds grace);

  [[nodiscard]] int open_connections() const;
  [[nodiscard]] long long refused_connections() const;

  struct Impl;  // listener.cpp only (its sessions reach it)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::kubernetes::detail
