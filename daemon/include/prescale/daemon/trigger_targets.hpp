#pragma once
// Self-service targets: the targets KEDA triggers carry in their metadata
// (server.keda.selfService), keyed by (namespace, ScaledObject, metricName),
// each with the time KEDA last asked for it. The registry decides what
// exists; the daemon hands the engine the file's targets plus these.
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "prescale/config/config.hpp"

namespace prescale::daemon {

/// Which trigger: the ScaledObject and the trigger's metricName.
struct TriggerKey {
  std::string namespace_name;
  std::string scaled_object;
  std::string metric;
  auto operator<=>(const TriggerKey&) const = default;
  /// "namespace/ScaledObject/metricName", as logs and TargetConfig::trigger name it.
  [[nodiscard]] std::string text() const;
  /// The metric its target is served under (in its namespace):
  /// <namespace>.<ScaledObject>.<metricName>, unique across the cluster.
  [[nodiscard]] std::string served_metric() const;
};

/// Thread-safe; every method takes the registry's own lock.
class TriggerTargets {
 public:
  using Limits = config::ServerConfig::Keda::SelfService;

  struct Answer {
    enum class Kind { ok, invalid, exhausted, denied } kind = Kind::ok;
    std::string metric;    ///< ok: the served metric
    std::string message;   ///< otherwise: names the key or the limit
    bool changed = false;  ///< ok: a target was created or replaced (the engine must know)
  };

  explicit TriggerTargets(Limits limits);

  /// The metric of the trigger's target when it exists with exactly this
  /// metadata, marking it asked for at `now`; nullopt otherwise (ask()).
  std::optional<std::string> touch(const TriggerKey& key,
                                   const std::map<std::string, std::string>& metadata, double now);
  /// Finds, creates or (new metadata) replaces the trigger's target, checked
  /// against the file's config (keys, calendars, names) and the limits.
  Answer ask(const TriggerKey& key, const std::map<std::string, std::string>& metadata,
             const config::Config& central, double now);
  /// Puts back what was there before ask() (when the engine refused the result).
  void undo(const TriggerKey& key);

  /// Drops the targets not asked for within the idle timeout; their keys.
  std::vector<TriggerKey> expire(double now);
  /// Re-reads every target against a new file (its defaults, calendars and
  /// names): those it now refuses are dropped, each with the reason.
  std::vector<std::pair<TriggerKey, std::string>> revalidate(const config::Config& central);

  /// Every target, in key order.
  [[nodiscard]] std::vector<config::TargetConfig> targets() const;
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    std::map<std::string, std::string> metadata;
    config::TargetConfig target;
    double last_asked = 0;
  };
  Answer check(const TriggerKey& key, const std::map<std::string, std::string>& metadata,
               const config::Config& central, config::TargetConfig& out) const;

  Limits limits_;
  mutable std::mutex mutex_;
  std::map<TriggerKey, Entry> entries_;
  /// What the last ask() replaced (nullopt: it created), for undo().
  std::optional<std::pair<TriggerKey, std::optional<Entry>>> last_change_;
};

}  // namespace prescale::daemon
