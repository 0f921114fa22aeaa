#pragma once
// RAII over libcurl's C handles, as prometheus-cpp's detail/ does: the rest
// of the adapter never frees a curl object by hand.
#include <curl/curl.h>

#include <string>

namespace prescale::prometheus::detail {

/// curl_global_init exactly once per process (it is not thread-safe itself).
void ensure_curl_global_init();

/// Owns a CURL easy handle; reused across requests so connections stay alive.
class CurlEasy {
 public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;
  CurlEasy(CurlEasy&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  CurlEasy& operator=(CurlEasy&& other) noexcept;
  [[nodiscard]] CURL* get() const { return handle_; }
  [[nodiscard]] explicit operator bool() const { return handle_ != nullptr; }

 private:
  CURL* handle_ = nullptr;
};

/// Owns a curl_slist of request headers.
class CurlHeaderList {
 public:
  CurlHeaderList() = default;
  ~CurlHeaderList();
  CurlHeaderList(const CurlHeaderList&) = delete;
  CurlHeaderList& operator=(const CurlHeaderList&) = delete;
  /// False when curl could not allocate.
  bool append(const std::string& line);
  [[nodiscard]] curl_slist* get() const { return list_; }

 private:
  curl_slist* list_ = nullptr;
};

/// Percent-encodes a query parameter with curl's encoder.
std::string url_escape(const CurlEasy& easy, const std::string& text);

}  // namespace prescale::prometheus::detail
