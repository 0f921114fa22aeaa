// `prescale status --server URL [--since 7d]`: per target, what the daemon
// serves and why (GET /status on the daemon's HTTPS port) and, with --since,
// what changed over that window (GET /decisions?since=).
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "daemon_client.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/step_trail.hpp"
#include "prescale/common/time.hpp"
#include "prescale/config/duration.hpp"
#include "shadow_score.hpp"

namespace prescale::cli {

namespace {

// Field by either spelling (snake_case or camelCase), null when absent.
const nlohmann::json& field(const nlohmann::json& object, const char* snake, const char* camel) {
  static const nlohmann::json null;
  if (object.contains(snake)) return object.at(snake);
  if (object.contains(camel)) return object.at(camel);
  return null;
}

std::string number(const nlohmann::json& value, const char* format = "{:.4g}") {
  if (!value.is_number()) return "-";
  return fmt::format(fmt::runtime(format), value.get<double>());
}

std::string number(double value) {
  return fmt::format("{:.4g}", value);
}

// The number at `key` of a /status object (NaN: absent or not a number).
double number_at(const nlohmann::json& object, const char* key) {
  const auto& v = object.contains(key) ? object.at(key) : nlohmann::json();
  return v.is_number() ? v.get<double>() : std::nan("");
}

// "; a reactive HPA tuned the same way: 34775 replica-hours, 63 minutes
// short, missing the SLO (prescale 27 % fewer)": `reactive` (a /status
// object) beside prescale's `ours` replica-hours; `miss` when it missed.
std::string beside_reactive(double ours, const nlohmann::json& reactive, const char* miss) {
  const double theirs = number_at(reactive, "replica_hours");
  std::string out = fmt::format(
      "; a reactive HPA tuned the same way: {:.0f} replica-hours, {:.0f} minutes short{}", theirs,
      number_at(reactive, "short_minutes"), miss);
  if (theirs > 0 && std::isfinite(ours)) {
    const double saved = 100 * (1 - ours / theirs);
    out += fmt::format(" (prescale {:.0f} % {})", std::abs(saved), saved >= 0 ? "fewer" : "more");
  }
  return out;
}

// A tuned SLO's figures (/status slo_figures) in one line: what the setting
// in force and a reactive HPA tuned the same way did on the recorded
// decisions, and how many replica-hours prescale saves there (or costs).
std::string slo_cost(const nlohmann::json& f) {
  const bool meets = f.value("meets_slo", false);
  std::string out = fmt::format(
      "on {:.1f} days of decisions: {:.0f} replica-hours, {:.0f} minutes short ({:.0f} allowed){}",
      number_at(f, "days"), number_at(f, "replica_hours"), number_at(f, "short_minutes"),
      number_at(f, "allowed_minutes"), meets ? "" : ", no setting meets the SLO");
  const auto& reactive = f.contains("reactive") ? f.at("reactive") : nlohmann::json();
  if (!reactive.is_object()) return out;
  return out + beside_reactive(number_at(f, "replica_hours"), reactive,
                               reactive.value("meets_slo", false) ? "" : ", missing the SLO");
}

// What the values served did (/status slo_figures.served): the check that
// the SLO held, where slo_cost judges the setting in force on the days it
// was chosen from; beside it, a reactive HPA retuned at the same refits over
// the same days: what prescale saved in production.
std::string slo_as_served(const nlohmann::json& served) {
  const double short_minutes = number_at(served, "short_minutes");
  const double allowed = number_at(served, "allowed_minutes");
  std::string out = fmt::format(
      "on the {:.1f} days served: {:.0f} minutes short ({:.0f} allowed{}), {:.0f} replica-hours",
      number_at(served, "days"), short_minutes, allowed,
      short_minutes > allowed ? ", SLO missed" : "", number_at(served, "replica_hours"));
  const auto& reactive = served.contains("reactive") ? served.at("reactive") : nlohmann::json();
  if (!reactive.is_object()) return out;
  return out +
         beside_reactive(number_at(served, "replica_hours"), reactive,
                         number_at(reactive, "short_minutes") > allowed ? ", SLO missed" : "");
}

std::string age(std::int64_t seconds) {
  if (seconds < 120) return fmt::format("{}s", seconds);
  if (seconds < 7200) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}h{}m", seconds / 3600, seconds % 3600 / 60);
}

std::string time_of(const nlohmann::json& value) {
  if (!value.is_number() || value.get<std::int64_t>() <= 0) return "never";
  return format_rfc3339(value.get<std::int64_t>());
}

// What changed for one target over a window, from its decision records
// (oldest first): refits and the model they put in, time in fallback and
// why, anomalies, the range of served values, the latest records.
void print_changes(const std::vector<autoscaler::DecisionRecord>& records, std::int64_t since,
                   std::int64_t now) {
  using autoscaler::DecisionKind;
  if (records.empty()) {
    fmt::print("  changes        none (no decision recorded)\n");
    return;
  }
  std::map<std::string, int> kinds;
  for (const auto& r : records) ++kinds[std::string(autoscaler::to_string(r.kind))];
  std::string counts;
  for (const auto& [kind, n] : kinds)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, kind);
  fmt::print("  decisions      {} ({})\n", records.size(), counts);

  const autoscaler::DecisionRecord* first_refit = nullptr;
  const autoscaler::DecisionRecord* last_refit = nullptr;
  std::int64_t fallback_seconds = 0;
  std::optional<std::int64_t> fallback_since;
  bool seen_fallback_edge = false;
  int fallbacks = 0, anomalies = 0, shifts = 0;
  std::map<std::string, int> reasons;
  double low = std::numeric_limits<double>::infinity(), high = -low;
  for (const auto& r : records) {
    if (std::isfinite(r.served)) {
      low = std::min(low, r.served);
      high = std::max(high, r.served);
    }
    switch (r.kind) {
      case DecisionKind::refit:
        if (!first_refit) first_refit = &r;
        last_refit = &r;
        break;
      case DecisionKind::fallback: {
        ++fallbacks;
        if (!fallback_since) fallback_since = r.time_unix;
        // The kind of reason ("data stale"), not its numbers.
        const auto colon = r.fallback_reason.find(':');
        ++reasons[r.fallback_reason.substr(0, colon)];
        seen_fallback_edge = true;
        break;
      }
      case DecisionKind::recovered: {
        // A recovery before any fallback record: the target was already in
        // fallback when the window began.
        const std::int64_t from =
            fallback_since ? *fallback_since : (seen_fallback_edge ? r.time_unix : since);
        fallback_seconds += r.time_unix - from;
        fallback_since.reset();
        seen_fallback_edge = true;
        break;
      }
      case DecisionKind::anomaly:
        ++anomalies;
        break;
      case DecisionKind::shift:
        ++shifts;
        break;
      default:
        break;
    }
  }
  if (fallback_since) fallback_seconds += now - *fallback_since;
  if (last_refit) {
    const auto model = [](const autoscaler::DecisionRecord& r) {
      return r.model.empty() ? std::string("-") : r.model;
    };
    const auto mase = [](const autoscaler::DecisionRecord& r) {
      return r.backtest_mase ? fmt::format("{:.3f}", *r.backtest_mase) : std::string("-");
    };
    const int refits = kinds["refit"];
    if (refits == 1) {
      fmt::print("  refits         1: {} (MASE {})\n", model(*last_refit), mase(*last_refit));
    } else {
      fmt::print("  refits         {}: {} -> {} (MASE {} -> {})\n", refits, model(*first_refit),
                 model(*last_refit), mase(*first_refit), mase(*last_refit));
    }
  }
  if (fallbacks > 0 || fallback_seconds > 0) {
    std::string why;
    for (const auto& [reason, n] : reasons)
      why += fmt::format("{}{} x{}", why.empty() ? "" : ", ", reason, n);
    fmt::print("  fallback       {} time(s), {} in all{}{}\n", fallbacks, age(fallback_seconds),
               fallback_since ? " (still in fallback)" : "", why.empty() ? "" : ": " + why);
  }
  if (anomalies > 0 || shifts > 0)
    fmt::print("  anomalies      {} ({} taken as a new normal)\n", anomalies, shifts);
  if (std::isfinite(low)) fmt::print("  served range   {} .. {}\n", number(low), number(high));
  const std::size_t shown = std::min<std::size_t>(records.size(), 5);
  fmt::print("  latest\n");
  for (std::size_t i = records.size() - shown; i < records.size(); ++i) {
    const auto& r = records[i];
    fmt::print("    {}  {:<11} {}\n", format_rfc3339(r.time_unix), autoscaler::to_string(r.kind),
               r.reason);
  }
}

std::string percent(double share) {
  return fmt::format("{:.1f} %", 100 * share);
}

std::string signed_percent(double share) {
  return fmt::format("{:+.1f} %", 100 * share);
}

std::string duration(std::int64_t seconds) {
  if (seconds % 3600 == 0 && seconds >= 3600) return fmt::format("{}h", seconds / 3600);
  if (seconds % 60 == 0) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}s", seconds);
}

// How the target did over the window, from its step trail.
void print_score(const autoscaler::TargetTrail& trail, const Expected<ShadowScore>& scored) {
  if (!scored) {
    fmt::print("  shadow score   none: {}\n", scored.error().message);
    return;
  }
  const auto& s = *scored;
  fmt::print("  steps          {} recorded of {} at {}: {} forecasting, {} in fallback\n",
             s.recorded, s.grid_steps, duration(trail.step_seconds), s.forecasting,
             s.recorded - s.forecasting);
  if (s.scored == 0) {
    fmt::print("  vs actual      no sample had a forecast served {} before it\n",
               duration(trail.lead_seconds));
  } else {
    fmt::print(
        "  vs actual      served {} before each sample: MAE {} ({} of the mean load {}), "
        "bias {}\n",
        duration(trail.lead_seconds), number(s.mean_absolute_error),
        percent(s.mean_absolute_error / s.mean_load), number(s.mean_load),
        signed_percent(s.bias / s.mean_load));
    fmt::print(
        "  coverage       load at or under the value served: {} of {} steps (quantile {:g})\n",
        percent(s.covered), s.scored, s.quantile);
  }
  if (s.one_step_scored > 0)
    fmt::print("  one-step       load at or under its one-step {:g} quantile: {} of {} samples\n",
               s.quantile, percent(s.one_step_covered), s.one_step_scored);
  if (!s.capacity_per_replica) {
    fmt::print(
        "  HPA replay     skipped: the target has no capacityPerReplica (give "
        "--capacity-per-replica)\n");
    return;
  }
  fmt::print("  HPA replay     {:g} per pod, start-up {}, replicas {}..{}\n",
             *s.capacity_per_replica, duration(s.startup_seconds), trail.min_replicas,
             trail.max_replicas);
  for (const auto& [name, run] : {std::pair{"observed load alone", &*s.observed_alone},
                                  std::pair{"served beside it", &*s.served_beside}}) {
    fmt::print("    {:<20} {:.1f} replica-hours, peak {}, {:.0f} minutes short\n", name,
               run->replica_hours, run->peak_replicas, run->short_minutes);
  }
}

}  // namespace

void add_status_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "status",
      "Show what a running daemon serves, per target: model and parameters, backtest MASE,\n"
      "last fit, data age, and the fallback reason when it serves the observed value alone.\n"
      "With --since, also what changed over that window, from the daemon's decision records\n"
      "(it keeps the latest 2000 in memory; decisions.file holds the rest, read it with\n"
      "`prescale explain --decisions`): refits and the model they chose, time in fallback and\n"
      "why, anomalies, the range of served values and the latest decisions; and how it did,\n"
      "from the daemon's step trail (the served value and the newest sample at each step, kept\n"
      "in memory for 8 days): the value served a lead time before each sample against that\n"
      "sample (mean absolute error, bias), the share of samples at or under it against the\n"
      "quantile, and what an HPA would have done reading the observed load alone or the\n"
      "served value beside it (replica-hours, peak, minutes short of ready capacity).\n"
      "Authenticate with a client certificate (--cert/--key) or a bearer token\n"
      "(--token-file/--token), e.g. a service account's on managed clusters, or take the\n"
      "server, CA and credentials from a kubeconfig (--kubeconfig, --context).\n"
      "Examples:\n"
      "  prescale status --server https://127.0.0.1:6443 --cacert ca.crt --cert me.crt "
      "--key me.key\n"
      "  prescale status --server https://prescale.prescale.svc:6443 --cacert ca.crt \\\n"
      "      --token-file token --since 7d\n"
      "  prescale status --kubeconfig prescale.kubeconfig --since 1d --capacity-per-replica 120");
  struct Options {
    DaemonConnection daemon;
    std::string since, target, startup;
    std::optional<double> capacity;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-s,--server", o->daemon.server,
                  "The daemon's base URL (default: the --kubeconfig's server, else "
                  "https://127.0.0.1:6443)");
  o->daemon.add_options(*cmd);
  cmd->add_option("--since", o->since,
                  "Also show what changed over this window, e.g. 30m, 1d, 7d (GET /decisions)");
  cmd->add_option("-t,--target", o->target, "Only this target (its metric name)");
  cmd->add_option("--capacity-per-replica", o->capacity,
                  "With --since: load one pod serves, for the HPA replay (default: the target's "
                  "capacityPerReplica; without either the replay is skipped)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--startup", o->startup,
                  "With --since: pod start-up time in the HPA replay, e.g. 3m (default: the "
                  "target's lead time)");
  cmd->add_flag("--json", o->json,
                "Print the raw JSON (with --since: {\"status\": ..., \"decisions\": [...]})");
  cmd->callback([o] {
    if (auto applied = o->daemon.apply_kubeconfig(); !applied)
      throw Failure(applied.error().message);
    if (o->daemon.server.empty()) o->daemon.server = "https://127.0.0.1:6443";
    const auto& server = o->daemon.server;
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    std::optional<std::int64_t> since;
    if (!o->since.empty()) {
      auto window = config::parse_duration_seconds(o->since);
      if (!window) throw Failure(fmt::format("--since: {}", window.error().message));
      since = now - *window;
    }
    auto text = o->daemon.get("/status", {});
    if (!text) throw Failure(text.error().message);
    nlohmann::json body;
    try {
      body = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception& e) {
      throw Failure(fmt::format("{}/status: not JSON: {}", server, e.what()));
    }
    std::vector<autoscaler::DecisionRecord> decisions;
    std::string decisions_body;
    std::vector<autoscaler::TargetTrail> trails;
    std::string trail_missing;  // why there is no step trail (a daemon without one)
    if (since) {
      auto reply =
          o->daemon.get("/decisions", {{"target", o->target}, {"since", std::to_string(*since)}});
      if (!reply) throw Failure(reply.error().message);
      auto list = autoscaler::parse_decision_list(*reply);
      if (!list) throw Failure(fmt::format("{}/decisions: {}", server, list.error().message));
      decisions = std::move(*list);
      decisions_body = std::move(*reply);
      auto steps = o->daemon.get(
          "/decisions", {{"target", o->target}, {"since", std::to_string(*since)}, {"steps", "1"}});
      if (steps) {
        auto parsed = autoscaler::parse_step_list(*steps);
        if (!parsed)
          throw Failure(fmt::format("{}/decisions?steps=1: {}", server, parsed.error().message));
        trails = std::move(*parsed);
      } else {
        trail_missing = steps.error().message;
      }
    }
    std::optional<std::int64_t> startup;
    if (!o->startup.empty()) {
      auto seconds = config::parse_duration_seconds(o->startup);
      if (!seconds) throw Failure(fmt::format("--startup: {}", seconds.error().message));
      startup = *seconds;
    }
    std::map<std::string, Expected<ShadowScore>> scores;
    for (const auto& trail : trails)
      scores.emplace(trail.target, score_shadow(trail, o->capacity, startup));
    if (o->json) {
      if (!since) {
        fmt::print("{}\n", body.dump(2));
      } else {
        const auto items = nlohmann::json::parse(decisions_body).value("items", nlohmann::json());
        nlohmann::json out{{"status", body}, {"decisions", items}};
        nlohmann::json by_target = nlohmann::json::object();
        for (const auto& [target, score] : scores)
          by_target[target] =
              score ? to_json(*score) : nlohmann::json{{"error", score.error().message}};
        out["scores"] = std::move(by_target);
        fmt::print("{}\n", out.dump(2));
      }
      return;
    }
    auto all_targets = body.is_array() ? body : field(body, "targets", "targets");
    if (!all_targets.is_array())
      throw Failure(fmt::format("{}/status: no 'targets' list in the reply", server));
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : all_targets) {
      if (o->target.empty() || field(t, "target", "target") == o->target) targets.push_back(t);
    }
    if (!o->target.empty() && targets.empty())
      throw Failure(fmt::format("{}/status: no target '{}'", server, o->target));
    const auto& ready = field(body, "ready", "ready");
    fmt::print("{} targets{}", targets.size(),
               ready.is_boolean() && !ready.get<bool>() ? " (not ready yet)" : "");
    if (since) fmt::print("; changes since {} ({})", format_rfc3339(*since), o->since);
    fmt::print("\n");
    for (const auto& t : targets) {
      const auto& reason = field(t, "fallback_reason", "fallbackReason");
      const bool fallback = reason.is_string() && !reason.get<std::string>().empty();
      fmt::print("\n{}  {}\n",
                 field(t, "target", "target").is_string()
                     ? field(t, "target", "target").get<std::string>()
                     : "?",
                 fallback ? "FALLBACK (serving the observed value)" : "forecasting");
      const auto& model = field(t, "model", "model");
      fmt::print("  model          {}\n", model.is_string() && !model.get<std::string>().empty()
                                              ? model.get<std::string>()
                                              : "-");
      const auto& parameters = field(t, "parameters", "parameters");
      if (parameters.is_object() && !parameters.empty()) {
        std::string list;
        for (auto it = parameters.begin(); it != parameters.end(); ++it)
          list += fmt::format("{}{}={}", list.empty() ? "" : " ", it.key(), number(it.value()));
        fmt::print("  parameters     {}\n", list);
      }
      fmt::print("  backtest MASE  {}\n",
                 number(field(t, "backtest_mase", "backtestMase"), "{:.3f}"));
      fmt::print("  last fit       {} (took {}s)\n",
                 time_of(field(t, "last_fit_unix", "lastFitUnix")),
                 number(field(t, "fit_seconds", "fitSeconds"), "{:.2f}"));
      const auto& data_age = field(t, "data_age_seconds", "dataAgeSeconds");
      fmt::print("  data age       {}\n",
                 data_age.is_number() ? age(data_age.get<std::int64_t>()) : "-");
      fmt::print("  observed       {}\n", number(field(t, "observed", "observed")));
      fmt::print("  forecast       {}\n", number(field(t, "forecast", "forecast")));
      fmt::print("  served         {}\n", number(field(t, "served", "served")));
      const auto& replicas = field(t, "replicas", "replicas");
      if (replicas.is_number()) fmt::print("  replicas       {}\n", number(replicas));
      if (fallback) fmt::print("  fallback       {}\n", reason.get<std::string>());
      // A declared SLO's tuning in force (quantile, headroom, figures), or why none yet.
      if (const auto& slo = field(t, "slo", "slo"); slo.is_string())
        fmt::print("  slo            {}\n", slo.get<std::string>());
      if (const auto& figures = field(t, "slo_figures", "sloFigures"); figures.is_object()) {
        fmt::print("  slo cost       {}\n", slo_cost(figures));
        if (const auto& served = figures.value("served", nlohmann::json()); served.is_object())
          fmt::print("  slo as served  {}\n", slo_as_served(served));
      }
      if (since) {
        std::vector<autoscaler::DecisionRecord> own;
        for (const auto& r : decisions)
          if (field(t, "target", "target") == r.target) own.push_back(r);
        print_changes(own, *since, now);
        const auto trail = std::find_if(trails.begin(), trails.end(), [&](const auto& x) {
          return field(t, "target", "target") == x.target;
        });
        if (trail != trails.end())
          print_score(*trail, scores.at(trail->target));
        else if (!trail_missing.empty())
          fmt::print("  shadow score   none: the daemon has no step trail ({})\n", trail_missing);
        else
          fmt::print("  shadow score   none: no step recorded in the window\n");
      }
    }
  });
}

}  // namespace prescale::cli
