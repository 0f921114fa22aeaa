#include "apiserver_client.hpp"

#include <curl/curl.h>
#include "prescale/config/kubeconfig.hpp"
#include "prescale/curl_loader/curl_loader.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace prescale::kubernetes::detail {
namespace {

Expected<std::string> read_file(const std::string& what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(what + " " + path + ": cannot read");
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The kubeconfig as kubectl reads it (config::read_kubeconfig, shared with
// the CLI): its current context's cluster and user.
Expected<ApiServerTarget> from_kubeconfig(const std::string& file) {
  auto k = config::read_kubeconfig(file);
  if (!k) return k.error();
  ApiServerTarget target;
  target.server = k->server;
  target.insecure_skip_tls_verify = k->insecure_skip_tls_verify;
  target.certificate_authority = {k->ca_file, k->ca_pem};
  target.token = k->token;
  target.token_file = k->token_file;
  target.client_certificate = {k->client_certificate_file, k->client_certificate_pem};
  target.client_key = {k->client_key_file, k->client_key_pem};
  return target;
}

Expected<ApiServerTarget> in_cluster(const ApiServerConnection& connection) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port || !*host || !*port) {
    return make_error(
        "authorization webhook: not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset) and "
        "no kubeconfig given");
  }
  ApiServerTarget target;
  const std::string host_text = host;
  const bool ipv6 = host_text.find(':') != std::string::npos;
  target.server = "https://" + (ipv6 ? "[" + host_text + "]" : host_text) + ":" + port;
  const auto dir = std::filesystem::path(connection.service_account_dir);
  target.token_file = (dir / "token").string();
  target.certificate_authority.file = (dir / "ca.crt").string();
  for (const auto& path : {target.token_file, target.certificate_authority.file}) {
    if (!std::filesystem::exists(path))
      return make_error("authorization webhook: " + path + " does not exist");
  }
  return target;
}

size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* s) const { curl_slist_free_all(s); }
};

void set_pem(CURL* curl, CURLoption file_option, CURLoption blob_option, const PemSource& pem) {
  if (!pem.data.empty()) {
    curl_blob blob{const_cast<char*>(pem.data.data()), pem.data.size(), CURL_BLOB_COPY};
    curl_easy_setopt(curl, blob_option, &blob);
  } else if (!pem.file.empty()) {
    curl_easy_setopt(curl, file_option, pem.file.c_str());
  }
}

}  // namespace

Expected<ApiServerTarget> resolve_apiserver(const ApiServerConnection& connection) {
  return connection.kubeconfig_file.empty() ? in_cluster(connection)
                                            : from_kubeconfig(connection.kubeconfig_file);
}

Expected<HttpReply> call_apiserver(const ApiServerTarget& target, const std::string& method,
                                   const std::string& path, const std::string& body,
                                   std::chrono::milliseconds timeout) {
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    if (auto why = curl_loader::load_error()) return make_error("kube-apiserver client: " + *why);
    return make_error("kube-apiserver client: cannot create a libcurl handle");
  }
  std::string token = target.token;
  if (!target.token_file.empty()) {
    auto read = read_file("service-account token", target.token_file);
    if (!read) return read.error();
    token = *read;
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  }
  const std::string url = target.server + path;
  HttpReply reply;
  std::unique_ptr<curl_slist, SlistDeleter> headers(
      curl_slist_append(nullptr, "Accept: application/json"));
  if (!body.empty()) curl_slist_append(headers.get(), "Content-Type: application/json");
  const std::string authorization = "Authorization: Bearer " + token;
  if (!token.empty()) curl_slist_append(headers.get(), authorization.c_str());
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  if (method == "POST") {
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based DNS timeouts
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "https,http");
  set_pem(handle, CURLOPT_CAINFO, CURLOPT_CAINFO_BLOB, target.certificate_authority);
  set_pem(handle, CURLOPT_SSLCERT, CURLOPT_SSLCERT_BLOB, target.client_certificate);
  set_pem(handle, CURLOPT_SSLKEY, CURLOPT_SSLKEY_BLOB, target.client_key);
  if (target.insecure_skip_tls_verify) {
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    return make_error(url + ": " +
                      (error_buffer[0] ? std::string(error_buffer) : curl_easy_strerror(code)));
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

}  // namespace prescale::kubernetes::detail
