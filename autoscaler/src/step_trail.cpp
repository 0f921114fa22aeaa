#include "prescale/autoscaler/step_trail.hpp"

#include <fmt/core.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace prescale::autoscaler {
namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kLatestUnix = 32503680000;  // year 3000

json number(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

// A whole number as written (a float there would be a cast out of range).
std::int64_t integer_of(const json& value) {
  if (!value.is_number_integer())
    throw json::type_error::create(302, "expected a whole number", &value);
  return value.get<std::int64_t>();
}

double number_of(const json& value) {
  return value.is_number() ? value.get<double>() : kNaN;
}

}  // namespace

std::string to_json(const std::vector<TargetTrail>& trails) {
  json targets = json::array();
  for (const auto& t : trails) {
    json time = json::array(), served = json::array(), forecasting = json::array(),
         sample = json::array(), observed = json::array(), upper = json::array();
    for (const auto& s : t.steps) {
      time.push_back(s.time_unix);
      served.push_back(number(s.served));
      forecasting.push_back(s.forecasting ? 1 : 0);
      sample.push_back(s.sample_unix);
      observed.push_back(number(s.observed));
      upper.push_back(number(s.upper));
    }
    json entry = {{"target", t.target},
                  {"step_seconds", t.step_seconds},
                  {"lead_seconds", t.lead_seconds},
                  {"quantile", t.quantile},
                  {"min_replicas", t.min_replicas},
                  {"max_replicas", t.max_replicas},
                  {"time", std::move(time)},
                  {"served", std::move(served)},
                  {"forecasting", std::move(forecasting)},
                  {"sample_time", std::move(sample)},
                  {"observed", std::move(observed)},
                  {"upper", std::move(upper)}};
    entry["capacity_per_replica"] =
        t.capacity_per_replica ? json(*t.capacity_per_replica) : json(nullptr);
    targets.push_back(std::move(entry));
  }
  return json{{"kind", "StepList"}, {"targets", std::move(targets)}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
}

Expected<std::vector<TargetTrail>> parse_step_list(std::string_view body) {
  const json root = json::parse(body, nullptr, false);
  if (root.is_discarded() || !root.is_object()) return make_error("step list: not a JSON object");
  if (root.value("kind", "") != "StepList")
    return make_error("step list: kind is not StepList (a daemon older than the step trail?)");
  const json& targets = root.contains("targets") ? root.at("targets") : json();
  if (!targets.is_array()) return make_error("step list: no 'targets' list");
  std::vector<TargetTrail> out;
  try {
    for (std::size_t i = 0; i < targets.size(); ++i) {
      const json& t = targets[i];
      TargetTrail trail;
      trail.target = t.at("target").get<std::string>();
      trail.step_seconds = integer_of(t.at("step_seconds"));
      trail.lead_seconds = integer_of(t.at("lead_seconds"));
      trail.quantile = t.at("quantile").get<double>();
      trail.min_replicas = integer_of(t.at("min_replicas"));
      trail.max_replicas = integer_of(t.at("max_replicas"));
      if (t.contains("capacity_per_replica") && t["capacity_per_replica"].is_number())
        trail.capacity_per_replica = t["capacity_per_replica"].get<double>();
      if (trail.step_seconds <= 0 || trail.step_seconds > 86400 || trail.lead_seconds < 0 ||
          trail.lead_seconds > 7 * 86400)
        return make_error(
            fmt::format("step list: targets[{}]: step_seconds or lead_seconds out of range", i));
      const json& time = t.at("time");
      const std::size_t n = time.size();
      for (const char* column : {"served", "forecasting", "sample_time", "observed", "upper"}) {
        if (!t.at(column).is_array() || t.at(column).size() != n)
          return make_error(
              fmt::format("step list: targets[{}].{} has not {} entries", i, column, n));
      }
      for (std::size_t k = 0; k < n; ++k) {
        TrailStep s;
        s.time_unix = integer_of(time[k]);
        // Steps come oldest first, one per step, at plausible times: a reply
        // that breaks this is refused before anyone sizes a grid by it.
        if (s.time_unix < 0 || s.time_unix > kLatestUnix ||
            (k > 0 && s.time_unix <= trail.steps.back().time_unix))
          return make_error(fmt::format(
              "step list: targets[{}].time[{}] = {} is not after the step before it or out of "
              "range",
              i, k, s.time_unix));
        s.served = number_of(t["served"][k]);
        s.forecasting = integer_of(t["forecasting"][k]) != 0;
        s.sample_unix = integer_of(t["sample_time"][k]);
        if (s.sample_unix < 0 || s.sample_unix > kLatestUnix)
          return make_error(
              fmt::format("step list: targets[{}].sample_time[{}] is out of range", i, k));
        s.observed = number_of(t["observed"][k]);
        s.upper = number_of(t["upper"][k]);
        trail.steps.push_back(s);
      }
      out.push_back(std::move(trail));
    }
  } catch (const json::exception& e) {
    return make_error(fmt::format("step list: {}", e.what()));
  }
  return out;
}

void StepTrail::add(const Snapshot& snapshot, const std::vector<config::TargetConfig>& targets) {
  std::lock_guard lock(mutex_);
  // Targets a reload removed leave with their trail.
  for (auto it = targets_.begin(); it != targets_.end();) {
    bool configured = false;
    for (const auto& c : targets) configured = configured || c.metric == it->first;
    it = configured ? std::next(it) : targets_.erase(it);
  }
  for (const auto& status : snapshot.targets) {
    const config::TargetConfig* config = nullptr;
    for (const auto& c : targets)
      if (c.metric == status.target) config = &c;
    if (!config || config->step_seconds <= 0) continue;
    auto& entry = targets_[status.target];
    entry.header.target = status.target;
    entry.header.step_seconds = config->step_seconds;
    entry.header.lead_seconds = config->lead_time_seconds;
    // The quantile served now: a target with an `slo:` serves a tuned one.
    entry.header.quantile = status.quantile > 0 ? status.quantile : config->quantile;
    entry.header.capacity_per_replica = config->capacity_per_replica;
    entry.header.min_replicas = config->min_replicas;
    entry.header.max_replicas = config->max_replicas;

    TrailStep step;
    step.time_unix = snapshot.generated_unix / config->step_seconds * config->step_seconds;
    step.served = status.served;
    step.forecasting = status.has_forecast && !status.in_fallback();
    const bool has_sample = std::isfinite(status.observed) && status.data_age_seconds >= 0 &&
                            !(status.fallback_kind == "no_data");
    step.sample_unix = has_sample ? snapshot.generated_unix - status.data_age_seconds : 0;
    step.observed = has_sample ? status.observed : kNaN;
    step.upper = status.interval_upper;
    // A step the clock went back over (a test's clock, a step change) starts afresh.
    if (!entry.steps.empty() && entry.steps.back().time_unix > step.time_unix) entry.steps.clear();
    if (!entry.steps.empty() && entry.steps.back().time_unix == step.time_unix)
      entry.steps.back() = step;
    else
      entry.steps.push_back(step);
    while (!entry.steps.empty() && entry.steps.front().time_unix < step.time_unix - keep_seconds_)
      entry.steps.pop_front();
  }
}

std::vector<TargetTrail> StepTrail::query(std::string_view target, std::int64_t since_unix) const {
  std::lock_guard lock(mutex_);
  std::vector<TargetTrail> out;
  for (const auto& [name, entry] : targets_) {
    if (!target.empty() && name != target) continue;
    TargetTrail trail = entry.header;
    for (const auto& s : entry.steps)
      if (s.time_unix >= since_unix) trail.steps.push_back(s);
    out.push_back(std::move(trail));
  }
  return out;
}

std::string StepTrail::query_json(std::string_view target, std::int64_t since_unix) const {
  return to_json(query(target, since_unix));
}

}  // namespace prescale::autoscaler
