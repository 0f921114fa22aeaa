#pragma once
// The External Metrics API as pure functions: request in, status code and
// JSON out, from one immutable Snapshot. No sockets, no TLS, no clocks — the
// HTTPS server (server.hpp) adds transport, authentication and authorization.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/snapshot.hpp"

namespace prescale::kubernetes {

inline constexpr std::string_view kGroup = "external.metrics.k8s.io";
inline constexpr std::string_view kVersion = "v1beta1";

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  /// Bounded route name for metrics labels, e.g.
  /// "/apis/{group}/{version}/namespaces/{ns}/{metric}".
  std::string route;
};

/// What a request asks for, in the terms of a SubjectAccessReview.
struct RequestAttributes {
  bool resource_request = false;
  std::string verb;            ///< "list" for a metric, "get" for non-resource paths
  std::string namespace_name;  ///< resource requests only
  std::string resource;        ///< the metric name
  std::string path;            ///< non-resource requests only
};

/// Who is asking, once authenticated.
struct Identity {
  std::string user;
  std::string uid;  ///< from a TokenReview; empty for certificates
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
};

/// Splits a request target into its decoded path and form-decoded query
/// parameters ('+' is a space, %XX escapes decoded).
struct RequestTarget {
  std::string path;
  std::multimap<std::string, std::string> query;
};
RequestTarget parse_target(std::string_view target);
/// Percent-decoding; `plus_is_space` for query strings (form encoding).
std::string url_decode(std::string_view text, bool plus_is_space);

/// Serves GET requests under /apis and /openapi: discovery, metric values,
/// Status errors. Pure and thread-safe.
ApiResponse serve_api(const Snapshot& snapshot, std::string_view method,
                      const RequestTarget& target);

/// GET /status: every target's model, parameters, backtest MASE, last fit,
/// data age and fallback reason, as `prescale status` prints them. Pure.
ApiResponse serve_status(const Snapshot& snapshot);

/// The attributes an authorizer decides on for this path.
RequestAttributes request_attributes(std::string_view method, std::string_view path);

/// metav1.Status JSON, e.g. status_json(404, "NotFound", "...").
std::string status_json(int code, std::string_view reason, std::string_view message,
                        std::string_view details_json = {});
/// 401 as kube-apiserver writes it.
ApiResponse unauthorized_response();
/// 403 naming user, verb, resource and namespace, as kube-apiserver's
/// responsewriters.Forbidden formats it; `reason` from the authorizer may be empty.
ApiResponse forbidden_response(const Identity& user, const RequestAttributes& attributes,
                               std::string_view reason);
/// 500 InternalError for a failed authorization check.
ApiResponse internal_error_response(std::string_view request_uri, std::string_view error);

}  // namespace prescale::kubernetes
