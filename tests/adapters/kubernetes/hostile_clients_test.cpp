// Clients that do not play by the rules, against the real HTTPS server: slow
// heads and silent handshakes (slowloris), header floods, pipelined requests,
// long URIs, many connections from one address. The server must cut them by
// its deadlines and limits, answer a metav1.Status where it can, and keep
// answering probes and authenticated clients meanwhile.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "prescale/kubernetes/server.hpp"
#include "server_fixture.hpp"

using namespace prescale;
using namespace prescale::kubernetes;
using namespace prescale::kubernetes::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// A TCP connection from a chosen loopback address, optionally TLS (client
// certificate optional), that writes whatever bytes it is given, as fast or
// as slowly as asked, reading what the server answers meanwhile.
class RawClient {
 public:
  RawClient(int port, const std::string& source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0;
  }
  ~RawClient() {
    if (ssl_) SSL_free(ssl_);
    if (context_) SSL_CTX_free(context_);
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }

  // TLS handshake (blocking), trusting the serving CA; `cert`/`key` empty: none.
  bool handshake(const Fixture& fixture, const std::string& client = "") {
    context_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(context_, fixture.pki->cert("serving").c_str(), nullptr);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    if (!client.empty()) {
      SSL_CTX_use_certificate_file(context_, fixture.pki->cert(client).c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(context_, fixture.pki->key(client).c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(context_);
    SSL_set_mode(ssl_, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
    SSL_set_fd(ssl_, fd_);
    const bool ok = SSL_connect(ssl_) == 1;
    ERR_clear_error();
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
    return ok;
  }

  // Writes `bytes` (in pieces of `piece` bytes, `pause` apart) while reading
  // the answer; returns when the server closed the connection, everything
  // was sent and `linger` passed after it, or `limit` passed.
  void exchange(const std::string& bytes, std::chrono::milliseconds limit,
                std::size_t piece = 1 << 16,
                std::chrono::milliseconds pause = std::chrono::milliseconds(0),
                std::chrono::milliseconds linger = std::chrono::milliseconds(500)) {
    const auto start = Clock::now();
    std::size_t sent = 0;
    auto next_write = start;
    auto all_sent_at = Clock::time_point::max();
    std::string pending;
    while (!closed_) {
      const auto now = Clock::now();
      if (now - start > limit) return;
      if (sent == bytes.size() && pending.empty()) {
        if (all_sent_at == Clock::time_point::max()) all_sent_at = now;
        if (now - all_sent_at > linger) return;
      }
      if (!write_failed_ && now >= next_write && (sent < bytes.size() || !pending.empty())) {
        if (pending.empty()) {
          pending = bytes.substr(sent, piece);
          sent += pending.size();
        }
        if (write_some(pending)) next_write = now + pause;
      }
      read_some();
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, 20);
    }
  }

  // Reads until the server closes or `limit` passes.
  void read_until_closed(std::chrono::milliseconds limit) {
    exchange("", limit, 1, std::chrono::milliseconds(0), limit);
  }

  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }
  // When the server closed the connection (time_point::max() if it did not).
  Clock::time_point closed_at() const { return closed_at_; }

 private:
  // True once `pending` is written whole (it is cleared).
  bool write_some(std::string& pending) {
    if (ssl_) {
      const int n = SSL_write(ssl_, pending.data(), static_cast<int>(pending.size()));
      if (n > 0) {
        pending.erase(0, static_cast<std::size_t>(n));
        return pending.empty();
      }
      const int error = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (error != SSL_ERROR_WANT_WRITE && error != SSL_ERROR_WANT_READ) write_failed_ = true;
      return false;
    }
    const ssize_t n = ::send(fd_, pending.data(), pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      pending.erase(0, static_cast<std::size_t>(n));
      return pending.empty();
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) write_failed_ = true;
    return false;
  }

  void read_some() {
    char buffer[16384];
    while (!closed_) {
      if (ssl_) {
        const int n = SSL_read(ssl_, buffer, sizeof buffer);
        if (n > 0) {
          received_.append(buffer, static_cast<std::size_t>(n));
          continue;
        }
        const int error = SSL_get_error(ssl_, n);
        ERR_clear_error();
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
      } else {
        const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n > 0) {
          received_.append(buffer, static_cast<std::size_t>(n));
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      }
      closed_ = true;  // orderly close, reset or TLS error: the server is done with us
      closed_at_ = Clock::now();
    }
  }

  int fd_ = -1;
  bool connected_ = false;
  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string received_;
  bool closed_ = false;
  bool write_failed_ = false;
  Clock::time_point closed_at_ = Clock::time_point::max();
};

struct Response {
  int status = 0;
  std::string headers;
  std::string body;
};

// Splits HTTP/1.1 responses (Content-Length framed) in the order received;
// `head_answer` (0-based) is the answer to a HEAD request, which has no body.
std::vector<Response> parse_responses(std::string text, int head_answer = -1) {
  std::vector<Response> out;
  static const std::regex status_line(R"(^HTTP/1\.[01] (\d{3}) )");
  static const std::regex content_length(R"(content-length:\s*(\d+))", std::regex::icase);
  while (true) {
    const auto end = text.find("\r\n\r\n");
    if (end == std::string::npos) break;
    Response response;
    response.headers = text.substr(0, end);
    std::smatch match;
    if (!std::regex_search(response.headers, match, status_line)) break;
    response.status = std::stoi(match[1]);
    std::size_t length = 0;
    if (std::regex_search(response.headers, match, content_length) &&
        static_cast<int>(out.size()) != head_answer)
      length = std::stoul(match[1]);
    if (text.size() < end + 4 + length) break;
    response.body = text.substr(end + 4, length);
    text.erase(0, end + 4 + length);
    out.push_back(std::move(response));
  }
  return out;
}

// Peak resident memory of this process (the server runs in it), in bytes;
// reset_peak() starts a new peak from the current RSS (Linux >= 4.0).
std::size_t peak_rss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}
std::size_t current_rss() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  }
  return 0;
}
void reset_peak() {
  std::ofstream("/proc/self/clear_refs") << "5";
}

HttpResult plain_get(int port, const std::string& path) {
  auto result =
      run("curl -sS --max-time 10 -w '\\n%{http_code}' 'http://127.0.0.1:" + std::to_string(port) +
          path + "' 2>&1");
  const auto newline = result.output.rfind('\n');
  HttpResult out;
  out.http_status =
      newline == std::string::npos ? 0 : std::atoi(result.output.c_str() + newline + 1);
  out.output = newline == std::string::npos ? result.output : result.output.substr(0, newline);
  return out;
}

ServerOptions hostile_options(const Fixture& fixture) {
  auto options = fixture.options();
  options.probe_port = 0;
  options.limits.handshake_timeout = std::chrono::seconds(2);
  options.limits.request_timeout = std::chrono::seconds(2);
  return options;
}

}  // namespace

TEST_CASE("a slow request head or a silent handshake is cut at its deadline; probes answer",
          "[server][integration][hostile]") {
  Fixture fixture;
  Server server(hostile_options(fixture), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  // Slowloris on both phases: connections that never start the handshake,
  // and TLS connections sending their head one byte every 200 ms (each read
  // well inside any per-read timeout).
  std::vector<std::unique_ptr<RawClient>> silent;
  for (int i = 0; i < 4; ++i) {
    silent.push_back(std::make_unique<RawClient>(port));
    REQUIRE(silent.back()->connected());
  }
  const std::string head =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a') + "\r\n\r\n";
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 3; ++i) {
    slow.push_back(std::make_unique<RawClient>(port));
    REQUIRE(slow.back()->handshake(fixture));
  }
  const auto start = Clock::now();
  std::vector<std::thread> drippers;
  for (auto& client : slow) {
    drippers.emplace_back([&client, &head] {
      client->exchange(head, std::chrono::seconds(20), 1, std::chrono::milliseconds(200));
    });
  }
  // Meanwhile the probe port, the HTTPS probes and an authenticated client are served.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(plain_get(server.probe_port(), "/healthz").http_status == 200);
  CHECK(fixture.curl(port, "/healthz", "").http_status == 200);
  CHECK(fixture.curl(port, kMetric, "alice").http_status == 200);
  for (auto& thread : drippers) thread.join();

  // Deadline 2 s; "well before the 20 s the client would keep going".
  for (auto& client : slow) {
    CHECK(client->closed());
    CHECK(client->closed_at() - start < std::chrono::seconds(15));
    CHECK(client->received().empty());  // cut, not answered: the head never completed
  }
  for (auto& client : silent) {
    client->read_until_closed(std::chrono::seconds(15));
    CHECK(client->closed());
  }
  const auto metrics = fixture.curl(port, "/metrics", "");
  CHECK_THAT(metrics.output,
             Catch::Contains("prescale_api_connection_limits_total{limit=\"request_timeout\"} 3"));
  CHECK_THAT(
      metrics.output,
      Catch::Contains("prescale_api_connection_limits_total{limit=\"handshake_timeout\"} 4"));
}

TEST_CASE("connections without a verified certificate are capped per client address",
          "[server][integration][hostile]") {
  Fixture fixture;
  auto options = hostile_options(fixture);
  options.limits.max_unverified_connections_per_address = 3;
  options.limits.handshake_timeout = std::chrono::seconds(30);  // held for the whole test
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  // An authenticated connection held open does not count against its address
  // (once its handshake is done: one request makes sure of it).
  RawClient kept(port);
  REQUIRE(kept.handshake(fixture, "alice"));
  const std::string request = "GET " + kMetric + " HTTP/1.1\r\nHost: x\r\n\r\n";
  kept.exchange(request, std::chrono::seconds(10), 1 << 16, std::chrono::milliseconds(0),
                std::chrono::milliseconds(300));
  REQUIRE(parse_responses(kept.received()).size() == 1);
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawClient>(port));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all accepted

  // 127.0.0.1 is at its cap: a fourth is closed at accept, with or without a certificate.
  CHECK(fixture.curl(port, "/healthz", "").http_status == 0);
  // Another address is not affected, nor is the probe port.
  const auto other =
      run("curl -sS --max-time 10 -o /dev/null -w '%{http_code}' --interface "
          "127.0.0.2 --cacert " +
          fixture.pki->cert("serving") + " https://127.0.0.1:" + std::to_string(port) + "/healthz");
  CHECK(other.output == "200");
  CHECK(plain_get(server.probe_port(), "/healthz").http_status == 200);
  // The kept connection still serves requests.
  kept.exchange(request, std::chrono::seconds(10), 1 << 16, std::chrono::milliseconds(0),
                std::chrono::milliseconds(300));
  const auto answers = parse_responses(kept.received());
  REQUIRE(answers.size() == 2);
  CHECK(answers[1].status == 200);

  held.clear();  // the address's slots free up
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 200; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = fixture.curl(port, "/healthz", "").http_status;
  }
  CHECK(status == 200);
  CHECK_THAT(fixture.curl(port, "/metrics", "").output,
             Catch::Contains("prescale_api_connection_limits_total{limit=\"address_limit\"} 1"));
}

namespace {

// The value of prescale_api_connection_limits_total{limit="<limit>"} in a
// /metrics text, -1 when absent.
double limit_count(const std::string& metrics, const std::string& limit) {
  const std::regex line("prescale_api_connection_limits_total\\{limit=\"" + limit +
                        "\"\\} ([0-9.e+]+)");
  std::smatch match;
  return std::regex_search(metrics, match, line) ? std::stod(match[1]) : -1;
}

}  // namespace

TEST_CASE("at the connection cap, the unverified connection waiting longest makes room",
          "[server][integration][hostile]") {
  Fixture fixture;
  auto options = hostile_options(fixture);
  options.limits.max_connections = 6;
  options.limits.max_unverified_connections_per_address = 2;
  // Held for the whole test: only an eviction closes them.
  options.limits.handshake_timeout = std::chrono::seconds(60);
  options.limits.request_timeout = std::chrono::seconds(60);
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  // A slowloris from three addresses, each within its per-address cap, fills
  // every slot: from each, one connection that never starts its handshake and
  // one TLS connection without a certificate holding half a request head.
  std::vector<std::unique_ptr<RawClient>> idle;
  for (const char* source : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
    idle.push_back(std::make_unique<RawClient>(port, source));
    REQUIRE(idle.back()->connected());
    idle.push_back(std::make_unique<RawClient>(port, source));
    REQUIRE(idle.back()->handshake(fixture));
    idle.back()->exchange("GET /healthz HTTP/1.1\r\nHost", std::chrono::milliseconds(200));
  }
  // Connections are accepted in the order they were made, so this one finds
  // the six slots taken: the oldest idle connection makes room for it.
  const auto verified = fixture.curl(port, kMetric, "alice");
  INFO(verified.output);
  CHECK(verified.http_status == 200);
  idle.front()->read_until_closed(std::chrono::seconds(10));
  CHECK(idle.front()->closed());
  CHECK(idle.front()->received().empty());
  idle.back()->read_until_closed(std::chrono::milliseconds(300));
  CHECK_FALSE(idle.back()->closed());  // the newest is still held

  const auto metrics = fixture.curl(port, "/metrics", "");
  REQUIRE(metrics.http_status == 200);
  CHECK(limit_count(metrics.output, "evicted_unverified") >= 1);
  CHECK(limit_count(metrics.output, "connection_limit") == 0);
}

TEST_CASE("a header flood is refused with a 431 Status and bounded memory",
          "[server][integration][hostile]") {
  Fixture fixture;
  Server server(hostile_options(fixture), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  // 400,000 header lines (6.4 MB) per connection, on 4 connections.
  std::string flood = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 400000; ++i) flood += "X-Flood: 1234567\r\n";
  flood += "\r\n";
  const std::size_t before = current_rss();
  reset_peak();
  for (int i = 0; i < 4; ++i) {
    RawClient client(port);
    REQUIRE(client.handshake(fixture));
    client.exchange(flood, std::chrono::seconds(20));
    INFO(client.received().substr(0, 400));
    CHECK(client.closed());
    const auto answers = parse_responses(client.received());
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].status == 431);
    CHECK_THAT(answers[0].headers, Catch::Contains("Connection: close"));
    const json status = json::parse(answers[0].body);
    CHECK(status["kind"] == "Status");
    CHECK(status["reason"] == "RequestHeaderFieldsTooLarge");
    CHECK(status["code"] == 431);
  }
  // The flood text itself (6.4 MB) is this process' own; the server may keep
  // no more than its limits. Before the limits were checked while reading,
  // each such connection cost the server ~50 MB.
  const std::size_t growth = peak_rss() > before ? peak_rss() - before : 0;
  INFO("peak RSS growth " << growth / 1024 << " KiB");
  CHECK(growth < 48u * 1024 * 1024);

  // Too many header lines, each small, are refused the same way.
  std::string many = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 600; ++i) many += "A:\r\n";
  RawClient lines(port);
  REQUIRE(lines.handshake(fixture));
  lines.exchange(many + "\r\n", std::chrono::seconds(10));
  const auto answers = parse_responses(lines.received());
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].status == 431);
  CHECK(plain_get(server.probe_port(), "/healthz").http_status == 200);
}

TEST_CASE("pipelined requests are answered in order on one connection",
          "[server][integration][hostile]") {
  Fixture fixture;
  Server server(hostile_options(fixture), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  // RFC 9112 section 9.3.2: a server may answer pipelined requests in order.
  RawClient client(port);
  REQUIRE(client.handshake(fixture, "alice"));
  const std::string requests =
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET " +
      kMetric +
      " HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /apis/external.metrics.k8s.io/v1beta1/namespaces/shop/unknown HTTP/1.1\r\nHost: "
      "x\r\n\r\n"
      "HEAD /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /apis HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  client.exchange(requests, std::chrono::seconds(15));
  CHECK(client.closed());  // after the last, which asked for it
  CHECK(client.closed_at() != Clock::time_point::max());
  const auto answers = parse_responses(client.received(), 3);
  REQUIRE(answers.size() == 5);
  CHECK(answers[0].status == 200);
  CHECK(answers[0].body == "ok");
  CHECK(answers[1].status == 200);
  CHECK(json::parse(answers[1].body)["items"][0]["value"] == "1234568m");
  CHECK(answers[2].status == 404);
  CHECK(json::parse(answers[2].body)["reason"] == "NotFound");
  CHECK(answers[3].status == 200);
  CHECK(answers[3].body.empty());  // HEAD
  CHECK(answers[4].status == 200);
  CHECK(json::parse(answers[4].body)["kind"] == "APIGroupList");
  CHECK_THAT(answers[4].headers, Catch::Contains("Connection: close"));

  // Sent one byte at a time, the same requests give the same answers.
  RawClient dribble(port);
  REQUIRE(dribble.handshake(fixture, "alice"));
  dribble.exchange(requests, std::chrono::seconds(15), 7);
  CHECK(parse_responses(dribble.received(), 3).size() == 5);
}

TEST_CASE("a URI over the limit gets a 414 Status at once, whatever its length",
          "[server][integration][hostile]") {
  Fixture fixture;
  Server server(hostile_options(fixture), fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();
  for (const std::size_t length : {std::size_t{9000}, std::size_t{200000}}) {
    INFO("URI of " << length << " bytes");
    RawClient client(port);
    REQUIRE(client.handshake(fixture));
    // The head is never finished: the answer must not wait for it.
    const std::string head = "GET /healthz?pad=" + std::string(length, 'a');
    client.exchange(head, std::chrono::seconds(10));
    CHECK(client.closed());
    const auto answers = parse_responses(client.received());
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].status == 414);
    const json status = json::parse(answers[0].body);
    CHECK(status["kind"] == "Status");
    CHECK(status["reason"] == "RequestURITooLong");
    CHECK(status["code"] == 414);
  }
  CHECK(fixture.curl(port, "/healthz", "").http_status == 200);
}

TEST_CASE("the probe port serves probes only, over plain HTTP", "[server][integration]") {
  Fixture fixture;
  Server server(hostile_options(fixture), fixture.store);
  REQUIRE(server.start().has_value());
  const int probes = server.probe_port();
  REQUIRE(probes > 0);
  CHECK(probes != server.port());
  for (const char* path : {"/healthz", "/livez", "/readyz"}) {
    const auto result = plain_get(probes, path);
    INFO(path);
    CHECK(result.http_status == 200);
    CHECK(result.output == "ok");
  }
  const auto metrics = plain_get(probes, "/metrics");
  CHECK(metrics.http_status == 404);
  CHECK(json::parse(metrics.output)["kind"] == "Status");
  CHECK(plain_get(probes, kMetric).http_status == 404);
  fixture.store.publish(std::make_shared<Snapshot>());  // not ready
  CHECK(plain_get(probes, "/readyz").http_status == 500);
  CHECK(plain_get(probes, "/livez").http_status == 200);
  // HTTPS does not answer there.
  CHECK(fixture.curl(probes, "/healthz", "").http_status == 0);
}
