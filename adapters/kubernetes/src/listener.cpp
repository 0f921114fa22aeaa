#include "listener.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "prescale/kubernetes/api.hpp"

namespace prescale::kubernetes::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

// After the last response, what the client still sends is read and dropped
// for this long (at most kLingerBytes), so that closing does not reset the
// connection before the client has read the answer (RFC 9112 section 9.6).
constexpr std::chrono::seconds kLingerTime{2};
constexpr std::size_t kLingerBytes = 256 * 1024;

ConnectionEvent event_for(const RequestRejection& rejection) {
  switch (rejection.status) {
    case 414:
      return ConnectionEvent::rejected_uri_too_long;
    case 431:
      return ConnectionEvent::rejected_headers_too_large;
    case 413:
      return ConnectionEvent::rejected_body_too_large;
    default:
      return ConnectionEvent::rejected_malformed;
  }
}

std::string serialize(const Reply& reply, bool keep_alive, bool head_request, int version) {
  const auto reason = beast::http::obsolete_reason(static_cast<beast::http::status>(reply.status));
  std::string out;
  out.reserve(160 + (head_request ? 0 : reply.body.size()));
  out += "HTTP/1.1 ";
  out += std::to_string(reply.status);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\nContent-Type: ";
  out += reply.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(reply.body.size());
  out += "\r\nX-Content-Type-Options: nosniff\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (version == 10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  if (!head_request) out += reply.body;
  return out;
}

}  // namespace

std::string_view to_string(ConnectionEvent event) {
  switch (event) {
    case ConnectionEvent::refused_connection_limit:
      return "connection_limit";
    case ConnectionEvent::refused_address_limit:
      return "address_limit";
    case ConnectionEvent::evicted_unverified:
      return "evicted_unverified";
    case ConnectionEvent::handshake_timeout:
      return "handshake_timeout";
    case ConnectionEvent::handshake_failed:
      return "handshake_failed";
    case ConnectionEvent::request_timeout:
      return "request_timeout";
    case ConnectionEvent::rejected_uri_too_long:
      return "uri_too_long";
    case ConnectionEvent::rejected_headers_too_large:
      return "headers_too_large";
    case ConnectionEvent::rejected_body_too_large:
      return "body_too_large";
    case ConnectionEvent::rejected_malformed:
      return "malformed";
  }
  return "unknown";
}

namespace {
struct SessionBase {
  virtual ~SessionBase() = default;
  /// Both post to the session's strand; callable from any thread.
  virtual void close_if_idle() = 0;
  virtual void force_close() = 0;

  // Guarded by Listener::Impl::mutex.
  /// Key in Impl::waiting while the connection may be evicted (no verified
  /// client certificate, no request head complete and unanswered); 0 otherwise.
  std::uint64_t waiting_key = 0;
  bool evicted = false;  ///< closed to make room: its slot is being freed
  bool verified = false;
};
}  // namespace

struct Listener::Impl {
  explicit Impl(ListenerOptions o) : options(std::move(o)) {}

  void event(ConnectionEvent e) const {
    if (options.on_event) options.on_event(e);
  }
  void warn(std::string_view message) const {
    if (options.log_warning) options.log_warning(message);
  }

  struct Admission {
    std::optional<ConnectionEvent> refusal;
    /// Closed to make room for the new connection (force_close it).
    std::shared_ptr<SessionBase> evicted;
  };

  // Admission: the per-address cap on connections not (yet) verified by a
  // client certificate, then the connection cap. At the cap the connection
  // that has waited longest for a request head without a verified
  // certificate makes room (a slowloris from many addresses can no longer
  // hold every slot until its deadlines); with none, the new one is refused.
  Admission admit(const std::string& address) {
    std::lock_guard lock(mutex);
    int& count = unverified[address];
    if (count >= options.limits.max_unverified_per_address) {
      if (count == 0) unverified.erase(address);
      ++refused;
      return {ConnectionEvent::refused_address_limit, nullptr};
    }
    Admission admission;
    if (open - evicting >= options.limits.max_connections) {
      admission.evicted = take_longest_waiting();
      if (!admission.evicted) {
        if (count == 0) unverified.erase(address);
        ++refused;
        return {ConnectionEvent::refused_connection_limit, nullptr};
      }
    }
    ++count;
    ++open;
    return admission;
  }

  // The session longest in `waiting` that is still alive, marked evicted
  // (its slot stays counted in `open` until it is released); null if none.
  std::shared_ptr<SessionBase> take_longest_waiting() {
    while (!waiting.empty()) {
      SessionBase* raw = waiting.begin()->second;
      waiting.erase(waiting.begin());
      raw->waiting_key = 0;
      const auto found = sessions.find(raw);
      if (found == sessions.end()) continue;
      if (auto session = found->second.lock()) {
        session->evicted = true;
        ++evicting;
        return session;
      }
      // Being destroyed: its release frees the slot soon, but it cannot be
      // counted on here; look further.
    }
    return nullptr;
  }

  void stop_waiting(SessionBase* session) {
    if (session->waiting_key == 0) return;
    waiting.erase(session->waiting_key);
    session->waiting_key = 0;
  }

  /// The session waits for a request head (after its accept or a response):
  /// evictable from now on unless its client certificate was verified.
  void waits_for_request(SessionBase* session) {
    std::lock_guard lock(mutex);
    if (session->verified || session->evicted) return;
    stop_waiting(session);
    session->waiting_key = ++waiting_sequence;
    waiting.emplace(session->waiting_key, session);
  }

  /// A request head arrived complete (or was refused): being answered.
  void answering(SessionBase* session) {
    std::lock_guard lock(mutex);
    stop_waiting(session);
  }

  void forget_unverified(const std::string& address) {
    auto found = unverified.find(address);
    if (found != unverified.end() && --found->second <= 0) unverified.erase(found);
  }

  void mark_verified(SessionBase* session, const std::string& address) {
    std::lock_guard lock(mutex);
    session->verified = true;
    stop_waiting(session);
    forget_unverified(address);
  }

  void release(SessionBase* session, const std::string& address) {
    {
      std::lock_guard lock(mutex);
      sessions.erase(session);
      stop_waiting(session);
      if (session->evicted) --evicting;
      if (!session->verified) forget_unverified(address);
      --open;
    }
    drained.notify_all();
  }

  void track(const std::shared_ptr<SessionBase>& session) {
    std::lock_guard lock(mutex);
    sessions.emplace(session.get(), session);
  }

  std::vector<std::shared_ptr<SessionBase>> live_sessions() {
    std::vector<std::shared_ptr<SessionBase>> out;
    std::lock_guard lock(mutex);
    for (const auto& [raw, weak] : sessions) {
      if (auto session = weak.lock()) out.push_back(std::move(session));
    }
    return out;
  }

  Reply call_handler(const IncomingRequest& request) const {
    try {
      return options.handler(request);
    } catch (const std::exception& error) {
      return Reply{500, "application/json",
                   status_json(500, "InternalError",
                               std::string("Internal error occurred: ") + error.what())};
    }
  }

  void accept();
  void start_session(tcp::socket socket, std::string address);

  ListenerOptions options;
  mutable std::mutex mutex;
  std::condition_variable drained;
  int open = 0;
  int evicting = 0;  ///< evicted sessions not released yet (still in `open`)
  long long refused = 0;
  std::unordered_map<std::string, int> unverified;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  /// Sessions eviction may close, oldest wait first (key: waiting_sequence).
  std::map<std::uint64_t, SessionBase*> waiting;
  std::uint64_t waiting_sequence = 0;
  std::atomic<bool> stopping{false};
  bool started = false;
  bool descriptor_warning_logged = false;  // acceptor strand only
  int bound_port = 0;
  std::optional<asio::ssl::context> tls_context;
  std::optional<asio::thread_pool> workers;
  std::vector<std::thread> io_threads;
  // Declared last, destroyed first: destroying the io_context destroys the
  // handlers still queued, which own sessions, which release their slot in
  // the members above.
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
};

namespace {

template <bool Tls>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Tls>> {
  using Stream = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

 public:
  Session(Listener::Impl& owner, tcp::socket socket, std::string address)
      : owner_(owner),
        executor_(socket.get_executor()),
        stream_(make_stream(owner, std::move(socket))),
        reader_(owner.options.limits.request),
        address_(std::move(address)) {}

  ~Session() override { owner_.release(this, address_); }

  void run() {
    if constexpr (Tls) {
      tcp().expires_after(limits().handshake_timeout);
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = this->shared_from_this()](const error_code& ec) { self->on_handshake(ec); });
    } else {
      request_deadline_ = Clock::now() + limits().request_timeout;
      next();
    }
  }

  void close_if_idle() override {
    asio::post(executor_, [self = this->shared_from_this()] {
      if (!self->in_request_) self->close_now();
    });
  }
  void force_close() override {
    asio::post(executor_, [self = this->shared_from_this()] { self->close_now(); });
  }

 private:
  static Stream make_stream(Listener::Impl& owner, tcp::socket&& socket) {
    if constexpr (Tls) {
      return Stream(std::move(socket), *owner.tls_context);
    } else {
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }
  const ListenerLimits& limits() const { return owner_.options.limits; }

  void on_handshake(const error_code& ec) {
    if (closed_) return;  // evicted or stopped meanwhile
    if (ec) {
      owner_.event(ec == beast::error::timeout ? ConnectionEvent::handshake_timeout
                                               : ConnectionEvent::handshake_failed);
      close_now();
      return;
    }
    if constexpr (Tls) {
      if (owner_.options.trusted_peer && owner_.options.trusted_peer(stream_.native_handle())) {
        owner_.mark_verified(this, address_);
      }
    }
    request_deadline_ = Clock::now() + limits().request_timeout;
    next();
  }

  // Acts on what the reader holds: answers a complete request, refuses a bad
  // one, or reads more.
  void next() {
    if (closed_) return;
    switch (reader_.state()) {
      case RequestReader::State::complete:
        dispatch();
        return;
      case RequestReader::State::rejected:
        reject();
        return;
      case RequestReader::State::need_more:
        read();
        return;
    }
  }

  bool between_requests() const { return served_ > 0 && !reader_.partial(); }

  void read() {
    if (between_requests()) {
      if (owner_.stopping) {
        close_now();
        return;
      }
      tcp().expires_after(limits().keep_alive_timeout);
    } else {
      tcp().expires_at(request_deadline_);
    }
    stream_.async_read_some(asio::buffer(buffer_),
                            [self = this->shared_from_this()](const error_code& ec, std::size_t n) {
                              self->on_read(ec, n);
                            });
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (closed_) return;  // evicted or stopped meanwhile
    if (ec) {
      // An idle keep-alive connection ending is normal; a request (or the
      // first one) not complete by its deadline is a slow or stalled client.
      if (ec == beast::error::timeout && !between_requests())
        owner_.event(ConnectionEvent::request_timeout);
      close_now();
      return;
    }
    if (between_requests()) request_deadline_ = Clock::now() + limits().request_timeout;
    reader_.feed(std::string_view(buffer_.data(), n));
    next();
  }

  void dispatch() {
    HttpRequest request = reader_.take();
    ++served_;
    const bool keep_alive =
        request.keep_alive && served_ < limits().keep_alive_max_requests && !owner_.stopping;
    const bool head_request = request.method == "HEAD";
    const int version = request.version;
    in_request_ = true;
    owner_.answering(this);
    tcp().expires_never();
    IncomingRequest incoming;
    incoming.http = std::move(request);
    if constexpr (Tls) incoming.ssl = stream_.native_handle();
    incoming.peer_address = address_;
    if (!owner_.workers) {
      respond(owner_.call_handler(incoming), keep_alive, head_request, version);
      return;
    }
    asio::post(*owner_.workers, [self = this->shared_from_this(), incoming = std::move(incoming),
                                 keep_alive, head_request, version]() mutable {
      Reply reply = self->owner_.call_handler(incoming);
      asio::post(self->executor_,
                 [self, reply = std::move(reply), keep_alive, head_request, version]() mutable {
                   self->respond(std::move(reply), keep_alive, head_request, version);
                 });
    });
  }

  void reject() {
    const RequestRejection& why = reader_.rejection();
    owner_.event(event_for(why));
    in_request_ = true;
    owner_.answering(this);
    respond(Reply{why.status, "application/json", status_json(why.status, why.reason, why.message)},
            false, false, 11);
  }

  void respond(Reply reply, bool keep_alive, bool head_request, int version) {
    if (closed_) return;
    response_ = serialize(reply, keep_alive, head_request, version);
    tcp().expires_after(limits().write_timeout);
    asio::async_write(stream_, asio::buffer(response_),
                      [self = this->shared_from_this(), keep_alive](
                          const error_code& ec, std::size_t) { self->on_written(ec, keep_alive); });
  }

  void on_written(const error_code& ec, bool keep_alive) {
    in_request_ = false;
    response_.clear();
    response_.shrink_to_fit();
    if (ec) {
      close_now();
      return;
    }
    // Lingering or idle until the next request: evictable again.
    owner_.waits_for_request(this);
    if (!keep_alive || owner_.stopping) {
      close_after_response();
      return;
    }
    // A pipelined request already (partly) buffered: its deadline starts now.
    if (reader_.partial()) request_deadline_ = Clock::now() + limits().request_timeout;
    next();
  }

  // Half-closes, then drops what the client still sends for a moment so the
  // close does not reset the connection under the answer.
  void close_after_response() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (owner_.stopping) {
      close_now();
      return;
    }
    tcp().expires_after(kLingerTime);
    linger();
  }

  void linger() {
    tcp().async_read_some(asio::buffer(buffer_),
                          [self = this->shared_from_this()](const error_code& ec, std::size_t n) {
                            self->lingered_ += n;
                            if (ec || self->lingered_ > kLingerBytes) {
                              self->close_now();
                              return;
                            }
                            self->linger();
                          });
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  Listener::Impl& owner_;
  asio::any_io_executor executor_;
  Stream stream_;
  RequestReader reader_;
  std::string address_;
  std::array<char, 8192> buffer_{};
  std::string response_;
  Clock::time_point request_deadline_{};
  int served_ = 0;
  std::size_t lingered_ = 0;
  bool in_request_ = false;
  bool closed_ = false;
};

}  // namespace

void Listener::Impl::start_session(tcp::socket socket, std::string address) {
  error_code ignored;
  // Responses go out as several TLS records; without TCP_NODELAY Nagle holds
  // the last one for the client's delayed ACK (~40 ms per request).
  socket.set_option(tcp::no_delay(true), ignored);
  std::shared_ptr<SessionBase> session;
  if (options.tls) {
    auto tls = std::make_shared<Session<true>>(*this, std::move(socket), std::move(address));
    session = tls;
    track(session);
    waits_for_request(tls.get());
    tls->run();
  } else {
    auto plain = std::make_shared<Session<false>>(*this, std::move(socket), std::move(address));
    session = plain;
    track(session);
    waits_for_request(plain.get());
    plain->run();
  }
}

void Listener::Impl::accept() {
  acceptor->async_accept(asio::make_strand(io), [this](const error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || stopping) return;
    if (ec) {
      if (ec == asio::error::no_descriptors ||
          ec == boost::system::errc::too_many_files_open_in_system) {
        // Out of file descriptors: back off instead of spinning on accept.
        if (!descriptor_warning_logged) {
          warn(options.name + ": out of file descriptors; accepting again in 100 ms (" +
               ec.message() + ")");
          descriptor_warning_logged = true;
        }
        accept_retry->expires_after(std::chrono::milliseconds(100));
        accept_retry->async_wait([this](const error_code& wait_error) {
          if (!wait_error && !stopping) accept();
        });
        return;
      }
      accept();
      return;
    }
    error_code endpoint_error;
    const auto peer = socket.remote_endpoint(endpoint_error);
    if (!endpoint_error) {
      std::string address = peer.address().to_string();
      auto admission = admit(address);
      if (admission.refusal) {
        event(*admission.refusal);
        error_code ignored;
        socket.close(ignored);
      } else {
        if (admission.evicted) {
          event(ConnectionEvent::evicted_unverified);
          admission.evicted->force_close();
        }
        start_session(std::move(socket), std::move(address));
      }
    }
    accept();
  });
}

Listener::Listener(ListenerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Listener::~Listener() {
  stop(std::chrono::milliseconds(0));
}

Status Listener::start() {
  auto& self = *impl_;
  const auto& options = self.options;
  if (options.tls) {
    self.tls_context.emplace(asio::ssl::context::tls_server);
    if (!options.setup_tls || !options.setup_tls(*self.tls_context->native_handle()))
      return make_error(options.name + ": cannot set up the TLS context");
  }
  const std::string where = options.address + ":" + std::to_string(options.port);
  error_code ec;
  const auto ip = asio::ip::make_address(options.address, ec);
  if (ec) return make_error(options.name + ": cannot listen on " + where + ": " + ec.message());
  self.acceptor.emplace(asio::make_strand(self.io));
  self.accept_retry.emplace(self.acceptor->get_executor());
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(options.port));
  auto& acceptor = *self.acceptor;
  // SO_REUSEADDR for fast restarts; never SO_REUSEPORT, which would let a
  // second instance share the port silently.
  if (acceptor.open(endpoint.protocol(), ec) ||
      acceptor.set_option(asio::socket_base::reuse_address(true), ec) ||
      acceptor.bind(endpoint, ec) ||
      acceptor.listen(std::max(64, std::min(options.limits.max_connections, 4096)), ec)) {
    return make_error(options.name + ": cannot listen on " + where + ": " + ec.message());
  }
  self.bound_port = acceptor.local_endpoint(ec).port();
  if (options.request_threads > 0)
    self.workers.emplace(static_cast<std::size_t>(options.request_threads));
  self.work.emplace(self.io.get_executor());
  self.accept();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    self.io_threads.emplace_back([&self] {
      while (true) {
        try {
          self.io.run();
          return;
        } catch (const std::exception& error) {  // a bug in a handler: log, keep serving
          self.warn(self.options.name + ": " + error.what());
        }
      }
    });
  }
  self.started = true;
  return Status::ok();
}

int Listener::port() const {
  return impl_->bound_port;
}

void Listener::stop(std::chrono::milliseconds grace) {
  auto& self = *impl_;
  if (!self.started) return;
  self.started = false;
  const auto deadline = Clock::now() + grace;
  self.stopping = true;
  asio::post(self.acceptor->get_executor(), [&self] {
    error_code ignored;
    self.acceptor->close(ignored);
    self.accept_retry->cancel();
  });
  for (const auto& session : self.live_sessions()) session->close_if_idle();
  {
    std::unique_lock lock(self.mutex);
    if (!self.drained.wait_until(lock, deadline, [&self] { return self.open == 0; })) {
      lock.unlock();
      if (grace.count() > 0)
        self.warn(self.options.name +
                  ": requests still running after the grace period; closing their connections");
      for (const auto& session : self.live_sessions()) session->force_close();
      lock.lock();
      self.drained.wait_for(lock, std::chrono::milliseconds(500),
                            [&self] { return self.open == 0; });
    }
  }
  if (self.workers) self.workers->join();  // handlers still running finish
  self.work.reset();
  self.io.stop();
  for (auto& thread : self.io_threads) thread.join();
  self.io_threads.clear();
}

int Listener::open_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->open;
}

long long Listener::refused_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->refused;
}

}  // namespace prescale::kubernetes::detail
