#include "prescale/daemon/trigger_targets.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "prescale/config/trigger_target.hpp"

namespace prescale::daemon {

std::string TriggerKey::text() const {
  return namespace_name + "/" + scaled_object + "/" + metric;
}

std::string TriggerKey::served_metric() const {
  return namespace_name + "." + scaled_object + "." + metric;
}

TriggerTargets::TriggerTargets(Limits limits) : limits_(std::move(limits)) {}

std::optional<std::string> TriggerTargets::touch(const TriggerKey& key,
                                                 const std::map<std::string, std::string>& metadata,
                                                 double now) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.metadata != metadata) return std::nullopt;
  it->second.last_asked = std::max(it->second.last_asked, now);
  return it->second.target.metric;
}

TriggerTargets::Answer TriggerTargets::check(const TriggerKey& key,
                                             const std::map<std::string, std::string>& metadata,
                                             const config::Config& central,
                                             config::TargetConfig& out) const {
  using Kind = Answer::Kind;
  if (!limits_.namespaces.empty() && std::find(limits_.namespaces.begin(), limits_.namespaces.end(),
                                               key.namespace_name) == limits_.namespaces.end())
    return {Kind::denied, "",
            fmt::format("namespace '{}' may not create targets from triggers "
                        "(server.keda.selfService.namespaces: {})",
                        key.namespace_name, fmt::join(limits_.namespaces, ", ")),
            false};
  auto target =
      config::target_from_trigger(metadata, central, key.served_metric(), key.namespace_name);
  if (!target) return {Kind::invalid, "", target.error().message, false};
  target->trigger = key.text();
  // Its names (with the -replicas and -anomaly twins) are nobody else's.
  std::vector<std::string> names = {target->metric};
  if (target->capacity_per_replica) names.push_back(target->replicas_metric());
  if (target->anomaly_external_metric) names.push_back(target->anomaly_metric());
  for (const auto& name : names) {
    for (const auto& other : central.targets) {
      if (other.metric == name || other.replicas_metric() == name || other.anomaly_metric() == name)
        return {Kind::invalid, "",
                fmt::format("trigger metadata 'metricName': '{}' is served by the config's target "
                            "'{}'; choose another metricName",
                            name, other.metric),
                false};
    }
    for (const auto& [other_key, entry] : entries_) {
      if (other_key == key) continue;
      const auto& t = entry.target;
      if (t.metric == name || t.replicas_metric() == name || t.anomaly_metric() == name)
        return {Kind::invalid, "",
                fmt::format("trigger metadata 'metricName': '{}' is already served for trigger "
                            "{}; choose another metricName",
                            name, other_key.text()),
                false};
    }
  }
  out = std::move(*target);
  return {Kind::ok, out.metric, "", true};
}

TriggerTargets::Answer TriggerTargets::ask(const TriggerKey& key,
                                           const std::map<std::string, std::string>& metadata,
                                           const config::Config& central, double now) {
  using Kind = Answer::Kind;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.metadata == metadata) {
    it->second.last_asked = std::max(it->second.last_asked, now);
    return {Kind::ok, it->second.target.metric, "", false};
  }
  config::TargetConfig target;
  Answer answer = check(key, metadata, central, target);
  if (answer.kind != Kind::ok) return answer;
  if (it == entries_.end()) {
    // The caps count targets that exist; a trigger changing its own does not add one.
    std::size_t in_namespace = 0;
    for (const auto& [other, entry] : entries_)
      if (other.namespace_name == key.namespace_name) ++in_namespace;
    if (in_namespace >= static_cast<std::size_t>(limits_.max_per_namespace))
      return {Kind::exhausted, "",
              fmt::format("namespace '{}' has {} targets from triggers, the most "
                          "server.keda.selfService.maxPerNamespace allows; one is dropped after "
                          "{} s without a call from KEDA",
                          key.namespace_name, in_namespace, limits_.idle_timeout_seconds),
              false};
    if (entries_.size() >= static_cast<std::size_t>(limits_.max_targets))
      return {Kind::exhausted, "",
              fmt::format("prescale has {} targets from triggers, the most "
                          "server.keda.selfService.maxTargets allows",
                          entries_.size()),
              false};
    last_change_ = std::pair{key, std::optional<Entry>()};
  } else {
    last_change_ = std::pair{key, std::optional<Entry>(it->second)};
  }
  entries_[key] = Entry{metadata, std::move(target), now};
  return answer;
}

void TriggerTargets::undo(const TriggerKey& key) {
  std::lock_guard lock(mutex_);
  if (!last_change_ || last_change_->first != key) return;
  if (last_change_->second) {
    entries_[key] = *last_change_->second;
  } else {
    entries_.erase(key);
  }
  last_change_.reset();
}

std::vector<TriggerKey> TriggerTargets::expire(double now) {
  std::lock_guard lock(mutex_);
  std::vector<TriggerKey> dropped;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (now - it->second.last_asked > static_cast<double>(limits_.idle_timeout_seconds)) {
      dropped.push_back(it->first);
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
  if (!dropped.empty()) last_change_.reset();
  return dropped;
}

std::vector<std::pair<TriggerKey, std::string>> TriggerTargets::revalidate(
    const config::Config& central) {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<TriggerKey, std::string>> dropped;
  last_change_.reset();
  for (auto it = entries_.begin(); it != entries_.end();) {
    config::TargetConfig target;
    Answer answer = check(it->first, it->second.metadata, central, target);
    if (answer.kind != Answer::Kind::ok) {
      dropped.emplace_back(it->first, answer.message);
      it = entries_.erase(it);
    } else {
      it->second.target = std::move(target);
      ++it;
    }
  }
  return dropped;
}

std::vector<config::TargetConfig> TriggerTargets::targets() const {
  std::lock_guard lock(mutex_);
  std::vector<config::TargetConfig> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) out.push_back(entry.target);
  return out;
}

std::size_t TriggerTargets::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace prescale::daemon
