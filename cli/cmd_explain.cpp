// `prescale explain`: the decision in force for a target at a time, and the
// inputs behind it, from a decisions file (serve's or simulate's) or from a
// running daemon's GET /decisions.
#include <fmt/core.h>

#include <charconv>
#include <chrono>
#include <cmath>

#include "commands.hpp"
#include "daemon_client.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/explain.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"

namespace prescale::cli {

namespace {

std::int64_t parse_time(const std::string& text) {
  if (text.empty() || text == "now")
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  std::int64_t unix_seconds = 0;
  const auto* end = text.data() + text.size();
  if (auto [p, ec] = std::from_chars(text.data(), end, unix_seconds); ec == std::errc() && p == end)
    return unix_seconds;
  auto parsed = autoscaler::parse_trace_time(text, calendar::TimeZone::utc());
  if (!parsed)
    throw Failure(fmt::format(
        "--at '{}': {} (e.g. 2026-02-27T11:00Z, 2026-02-27T06:00:00-05:00 or unix seconds)", text,
        parsed.error().message));
  return *parsed;
}

}  // namespace

void add_explain_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "explain",
      "Explain the decision in force for a target at a time: what was served, why (the calendar\n"
      "event, seasonal peak, observed load, fallback, refit or anomaly behind it), the model and\n"
      "its data, observed vs forecast, and what changed since the previous decision.\n"
      "Reads a decisions file (decisions.file of `serve`, or `simulate --decisions`, with its\n"
      "rotations FILE.1 .. FILE.N) or asks a running daemon (GET /decisions), reached with\n"
      "--server and credentials, or as a kubeconfig's context says (--kubeconfig).\n"
      "Examples:\n"
      "  prescale explain --decisions decisions.jsonl --target payments-rps-forecast --at "
      "2026-02-27T11:00Z\n"
      "  prescale explain --server https://127.0.0.1:6443 --cacert ca.crt --cert me.crt --key "
      "me.key \\\n"
      "      --target payments-rps-forecast");
  struct Options {
    DaemonConnection daemon;
    std::string decisions_file, target, at;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* server = cmd->add_option("-s,--server", o->daemon.server,
                                 "A running daemon's base URL (asks GET /decisions)");
  auto* file = cmd->add_option("-d,--decisions", o->decisions_file, "A decisions JSON-lines file");
  server->excludes(file);
  cmd->add_option("-t,--target", o->target, "The target (its metric name)")->required();
  cmd->add_option(
      "--at", o->at,
      "The time: RFC 3339 (2026-02-27T11:00Z, ...-05:00), YYYY-MM-DDTHH:MM (UTC), unix seconds or "
      "'now' (default: now)");
  o->daemon.add_options(*cmd);
  cmd->add_flag("--json", o->json,
                "Print the record in force (and the previous one) as JSON lines");
  cmd->callback([o] {
    if (!o->daemon.kubeconfig.empty() && !o->decisions_file.empty())
      throw Failure("explain: --kubeconfig asks a daemon; --decisions reads a file: give one");
    if (auto applied = o->daemon.apply_kubeconfig(); !applied)
      throw Failure(applied.error().message);
    if (o->daemon.server.empty() && o->decisions_file.empty())
      throw Failure(
          "explain: give --decisions FILE, --server URL or --kubeconfig FILE (see prescale "
          "explain --help)");
    const std::int64_t at = parse_time(o->at);
    std::vector<autoscaler::DecisionRecord> records;
    if (!o->decisions_file.empty()) {
      auto read = autoscaler::read_decision_files(o->decisions_file);
      if (!read) throw Failure(read.error().message);
      records = std::move(*read);
    } else {
      // Every record of the target up to `at`: the one in force and the one before.
      auto body = o->daemon.get("/decisions", {{"target", o->target}});
      if (!body) throw Failure(body.error().message);
      auto list = autoscaler::parse_decision_list(*body);
      if (!list)
        throw Failure(fmt::format("{}/decisions: {}", o->daemon.server, list.error().message));
      records = std::move(*list);
    }
    auto decision = autoscaler::decision_in_force(records, o->target, at);
    if (!decision) throw Failure(decision.error().message);
    if (o->json) {
      if (decision->previous) fmt::print("{}\n", autoscaler::to_json(*decision->previous));
      fmt::print("{}\n", autoscaler::to_json(decision->record));
      return;
    }
    fmt::print("{}", autoscaler::explain_text(*decision, at));
  });
}

}  // namespace prescale::cli
