#include "prescale/daemon/daemon.hpp"

#include <fmt/core.h>

#include <stdexcept>
#include <thread>

#include "prescale/autoscaler/step_trail.hpp"
#include "prescale/daemon/trigger_targets.hpp"
#include "prescale/keda/external_scaler.hpp"
#include "prescale/kubernetes/server.hpp"
#include "prescale/prometheus/client_config.hpp"
#include "prescale/prometheus/prometheus_source.hpp"
#include "prescale/simulate/tune.hpp"

namespace prescale::daemon {

using namespace autoscaler;

namespace {

// The file's text, or an error text the watcher compares like any other:
// a deleted or oversized file is a change (rejected once), not a throw.
std::string read_text(const std::filesystem::path& path) {
  try {
    return config::read_config_text(path);
  } catch (const std::exception& e) {
    return std::string("\0unreadable: ", 14) + e.what();
  }
}

kubernetes::ServerOptions server_options(const config::ServerConfig& s,
                                         std::optional<int> listen_port, const LogFunction& log) {
  kubernetes::ServerOptions o;
  // Both validated with the config; parsed again here without a throwing stoi.
  auto address = config::parse_host_port(s.address);
  if (!address) throw std::invalid_argument("server.address: " + address.error().message);
  o.address = address->host.empty() ? "0.0.0.0" : address->host;
  o.port = listen_port.value_or(address->port);
  if (!s.probe_address.empty()) {
    auto probe = config::parse_host_port(s.probe_address);
    if (!probe) throw std::invalid_argument("server.probeAddress: " + probe.error().message);
    o.probe_address = probe->host.empty() ? "0.0.0.0" : probe->host;
    o.probe_port = probe->port;
  }
  o.public_prometheus_metrics = s.public_metrics;
  o.cert_file = s.tls_cert_file;
  o.key_file = s.tls_key_file;
  o.client_ca_file = s.client_ca_file;
  o.requestheader_client_ca_file = s.request_header.client_ca_file;
  o.requestheader_allowed_names = s.request_header.allowed_names;
  o.requestheader_username_headers = s.request_header.username_headers;
  o.requestheader_group_headers = s.request_header.group_headers;
  o.requestheader_extra_headers_prefix = s.request_header.extra_headers_prefix;
  o.authentication_from_cluster = s.request_header.from_cluster;
  o.authorization.mode = s.authorization_mode == config::AuthorizationMode::webhook
                             ? kubernetes::AuthorizationOptions::Mode::webhook
                             : kubernetes::AuthorizationOptions::Mode::always_allow;
  o.authorization.apiserver.kubeconfig_file = s.authorization_kubeconfig;
  o.authorization.allow_ttl = std::chrono::seconds(s.authorization_cache_ttl_seconds);
  o.authorization.deny_ttl = std::chrono::seconds(s.authorization_cache_ttl_seconds);
  // Delegated authorization brings delegated token authentication with it,
  // as in Kubernetes' aggregated API servers: the same apiserver, the same
  // cache lifetime (system:auth-delegator grants both reviews).
  o.token_review.enabled = o.authorization.mode == kubernetes::AuthorizationOptions::Mode::webhook;
  o.token_review.apiserver = o.authorization.apiserver;
  o.token_review.success_ttl = o.authorization.allow_ttl;
  o.token_review.failure_ttl = o.authorization.deny_ttl;
  o.token_review.audiences = s.token_audiences;
  if (log) {
    o.log = [log](LogLevel level, std::string_view message) {
      log(LogRecord{level, std::string(message), {}}.with("component", "server"));
    };
  }
  return o;
}

}  // namespace

SourceFactory prometheus_sources(const config::PrometheusConfig& p) {
  return [p](const config::TargetConfig& target) -> Expected<std::unique_ptr<source::Source>> {
    auto client = prometheus::client_options(p);
    if (!client) return make_error("prometheus.basicAuth.passwordFile: " + client.error().message);
    // The engine ticks again next step: a short retry budget keeps one
    // failing Prometheus from holding a tick thread for long.
    client->retry.max_attempts = 2;
    prometheus::QueryOptions query;
    query.query = target.query;
    return std::unique_ptr<source::Source>(
        std::make_unique<prometheus::PrometheusSource>(std::move(*client), std::move(query)));
  };
}

struct Daemon::Impl {
  DaemonOptions options;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  SnapshotStore store;
  mutable std::mutex config_mutex;
  config::Config config;
  std::string config_text;  // what the watcher compares against
  std::unique_ptr<Engine> engine;
  std::unique_ptr<kubernetes::Server> server;
  std::unique_ptr<keda::ExternalScaler> keda;  ///< null unless server.keda.enabled
  /// Targets KEDA triggers carry; null unless server.keda.selfService.enabled.
  std::unique_ptr<TriggerTargets> triggers;
  /// The file's targets and the triggers', as the engine has them (config_mutex).
  std::vector<config::TargetConfig> served_targets;
  std::thread engine_thread, watcher_thread;
  Interrupt watcher_stop;
  std::mutex reload_mutex;
  std::shared_ptr<DecisionRing> decision_ring;
  std::shared_ptr<StepTrail> step_trail = std::make_shared<StepTrail>();
  std::unique_ptr<DecisionLog> decision_log;  ///< null without decisions.file

  // Each record: a JSON log line (the cluster's log pipeline keeps it), the
  // ring GET /decisions reads, and the rotating file where a volume is mounted.
  void record_decisions(const std::vector<DecisionRecord>& records) {
    for (const auto& r : records) {
      log(LogRecord{LogLevel::info, "decision", {}}
              .with("target", r.target)
              .with("kind", std::string(to_string(r.kind)))
              .with("reason", r.reason)
              .with("observed", r.observed)
              .with("forecast", r.forecast)
              .with("served", r.served)
              .with("model", r.model)
              .with("decision_unix", r.time_unix));
    }
    decision_ring->add(records);
    if (decision_log) {
      if (auto written = decision_log->append(records); !written)
        log(LogRecord{LogLevel::error, "decision records not written to the file", {}}.with(
            "error", written.error().message));
    }
  }

  void log(LogRecord record) const {
    if (options.log) options.log(record);
  }

  // The file's targets plus the triggers' to the engine. The caller holds
  // reload_mutex (one change of the target set at a time).
  Status apply_targets(const config::Config& central, bool rebuild) {
    std::vector<config::TargetConfig> targets = central.targets;
    if (triggers) {
      auto extra = triggers->targets();
      targets.insert(targets.end(), extra.begin(), extra.end());
    }
    Status applied = Status::ok();
    try {
      applied = engine->reconfigure(targets, central.calendars, sources_for(central), rebuild);
    } catch (const std::exception& e) {
      applied = make_error(e.what());
    }
    if (applied) {
      std::lock_guard lock(config_mutex);
      served_targets = std::move(targets);
    }
    return applied;
  }

  config::Config central_config() const {
    std::lock_guard lock(config_mutex);
    return config;
  }

  // KEDA's call for a trigger carrying a target: the known one at once
  // (every HPA sync asks), else created or replaced under reload_mutex.
  keda::TriggerTarget trigger_target(const std::string& namespace_name,
                                     const std::string& scaled_object,
                                     const std::map<std::string, std::string>& metadata) {
    using Code = keda::TriggerTarget::Code;
    auto metric = metadata.find("metricName");
    if (metric == metadata.end() || metric->second.empty())
      return {Code::invalid, "", "trigger metadata 'metricName' is required"};
    const TriggerKey key{namespace_name, scaled_object, metric->second};
    const double now = clock->now();
    if (auto served = triggers->touch(key, metadata, now)) return {Code::ok, *served, ""};
    std::lock_guard reload_lock(reload_mutex);
    const config::Config central = central_config();
    auto answer = triggers->ask(key, metadata, central, now);
    switch (answer.kind) {
      case TriggerTargets::Answer::Kind::ok:
        break;
      case TriggerTargets::Answer::Kind::invalid:
        return {Code::invalid, "", answer.message};
      case TriggerTargets::Answer::Kind::exhausted:
        return {Code::exhausted, "", answer.message};
      case TriggerTargets::Answer::Kind::denied:
        return {Code::denied, "", answer.message};
    }
    if (!answer.changed) return {Code::ok, answer.metric, ""};
    if (auto applied = apply_targets(central, false); !applied) {
      triggers->undo(key);
      return {Code::unavailable, "", "the target cannot be started: " + applied.error().message};
    }
    log(LogRecord{LogLevel::info, "target created from a KEDA trigger", {}}
            .with("trigger", key.text())
            .with("target", answer.metric)
            .with("targets_from_triggers", static_cast<std::int64_t>(triggers->size())));
    return {Code::ok, answer.metric, ""};
  }

  // Drops the trigger targets KEDA stopped asking for (ScaledObject deleted
  // or changed to another target). From the watcher thread.
  void expire_triggers() {
    if (!triggers) return;
    std::lock_guard reload_lock(reload_mutex);
    auto dropped = triggers->expire(clock->now());
    if (dropped.empty()) return;
    if (auto applied = apply_targets(central_config(), false); !applied)
      log(LogRecord{LogLevel::error, "idle trigger targets not removed", {}}.with(
          "error", applied.error().message));
    for (const auto& key : dropped)
      log(LogRecord{
          LogLevel::info, "target from a KEDA trigger dropped: no call within idleTimeout", {}}
              .with("trigger", key.text())
              .with("target", key.served_metric()));
  }
  SourceFactory sources_for(const config::Config& c) const {
    return options.sources ? options.sources : prometheus_sources(c.prometheus);
  }
};

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->clock = impl_->options.clock ? impl_->options.clock : &impl_->system_clock;
  impl_->config_text = config::read_config_text(impl_->options.config_path);
  impl_->config = config::parse_config(impl_->config_text, impl_->options.config_path.string());
  if (impl_->config.server.tls_cert_file.empty())
    throw std::invalid_argument(fmt::format(
        "{}: server.tlsCertFile and server.tlsKeyFile are required: the External Metrics API is "
        "served over HTTPS only",
        impl_->options.config_path.string()));
  EngineOptions engine_options;
  engine_options.tick_threads = std::max<std::size_t>(1, impl_->options.tick_threads);
  engine_options.fit_threads = impl_->options.fit_threads;
  engine_options.log = impl_->options.log;
  // Targets with an `slo:` replay their recorded decisions at each refit.
  engine_options.slo_tuner = simulate::tune_target_for_slo;
  const auto& keda_config = impl_->config.server.keda;
  const bool self_service = keda_config.enabled && keda_config.self_service.enabled;
  engine_options.ready_without_targets = self_service;
  if (self_service) impl_->triggers = std::make_unique<TriggerTargets>(keda_config.self_service);
  impl_->served_targets = impl_->config.targets;
  const auto& decisions = impl_->config.decisions;
  impl_->decision_ring = std::make_shared<DecisionRing>(static_cast<std::size_t>(decisions.keep));
  if (!decisions.file.empty()) {
    DecisionLog::Options log_options;
    log_options.path = decisions.file;
    log_options.max_bytes = static_cast<std::uint64_t>(decisions.max_bytes);
    log_options.max_files = static_cast<std::size_t>(decisions.max_files);
    auto opened = DecisionLog::open(log_options);
    if (!opened)
      throw std::invalid_argument(fmt::format("decisions.file: {}", opened.error().message));
    impl_->decision_log = std::move(*opened);
  }
  Impl* impl = impl_.get();
  engine_options.decisions = [impl](const std::vector<DecisionRecord>& records) {
    impl->record_decisions(records);
  };
  impl_->engine = std::make_unique<Engine>(
      impl_->config.targets, impl_->config.calendars, impl_->sources_for(impl_->config),
      *impl_->clock,
      [impl](std::shared_ptr<const Snapshot> s) {
        {
          std::lock_guard lock(impl->config_mutex);
          impl->step_trail->add(*s, impl->served_targets);
        }
        impl->store.publish(std::move(s));
      },
      engine_options);
  if (const auto& k = impl_->config.server.keda; k.enabled) {
    keda::ScalerOptions keda_options;
    keda_options.address = k.address;
    keda_options.cert_file = k.cert_file;
    keda_options.key_file = k.key_file;
    keda_options.client_ca_file = k.client_ca_file;
    if (impl_->triggers) {
      keda_options.self_service = [impl](const std::string& namespace_name,
                                         const std::string& scaled_object,
                                         const std::map<std::string, std::string>& metadata) {
        return impl->trigger_target(namespace_name, scaled_object, metadata);
      };
    }
    keda_options.log = [impl](std::string_view level, std::string_view message) {
      impl->log(LogRecord{
          level == "error"  ? LogLevel::error
          : level == "warn" ? LogLevel::warning
                            : LogLevel::info,
          std::string(message),
          {}}.with("component", "keda"));
    };
    impl_->keda = std::make_unique<keda::ExternalScaler>(keda_options, impl_->store);
  }
  auto serving =
      server_options(impl_->config.server, impl_->options.listen_port, impl_->options.log);
  serving.decisions = [ring = impl_->decision_ring](std::string_view target, std::int64_t since) {
    return ring->query_json(target, since);
  };
  serving.steps = [trail = impl_->step_trail](std::string_view target, std::int64_t since) {
    return trail->query_json(target, since);
  };
  // The KEDA port's certificates beside the HTTPS port's in /metrics.
  if (impl_->keda)
    serving.more_certificates = [keda = impl_->keda.get()] { return keda->certificate_expiry(); };
  impl_->server = std::make_unique<kubernetes::Server>(std::move(serving), impl_->store);
}

Daemon::~Daemon() {
  stop();
}

Status Daemon::start() {
  if (auto started = impl_->server->start(); !started) return started;
  if (impl_->keda) {
    if (auto started = impl_->keda->start(); !started) {
      impl_->server->stop();
      return make_error("server.keda: " + started.error().message);
    }
  }
  impl_->log(LogRecord{LogLevel::info, "serving", {}}
                 .with("address", impl_->config.server.address)
                 .with("port", static_cast<std::int64_t>(impl_->server->port()))
                 .with("targets", static_cast<std::int64_t>(impl_->config.targets.size()))
                 .with("config", impl_->options.config_path.string()));
  Impl* impl = impl_.get();
  impl_->engine_thread = std::thread([impl] { impl->engine->run(); });
  impl_->watcher_thread = std::thread([this, impl] {
    while (!impl->watcher_stop.wait_until(std::chrono::steady_clock::now() +
                                          impl->options.watch_interval)) {
      // Nothing may end this thread but stop(): an exception here would
      // terminate the process (reload() catches its own; this is the net).
      try {
        std::string text = read_text(impl->options.config_path);
        bool changed;
        {
          std::lock_guard lock(impl->config_mutex);
          changed = text != impl->config_text;
        }
        if (changed) reload("file changed");
        impl->expire_triggers();
      } catch (const std::exception& e) {
        impl->log(
            LogRecord{LogLevel::error, "config watcher: unexpected error; still watching", {}}.with(
                "error", e.what()));
      }
    }
  });
  return Status::ok();
}

bool Daemon::reload(std::string_view why) {
  std::lock_guard reload_lock(impl_->reload_mutex);
  const auto& path = impl_->options.config_path;
  std::string text;
  auto reject = [&](const std::string& error) {
    {
      std::lock_guard lock(impl_->config_mutex);
      impl_->config_text = text;  // do not retry the same bad file every few seconds
    }
    ++reloads_rejected_;
    impl_->log(
        LogRecord{LogLevel::error, "config reload rejected; the running config keeps serving", {}}
            .with("why", std::string(why))
            .with("error", error));
    return false;
  };
  config::Config next;
  // Whatever a new file does to the parser, the running config keeps
  // serving: only ConfigError is expected, anything else is refused too.
  bool read = false;
  try {
    text = config::read_config_text(path);
    read = true;
    next = config::parse_config(text, path.string());
  } catch (const std::exception& e) {
    if (!read) text = read_text(path);  // what the watcher will compare against
    return reject(e.what());
  }
  config::Config current = current_config();
  const bool rebuild = !(next.prometheus == current.prometheus);
  // Trigger targets follow the file's defaults, calendars and names.
  if (impl_->triggers) {
    for (const auto& [key, reason] : impl_->triggers->revalidate(next))
      impl_->log(LogRecord{
          LogLevel::warning, "target from a KEDA trigger dropped: the new config refuses it", {}}
                     .with("trigger", key.text())
                     .with("error", reason));
  }
  if (auto applied = impl_->apply_targets(next, rebuild); !applied)
    return reject(applied.error().message);
  if (!(next.server == current.server)) {
    impl_->log(LogRecord{LogLevel::warning, "server section changed: restart to apply it", {}}.with(
        "why", std::string(why)));
    next.server = current.server;
  }
  const auto& kept = current.decisions;
  if (next.decisions.file != kept.file || next.decisions.max_bytes != kept.max_bytes ||
      next.decisions.max_files != kept.max_files || next.decisions.keep != kept.keep) {
    // The record log and ring are opened once; the thresholds reach targets.
    impl_->log(LogRecord{
        LogLevel::warning,
        "decisions.file, maxBytes, maxFiles or keep changed: restart to apply them",
        {}}.with("why", std::string(why)));
    next.decisions.file = kept.file;
    next.decisions.max_bytes = kept.max_bytes;
    next.decisions.max_files = kept.max_files;
    next.decisions.keep = kept.keep;
  }
  {
    std::lock_guard lock(impl_->config_mutex);
    impl_->config = std::move(next);
    impl_->config_text = text;
  }
  ++reloads_applied_;
  impl_->log(LogRecord{LogLevel::info, "config reloaded", {}}
                 .with("why", std::string(why))
                 .with("targets", static_cast<std::int64_t>(current_config().targets.size()))
                 .with("prometheus_changed", rebuild));
  return true;
}

void Daemon::stop() {
  if (!impl_) return;
  impl_->watcher_stop.trigger();
  if (impl_->watcher_thread.joinable()) impl_->watcher_thread.join();
  if (impl_->engine) impl_->engine->stop();
  if (impl_->engine_thread.joinable()) impl_->engine_thread.join();
  if (impl_->keda) impl_->keda->stop();
  if (impl_->server) impl_->server->stop();
}

const DecisionRing& Daemon::decisions() const {
  return *impl_->decision_ring;
}
int Daemon::port() const {
  return impl_->server ? impl_->server->port() : 0;
}
const SnapshotStore& Daemon::snapshots() const {
  return impl_->store;
}
config::Config Daemon::current_config() const {
  std::lock_guard lock(impl_->config_mutex);
  return impl_->config;
}

}  // namespace prescale::daemon
