#include "apiserver_client.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>
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

Expected<std::string> base64_decode(const std::string& what, const std::string& text) {
  std::string clean;
  for (char c : text) {
    if (c != '\n' && c != '\r' && c != ' ') clean += c;
  }
  std::string out((clean.size() / 4 + 1) * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(clean.data()),
                                     static_cast<int>(clean.size()));
  if (length < 0 || clean.size() % 4 != 0) return make_error(what + ": not valid base64");
  std::size_t padding = 0;
  if (!clean.empty() && clean.back() == '=') ++padding;
  if (clean.size() > 1 && clean[clean.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

std::string resolve(const std::filesystem::path& base, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (base / path).string();
}

YAML::Node find_named(const YAML::Node& list, const std::string& name) {
  if (!list || !list.IsSequence()) return {};
  for (const auto& entry : list) {
    if (entry["name"] && entry["name"].as<std::string>() == name) return entry;
  }
  return {};
}

Expected<ApiServerTarget> from_kubeconfig(const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& error) {
    return make_error("kubeconfig " + file + ": " + error.what());
  }
  const auto base = std::filesystem::path(file).parent_path();
  try {
    const std::string context_name =
        root["current-context"] ? root["current-context"].as<std::string>() : "";
    if (context_name.empty())
      return make_error("kubeconfig " + file + ": current-context is not set");
    const auto context = find_named(root["contexts"], context_name);
    if (!context)
      return make_error("kubeconfig " + file + ": contexts[] has no context named \"" +
                        context_name + "\"");
    const std::string cluster_name = context["context"]["cluster"].as<std::string>("");
    const std::string user_name = context["context"]["user"].as<std::string>("");
    const auto cluster = find_named(root["clusters"], cluster_name)["cluster"];
    if (!cluster)
      return make_error("kubeconfig " + file + ": clusters[] has no cluster named \"" +
                        cluster_name + "\"");
    ApiServerTarget target;
    target.server = cluster["server"].as<std::string>("");
    if (target.server.empty())
      return make_error("kubeconfig " + file + ": clusters[" + cluster_name + "].server is empty");
    while (!target.server.empty() && target.server.back() == '/') target.server.pop_back();
    target.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"].as<bool>(false);
    target.certificate_authority.file =
        resolve(base, cluster["certificate-authority"].as<std::string>(""));
    if (cluster["certificate-authority-data"]) {
      auto data = base64_decode("kubeconfig " + file + ": certificate-authority-data",
                                cluster["certificate-authority-data"].as<std::string>());
      if (!data) return data.error();
      target.certificate_authority.data = *data;
    }
    if (!user_name.empty()) {
      const auto user = find_named(root["users"], user_name)["user"];
      if (!user)
        return make_error("kubeconfig " + file + ": users[] has no user named \"" + user_name +
                          "\"");
      for (const char* unsupported : {"exec", "auth-provider"}) {
        if (user[unsupported]) {
          return make_error(
              "kubeconfig " + file + ": users[" + user_name + "]." + unsupported +
              " is not supported for the authorization webhook; use token, tokenFile or "
              "client-certificate/client-key");
        }
      }
      target.token = user["token"].as<std::string>("");
      target.token_file = resolve(base, user["tokenFile"].as<std::string>(""));
      target.client_certificate.file =
          resolve(base, user["client-certificate"].as<std::string>(""));
      target.client_key.file = resolve(base, user["client-key"].as<std::string>(""));
      for (auto [key, pem] : {std::pair{"client-certificate-data", &target.client_certificate},
                              std::pair{"client-key-data", &target.client_key}}) {
        if (!user[key]) continue;
        auto data = base64_decode("kubeconfig " + file + ": " + key, user[key].as<std::string>());
        if (!data) return data.error();
        pem->data = *data;
      }
    }
    return target;
  } catch (const YAML::Exception& error) {
    return make_error("kubeconfig " + file + ": " + error.what());
  }
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
