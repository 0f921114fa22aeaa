#pragma once
// A minimal kube-apiserver client over libcurl: where the apiserver is
// (kubeconfig or in-cluster service account) and one request at a time.
// Used for SubjectAccessReviews and the extension-apiserver-authentication
// ConfigMap.
#include <chrono>
#include <string>

#include "prescale/common/expected.hpp"
#include "prescale/kubernetes/server.hpp"

namespace prescale::kubernetes::detail {

/// PEM material: a file path or inline bytes (kubeconfig *-data).
struct PemSource {
  std::string file;
  std::string data;
};

/// How to reach the kube-apiserver. Value type.
struct ApiServerTarget {
  std::string server;  ///< https://host:port
  PemSource certificate_authority;
  bool insecure_skip_tls_verify = false;
  std::string token;
  std::string token_file;  ///< re-read on each request: bound tokens rotate
  PemSource client_certificate, client_key;
};

/// Resolves the kubeconfig's current context, or the in-cluster service
/// account; the error names the file or setting at fault.
Expected<ApiServerTarget> resolve_apiserver(const ApiServerConnection& connection);

struct HttpReply {
  long status = 0;
  std::string body;
};

/// One request; transport failures are errors naming the URL, HTTP error
/// statuses are replies. Thread-safe (a handle per call).
Expected<HttpReply> call_apiserver(const ApiServerTarget& target, const std::string& method,
                                   const std::string& path, const std::string& body,
                                   std::chrono::milliseconds timeout);

}  // namespace prescale::kubernetes::detail
