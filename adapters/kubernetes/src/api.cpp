#include "prescale/kubernetes/api.hpp"

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "prescale/common/time.hpp"
#include "prescale/kubernetes/label_selector.hpp"
#include "prescale/kubernetes/quantity.hpp"

namespace prescale::kubernetes {
namespace {

using nlohmann::json;

// Paths, selectors and user names are client bytes and may not be UTF-8:
// replace bad sequences rather than throw while writing the reply.
std::string dump_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

const std::string kGroupVersion = std::string(kGroup) + "/" + std::string(kVersion);
constexpr std::string_view kMetricRoute = "/apis/{group}/{version}/namespaces/{namespace}/{metric}";

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) segments.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

json group_version_json() {
  return {{"groupVersion", kGroupVersion}, {"version", kVersion}};
}

json api_group_json() {
  return {{"name", kGroup},
          {"versions", json::array({group_version_json()})},
          {"preferredVersion", group_version_json()}};
}

ApiResponse json_response(int status, const json& body, std::string_view route) {
  return ApiResponse{status, "application/json", dump_json(body), std::string(route)};
}

ApiResponse status_response(int code, std::string_view reason, std::string_view message,
                            std::string_view route, std::string_view details_json = {}) {
  return ApiResponse{code, "application/json", status_json(code, reason, message, details_json),
                     std::string(route)};
}

ApiResponse discovery_resources(const Snapshot& snapshot) {
  std::set<std::string> names;
  for (const auto& metric : snapshot.metrics) names.insert(metric.metric);
  json resources = json::array();
  for (const auto& name : names) {
    resources.push_back({{"name", name},
                         {"singularName", ""},
                         {"namespaced", true},
                         {"kind", "ExternalMetricValueList"},
                         {"verbs", json::array({"get"})}});
  }
  return json_response(200,
                       {{"kind", "APIResourceList"},
                        {"apiVersion", "v1"},
                        {"groupVersion", kGroupVersion},
                        {"resources", std::move(resources)}},
                       "/apis/{group}/{version}");
}

ApiResponse metric_value(const Snapshot& snapshot, const std::string& namespace_name,
                         const std::string& metric_name, const RequestTarget& target) {
  std::string selector_text;
  if (const auto found = target.query.find("labelSelector"); found != target.query.end())
    selector_text = found->second;
  auto selector = LabelSelector::parse(selector_text);
  if (!selector) {
    return status_response(
        400, "BadRequest",
        "invalid labelSelector \"" + selector_text + "\": " + selector.error().message,
        kMetricRoute);
  }
  // Exactly one item: the HPA sums items, so several matches (an ambiguous
  // selector) serve the largest, which never under-provisions.
  const MetricValue* chosen = nullptr;
  for (const auto& metric : snapshot.metrics) {
    if (metric.metric != metric_name) continue;
    if (metric.namespace_name != "*" && metric.namespace_name != namespace_name) continue;
    if (!selector->matches(metric.labels)) continue;
    if (!chosen || metric.value > chosen->value) chosen = &metric;
  }
  if (!chosen) {
    std::string message = "the server could not find the metric \"" + metric_name +
                          "\" in namespace \"" + namespace_name + "\"";
    if (!selector->empty()) message += " matching labelSelector \"" + selector->to_string() + "\"";
    const json details = {{"name", metric_name}, {"group", kGroup}, {"kind", metric_name}};
    return status_response(404, "NotFound", message, kMetricRoute, dump_json(details));
  }
  auto quantity = format_quantity(chosen->value);
  if (!quantity) {
    return status_response(
        500, "InternalError",
        "Internal error occurred: metric \"" + metric_name + "\": " + quantity.error().message,
        kMetricRoute);
  }
  json labels = json::object();
  for (const auto& [key, value] : chosen->labels) labels[key] = value;
  json item = {{"metricName", chosen->metric},
               {"metricLabels", std::move(labels)},
               {"timestamp", format_rfc3339(chosen->timestamp_unix)},
               {"window", chosen->window_seconds},
               {"value", *quantity}};
  return json_response(200,
                       {{"kind", "ExternalMetricValueList"},
                        {"apiVersion", kGroupVersion},
                        {"metadata", json::object()},
                        {"items", json::array({std::move(item)})}},
                       kMetricRoute);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string url_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

RequestTarget parse_target(std::string_view target) {
  RequestTarget out;
  const auto question = target.find('?');
  out.path = url_decode(target.substr(0, question), false);
  if (question == std::string_view::npos) return out;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (!pair.empty()) {
      const auto equals = pair.find('=');
      const std::string key = url_decode(pair.substr(0, equals), true);
      const std::string value =
          equals == std::string_view::npos ? "" : url_decode(pair.substr(equals + 1), true);
      out.query.emplace(key, value);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

ApiResponse serve_api(const Snapshot& snapshot, std::string_view method,
                      const RequestTarget& target) {
  const auto segments = split_path(target.path);
  if (!segments.empty() && segments[0] == "openapi") {
    return status_response(404, "NotFound", "the server could not find the requested resource",
                           "/openapi");
  }
  if (method != "GET" && method != "HEAD") {
    return status_response(405, "MethodNotAllowed",
                           "the server does not allow this method on the requested resource",
                           "other");
  }
  if (segments.size() == 1 && segments[0] == "apis") {
    return json_response(200,
                         {{"kind", "APIGroupList"},
                          {"apiVersion", "v1"},
                          {"groups", json::array({api_group_json()})}},
                         "/apis");
  }
  const bool in_group = segments.size() >= 2 && segments[0] == "apis" && segments[1] == kGroup;
  if (in_group && segments.size() == 2) {
    json group = api_group_json();
    group["kind"] = "APIGroup";
    group["apiVersion"] = "v1";
    return json_response(200, group, "/apis/{group}");
  }
  if (in_group && segments[2] == kVersion) {
    if (segments.size() == 3) return discovery_resources(snapshot);
    if (segments.size() == 6 && segments[3] == "namespaces") {
      return metric_value(snapshot, segments[4], segments[5], target);
    }
  }
  return status_response(404, "NotFound", "the server could not find the requested resource",
                         "other");
}

RequestAttributes request_attributes(std::string_view method, std::string_view path) {
  RequestAttributes attributes;
  std::string verb(method);
  std::transform(verb.begin(), verb.end(), verb.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const auto segments = split_path(path);
  if (segments.size() == 6 && segments[0] == "apis" && segments[1] == kGroup &&
      segments[2] == kVersion && segments[3] == "namespaces") {
    attributes.resource_request = true;
    // A GET on a collection is "list" to Kubernetes' request-info resolver.
    attributes.verb = (verb == "get" || verb == "head") ? "list" : verb == "post" ? "create" : verb;
    attributes.namespace_name = segments[4];
    attributes.resource = segments[5];
    return attributes;
  }
  attributes.verb = verb == "head" ? "get" : verb;
  attributes.path = std::string(path);
  return attributes;
}

std::string status_json(int code, std::string_view reason, std::string_view message,
                        std::string_view details_json) {
  json status = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
                 {"status", "Failure"}, {"message", message}, {"reason", reason}};
  if (!details_json.empty()) status["details"] = json::parse(details_json);
  status["code"] = code;
  return dump_json(status);
}

ApiResponse serve_status(const Snapshot& snapshot) {
  json targets = json::array();
  for (const TargetStatus& target : snapshot.targets) {
    json entry{
        {"target", target.target},
        {"model", target.model},
        {"parameters", target.parameters},
        {"observed", target.observed},
        {"forecast", target.forecast},
        {"served", target.served},
        {"fit_seconds", target.fit_seconds},
        {"last_fit_unix", target.last_fit_unix},
        {"last_fit",
         target.last_fit_unix > 0 ? json(format_rfc3339(target.last_fit_unix)) : json()},
        {"fit_data_end",
         target.fit_data_end_unix > 0 ? json(format_rfc3339(target.fit_data_end_unix)) : json()},
        {"data_age_seconds", target.data_age_seconds},
        {"has_forecast", target.has_forecast},
        {"fallback_reason", target.fallback_reason}};
    entry["replicas"] = target.replicas ? json(*target.replicas) : json();
    entry["backtest_mase"] = target.backtest_mase ? json(*target.backtest_mase) : json();
    entry["quantile"] = target.quantile;
    entry["headroom"] = target.headroom;
    // A declared SLO's tuning in force (or why none yet); null without `slo:`.
    entry["slo"] = target.slo.empty() ? json() : json(target.slo);
    entry["interval_quantile"] = target.interval_quantile;
    if (const auto& f = target.slo_figures) {
      // The tuning's figures on its recorded decisions, as numbers (null before one).
      json figures{{"days", f->days},
                   {"allowed_minutes", f->allowed_minutes},
                   {"tuned_for_minutes", f->tuned_for_minutes},
                   {"meets_slo", f->meets_slo},
                   {"short_minutes", f->short_minutes},
                   {"replica_hours", f->replica_hours}};
      figures["reactive"] = f->reactive_swept ? json{{"meets_slo", f->reactive_meets_slo},
                                                     {"short_minutes", f->reactive_short_minutes},
                                                     {"replica_hours", f->reactive_replica_hours}}
                                              : json();
      // What the values served did (null until a decision has a served
      // value), beside a reactive HPA retuned the same way over them.
      figures["served"] = f->served_days > 0 ? json{{"days", f->served_days},
                                                    {"allowed_minutes", f->served_allowed_minutes},
                                                    {"short_minutes", f->served_short_minutes},
                                                    {"replica_hours", f->served_replica_hours}}
                                             : json();
      if (f->served_days > 0)
        figures["served"]["reactive"] =
            f->served_reactive ? json{{"short_minutes", f->served_reactive_short_minutes},
                                      {"replica_hours", f->served_reactive_replica_hours}}
                               : json();
      entry["slo_figures"] = std::move(figures);
    } else {
      entry["slo_figures"] = json();
    }
    targets.push_back(std::move(entry));
  }
  return json_response(200,
                       json{{"generated", format_rfc3339(snapshot.generated_unix)},
                            {"ready", snapshot.ready},
                            {"targets", std::move(targets)}},
                       "/status");
}

ApiResponse unauthorized_response() {
  return status_response(401, "Unauthorized", "Unauthorized", "unauthorized");
}

ApiResponse forbidden_response(const Identity& user, const RequestAttributes& attributes,
                               std::string_view reason) {
  // Message and details as kube-apiserver's responsewriters.Forbidden and
  // apierrors.NewForbidden build them.
  std::string message;
  json details = json::object();
  const std::string quoted_user = dump_json(json(user.user));
  if (attributes.resource_request) {
    message = attributes.resource + "." + std::string(kGroup) + " is forbidden: User " +
              quoted_user + " cannot " + attributes.verb + " resource " +
              dump_json(json(attributes.resource)) + " in API group " + dump_json(json(kGroup)) +
              " in the namespace " + dump_json(json(attributes.namespace_name));
    details = {{"group", kGroup}, {"kind", attributes.resource}};
  } else {
    message = "forbidden: User " + quoted_user + " cannot " + attributes.verb + " path " +
              dump_json(json(attributes.path));
  }
  if (!reason.empty()) message += ": " + std::string(reason);
  return status_response(403, "Forbidden", message, "forbidden", dump_json(details));
}

ApiResponse internal_error_response(std::string_view request_uri, std::string_view error) {
  // apierrors.NewInternalError: the cause is repeated in details.causes.
  const json details = {{"causes", json::array({{{"message", std::string(error)}}})}};
  return status_response(500, "InternalError",
                         "Internal error occurred: " + std::string(error) + " (request " +
                             dump_json(json(std::string(request_uri))) + ")",
                         "internal-error", dump_json(details));
}

}  // namespace prescale::kubernetes
