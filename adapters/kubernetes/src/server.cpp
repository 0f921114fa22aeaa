#include "prescale/kubernetes/server.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "apiserver_client.hpp"
#include "authorizer.hpp"
#include "listener.hpp"
#include "prescale/kubernetes/api.hpp"
#include "tls.hpp"
#include "token_authenticator.hpp"

namespace prescale::kubernetes {
namespace {

using Clock = std::chrono::steady_clock;

prometheus::ClientMetric gauge_metric(std::vector<prometheus::ClientMetric::Label> labels,
                                      double value) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  return metric;
}

prometheus::MetricFamily gauge_family(std::string name, std::string help) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = prometheus::MetricType::Gauge;
  return family;
}

// Per-target gauges, read from the snapshot at scrape time so targets that
// disappear from the configuration disappear from /metrics too.
std::vector<prometheus::MetricFamily> snapshot_families(const Snapshot& snapshot) {
  auto observed =
      gauge_family("prescale_target_observed", "Last observed value of the target's load.");
  auto forecast =
      gauge_family("prescale_target_forecast", "Forecast quantile over the lead window.");
  auto served =
      gauge_family("prescale_target_served",
                   "Value served to the HPA: max(observed, forecast), or observed in fallback.");
  auto replicas = gauge_family("prescale_target_replicas",
                               "Served value divided by capacityPerReplica, when configured.");
  auto fit =
      gauge_family("prescale_target_fit_seconds", "Duration of the target's last model fit.");
  auto last_fit = gauge_family("prescale_target_last_fit_timestamp_seconds",
                               "Unix time of the target's last fit.");
  auto backtest = gauge_family("prescale_target_backtest_mase",
                               "Backtest error (MASE against seasonal naive) of the model in use.");
  auto age =
      gauge_family("prescale_target_data_age_seconds", "Age of the newest sample of the target.");
  auto fallback = gauge_family(
      "prescale_target_fallback",
      "1 when the target serves its observed value alone; the reason's kind is a label "
      "(no_data, data_stale, fit_pending, fit_failed, history_too_short, "
      "forced_model_loses, forecast_unusable; the full reason is in /status).");
  auto anomaly =
      gauge_family("prescale_anomaly_score",
                   "Anomaly evidence: the larger CUSUM of standardised residuals over its "
                   "threshold, signed (negative: below the forecast); beyond +-1 while an anomaly "
                   "is in progress.");
  auto in_anomaly = gauge_family(
      "prescale_anomaly", "1 while an anomaly is in progress (the rule of the decision records).");
  auto residual = gauge_family("prescale_residual_z",
                               "The newest sample's residual over its seasonal residual scale.");
  auto outside =
      gauge_family("prescale_outside_interval",
                   "1 when the newest sample lies outside the prediction interval at the "
                   "target's quantile (per sample: not an alarm).");
  auto interval = gauge_family(
      "prescale_target_interval",
      "Central prediction interval [q(1-p), q(p)] of the newest sample's one-step forecast, "
      "bound=lower|upper (absent before a model scores a sample).");
  auto quantile =
      gauge_family("prescale_target_quantile",
                   "The quantile the latest decision served (an SLO's tuning moves it; see "
                   "prescale_target_interval_quantile for the prediction interval's).");
  auto headroom = gauge_family("prescale_target_headroom",
                               "The headroom factor the latest decision applied (an SLO's tuning; "
                               "1 without one): served = max(observed, forecast x risk) x it.");
  auto interval_quantile = gauge_family(
      "prescale_target_interval_quantile",
      "The quantile p of the prediction interval [q(1-p), q(p)] the samples are held to (the "
      "configured one): prescale_outside_interval should be 1 on about 2(1-p) of samples.");
  auto step = gauge_family("prescale_target_step_seconds", "The target's sampling step.");
  prometheus::MetricFamily fit_failures;
  fit_failures.name = "prescale_target_fit_failures_total";
  fit_failures.help = "Model fits of the target that failed since the process started.";
  fit_failures.type = prometheus::MetricType::Counter;
  for (const auto& target : snapshot.targets) {
    const prometheus::ClientMetric::Label name{"target", target.target};
    if (std::isfinite(target.interval_lower) && std::isfinite(target.interval_upper)) {
      interval.metric.push_back(gauge_metric({name, {"bound", "lower"}}, target.interval_lower));
      interval.metric.push_back(gauge_metric({name, {"bound", "upper"}}, target.interval_upper));
    }
    quantile.metric.push_back(gauge_metric({name}, target.quantile));
    headroom.metric.push_back(gauge_metric({name}, target.headroom));
    interval_quantile.metric.push_back(gauge_metric({name}, target.interval_quantile));
    step.metric.push_back(gauge_metric({name}, static_cast<double>(target.step_seconds)));
    prometheus::ClientMetric failures;
    failures.label = {name};
    failures.counter.value = static_cast<double>(target.fit_failures);
    fit_failures.metric.push_back(std::move(failures));
    observed.metric.push_back(gauge_metric({name}, target.observed));
    forecast.metric.push_back(gauge_metric({name}, target.forecast));
    served.metric.push_back(gauge_metric({name}, target.served));
    if (target.replicas) replicas.metric.push_back(gauge_metric({name}, *target.replicas));
    fit.metric.push_back(gauge_metric({name}, target.fit_seconds));
    last_fit.metric.push_back(gauge_metric({name}, static_cast<double>(target.last_fit_unix)));
    if (target.backtest_mase)
      backtest.metric.push_back(gauge_metric({name}, *target.backtest_mase));
    age.metric.push_back(gauge_metric({name}, static_cast<double>(target.data_age_seconds)));
    fallback.metric.push_back(
        // The kind, never the reason's text: that names servers and carries
        // their error messages, and /metrics is unauthenticated by default.
        gauge_metric({name,
                      {"reason", target.in_fallback() && target.fallback_kind.empty()
                                     ? std::string("other")
                                     : target.fallback_kind}},
                     target.in_fallback() ? 1.0 : 0.0));
    anomaly.metric.push_back(gauge_metric({name}, target.anomaly_score));
    in_anomaly.metric.push_back(gauge_metric({name}, target.anomaly ? 1.0 : 0.0));
    residual.metric.push_back(gauge_metric({name}, target.residual_z));
    outside.metric.push_back(gauge_metric({name}, target.outside_interval ? 1.0 : 0.0));
  }
  auto ready = gauge_family("prescale_snapshot_ready",
                            "1 once every target has a forecast or a declared fallback.");
  ready.metric.push_back(gauge_metric({}, snapshot.ready ? 1.0 : 0.0));
  auto generated = gauge_family("prescale_snapshot_generated_timestamp_seconds",
                                "Unix time the served snapshot was computed.");
  generated.metric.push_back(gauge_metric({}, static_cast<double>(snapshot.generated_unix)));
  return {observed, forecast, served,       replicas,   fit,       last_fit, backtest,
          age,      fallback, anomaly,      in_anomaly, residual,  outside,  interval,
          quantile, step,     fit_failures, ready,      generated, headroom, interval_quantile};
}

// The SLO tuning's figures on the decisions it tuned on, for a target with
// `slo:` once tuned; hpa="prescale" is the setting in force, hpa="reactive"
// a reactive HPA tuned the same way on the same decisions.
std::vector<prometheus::MetricFamily> slo_families(const Snapshot& snapshot) {
  auto slo_met = gauge_family(
      "prescale_target_slo_met",
      "1 when the setting was within the SLO less its margin on the recorded decisions; 0 when "
      "none swept was (prescale then serves the safest one).");
  auto slo_short = gauge_family(
      "prescale_target_slo_short_minutes",
      "Minutes with load above ready capacity on the recorded decisions, replayed through the "
      "HPA model.");
  auto slo_allowed = gauge_family("prescale_target_slo_allowed_minutes",
                                  "The SLO's minutes short over the recorded decisions.");
  auto slo_replica_hours =
      gauge_family("prescale_target_slo_replica_hours",
                   "Replica-hours on the recorded decisions, replayed through the HPA model.");
  auto slo_days = gauge_family("prescale_target_slo_history_days",
                               "Days of recorded decisions the SLO tuning judged on.");
  for (const auto& target : snapshot.targets) {
    const prometheus::ClientMetric::Label name{"target", target.target};
    if (const auto& f = target.slo_figures) {
      const prometheus::ClientMetric::Label ours{"hpa", "prescale"};
      const prometheus::ClientMetric::Label reactive{"hpa", "reactive"};
      slo_met.metric.push_back(gauge_metric({name, ours}, f->meets_slo ? 1.0 : 0.0));
      slo_short.metric.push_back(gauge_metric({name, ours}, f->short_minutes));
      slo_replica_hours.metric.push_back(gauge_metric({name, ours}, f->replica_hours));
      if (f->reactive_swept) {
        slo_met.metric.push_back(gauge_metric({name, reactive}, f->reactive_meets_slo ? 1.0 : 0.0));
        slo_short.metric.push_back(gauge_metric({name, reactive}, f->reactive_short_minutes));
        slo_replica_hours.metric.push_back(
            gauge_metric({name, reactive}, f->reactive_replica_hours));
      }
      slo_allowed.metric.push_back(gauge_metric({name}, f->allowed_minutes));
      slo_days.metric.push_back(gauge_metric({name}, f->days));
    }
  }
  return {slo_met, slo_short, slo_allowed, slo_replica_hours, slo_days};
}

// What the values a target served did (SloFigures' served_*), beside the
// tuning's in-sample figures: absent until a recorded decision has a served
// value (this process's, or read back by slo.servedQuery).
std::vector<prometheus::MetricFamily> served_families(const Snapshot& snapshot) {
  auto days = gauge_family(
      "prescale_target_slo_served_days",
      "Days of recorded decisions with a served value (slo.servedQuery: before a restart too).");
  auto allowed = gauge_family("prescale_target_slo_served_allowed_minutes",
                              "The SLO's minutes short over the served decisions.");
  auto short_minutes = gauge_family(
      "prescale_target_slo_served_short_minutes",
      "Minutes with load above ready capacity, the values served replayed through the HPA model.");
  auto replica_hours =
      gauge_family("prescale_target_slo_served_replica_hours",
                   "Replica-hours of the values served, replayed through the HPA model.");
  auto reactive_short = gauge_family(
      "prescale_target_slo_served_reactive_short_minutes",
      "Over the same decisions, minutes short of a reactive HPA retuned the same way.");
  auto reactive_hours = gauge_family(
      "prescale_target_slo_served_reactive_replica_hours",
      "Over the same decisions, replica-hours of a reactive HPA retuned the same way.");
  for (const auto& target : snapshot.targets) {
    const auto& f = target.slo_figures;
    if (!f || f->served_days <= 0) continue;
    const prometheus::ClientMetric::Label name{"target", target.target};
    days.metric.push_back(gauge_metric({name}, f->served_days));
    allowed.metric.push_back(gauge_metric({name}, f->served_allowed_minutes));
    short_minutes.metric.push_back(gauge_metric({name}, f->served_short_minutes));
    replica_hours.metric.push_back(gauge_metric({name}, f->served_replica_hours));
    if (!f->served_reactive) continue;
    reactive_short.metric.push_back(gauge_metric({name}, f->served_reactive_short_minutes));
    reactive_hours.metric.push_back(gauge_metric({name}, f->served_reactive_replica_hours));
  }
  return {days, allowed, short_minutes, replica_hours, reactive_short, reactive_hours};
}

std::int64_t not_after_unix(const X509* certificate) {
  std::tm when{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &when) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&when));
}

// The earliest expiry among a trust store's certificates (0 when empty).
std::int64_t earliest_not_after(X509_STORE* store) {
  std::int64_t earliest = 0;
  STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(store);
  for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i) {
    const X509* certificate = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i));
    if (certificate == nullptr) continue;
    const std::int64_t when = not_after_unix(certificate);
    if (earliest == 0 || when < earliest) earliest = when;
  }
  return earliest;
}

void check_options(const ServerOptions& options) {
  if (options.cert_file.empty())
    throw std::invalid_argument("server: cert_file is required (the serving certificate)");
  if (options.key_file.empty())
    throw std::invalid_argument("server: key_file is required (the serving key)");
  if (options.port < 0 || options.port > 65535) {
    throw std::invalid_argument("server: port " + std::to_string(options.port) +
                                " is out of range 0-65535");
  }
  if (options.limits.max_connections < 1)
    throw std::invalid_argument("server: limits.max_connections must be >= 1");
  if (options.limits.keep_alive_max_requests < 1) {
    throw std::invalid_argument("server: limits.keep_alive_max_requests must be >= 1");
  }
  if (options.limits.max_unverified_connections_per_address < 1) {
    throw std::invalid_argument(
        "server: limits.max_unverified_connections_per_address must be >= 1");
  }
  if (options.limits.io_threads < 1 || options.limits.request_threads < 1)
    throw std::invalid_argument("server: limits.io_threads and request_threads must be >= 1");
  if (options.probe_port < -1 || options.probe_port > 65535) {
    throw std::invalid_argument("server: probe_port " + std::to_string(options.probe_port) +
                                " is out of range 0-65535 (-1: off)");
  }
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions opts, const SnapshotStore& store)
      : options(std::move(opts)),
        snapshots(store),
        files{options.cert_file, options.key_file, options.requestheader_client_ca_file,
              options.client_ca_file},
        request_headers{options.requestheader_allowed_names, options.requestheader_username_headers,
                        options.requestheader_group_headers,
                        options.requestheader_extra_headers_prefix},
        registry(std::make_shared<prometheus::Registry>()),
        requests(prometheus::BuildCounter()
                     .Name("prescale_api_requests_total")
                     .Help("HTTPS requests by route and status code.")
                     .Register(*registry)),
        latency(prometheus::BuildHistogram()
                    .Name("prescale_api_request_duration_seconds")
                    .Help("Time from a parsed request to its response, by route.")
                    .Register(*registry)),
        connections(prometheus::BuildGauge()
                        .Name("prescale_api_open_connections")
                        .Help("Open HTTPS connections.")
                        .Register(*registry)
                        .Add({})),
        refused(prometheus::BuildGauge()
                    .Name("prescale_api_refused_connections")
                    .Help("Connections closed at accept since start: max_connections open, or "
                          "max_unverified_connections_per_address from that address.")
                    .Register(*registry)
                    .Add({})),
        connection_events(prometheus::BuildCounter()
                              .Name("prescale_api_connection_limits_total")
                              .Help("HTTPS connections refused or closed by a limit, by limit: "
                                    "connection_limit, address_limit, evicted_unverified (closed "
                                    "at the connection cap to admit a new one), handshake_timeout, "
                                    "handshake_failed, request_timeout, uri_too_long, "
                                    "headers_too_large, body_too_large, malformed.")
                              .Register(*registry)),
        reloads(prometheus::BuildCounter()
                    .Name("prescale_api_certificate_reloads_total")
                    .Help("Certificate and CA reloads after their files changed, by result.")
                    .Register(*registry)) {}

  void log(LogLevel level, const std::string& message) const {
    if (options.log) options.log(level, message);
  }

  std::shared_ptr<const detail::TlsMaterial> material() const {
    std::lock_guard lock(material_mutex);
    return current_material;
  }

  // Runs inside every handshake, after the ClientHello: installs the current
  // certificate generation and the acceptable client-CA names on this
  // connection, so rotation needs no new SSL_CTX.
  static int on_certificate(SSL* ssl, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    const auto material = self->material();
    if (!material) return 0;
    if (SSL_use_cert_and_key(ssl, material->certificate.get(), material->key.get(),
                             material->chain.get(), 1) != 1) {
      ERR_clear_error();
      return 0;
    }
    SSL_set_client_CA_list(ssl, SSL_dup_CA_list(material->acceptable_issuers.get()));
    return 1;
  }

  // Chains are verified per request against the right CA (request-header or
  // client CA); the handshake only asks for a certificate.
  static int accept_any_certificate(int, X509_STORE_CTX*) { return 1; }

  bool setup_ssl_context(SSL_CTX& context) {
    SSL_CTX_set_min_proto_version(&context, TLS1_2_VERSION);
    SSL_CTX_set_options(&context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                      SSL_OP_CIPHER_SERVER_PREFERENCE);
    // SSL_VERIFY_PEER alone requests a client certificate without requiring
    // one (kubelet probes have none); no FAIL_IF_NO_PEER_CERT.
    SSL_CTX_set_verify(&context, SSL_VERIFY_PEER, accept_any_certificate);
    static const unsigned char session_context[] = "prescale-external-metrics";
    SSL_CTX_set_session_id_context(&context, session_context, sizeof session_context - 1);
    SSL_CTX_set_cert_cb(&context, on_certificate, this);
    return true;
  }

  ApiResponse text_response(int status, std::string body, std::string route) const {
    return ApiResponse{status, "text/plain; charset=utf-8", std::move(body), std::move(route)};
  }

  // What the current material presents and trusts, and what the daemon adds.
  prometheus::MetricFamily certificate_family() const {
    auto family = gauge_family(
        "prescale_certificate_expiry_seconds",
        "Unix time at which a certificate prescale serves or trusts expires (for a CA bundle, "
        "its first to expire). Alert on prescale_certificate_expiry_seconds - time().");
    std::vector<CertificateExpiry> certificates;
    if (const auto current = material()) {
      const std::string from_cluster = "kube-system/extension-apiserver-authentication";
      if (current->certificate)
        certificates.push_back(
            {"serving", options.cert_file, not_after_unix(current->certificate.get())});
      if (current->client_store)
        certificates.push_back(
            {"client-ca", options.client_ca_file.empty() ? from_cluster : options.client_ca_file,
             earliest_not_after(current->client_store.get())});
      if (current->requestheader_store)
        certificates.push_back({"requestheader-ca",
                                options.requestheader_client_ca_file.empty()
                                    ? from_cluster
                                    : options.requestheader_client_ca_file,
                                earliest_not_after(current->requestheader_store.get())});
    }
    if (options.more_certificates) {
      auto more = options.more_certificates();
      certificates.insert(certificates.end(), more.begin(), more.end());
    }
    for (const auto& c : certificates)
      family.metric.push_back(gauge_metric({{"certificate", c.certificate}, {"source", c.source}},
                                           static_cast<double>(c.not_after_unix)));
    return family;
  }

  ApiResponse prometheus_response() const {
    connections.Set(https->open_connections());
    refused.Set(static_cast<double>(https->refused_connections()));
    auto families = registry->Collect();
    families.push_back(certificate_family());
    const auto snapshot = snapshots.current();
    auto from_snapshot = snapshot_families(*snapshot);
    families.insert(families.end(), std::make_move_iterator(from_snapshot.begin()),
                    std::make_move_iterator(from_snapshot.end()));
    for (auto* more : {&slo_families, &served_families}) {
      auto some = (*more)(*snapshot);
      families.insert(families.end(), std::make_move_iterator(some.begin()),
                      std::make_move_iterator(some.end()));
    }
    return ApiResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                       prometheus::TextSerializer().Serialize(families), "/metrics"};
  }

  // GET /decisions?target=<metric>&since=<unix seconds>: recent decision
  // records; with steps=1, the step trail behind them.
  ApiResponse decisions_response(const RequestTarget& target) const {
    const auto steps = target.query.find("steps");
    const bool want_steps =
        steps != target.query.end() && (steps->second == "1" || steps->second == "true");
    const auto& answer = want_steps ? options.steps : options.decisions;
    if (!answer)
      return ApiResponse{404, "application/json",
                         status_json(404, "NotFound",
                                     want_steps ? "no step trail on this server"
                                                : "no decision records on this server"),
                         "/decisions"};
    std::string name;
    std::int64_t since = 0;
    if (auto it = target.query.find("target"); it != target.query.end()) name = it->second;
    if (auto it = target.query.find("since"); it != target.query.end()) {
      const auto& text = it->second;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), since);
      if (ec != std::errc() || end != text.data() + text.size())
        return ApiResponse{
            400, "application/json",
            status_json(400, "BadRequest", "since: '" + text + "' is not unix seconds"),
            "/decisions"};
    }
    return ApiResponse{200, "application/json", answer(name, since), "/decisions"};
  }

  // Kubelet probes: no client certificate, no data beyond which check fails.
  std::optional<ApiResponse> probe_response(const std::string& path) const {
    if (path == "/healthz" || path == "/livez") return text_response(200, "ok", path);
    if (path == "/readyz") {
      if (snapshots.current()->ready) return text_response(200, "ok", "/readyz");
      return text_response(
          500,
          "[-]snapshot: no forecast or declared fallback yet for every target\nreadyz check failed",
          "/readyz");
    }
    return std::nullopt;
  }

  // Limits on the URI and headers were enforced while the request was read
  // (RequestReader); a request here is complete and within them.
  ApiResponse route(const detail::IncomingRequest& incoming) const {
    const HttpRequest& request = incoming.http;
    const RequestTarget target = parse_target(request.target);
    // Probes need no client certificate (kubelet has none).
    if (auto probe = probe_response(target.path)) return std::move(*probe);
    if (target.path == "/metrics" && options.public_prometheus_metrics)
      return prometheus_response();

    const auto tls = material();
    detail::HeaderList headers(request.headers.begin(), request.headers.end());
    auto identity = detail::authenticate(incoming.ssl, *tls, headers);
    if (!identity && token_authenticator) {
      // After certificates, as the delegated authenticator orders them
      // (requestheader, x509, then the token).
      if (const auto token = detail::bearer_token(headers)) {
        detail::TokenResult result = token_authenticator->authenticate(*token);
        if (result.kind == detail::TokenResult::Kind::error) {
          log(LogLevel::error, "authentication of a bearer token for " + request.target +
                                   " failed: " + result.reason);
          return internal_error_response(request.target, result.reason);
        }
        if (result.kind == detail::TokenResult::Kind::authenticated) {
          identity = std::move(result.identity);
          if (std::find(identity->groups.begin(), identity->groups.end(), "system:authenticated") ==
              identity->groups.end())
            identity->groups.emplace_back("system:authenticated");
        }
      }
    }
    if (!identity) return unauthorized_response();
    const RequestAttributes attributes = request_attributes(request.method, target.path);
    const detail::Decision decision = authorizer->authorize(*identity, attributes);
    if (decision.kind == detail::Decision::Kind::error) {
      log(LogLevel::error, "authorization of user \"" + identity->user + "\" for " +
                               request.target + " failed: " + decision.reason);
      return internal_error_response(request.target, decision.reason);
    }
    if (decision.kind == detail::Decision::Kind::deny)
      return forbidden_response(*identity, attributes, decision.reason);
    if (target.path == "/metrics") return prometheus_response();
    if (target.path == "/status") return serve_status(*snapshots.current());
    if (target.path == "/decisions") return decisions_response(target);
    return serve_api(*snapshots.current(), request.method, target);
  }

  detail::Reply handle(const detail::IncomingRequest& request) {
    const auto start = Clock::now();
    ApiResponse out;
    try {
      out = route(request);
    } catch (const std::exception& error) {
      // a bug, not a client error: answer as Kubernetes would
      log(LogLevel::error,
          std::string("request ") + request.http.target + " failed: " + error.what());
      out = internal_error_response(request.http.target, error.what());
    }
    record(out.route, out.status, std::chrono::duration<double>(Clock::now() - start).count());
    return detail::Reply{out.status, std::move(out.content_type), std::move(out.body)};
  }

  // The probe port: probes only; anything else is 404 (no data there).
  detail::Reply handle_probe(const detail::IncomingRequest& request) const {
    const RequestTarget target = parse_target(request.http.target);
    if (auto probe = probe_response(target.path))
      return detail::Reply{probe->status, std::move(probe->content_type), std::move(probe->body)};
    return detail::Reply{
        404, "application/json",
        status_json(404, "NotFound", "the probe port serves only /healthz, /livez and /readyz")};
  }

  void count_event(detail::ConnectionEvent event) {
    const auto index = static_cast<std::size_t>(event);
    if (index < event_counters.size() && event_counters[index]) event_counters[index]->Increment();
  }

  void record(const std::string& route_name, int status, double seconds) {
    prometheus::Counter* counter = nullptr;
    prometheus::Histogram* histogram = nullptr;
    {
      // Family::Add builds a throw-away metric per call; keep the pointers.
      std::lock_guard lock(metrics_mutex);
      auto& counter_slot = request_counters[{route_name, status}];
      if (!counter_slot)
        counter_slot = &requests.Add({{"route", route_name}, {"code", std::to_string(status)}});
      counter = counter_slot;
      auto& histogram_slot = latency_histograms[route_name];
      if (!histogram_slot) {
        histogram_slot = &latency.Add(
            {{"route", route_name}},
            prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05,
                                                    0.1, 0.25, 0.5, 1, 2.5, 5});
      }
      histogram = histogram_slot;
      connections.Set(https->open_connections());
      refused.Set(static_cast<double>(https->refused_connections()));
    }
    counter->Increment();
    histogram->Observe(seconds);
  }

  bool cluster_authentication_used() const {
    return options.authentication_from_cluster && options.requestheader_client_ca_file.empty();
  }

  Expected<detail::ClusterAuthentication> fetch_cluster_authentication() const {
    const std::string path =
        "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication";
    auto reply = detail::call_apiserver(*authentication_apiserver, "GET", path, "",
                                        options.authentication_apiserver.timeout);
    if (!reply)
      return make_error("reading ConfigMap kube-system/extension-apiserver-authentication: " +
                        reply.error().message);
    if (reply->status != 200) {
      return make_error("reading ConfigMap kube-system/extension-apiserver-authentication: HTTP " +
                        std::to_string(reply->status) + ": " + reply->body.substr(0, 300));
    }
    return detail::parse_authentication_configmap(reply->body);
  }

  // Re-reads the cluster's authentication ConfigMap when due; true when it changed.
  bool refresh_cluster_authentication(Clock::time_point& next_fetch, std::string& last_error) {
    if (!cluster_authentication_used() || Clock::now() < next_fetch) return false;
    next_fetch = Clock::now() + options.cluster_authentication_refresh;
    auto fetched = fetch_cluster_authentication();
    if (!fetched) {
      if (fetched.error().message != last_error) {
        log(LogLevel::warning,
            "keeping the previous front-proxy trust: " + fetched.error().message);
        last_error = fetched.error().message;
      }
      return false;
    }
    last_error.clear();
    if (*fetched == cluster_authentication) return false;
    cluster_authentication = std::move(*fetched);
    return true;
  }

  // State of the watcher thread between ticks.
  struct WatchState {
    std::vector<std::filesystem::file_time_type> failed_mtimes;
    Clock::time_point next_cluster_fetch;
    std::string cluster_error;
  };

  void reload_if_changed(WatchState& state) {
    const auto current = material();
    const bool cluster_changed =
        refresh_cluster_authentication(state.next_cluster_fetch, state.cluster_error);
    if (!cluster_changed && !detail::tls_files_changed(files, *current)) return;
    auto reloaded = detail::load_tls_material(files, request_headers, cluster_authentication);
    if (!reloaded) {
      // Files mid-rotation (certificate written, key not yet): keep serving
      // the old pair and retry on the next tick; log each new state once.
      const auto now = detail::tls_file_mtimes(files);
      if (now != state.failed_mtimes) {
        log(LogLevel::warning,
            "certificate reload failed, still serving the previous certificates: " +
                reloaded.error().message);
        state.failed_mtimes = now;
      }
      reloads.Add({{"result", "failure"}}).Increment();
      return;
    }
    {
      std::lock_guard material_lock(material_mutex);
      current_material = std::move(*reloaded);
    }
    state.failed_mtimes.clear();
    reloads.Add({{"result", "success"}}).Increment();
    log(LogLevel::info,
        cluster_changed ? "reloaded client CAs and request-header settings after "
                          "kube-system/extension-apiserver-authentication changed"
                        : "reloaded serving certificate and client CAs after their files changed");
  }

  void watch_files() {
    WatchState state;
    state.next_cluster_fetch = Clock::now() + options.cluster_authentication_refresh;
    std::unique_lock lock(stop_mutex);
    while (
        !stop_cv.wait_for(lock, options.certificate_reload_interval, [this] { return stopping; })) {
      lock.unlock();  // a slow apiserver must not hold stop() up
      reload_if_changed(state);
      lock.lock();
    }
  }

  ServerOptions options;
  const SnapshotStore& snapshots;
  detail::TlsFiles files;
  detail::RequestHeaderOptions request_headers;
  std::optional<detail::ApiServerTarget> authentication_apiserver;
  detail::ClusterAuthentication cluster_authentication;  // watcher thread only, after start()

  mutable std::mutex material_mutex;
  std::shared_ptr<const detail::TlsMaterial> current_material;
  std::unique_ptr<detail::Authorizer> authorizer;
  std::unique_ptr<detail::TokenAuthenticator> token_authenticator;  // null: tokens not accepted
  std::unique_ptr<detail::Listener> https;
  std::unique_ptr<detail::Listener> probes;
  std::thread watcher;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
  bool started = false;
  int bound_port = 0;

  std::shared_ptr<prometheus::Registry> registry;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& latency;
  prometheus::Gauge& connections;
  prometheus::Gauge& refused;
  prometheus::Family<prometheus::Counter>& connection_events;
  std::vector<prometheus::Counter*> event_counters;  // by detail::ConnectionEvent
  prometheus::Family<prometheus::Counter>& reloads;
  std::mutex metrics_mutex;
  std::map<std::pair<std::string, int>, prometheus::Counter*> request_counters;
  std::map<std::string, prometheus::Histogram*> latency_histograms;
};

Server::Server(ServerOptions options, const SnapshotStore& snapshots) {
  check_options(options);
  impl_ = std::make_unique<Impl>(std::move(options), snapshots);
}

Server::~Server() {
  stop();
  if (impl_->watcher.joinable()) impl_->watcher.join();
}

namespace {

detail::ListenerLimits https_limits(const ServerLimits& limits) {
  detail::ListenerLimits out;
  out.max_connections = limits.max_connections;
  out.max_unverified_per_address = limits.max_unverified_connections_per_address;
  out.handshake_timeout = limits.handshake_timeout;
  out.request_timeout = limits.request_timeout;
  out.keep_alive_timeout = limits.keep_alive_timeout;
  out.write_timeout = limits.write_timeout;
  out.keep_alive_max_requests = limits.keep_alive_max_requests;
  out.request.max_uri_length = limits.max_uri_length;
  out.request.max_header_bytes = limits.max_header_bytes;
  out.request.max_header_fields = limits.max_header_fields;
  out.request.max_body_bytes = limits.max_body_bytes;
  return out;
}

// Probes are small and frequent: a small budget of its own, short deadlines,
// answered on the I/O thread (they never block).
detail::ListenerLimits probe_limits(const ServerLimits& limits) {
  detail::ListenerLimits out = https_limits(limits);
  out.max_connections = 64;
  out.max_unverified_per_address = 16;
  out.request_timeout = std::min(limits.request_timeout, std::chrono::milliseconds(5000));
  out.keep_alive_timeout = std::min(limits.keep_alive_timeout, std::chrono::milliseconds(5000));
  out.write_timeout = std::min(limits.write_timeout, std::chrono::milliseconds(5000));
  out.request.max_header_bytes = std::min<std::size_t>(limits.max_header_bytes, 8192);
  out.request.max_body_bytes = 0;
  return out;
}

}  // namespace

Status Server::start() {
  auto& self = *impl_;
  if (self.started) return make_error("server: already started");
  if (self.https || self.watcher.joinable())
    return make_error("server: cannot restart a stopped server");
  if (self.cluster_authentication_used()) {
    auto target = detail::resolve_apiserver(self.options.authentication_apiserver);
    if (!target) return make_error("server: authentication_apiserver: " + target.error().message);
    self.authentication_apiserver = std::move(*target);
    auto fetched = self.fetch_cluster_authentication();
    if (!fetched) return make_error("server: " + fetched.error().message);
    self.cluster_authentication = std::move(*fetched);
  }
  auto material =
      detail::load_tls_material(self.files, self.request_headers, self.cluster_authentication);
  if (!material) return make_error("server: " + material.error().message);
  self.current_material = std::move(*material);
  auto authorizer = detail::make_authorizer(self.options.authorization);
  if (!authorizer) return make_error("server: " + authorizer.error().message);
  self.authorizer = std::move(*authorizer);
  if (self.options.token_review.enabled) {
    auto tokens = detail::make_token_authenticator(self.options.token_review);
    if (!tokens) return make_error("server: token review: " + tokens.error().message);
    self.token_authenticator = std::move(*tokens);
  }

  for (int event = 0; event <= static_cast<int>(detail::ConnectionEvent::rejected_malformed);
       ++event) {
    self.event_counters.push_back(&self.connection_events.Add(
        {{"limit", std::string(detail::to_string(static_cast<detail::ConnectionEvent>(event)))}}));
  }
  const auto warn = [&self](std::string_view message) {
    self.log(LogLevel::warning, std::string(message));
  };
  const auto& limits = self.options.limits;
  detail::ListenerOptions https;
  https.name = "https";
  https.address = self.options.address;
  https.port = self.options.port;
  https.tls = true;
  https.setup_tls = [&self](SSL_CTX& context) { return self.setup_ssl_context(context); };
  https.trusted_peer = [&self](const SSL* ssl) {
    return detail::peer_certificate_verified(ssl, *self.material());
  };
  https.limits = https_limits(limits);
  https.io_threads = limits.io_threads;
  https.request_threads = limits.request_threads;
  https.handler = [&self](const detail::IncomingRequest& request) { return self.handle(request); };
  https.on_event = [&self](detail::ConnectionEvent event) { self.count_event(event); };
  https.log_warning = warn;
  self.https = std::make_unique<detail::Listener>(std::move(https));
  if (auto started = self.https->start(); !started)
    return make_error("server: " + started.error().message);
  self.bound_port = self.https->port();

  if (self.options.probe_port >= 0) {
    detail::ListenerOptions probes;
    probes.name = "probes";
    probes.address =
        self.options.probe_address.empty() ? self.options.address : self.options.probe_address;
    probes.port = self.options.probe_port;
    probes.limits = probe_limits(limits);
    probes.handler = [&self](const detail::IncomingRequest& request) {
      return self.handle_probe(request);
    };
    probes.log_warning = warn;
    self.probes = std::make_unique<detail::Listener>(std::move(probes));
    if (auto started = self.probes->start(); !started) {
      self.https->stop(std::chrono::milliseconds(0));
      return make_error("server: " + started.error().message);
    }
  }
  self.watcher = std::thread([&self] { self.watch_files(); });
  self.started = true;
  self.log(LogLevel::info, "serving external.metrics.k8s.io on https://" + self.options.address +
                               ":" + std::to_string(self.bound_port));
  if (self.probes) {
    self.log(LogLevel::info, "serving /healthz, /livez, /readyz on http://" +
                                 (self.options.probe_address.empty() ? self.options.address
                                                                     : self.options.probe_address) +
                                 ":" + std::to_string(self.probes->port()));
  }
  return Status::ok();
}

int Server::port() const {
  return impl_->bound_port;
}

int Server::probe_port() const {
  return impl_->probes ? impl_->probes->port() : 0;
}

void Server::stop(std::chrono::milliseconds grace) {
  auto& self = *impl_;
  if (!self.started) return;
  self.started = false;
  {
    std::lock_guard lock(self.stop_mutex);
    self.stopping = true;
  }
  self.stop_cv.notify_all();  // the watcher ends after its current check; joined in the destructor
  // Probes keep answering while the API drains.
  self.https->stop(grace);
  if (self.probes) self.probes->stop(std::chrono::milliseconds(0));
  self.log(LogLevel::info, "stopped serving external.metrics.k8s.io");
}

}  // namespace prescale::kubernetes
