#include "prescale/kubernetes/request_reader.hpp"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <optional>

namespace prescale::kubernetes {
namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;

// Room for the method, spaces and " HTTP/1.1\r\n" around the target.
constexpr std::size_t kRequestLineSlack = 64;

RequestRejection uri_too_long(std::size_t seen, std::size_t limit, bool complete) {
  return {414, "RequestURITooLong",
          std::string(complete ? "request URI of " : "request line of more than ") +
              std::to_string(seen) + " bytes exceeds the limit of " + std::to_string(limit)};
}

RequestRejection header_too_large(std::string what) {
  return {431, "RequestHeaderFieldsTooLarge", std::move(what)};
}

// Beast's grammar; the request goes straight into an HttpRequest and the
// limits that need parsed values (target, fields, body) are checked here.
class Parser final : public http::basic_parser<true> {
 public:
  Parser(HttpRequest& out, const RequestLimits& limits) : out_(out), limits_(limits) {
    // The pre-scan in RequestReader refuses earlier; this is the backstop.
    header_limit(static_cast<std::uint32_t>(limits.max_uri_length + kRequestLineSlack +
                                            limits.max_header_bytes + 16));
    body_limit(limits.max_body_bytes);
    eager(true);
  }
  std::optional<RequestRejection> rejection;

 private:
  void on_request_impl(http::verb, boost::beast::string_view method,
                       boost::beast::string_view target, int version, error_code& ec) override {
    if (target.size() > limits_.max_uri_length) {
      rejection = uri_too_long(target.size(), limits_.max_uri_length, true);
      ec = http::error::bad_target;
      return;
    }
    if (version != 10 && version != 11) {
      rejection = RequestRejection{400, "BadRequest", "HTTP version not supported"};
      ec = http::error::bad_version;
      return;
    }
    out_.method.assign(method.data(), method.size());
    out_.target.assign(target.data(), target.size());
    out_.version = version;
  }
  void on_response_impl(int, boost::beast::string_view, int, error_code& ec) override {
    ec = http::error::bad_method;
  }
  void on_field_impl(http::field field, boost::beast::string_view name,
                     boost::beast::string_view value, error_code& ec) override {
    if (field == http::field::transfer_encoding) {
      // No route reads a body: a chunked one (its size lines, extensions and
      // trailers, each unbounded) is refused rather than parsed.
      rejection = RequestRejection{411, "LengthRequired",
                                   "Transfer-Encoding is not accepted: send a Content-Length"};
      ec = http::error::bad_transfer_encoding;
      return;
    }
    out_.headers.emplace_back(std::string(name.data(), name.size()),
                              std::string(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override { out_.keep_alive = keep_alive(); }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) out_.body.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(boost::beast::string_view body, error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  // Unreachable: Transfer-Encoding is refused in on_field_impl.
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  HttpRequest& out_;
  const RequestLimits& limits_;
};

}  // namespace

struct RequestReader::Impl {
  explicit Impl(RequestLimits l) : limits(l) { reset(); }

  RequestLimits limits;
  std::string buffer;  // unparsed bytes: the current request onwards
  HttpRequest request;
  std::unique_ptr<Parser> parser;
  State state = State::need_more;
  RequestRejection rejection;
  // Pre-scan of the head (before Beast sees a complete one): where the next
  // unscanned byte is, where the current line starts, what was counted.
  std::size_t scanned = 0;
  std::size_t line_start = 0;
  bool request_line_seen = false;
  bool head_end_seen = false;
  std::size_t field_lines = 0;
  std::size_t field_bytes = 0;

  void reset() {
    request = HttpRequest{};
    parser = std::make_unique<Parser>(request, limits);
    scanned = line_start = 0;
    request_line_seen = head_end_seen = false;
    field_lines = field_bytes = 0;
    state = State::need_more;
  }

  void reject(RequestRejection why) {
    rejection = std::move(why);
    state = State::rejected;
  }

  // Counts head lines and bytes as they arrive, so a flood is refused after
  // at most the limit plus one read, whatever Beast would buffer.
  bool scan_head() {
    while (!head_end_seen && scanned < buffer.size()) {
      const auto newline = buffer.find('\n', scanned);
      if (newline == std::string::npos) {
        scanned = buffer.size();
        break;
      }
      const std::size_t line_length = newline + 1 - line_start;
      // RFC 9112 allows a recipient to accept a bare LF; refusing it keeps
      // one framing for every cut of the bytes (Beast wants CRLF too). Sizes
      // are checked first, as they are while a line is still arriving.
      const bool crlf = newline > line_start && buffer[newline - 1] == '\r';
      if (!request_line_seen) {
        if (line_length > limits.max_uri_length + kRequestLineSlack) {
          reject(uri_too_long(line_length, limits.max_uri_length, false));
          return false;
        }
        if (!crlf) return reject_bare_lf();
        request_line_seen = true;
      } else if (line_length == 2 && crlf) {
        head_end_seen = true;  // the empty line: the head is complete
      } else {
        ++field_lines;
        field_bytes += line_length;
        if (!check_fields()) return false;
        if (!crlf) return reject_bare_lf();
      }
      line_start = scanned = newline + 1;
    }
    if (head_end_seen) return true;
    const std::size_t pending = buffer.size() - line_start;  // the line still arriving
    if (!request_line_seen && pending > limits.max_uri_length + kRequestLineSlack) {
      reject(uri_too_long(pending, limits.max_uri_length, false));
      return false;
    }
    // A lone "\r" may be the start of the empty line that ends the head.
    const bool counted = pending > 1 || (pending == 1 && buffer[line_start] != '\r');
    if (request_line_seen && counted && field_bytes + pending > limits.max_header_bytes) {
      reject(header_too_large(
          "request headers of more than " + std::to_string(limits.max_header_bytes) +
          " bytes exceed the limit of " + std::to_string(limits.max_header_bytes)));
      return false;
    }
    return true;
  }

  bool reject_bare_lf() {
    reject({400, "BadRequest", "malformed HTTP request: line ends without CR"});
    return false;
  }

  bool check_fields() {
    if (field_lines > limits.max_header_fields) {
      reject(header_too_large("more than " + std::to_string(limits.max_header_fields) +
                              " request header fields"));
      return false;
    }
    if (field_bytes > limits.max_header_bytes) {
      reject(header_too_large(
          "request headers of more than " + std::to_string(limits.max_header_bytes) +
          " bytes exceed the limit of " + std::to_string(limits.max_header_bytes)));
      return false;
    }
    return true;
  }

  void advance() {
    if (state != State::need_more) return;
    if (!request_line_seen) {
      // RFC 9112 section 2.2: empty lines before a request line are ignored.
      const auto start = buffer.find_first_not_of("\r\n");
      if (start != 0) {
        buffer.erase(0, start == std::string::npos ? buffer.size() : start);
        scanned = line_start = 0;
      }
    }
    if (!parser->is_header_done()) {
      if (!scan_head() || !head_end_seen) return;
      // Beast sees exactly the head, once it is complete: what it makes of
      // it must not depend on how the bytes were cut or what follows (it
      // asks for more bytes on a short version, for one).
      error_code ec;
      const std::size_t used = parser->put(boost::asio::buffer(buffer.data(), line_start), ec);
      if (ec && ec != http::error::need_more) {
        fail(ec);
        return;
      }
      if (!parser->is_header_done()) {  // terminated, yet not a head Beast can read
        reject({400, "BadRequest", "malformed HTTP request head"});
        return;
      }
      buffer.erase(0, used);
    }
    while (!buffer.empty() && !parser->is_done()) {
      error_code ec;
      const std::size_t used = parser->put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
      buffer.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) {
        fail(ec);
        return;
      }
      if (used == 0) break;
    }
    if (parser->is_done()) state = State::complete;
  }

  void fail(const error_code& ec) {
    if (parser->rejection) {
      reject(*parser->rejection);
    } else if (ec == http::error::body_limit) {
      reject({413, "RequestEntityTooLarge",
              "request body exceeds the limit of " + std::to_string(limits.max_body_bytes) +
                  " bytes"});
    } else if (ec == http::error::header_limit) {
      reject(header_too_large("request header exceeds the limit"));
    } else {
      reject({400, "BadRequest", "malformed HTTP request: " + ec.message()});
    }
  }
};

RequestReader::RequestReader(RequestLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
RequestReader::~RequestReader() = default;
RequestReader::RequestReader(RequestReader&&) noexcept = default;
RequestReader& RequestReader::operator=(RequestReader&&) noexcept = default;

RequestReader::State RequestReader::feed(std::string_view bytes) {
  if (impl_->state == State::need_more) {
    impl_->buffer.append(bytes);
    impl_->advance();
  } else if (impl_->state == State::complete) {
    impl_->buffer.append(bytes);  // the next request; parsed after take()
  }
  return impl_->state;
}

RequestReader::State RequestReader::state() const {
  return impl_->state;
}

HttpRequest RequestReader::take() {
  HttpRequest out = std::move(impl_->request);
  impl_->reset();
  impl_->advance();
  return out;
}

const RequestRejection& RequestReader::rejection() const {
  return impl_->rejection;
}

bool RequestReader::partial() const {
  return impl_->state == State::need_more && (!impl_->buffer.empty() || impl_->parser->got_some());
}

std::size_t RequestReader::buffered() const {
  return impl_->buffer.size();
}

}  // namespace prescale::kubernetes
