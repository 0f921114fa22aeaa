#pragma once
// cpp-httplib's task queue, replaced: one thread per open connection (so a
// keep-alive client never waits behind another), grown on demand up to a
// connection cap; connections beyond the cap are refused during the TLS
// handshake on a separate thread. Also tracks each connection's socket so
// stop() can close idle ones and, after the grace period, cut the rest.
#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace prescale::kubernetes::detail {

/// Thread-safe.
class ConnectionPool {
 public:
  ConnectionPool(int min_threads, int max_connections);
  ~ConnectionPool();

  /// Called by the accept loop, once per accepted connection.
  void enqueue(std::function<void()> job);
  /// Runs queued jobs to completion, then joins every thread.
  void shutdown();

  /// True on a thread running a connection beyond the cap: the handshake
  /// callback refuses it.
  static bool current_connection_refused();
  /// The handshake callback records the connection's socket here.
  void set_current_socket(int fd);
  /// The request handler marks when a request is being served.
  void set_current_in_request(bool in_request);

  /// Shuts down sockets of connections not serving a request (idle
  /// keep-alive) or, with `all`, every open connection.
  void close_connections(bool all);

  [[nodiscard]] int open_connections() const;
  [[nodiscard]] long long refused_connections() const;

 private:
  struct Slot {
    int fd = -1;
    bool in_request = false;
  };
  void work();
  void refuse_loop();

  const int max_connections_;
  mutable std::mutex mutex_;
  std::condition_variable work_available_;
  std::condition_variable refuse_available_;
  std::deque<std::function<void()>> jobs_;
  std::deque<std::function<void()>> refused_jobs_;
  std::vector<std::thread> threads_;
  std::thread refuser_;
  std::map<std::thread::id, Slot> slots_;
  int idle_threads_ = 0;
  int open_ = 0;
  long long refused_ = 0;
  bool stopping_ = false;
};

/// The adapter httplib owns (it deletes its task queue); forwards to a pool
/// the server keeps.
class PoolHandle final : public httplib::TaskQueue {
 public:
  explicit PoolHandle(std::shared_ptr<ConnectionPool> pool) : pool_(std::move(pool)) {}
  void enqueue(std::function<void()> fn) override { pool_->enqueue(std::move(fn)); }
  void shutdown() override { pool_->shutdown(); }

 private:
  std::shared_ptr<ConnectionPool> pool_;
};

}  // namespace prescale::kubernetes::detail
