#pragma once
// HTTP/1.1 requests read from untrusted bytes with every limit checked as
// the bytes arrive, never after buffering them: the request line against the
// URI limit before its end is seen, header lines and bytes line by line, the
// body against its limit. One request at a time; bytes after it (pipelined
// requests, RFC 9112 section 9.3.2) stay buffered for the next one.
// Bodies are framed by Content-Length only: no route reads a body, so a
// Transfer-Encoding (chunked size lines, extensions, trailers) is refused
// with 411 rather than parsed. The grammar is Boost.Beast's parser; this adds
// the limits and the answer.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace prescale::kubernetes {

/// What one request may hold. The buffer a reader keeps is bounded by
/// max_uri_length + max_header_bytes + one read.
struct RequestLimits {
  std::size_t max_uri_length = 4096;     ///< request target bytes (414 beyond)
  std::size_t max_header_bytes = 16384;  ///< header field lines, CRLF included (431 beyond)
  std::size_t max_header_fields = 512;   ///< header field lines (431 beyond)
  std::size_t max_body_bytes = 65536;    ///< decoded body bytes (413 beyond)
};

/// One parsed request. Header names keep the client's spelling.
struct HttpRequest {
  std::string method;
  std::string target;
  int version = 11;  ///< 10 or 11
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = true;  ///< what the client asked for (version and Connection)
};

/// Why a request is refused before any handler sees it: the HTTP status, and
/// the metav1.Status reason and message to answer with. The connection is
/// closed after the answer: the rest of its bytes cannot be trusted to frame
/// a next request.
struct RequestRejection {
  int status = 400;
  std::string reason = "BadRequest";
  std::string message;
};

/// Incremental request reader. Not thread-safe; one per connection.
class RequestReader {
 public:
  enum class State { need_more, complete, rejected };

  explicit RequestReader(RequestLimits limits = {});
  ~RequestReader();
  RequestReader(RequestReader&&) noexcept;
  RequestReader& operator=(RequestReader&&) noexcept;

  /// Appends bytes read from the connection and parses as far as they go.
  /// Once rejected, further bytes are ignored.
  State feed(std::string_view bytes);
  [[nodiscard]] State state() const;
  /// The complete request; the reader moves on to the bytes after it (a
  /// pipelined request may be complete at once: check state() again).
  HttpRequest take();
  /// Set when state() is rejected.
  [[nodiscard]] const RequestRejection& rejection() const;
  /// True when bytes of a request not yet complete are buffered: the
  /// connection's request deadline runs from the first of them.
  [[nodiscard]] bool partial() const;
  /// Bytes held (the unparsed part of the current request and what follows).
  [[nodiscard]] std::size_t buffered() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prescale::kubernetes
