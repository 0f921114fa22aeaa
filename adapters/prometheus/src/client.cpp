#include "prescale/prometheus/client.hpp"

#include <fmt/core.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "detail/curl.hpp"
#include "prescale/common/text.hpp"
#include "prescale/common/url.hpp"
#include "prescale/curl_loader/curl_loader.hpp"

namespace prescale::prometheus {
namespace {

// Transient failures worth another try; TLS verification or a malformed
// URL will fail the same way every time.
bool is_retryable(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

bool is_retryable(long status) {
  return status == 429 || status >= 500;
}

struct Received {
  std::string* body;
  std::string retry_after;
  std::size_t max_body = 0;  // 0 = no limit
  bool too_big = false;
  const std::atomic<bool>* cancelled = nullptr;
};

size_t write_body(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  if (received->cancelled->load(std::memory_order_relaxed)) return 0;
  // Refused as it arrives (decompressed), so a runaway reply never sits in memory.
  if (received->max_body != 0 && received->body->size() + size * count > received->max_body) {
    received->too_big = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR (not retried)
  }
  received->body->append(data, size * count);
  return size * count;
}

// libcurl calls this about once a second even while nothing arrives (and
// while connecting): a non-zero return aborts the transfer with
// CURLE_ABORTED_BY_CALLBACK. This is how cancel() reaches a hung request.
int abort_if_cancelled(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(user)->load(std::memory_order_relaxed) ? 1 : 0;
}

size_t read_header(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const std::string_view line(data, size * count);
  const auto value_of = [&](std::string_view name) -> std::optional<std::string> {
    if (line.size() <= name.size()) return std::nullopt;
    std::string lower(line.substr(0, name.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower != name) return std::nullopt;
    return std::string(trim(line.substr(name.size())));
  };
  if (auto value = value_of("retry-after:")) received->retry_after = *value;
  // The body's size when the server says it (before decompression, so a
  // lower bound): reserved at once instead of growing by doubling, which
  // briefly holds both the old and the new buffer.
  if (auto value = value_of("content-length:")) {
    std::size_t length = 0;
    const auto [end, code] = std::from_chars(value->data(), value->data() + value->size(), length);
    if (code == std::errc() && end == value->data() + value->size()) {
      if (received->max_body != 0) length = std::min(length, received->max_body);
      received->body->reserve(length + simdjson::SIMDJSON_PADDING);
    }
  }
  return size * count;
}

}  // namespace

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry) {
  auto delay = policy.initial_backoff;
  for (int i = 1; i < retry && delay < policy.max_backoff; ++i) delay *= 2;
  return std::min(delay, policy.max_backoff);
}

struct Client::Impl {
  ClientOptions options;
  detail::CurlEasy easy;
  std::mt19937_64 random;
  // The bearer token file as last read; re-read when any of these change.
  std::string token;
  struct stat token_stat {};
  bool token_loaded = false;
  // cancel(): set from any thread, read by curl's callbacks and the retry sleep.
  std::atomic<bool> cancelled{false};
  std::mutex cancel_mutex;
  std::condition_variable cancel_cv;

  explicit Impl(ClientOptions opts) : options(std::move(opts)) {
    random.seed(options.jitter_seed != 0 ? options.jitter_seed : std::random_device{}());
    while (!options.url.empty() && options.url.back() == '/') options.url.pop_back();
  }

  Status refresh_token(bool force) {
    if (options.bearer_token_file.empty()) return Status::ok();
    struct stat now {};
    if (::stat(options.bearer_token_file.c_str(), &now) != 0) {
      return make_error(fmt::format("cannot read bearer token file {}: {}",
                                    options.bearer_token_file, std::strerror(errno)));
    }
    const bool changed = !token_loaded || now.st_ino != token_stat.st_ino ||
                         now.st_size != token_stat.st_size ||
                         now.st_mtim.tv_sec != token_stat.st_mtim.tv_sec ||
                         now.st_mtim.tv_nsec != token_stat.st_mtim.tv_nsec;
    if (!changed && !force) return Status::ok();
    std::ifstream in(options.bearer_token_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) {
      return make_error(fmt::format("cannot read bearer token file {}", options.bearer_token_file));
    }
    const std::string content = text.str();
    token = trim(content);
    token_stat = now;
    token_loaded = true;
    return Status::ok();
  }

  std::chrono::milliseconds jittered(std::chrono::milliseconds delay) {
    const double jitter = std::clamp(options.retry.jitter, 0.0, 1.0);
    std::uniform_real_distribution<double> scale(1.0 - jitter, 1.0 + jitter);
    return std::chrono::milliseconds(
        static_cast<std::int64_t>(static_cast<double>(delay.count()) * scale(random)));
  }

  void sleep(std::chrono::milliseconds delay) {
    if (options.sleep) {
      options.sleep(delay);
    } else {
      std::unique_lock lock(cancel_mutex);
      cancel_cv.wait_for(lock, delay, [this] { return cancelled.load(); });
    }
  }

  std::string build_url(std::string_view path, const std::vector<Header>& params) const {
    std::string url = options.url;
    url.append(path);
    char separator = '?';
    for (const auto& [name, value] : params) {
      url += separator;
      url += detail::url_escape(easy, name);
      url += '=';
      url += detail::url_escape(easy, value);
      separator = '&';
    }
    return url;
  }

  // One attempt. Returns the curl code; fills response and retry_after.
  CURLcode perform(const std::string& url, HttpResponse& response, std::string& retry_after,
                   std::string& error_text) {
    CURL* handle = easy.get();
    curl_easy_reset(handle);
    response.body.clear();
    Received received{&response.body, {}, options.max_reply_bytes, false, &cancelled};
    char error_buffer[CURL_ERROR_SIZE] = {0};
    detail::CurlHeaderList headers;
    headers.append("Accept: application/json");
    for (const auto& [name, value] : options.headers) headers.append(name + ": " + value);
    const std::string& bearer = options.bearer_token_file.empty() ? options.bearer_token : token;
    if (!bearer.empty()) headers.append("Authorization: Bearer " + bearer);

    curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM (threads)
    curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(options.total_timeout.count()));
    curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &write_body);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &received);
    curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &read_header);
    curl_easy_setopt(handle, CURLOPT_HEADERDATA, &received);
    curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, &abort_if_cancelled);
    curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &cancelled);
    curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(handle, CURLOPT_USERAGENT, "prescale");
    if (options.gzip)
      curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl decodes
    if (!options.basic_auth_user.empty()) {
      curl_easy_setopt(handle, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(handle, CURLOPT_USERNAME, options.basic_auth_user.c_str());
      curl_easy_setopt(handle, CURLOPT_PASSWORD, options.basic_auth_password.c_str());
    }
    const auto set_pem = [handle](CURLoption file_option, CURLoption blob_option,
                                  const std::string& file, const std::string& pem) {
      if (!pem.empty()) {
        curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
        curl_easy_setopt(handle, blob_option, &blob);
      } else if (!file.empty()) {
        curl_easy_setopt(handle, file_option, file.c_str());
      }
    };
    set_pem(CURLOPT_CAINFO, CURLOPT_CAINFO_BLOB, options.ca_file, options.ca_pem);
    set_pem(CURLOPT_SSLCERT, CURLOPT_SSLCERT_BLOB, options.client_cert_file,
            options.client_cert_pem);
    set_pem(CURLOPT_SSLKEY, CURLOPT_SSLKEY_BLOB, options.client_key_file, options.client_key_pem);
    if (options.insecure_skip_verify) {
      curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    const CURLcode code = curl_easy_perform(handle);
    error_text =
        error_buffer[0] != 0 ? std::string(error_buffer) : std::string(curl_easy_strerror(code));
    if (cancelled) error_text = "cancelled";
    if (received.too_big)
      error_text = fmt::format(
          "reply larger than {} bytes (the maximum reply size), refused as it arrived (narrow the "
          "query or aggregate it in PromQL)",
          options.max_reply_bytes);
    retry_after = received.retry_after;
    if (code == CURLE_OK) {
      curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
      char* content_type = nullptr;
      curl_easy_getinfo(handle, CURLINFO_CONTENT_TYPE, &content_type);
      response.content_type = content_type != nullptr ? content_type : "";
      // simdjson reads up to SIMDJSON_PADDING bytes past the end; reserving
      // them here lets the parser use the body in place.
      response.body.reserve(response.body.size() + simdjson::SIMDJSON_PADDING);
    }
    return code;
  }

  // Retry-After in seconds (the HTTP-date form is ignored), capped.
  std::chrono::milliseconds delay_for(int retry, const std::string& retry_after) {
    if (!retry_after.empty() && std::all_of(retry_after.begin(), retry_after.end(), ::isdigit) &&
        retry_after.size() < 7) {
      return std::min(std::chrono::milliseconds(std::stoll(retry_after) * 1000),
                      options.retry.max_backoff);
    }
    return jittered(backoff_delay(options.retry, retry));
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
const ClientOptions& Client::options() const {
  return impl_->options;
}

void Client::cancel() {
  {
    std::lock_guard lock(impl_->cancel_mutex);
    impl_->cancelled = true;
  }
  impl_->cancel_cv.notify_all();
}

Expected<HttpResponse> Client::get(std::string_view path, const std::vector<Header>& params) {
  Impl& impl = *impl_;
  if (!impl.easy) {
    if (auto why = curl_loader::load_error()) return make_error("cannot query Prometheus: " + *why);
    return make_error("libcurl could not create a handle (out of memory?)");
  }
  const std::string url = impl.build_url(path, params);
  const std::string shown = redact_url(impl.options.url) + std::string(path);
  const int max_attempts = std::max(1, impl.options.retry.max_attempts);
  bool token_forced = false;
  HttpResponse response;
  for (int attempt = 1;; ++attempt) {
    if (impl.cancelled) return make_error(fmt::format("GET {}: cancelled", shown));
    if (Status token = impl.refresh_token(false); !token) return token.error();
    std::string retry_after;
    std::string error_text;
    const CURLcode code = impl.perform(url, response, retry_after, error_text);
    response.attempts = attempt;
    if (code != CURLE_OK) {
      if (impl.cancelled) return make_error(fmt::format("GET {}: cancelled", shown));
      if (is_retryable(code) && attempt < max_attempts) {
        impl.sleep(impl.delay_for(attempt, {}));
        continue;
      }
      return make_error(fmt::format("GET {}: {} (attempt {} of {}{})", shown, error_text, attempt,
                                    max_attempts, is_retryable(code) ? "" : ", not retried"));
    }
    // A rotated token may have been written between our stat and the request.
    if (response.status == 401 && !impl.options.bearer_token_file.empty() && !token_forced) {
      token_forced = true;
      if (Status token = impl.refresh_token(true); !token) return token.error();
      continue;
    }
    if (is_retryable(response.status) && attempt < max_attempts) {
      impl.sleep(impl.delay_for(attempt, retry_after));
      continue;
    }
    return response;
  }
}

}  // namespace prescale::prometheus
