#include "target_fields.hpp"

#include <fmt/core.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/kubernetes_names.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/config/slo_ranges.hpp"
#include "prescale/forecast/selection.hpp"

namespace prescale::config::detail {
namespace {

using ReadFn = void (*)(const Node&, TargetConfig&, const Config&);

// Canonical texts: numbers exact (17 significant digits), lists comma-joined.
std::string exact(double value) {
  return fmt::format("{:.17g}", value);
}

// ---- Readers with their validation (messages name the value and the rule) ----

void read_metric(const Node& n, TargetConfig& t, const Config&) {
  t.metric = n.as_string();
  // The name is a path segment of the External Metrics API: Kubernetes'
  // resource-name rules (IsDNS1123Subdomain).
  if (auto problem = dns1123_subdomain_problem(t.metric); !problem.empty())
    n.fail(fmt::format("'{}' is not a valid metric name: {}", t.metric, problem));
}

void read_namespace(const Node& n, TargetConfig& t, const Config&) {
  t.namespace_name = n.as_string();
  if (auto problem = dns1123_label_problem(t.namespace_name);
      t.namespace_name != "*" && !problem.empty())
    n.fail(fmt::format("'{}' is not a namespace name (or \"*\" for every namespace): {}",
                       t.namespace_name, problem));
}

void read_labels(const Node& n, TargetConfig& t, const Config&) {
  t.labels.clear();
  for (const auto& [key, value] : n.as_string_map()) {
    if (auto problem = qualified_name_problem(key.text); !problem.empty())
      key.node.fail(fmt::format("'{}' is not a valid label key: {}", key.text, problem));
    if (auto problem = label_value_problem(value.text); !problem.empty())
      value.node.fail(fmt::format("'{}' is not a valid label value: {}", value.text, problem));
    t.labels[key.text] = value.text;
  }
}

void read_query(const Node& n, TargetConfig& t, const Config&) {
  t.query = n.as_string();
  if (t.query.find_first_not_of(" \t\r\n") == std::string::npos) n.fail("empty query");
  if (t.query.size() > limits::kMaxQueryBytes)
    n.fail(
        fmt::format("query is {} bytes, longer than the {} KiB a query may be (it travels "
                    "in the URL of every request; use a recording rule)",
                    t.query.size(), limits::kMaxQueryBytes / 1024));
}

void read_timezone(const Node& n, TargetConfig& t, const Config&) {
  t.timezone = n.as_string();
  if (auto zone = calendar::TimeZone::find(t.timezone); !zone)
    n.fail(
        fmt::format("unknown time zone '{}' (a tz database name such as America/New_York "
                    "or UTC)",
                    t.timezone));
}

void read_seasonality(const Node& n, TargetConfig& t, const Config&) {
  t.seasonality_seconds.clear();
  for (const auto& item : n.as_list()) t.seasonality_seconds.push_back(item.as_duration(1));
}

void read_calendars(const Node& n, TargetConfig& t, const Config& config) {
  t.calendars.clear();
  for (const auto& item : n.as_list()) {
    auto name = item.as_string();
    if (std::find(config.calendar_names.begin(), config.calendar_names.end(), name) ==
        config.calendar_names.end()) {
      std::string known = fmt::format("{}", fmt::join(config.calendar_names, ", "));
      item.fail(
          fmt::format("unknown calendar '{}' (known: {})", name, known.empty() ? "none" : known));
    }
    t.calendars.push_back(name);
  }
}

void read_model(const Node& n, TargetConfig& t, const Config&) {
  t.model = n.as_string();
  // The names --model takes: forecast's own list, so that a target forces
  // any model a command can (a Holt-Winters variant by its letters too).
  if (auto models = forecast::candidate_models(t.model); !models) n.fail(models.error().message);
}

void read_quantile(const Node& n, TargetConfig& t, const Config&) {
  t.quantile = n.as_double();
  if (!(t.quantile > 0 && t.quantile < 1))
    n.fail(fmt::format("quantile {} is not between 0 and 1 (e.g. 0.9)", n.text()));
}

void read_capacity(const Node& n, TargetConfig& t, const Config&) {
  if (n.is_null()) {
    t.capacity_per_replica.reset();
    return;
  }
  const double capacity = n.as_double();
  if (!(capacity > 0)) n.fail("capacityPerReplica must be > 0");
  t.capacity_per_replica = capacity;
}

void write_capacity(YAML::Emitter& out, const TargetConfig& t) {
  if (t.capacity_per_replica) {
    out << *t.capacity_per_replica;
  } else {
    out << YAML::Null;  // `~`: no -replicas metric
  }
}

void read_anomaly(const Node& n, TargetConfig& t, const Config&) {
  if (!n.raw().IsMap()) n.fail("expected a map such as {externalMetric: true}");
  n.check_keys({"externalMetric"});
  if (auto e = n.get("externalMetric")) t.anomaly_external_metric = e->as_bool();
}

void write_anomaly(YAML::Emitter& out, const TargetConfig& t) {
  out << YAML::Flow << YAML::BeginMap;
  out << YAML::Key << "externalMetric" << YAML::Value << t.anomaly_external_metric;
  out << YAML::EndMap;
}

void read_slo(const Node& n, TargetConfig& t, const Config&) {
  if (n.is_null()) {
    t.slo.reset();
    return;
  }
  if (!n.raw().IsMap()) n.fail("expected a map such as {maxShortPercent: 0.1}");
  n.check_keys(
      {"maxShortPercent", "marginPercent", "history", "reactiveTargetPercent", "servedQuery"});
  SloConfig slo;
  // The ranges and their messages are the flags' too (slo_ranges.hpp).
  auto check = [](const Node& e, const std::string& problem) {
    if (!problem.empty()) e.fail(problem);
  };
  if (auto e = n.get("maxShortPercent")) {
    slo.max_short_percent = e->as_double();
    check(*e, slo_ranges::max_short_percent_problem("maxShortPercent", e->text(),
                                                    slo.max_short_percent));
  }
  if (auto e = n.get("marginPercent")) {
    slo.margin_percent = e->as_double();
    check(*e, slo_ranges::margin_percent_problem("marginPercent", e->text(), slo.margin_percent));
  }
  if (auto e = n.get("history")) {
    slo.history_seconds = e->as_duration(0);
    check(*e, slo_ranges::history_problem("history", e->text(), slo.history_seconds));
  }
  if (auto e = n.get("reactiveTargetPercent")) {
    slo.reactive_target_percent = e->as_double();
    check(*e, slo_ranges::reactive_target_percent_problem("reactiveTargetPercent", e->text(),
                                                          slo.reactive_target_percent));
  }
  if (auto e = n.get("servedQuery")) {
    slo.served_query = e->as_string();
    if (slo.served_query.find_first_not_of(" \t\r\n") == std::string::npos)
      e->fail(
          "servedQuery is empty: give the PromQL that reads back what prescale served, e.g. "
          "max(prescale_target_served{target=\"<metric>\"}), or leave the key out");
  }
  t.slo = slo;
}

void write_slo(YAML::Emitter& out, const TargetConfig& t) {
  if (!t.slo) {
    out << YAML::Null;  // `~`: serve the quantile as configured
    return;
  }
  out << YAML::Flow << YAML::BeginMap;
  // Shortest text that reads back exactly (0.1, not 0.10000000000000001).
  out << YAML::Key << "maxShortPercent" << YAML::Value
      << fmt::format("{}", t.slo->max_short_percent);
  out << YAML::Key << "marginPercent" << YAML::Value << fmt::format("{}", t.slo->margin_percent);
  out << YAML::Key << "history" << YAML::Value << format_duration(t.slo->history_seconds);
  out << YAML::Key << "reactiveTargetPercent" << YAML::Value
      << fmt::format("{}", t.slo->reactive_target_percent);
  if (!t.slo->served_query.empty())
    out << YAML::Key << "servedQuery" << YAML::Value << t.slo->served_query;
  out << YAML::EndMap;
}

std::string slo_text(const TargetConfig& t) {
  if (!t.slo) return "-";
  return fmt::format("{},{},{},{},{}", exact(t.slo->max_short_percent),
                     exact(t.slo->margin_percent), t.slo->history_seconds,
                     exact(t.slo->reactive_target_percent), t.slo->served_query);
}

// ---- Rows for the common shapes: a string, a duration, a whole number ----

template <std::string TargetConfig::*Member>
constexpr TargetField string_field(std::string_view key, std::string_view example, ReadFn read,
                                   bool in_defaults = true) {
  return {key,
          example,
          in_defaults,
          read,
          [](YAML::Emitter& out, const TargetConfig& t) { out << t.*Member; },
          [](const TargetConfig& t) { return t.*Member; }};
}

/// A duration in [Min, Max] seconds, written as 5m, 1h30m, 35d.
template <std::int64_t TargetConfig::*Member, std::int64_t Min,
          std::int64_t Max = Node::kMaxDurationSeconds>
constexpr TargetField duration_field(std::string_view key, std::string_view example) {
  return {
      key,
      example,
      true,
      [](const Node& n, TargetConfig& t, const Config&) { t.*Member = n.as_duration(Min, Max); },
      [](YAML::Emitter& out, const TargetConfig& t) { out << format_duration(t.*Member); },
      [](const TargetConfig& t) { return std::to_string(t.*Member); }};
}

/// A whole number in [Min, Max].
template <std::int64_t TargetConfig::*Member, std::int64_t Min, std::int64_t Max>
constexpr TargetField count_field(std::string_view key, std::string_view example) {
  return {key,
          example,
          true,
          [](const Node& n, TargetConfig& t, const Config&) { t.*Member = n.as_int(Min, Max); },
          [](YAML::Emitter& out, const TargetConfig& t) { out << t.*Member; },
          [](const TargetConfig& t) { return std::to_string(t.*Member); }};
}

/// A value the `decisions:` section sets for every target: not a key of a
/// target entry, but part of what makes its decisions (compared, digested).
constexpr TargetField decisions_field(std::string_view key,
                                      std::string (*text)(const TargetConfig&)) {
  return {key, "", true, nullptr, nullptr, text};
}

// ---- The table ----

const std::array kFields = {
    // Where the target is served.
    string_field<&TargetConfig::metric>("metric", "payments-rps", read_metric, false),
    string_field<&TargetConfig::namespace_name>("namespace", "payments", read_namespace),
    TargetField{"labels", "{app: payments}", true, read_labels,
                [](YAML::Emitter& out, const TargetConfig& t) { out << YAML::Flow << t.labels; },
                [](const TargetConfig& t) {
                  std::string text;
                  for (const auto& [key, value] : t.labels) text += key + "=" + value + ",";
                  return text;
                }},
    // What it reads and how it forecasts.
    string_field<&TargetConfig::query>("query", "sum(rate(http_requests_total[1m]))", read_query,
                                       false),
    duration_field<&TargetConfig::step_seconds, 1>("step", "5m"),
    duration_field<&TargetConfig::history_seconds, 1>("history", "14d"),
    duration_field<&TargetConfig::event_history_seconds, 0, 3 * 366 * 86400>("eventHistory",
                                                                             "365d"),
    string_field<&TargetConfig::timezone>("timezone", "America/New_York", read_timezone),
    TargetField{"seasonality", "[1d]", true, read_seasonality,
                [](YAML::Emitter& out, const TargetConfig& t) {
                  std::vector<std::string> seasons;
                  for (auto p : t.seasonality_seconds) seasons.push_back(format_duration(p));
                  out << YAML::Flow << seasons;
                },
                [](const TargetConfig& t) {
                  return fmt::format("{}", fmt::join(t.seasonality_seconds, ","));
                }},
    TargetField{
        "calendars", "[nyse]", true, read_calendars,
        [](YAML::Emitter& out, const TargetConfig& t) { out << YAML::Flow << t.calendars; },
        [](const TargetConfig& t) { return fmt::format("{}", fmt::join(t.calendars, ",")); }},
    string_field<&TargetConfig::model>("model", "holt-winters", read_model),
    // How early and how safe; replicas.
    duration_field<&TargetConfig::lead_time_seconds, 0, limits::kMaxLeadTimeSeconds>("leadTime",
                                                                                     "10m"),
    TargetField{"quantile", "0.95", true, read_quantile,
                [](YAML::Emitter& out, const TargetConfig& t) { out << t.quantile; },
                [](const TargetConfig& t) { return exact(t.quantile); }},
    TargetField{"capacityPerReplica", "120", true, read_capacity, write_capacity,
                [](const TargetConfig& t) {
                  return t.capacity_per_replica ? exact(*t.capacity_per_replica) : "-";
                }},
    count_field<&TargetConfig::min_replicas, 1, limits::kMaxReplicas>("minReplicas", "2"),
    count_field<&TargetConfig::max_replicas, 1, limits::kMaxReplicas>("maxReplicas", "50"),
    TargetField{"slo",
                "{maxShortPercent: 0.5, marginPercent: 25, history: 3d, reactiveTargetPercent: 80}",
                true, read_slo, write_slo, slo_text},
    // Refits.
    duration_field<&TargetConfig::refit_interval_seconds, 1>("refitInterval", "2h"),
    count_field<&TargetConfig::backtest_origins, 1, 50>("backtestOrigins", "6"),
    TargetField{
        "keepOutliers", "true", true,
        [](const Node& n, TargetConfig& t, const Config&) { t.keep_outliers = n.as_bool(); },
        [](YAML::Emitter& out, const TargetConfig& t) { out << t.keep_outliers; },
        [](const TargetConfig& t) { return std::string(t.keep_outliers ? "true" : "false"); }},
    TargetField{"anomaly", "{externalMetric: true}", true, read_anomaly, write_anomaly,
                [](const TargetConfig& t) {
                  return std::string(t.anomaly_external_metric ? "true" : "false");
                }},
    // From the `decisions:` section.
    decisions_field("decisions.changeThreshold",
                    [](const TargetConfig& t) { return exact(t.decision_change_threshold); }),
    decisions_field("decisions.anomalySteps",
                    [](const TargetConfig& t) { return std::to_string(t.anomaly_steps); }),
    decisions_field("decisions.shiftSteps",
                    [](const TargetConfig& t) { return std::to_string(t.shift_steps); }),
};

}  // namespace

std::span<const TargetField> target_fields() {
  return kFields;
}

std::vector<std::string> allowed_target_keys(bool is_defaults) {
  std::vector<std::string> keys;
  for (const auto& field : kFields) {
    if (field.read != nullptr && (field.in_defaults || !is_defaults)) keys.emplace_back(field.key);
  }
  return keys;
}

}  // namespace prescale::config::detail

namespace prescale::config {

std::vector<TargetKey> target_keys() {
  std::vector<TargetKey> keys;
  for (const auto& field : detail::target_fields()) {
    if (field.read != nullptr) keys.push_back({field.key, field.example, field.in_defaults});
  }
  return keys;
}

std::string TargetConfig::settings_text() const {
  std::string text;
  for (const auto& field : detail::target_fields())
    text += fmt::format("{}={}\n", field.key, field.text(*this));
  return text;
}

bool TargetConfig::same_as(const TargetConfig& other) const {
  return settings_text() == other.settings_text();
}

}  // namespace prescale::config
