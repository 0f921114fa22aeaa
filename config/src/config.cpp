#include "prescale/config/config.hpp"

#include <fmt/core.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/kubernetes_names.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/forecast/selection.hpp"
#include "target_fields.hpp"
#include "yaml_node.hpp"

namespace prescale::config {

std::string_view to_string(AuthorizationMode mode) {
  return mode == AuthorizationMode::webhook ? "webhook" : "always-allow";
}

const std::vector<std::string>& known_models() {
  // The models forecast and backtest take (--model): "auto" picks by
  // rolling-origin backtest; the others force one family (and fall back to
  // the observed value if it loses to seasonal naive).
  static const std::vector<std::string> models = forecast::model_choices();
  return models;
}

namespace {

using detail::Node;

// Reads the keys of a target entry or of `defaults:` (all but metric and
// query), one row of target_fields.cpp each.
void apply_target_keys(const Node& node, TargetConfig& target, const Config& config,
                       bool is_defaults) {
  node.require_map();
  node.check_keys(detail::allowed_target_keys(is_defaults));
  for (const auto& field : detail::target_fields()) {
    if (field.read == nullptr) continue;
    if (auto n = node.get(std::string(field.key))) field.read(*n, target, config);
  }
}

}  // namespace

namespace detail {
// Checks that need every key of a target resolved (defaults applied).
void check_target(const Node& node, const TargetConfig& t) {
  auto at = [&](const char* key) { return node.get(key).value_or(node); };
  if (t.metric.empty()) node.fail("missing 'metric' (the served external metric name)");
  if (t.query.empty()) node.fail("missing 'query' (a PromQL expression giving one series)");
  for (std::size_t k = 0; k < t.seasonality_seconds.size(); ++k) {
    const auto period = t.seasonality_seconds[k];
    if (period % t.step_seconds != 0 || period < 2 * t.step_seconds)
      at("seasonality")
          .fail(fmt::format("season {} is not a multiple of step {} (at least two steps)",
                            format_duration(period), format_duration(t.step_seconds)));
  }
  if (t.history_seconds < 2 * t.step_seconds)
    at("history").fail(fmt::format("history {} is shorter than two steps of {}",
                                   format_duration(t.history_seconds),
                                   format_duration(t.step_seconds)));
  // Every sample is memory and fitting time: bound history / step, and each
  // season's slots (season / step), whatever mix of keys got there.
  if (t.history_seconds / t.step_seconds > limits::kMaxSamples)
    at("history").fail(fmt::format(
        "history {} at step {} is {} samples, more than the {} a target may hold (a longer step "
        "or a shorter history)",
        format_duration(t.history_seconds), format_duration(t.step_seconds),
        t.history_seconds / t.step_seconds, limits::kMaxSamples));
  for (const auto period : t.seasonality_seconds)
    if (period / t.step_seconds > limits::kMaxSamples)
      at("seasonality")
          .fail(fmt::format("season {} at step {} is {} steps, more than {}",
                            format_duration(period), format_duration(t.step_seconds),
                            period / t.step_seconds, limits::kMaxSamples));
  if (t.max_replicas < t.min_replicas)
    at("maxReplicas")
        .fail(
            fmt::format("maxReplicas {} is below minReplicas {}", t.max_replicas, t.min_replicas));
  if (t.refit_interval_seconds < t.step_seconds)
    at("refitInterval").fail("refitInterval is shorter than step");
  // The SLO counts minutes short of capacity: without a capacity per pod
  // there is nothing to count them against.
  if (t.slo && !t.capacity_per_replica)
    at("slo").fail(
        "slo needs capacityPerReplica (the load one pod serves): minutes short of capacity are "
        "counted against it");
}
}  // namespace detail

namespace {
using detail::check_target;

void parse_prometheus(const Node& node, PrometheusConfig& p) {
  node.require_map();
  node.check_keys({"url", "timeout", "bearerTokenFile", "basicAuth", "headers", "caFile",
                   "insecureSkipVerify", "maxReplySize"});
  if (auto n = node.get("url")) {
    p.url = n->as_string();
    // Messages show the URL without user-info: a password never reaches a log.
    const std::string shown = redact_url(p.url);
    if (p.url.rfind("http://", 0) != 0 && p.url.rfind("https://", 0) != 0)
      n->fail(fmt::format("'{}' is not an http:// or https:// URL", shown));
    const auto authority_end = p.url.find_first_of("/?#", p.url.find("://") + 3);
    const auto authority = p.url.substr(0, authority_end);
    // Credentials in the URL would sit in a ConfigMap (readable by many) and
    // travel into every message that names the URL: the password belongs
    // in a Secret, mounted as a file.
    if (authority.find('@') != std::string::npos)
      n->fail(
          fmt::format("'{}': credentials in the URL are not accepted; set basicAuth.username and "
                      "basicAuth.passwordFile (a file from a Secret) instead",
                      shown));
    if (p.url.find_first_of("?#") != std::string::npos)
      n->fail(
          fmt::format("'{}': a query string or fragment is not accepted (prescale appends "
                      "/api/v1/... to the URL)",
                      shown));
    while (!p.url.empty() && p.url.back() == '/') p.url.pop_back();
  }
  if (auto n = node.get("timeout"))
    p.timeout_seconds = n->as_duration(1, limits::kMaxTimeoutSeconds);
  if (auto n = node.get("bearerTokenFile")) p.bearer_token_file = n->as_string();
  if (auto n = node.get("basicAuth")) {
    n->require_map();
    n->check_keys({"username", "passwordFile"});
    if (auto u = n->get("username")) p.basic_auth_username = u->as_string();
    if (auto f = n->get("passwordFile")) p.basic_auth_password_file = f->as_string();
    if (p.basic_auth_username.empty()) n->fail("basicAuth needs 'username'");
  }
  if (auto n = node.get("headers")) {
    for (const auto& [key, value] : n->as_string_map()) p.headers[key.text] = value.text;
  }
  if (auto n = node.get("caFile")) p.ca_file = n->as_string();
  if (auto n = node.get("insecureSkipVerify")) p.insecure_skip_verify = n->as_bool();
  if (auto n = node.get("maxReplySize"))
    p.max_reply_bytes = n->as_byte_size(limits::kMinReplyBytes, limits::kMaxReplyBytes);
  if (!p.bearer_token_file.empty() && !p.basic_auth_username.empty())
    node.fail("set bearerTokenFile or basicAuth, not both");
}

void parse_self_service(const Node& node, ServerConfig::Keda::SelfService& s) {
  node.require_map();
  node.check_keys({"enabled", "idleTimeout", "maxPerNamespace", "maxTargets", "namespaces"});
  if (auto e = node.get("enabled")) s.enabled = e->as_bool();
  // KEDA asks at every HPA sync (15 s) and polling interval (30 s): a minute
  // at least, so a target is never dropped between two calls.
  if (auto e = node.get("idleTimeout")) s.idle_timeout_seconds = e->as_duration(60, 30 * 86400);
  if (auto e = node.get("maxPerNamespace")) s.max_per_namespace = e->as_int(1, 10000);
  if (auto e = node.get("maxTargets")) s.max_targets = e->as_int(1, 10000);
  if (auto e = node.get("namespaces")) {
    s.namespaces.clear();
    for (const auto& item : e->as_list()) {
      auto name = item.as_string();
      if (auto problem = dns1123_label_problem(name); !problem.empty())
        item.fail(fmt::format("'{}' is not a namespace name: {}", name, problem));
      s.namespaces.push_back(std::move(name));
    }
  }
  if (s.max_per_namespace > s.max_targets)
    node.get("maxPerNamespace")
        .value_or(node)
        .fail(fmt::format("maxPerNamespace {} is above maxTargets {} (the cap for every namespace)",
                          s.max_per_namespace, s.max_targets));
}

void parse_server(const Node& node, ServerConfig& s) {
  node.require_map();
  node.check_keys({"address", "probeAddress", "publicMetrics", "tlsCertFile", "tlsKeyFile",
                   "clientCAFile", "requestHeader", "authorization", "keda"});
  if (auto n = node.get("address")) {
    s.address = n->as_string();
    (void)n->as_host_port("0.0.0.0:6443");
  }
  if (auto n = node.get("probeAddress")) {
    s.probe_address = n->as_string();
    if (!s.probe_address.empty()) (void)n->as_host_port("0.0.0.0:8081, or empty for no probe port");
  }
  if (auto n = node.get("publicMetrics")) s.public_metrics = n->as_bool();
  if (auto n = node.get("tlsCertFile")) s.tls_cert_file = n->as_string();
  if (auto n = node.get("tlsKeyFile")) s.tls_key_file = n->as_string();
  if (s.tls_cert_file.empty() != s.tls_key_file.empty())
    node.fail("set both tlsCertFile and tlsKeyFile, or neither");
  if (auto n = node.get("clientCAFile")) s.client_ca_file = n->as_string();
  if (auto n = node.get("requestHeader")) {
    n->require_map();
    n->check_keys({"clientCAFile", "allowedNames", "usernameHeaders", "groupHeaders",
                   "extraHeadersPrefix", "fromCluster"});
    if (auto c = n->get("fromCluster")) s.request_header.from_cluster = c->as_bool();
    auto strings = [](const Node& list) {
      std::vector<std::string> out;
      for (const auto& item : list.as_list()) out.push_back(item.as_string());
      return out;
    };
    if (auto c = n->get("clientCAFile")) s.request_header.client_ca_file = c->as_string();
    if (auto c = n->get("allowedNames")) s.request_header.allowed_names = strings(*c);
    if (auto c = n->get("usernameHeaders")) s.request_header.username_headers = strings(*c);
    if (auto c = n->get("groupHeaders")) s.request_header.group_headers = strings(*c);
    if (auto c = n->get("extraHeadersPrefix")) s.request_header.extra_headers_prefix = strings(*c);
  }
  if (auto n = node.get("authorization")) {
    n->require_map();
    n->check_keys({"mode", "kubeconfig", "cacheTTL", "tokenAudiences"});
    if (auto m = n->get("mode")) {
      const auto mode = m->as_string();
      if (mode == "always-allow" || mode == "AlwaysAllow") {
        s.authorization_mode = AuthorizationMode::always_allow;
      } else if (mode == "webhook" || mode == "Webhook") {
        s.authorization_mode = AuthorizationMode::webhook;
      } else {
        m->fail(fmt::format("unknown authorization mode '{}' (always-allow or webhook)", mode));
      }
    }
    if (auto k = n->get("kubeconfig")) s.authorization_kubeconfig = k->as_string();
    if (auto t = n->get("cacheTTL"))
      s.authorization_cache_ttl_seconds = t->as_duration(0, limits::kMaxCacheTtlSeconds);
    if (auto a = n->get("tokenAudiences")) {
      s.token_audiences.clear();
      for (const auto& item : a->as_list()) {
        auto audience = item.as_string();
        if (audience.empty() || audience.find_first_of(" \t\r\n") != std::string::npos)
          item.fail(
              "an audience is a non-empty string without spaces (e.g. prescale, or the "
              "apiserver's https://kubernetes.default.svc)");
        if (std::find(s.token_audiences.begin(), s.token_audiences.end(), audience) !=
            s.token_audiences.end())
          item.fail(fmt::format("audience '{}' is listed twice", audience));
        s.token_audiences.push_back(std::move(audience));
      }
      // Tokens are reviewed only in webhook mode: audiences without it would
      // read as a restriction that is not there.
      if (!s.token_audiences.empty() && s.authorization_mode != AuthorizationMode::webhook)
        a->fail(
            "bearer tokens are reviewed only with mode: webhook; set it, or drop "
            "tokenAudiences");
    }
  }
  if (auto n = node.get("keda")) {
    n->require_map();
    n->check_keys({"enabled", "address", "certFile", "keyFile", "clientCAFile", "selfService"});
    auto& k = s.keda;
    if (auto e = n->get("enabled")) k.enabled = e->as_bool();
    if (auto a = n->get("address")) {
      k.address = a->as_string();
      (void)a->as_host_port("0.0.0.0:9443");
    }
    if (auto f = n->get("certFile")) k.cert_file = f->as_string();
    if (auto f = n->get("keyFile")) k.key_file = f->as_string();
    if (auto f = n->get("clientCAFile")) k.client_ca_file = f->as_string();
    if (k.cert_file.empty() != k.key_file.empty())
      n->fail("set both certFile and keyFile, or neither");
    if (!k.client_ca_file.empty() && k.cert_file.empty())
      n->fail("clientCAFile needs TLS: set certFile and keyFile too");
    if (auto m = n->get("selfService")) {
      parse_self_service(*m, k.self_service);
      if (k.self_service.enabled && !k.enabled)
        m->fail("self-service targets come through the KEDA scaler: set server.keda.enabled too");
    }
  }
}

void parse_decisions(const Node& node, DecisionsConfig& d) {
  node.require_map();
  node.check_keys(
      {"changeThreshold", "anomalySteps", "shiftSteps", "file", "maxBytes", "maxFiles", "keep"});
  if (auto n = node.get("changeThreshold")) {
    d.change_threshold = n->as_double();
    if (!(d.change_threshold >= 0 && d.change_threshold < 10))
      n->fail(fmt::format("changeThreshold {} is not a fraction between 0 and 10 (e.g. 0.1 = 10%)",
                          n->text()));
  }
  if (auto n = node.get("anomalySteps")) d.anomaly_steps = n->as_int(1, limits::kMaxAnomalySteps);
  if (auto n = node.get("shiftSteps")) d.shift_steps = n->as_int(1, limits::kMaxAnomalySteps);
  if (d.shift_steps <= d.anomaly_steps)
    node.get("shiftSteps")
        .value_or(node)
        .fail(fmt::format("shiftSteps {} must be larger than anomalySteps {} (a shift is an "
                          "anomaly that persists)",
                          d.shift_steps, d.anomaly_steps));
  if (auto n = node.get("file")) d.file = n->as_string();
  if (auto n = node.get("maxBytes"))
    d.max_bytes = n->as_byte_size(limits::kMinDecisionFileBytes, limits::kMaxDecisionFileBytes);
  if (auto n = node.get("maxFiles")) d.max_files = n->as_int(0, 100);
  if (auto n = node.get("keep")) d.keep = n->as_int(0, 1000000);
}

Config parse_checked(std::string_view yaml, std::string_view source) {
  // holidaysFile and other relative paths are relative to the config file.
  const std::filesystem::path base_dir = source == "<string>"
                                             ? std::filesystem::current_path()
                                             : std::filesystem::path(source).parent_path();
  Config config;
  config.source = std::string(source);
  const Node root = Node::parse(yaml, config.source);
  if (root.is_null()) root.fail("the file is empty (it needs at least 'targets:')");
  root.require_map();
  root.check_keys({"prometheus", "server", "calendars", "decisions", "defaults", "targets"});

  if (auto n = root.get("prometheus")) parse_prometheus(*n, config.prometheus);
  if (auto n = root.get("server")) parse_server(*n, config.server);
  if (auto n = root.get("decisions")) parse_decisions(*n, config.decisions);
  config.calendar_names =
      detail::load_calendars_section(root, base_dir, config.calendars_yaml, config.calendars);

  TargetConfig defaults;
  defaults.decision_change_threshold = config.decisions.change_threshold;
  defaults.anomaly_steps = config.decisions.anomaly_steps;
  defaults.shift_steps = config.decisions.shift_steps;
  if (auto n = root.get("defaults")) apply_target_keys(*n, defaults, config, true);

  config.target_defaults = defaults;
  // With self-service KEDA triggers, the file may leave every target to them.
  const auto& keda = config.server.keda;
  const bool triggers_only = keda.enabled && keda.self_service.enabled;
  const auto targets = root.get("targets");
  if (!targets && triggers_only) return config;
  if (!targets) root.fail("missing 'targets:' (the metrics to forecast and serve)");
  std::map<std::string, std::string> first_use;  // metric name -> where it was defined
  for (const auto& item : targets->as_list()) {
    TargetConfig target = defaults;
    target.line = item.line();
    apply_target_keys(item, target, config, false);
    check_target(item, target);
    std::vector<std::string> names = {target.metric};
    if (target.capacity_per_replica) names.push_back(target.replicas_metric());
    if (target.anomaly_external_metric) {
      if (!dns1123_subdomain_problem(target.anomaly_metric()).empty())
        item.get("metric").value_or(item).fail(fmt::format(
            "'{}' (served because anomaly.externalMetric is true) is longer than 253 characters",
            target.anomaly_metric()));
      names.push_back(target.anomaly_metric());
    }
    for (const auto& name : names) {
      const auto where = fmt::format("{} (line {})", item.path(), item.line());
      if (auto it = first_use.find(name); it != first_use.end())
        item.get("metric").value_or(item).fail(
            fmt::format("duplicate metric name '{}' (already served by {})", name, it->second));
      first_use.emplace(name, where);
    }
    config.targets.push_back(std::move(target));
  }
  if (config.targets.empty() && !triggers_only)
    targets->fail(
        "no targets (add at least one under 'targets:', or let KEDA triggers carry them: "
        "server.keda.selfService)");
  return config;
}

}  // namespace

Config parse_config(std::string_view yaml, std::string_view source) {
  if (yaml.size() > limits::kMaxFileBytes)
    throw ConfigError(fmt::format("{}: the file is {} bytes, more than the {} MiB a config may be",
                                  source, yaml.size(), limits::kMaxFileBytes / (1024 * 1024)));
  // Callers (a hot reload above all) rely on ConfigError being the only way
  // this fails: anything else escaping a parser is still a refused config.
  try {
    return parse_checked(yaml, source);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: cannot read the config ({})", source, e.what()));
  }
}

std::string read_config_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read the file", path.string()));
  // Read in blocks and stop one block past the limit: a huge file (or
  // /dev/zero) is refused without being read whole.
  std::string text;
  char block[64 * 1024];
  while (in.read(block, sizeof block) || in.gcount() > 0) {
    text.append(block, static_cast<std::size_t>(in.gcount()));
    if (text.size() > limits::kMaxFileBytes)
      throw ConfigError(fmt::format("{}: the file is larger than the {} MiB a config may be",
                                    path.string(), limits::kMaxFileBytes / (1024 * 1024)));
  }
  if (in.bad()) throw ConfigError(fmt::format("{}: cannot read the file", path.string()));
  return text;
}

Config load_config_file(const std::filesystem::path& path) {
  return parse_config(read_config_text(path), path.string());
}

Expected<Config> try_load_config_file(const std::filesystem::path& path) {
  try {
    return load_config_file(path);
  } catch (const std::exception& e) {
    return make_error(e.what());
  }
}

std::string to_yaml(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "prometheus" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "url" << YAML::Value << c.prometheus.url;
  out << YAML::Key << "timeout" << YAML::Value << format_duration(c.prometheus.timeout_seconds);
  if (!c.prometheus.bearer_token_file.empty())
    out << YAML::Key << "bearerTokenFile" << YAML::Value << c.prometheus.bearer_token_file;
  if (!c.prometheus.basic_auth_username.empty()) {
    out << YAML::Key << "basicAuth" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "username" << YAML::Value << c.prometheus.basic_auth_username;
    out << YAML::Key << "passwordFile" << YAML::Value << c.prometheus.basic_auth_password_file;
    out << YAML::EndMap;
  }
  if (!c.prometheus.headers.empty()) {
    out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
    // Header values may be secrets (tenant ids, keys): show only the names.
    for (const auto& [k, v] : c.prometheus.headers) out << YAML::Key << k << YAML::Value << "<set>";
    out << YAML::EndMap;
  }
  out << YAML::Key << "caFile" << YAML::Value << c.prometheus.ca_file;
  out << YAML::Key << "insecureSkipVerify" << YAML::Value << c.prometheus.insecure_skip_verify;
  out << YAML::Key << "maxReplySize" << YAML::Value
      << format_byte_size(c.prometheus.max_reply_bytes);
  out << YAML::EndMap;

  const auto& s = c.server;
  out << YAML::Key << "server" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "address" << YAML::Value << s.address;
  out << YAML::Key << "probeAddress" << YAML::Value << s.probe_address;
  out << YAML::Key << "publicMetrics" << YAML::Value << s.public_metrics;
  out << YAML::Key << "tlsCertFile" << YAML::Value << s.tls_cert_file;
  out << YAML::Key << "tlsKeyFile" << YAML::Value << s.tls_key_file;
  out << YAML::Key << "clientCAFile" << YAML::Value << s.client_ca_file;
  out << YAML::Key << "requestHeader" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "clientCAFile" << YAML::Value << s.request_header.client_ca_file;
  out << YAML::Key << "allowedNames" << YAML::Value << YAML::Flow << s.request_header.allowed_names;
  out << YAML::Key << "usernameHeaders" << YAML::Value << YAML::Flow
      << s.request_header.username_headers;
  out << YAML::Key << "groupHeaders" << YAML::Value << YAML::Flow << s.request_header.group_headers;
  out << YAML::Key << "extraHeadersPrefix" << YAML::Value << YAML::Flow
      << s.request_header.extra_headers_prefix;
  out << YAML::Key << "fromCluster" << YAML::Value << s.request_header.from_cluster;
  out << YAML::EndMap;
  out << YAML::Key << "authorization" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "mode" << YAML::Value << std::string(to_string(s.authorization_mode));
  out << YAML::Key << "kubeconfig" << YAML::Value << s.authorization_kubeconfig;
  out << YAML::Key << "cacheTTL" << YAML::Value
      << format_duration(s.authorization_cache_ttl_seconds);
  out << YAML::Key << "tokenAudiences" << YAML::Value << YAML::Flow << s.token_audiences;
  out << YAML::EndMap;
  out << YAML::Key << "keda" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << s.keda.enabled;
  out << YAML::Key << "address" << YAML::Value << s.keda.address;
  out << YAML::Key << "certFile" << YAML::Value << s.keda.cert_file;
  out << YAML::Key << "keyFile" << YAML::Value << s.keda.key_file;
  out << YAML::Key << "clientCAFile" << YAML::Value << s.keda.client_ca_file;
  const auto& self = s.keda.self_service;
  out << YAML::Key << "selfService" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "enabled" << YAML::Value << self.enabled;
  out << YAML::Key << "idleTimeout" << YAML::Value << format_duration(self.idle_timeout_seconds);
  out << YAML::Key << "maxPerNamespace" << YAML::Value << self.max_per_namespace;
  out << YAML::Key << "maxTargets" << YAML::Value << self.max_targets;
  out << YAML::Key << "namespaces" << YAML::Value << YAML::Flow << self.namespaces;
  out << YAML::EndMap;
  out << YAML::EndMap;
  out << YAML::EndMap;

  const auto& d = c.decisions;
  out << YAML::Key << "decisions" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "changeThreshold" << YAML::Value << fmt::format("{:g}", d.change_threshold);
  out << YAML::Key << "anomalySteps" << YAML::Value << d.anomaly_steps;
  out << YAML::Key << "shiftSteps" << YAML::Value << d.shift_steps;
  out << YAML::Key << "file" << YAML::Value << d.file;
  out << YAML::Key << "maxBytes" << YAML::Value << d.max_bytes;
  out << YAML::Key << "maxFiles" << YAML::Value << d.max_files;
  out << YAML::Key << "keep" << YAML::Value << d.keep;
  out << YAML::EndMap;

  if (!c.calendars_yaml.empty()) {
    out << YAML::Key << "calendars" << YAML::Value << YAML::Load(c.calendars_yaml);
  }

  out << YAML::Key << "targets" << YAML::Value << YAML::BeginSeq;
  for (const auto& t : c.targets) {
    out << YAML::BeginMap;
    for (const auto& field : detail::target_fields()) {
      if (field.write == nullptr) continue;
      out << YAML::Key << std::string(field.key) << YAML::Value;
      field.write(out, t);
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace prescale::config
