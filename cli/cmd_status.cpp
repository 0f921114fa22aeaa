// `prescale status --server URL`: per target, what the daemon serves and why
// (GET /status on the daemon's HTTPS port).
#include <fmt/core.h>

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "daemon_client.hpp"
#include "prescale/common/time.hpp"

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

std::string age(std::int64_t seconds) {
  if (seconds < 120) return fmt::format("{}s", seconds);
  if (seconds < 7200) return fmt::format("{}m", seconds / 60);
  return fmt::format("{}h{}m", seconds / 3600, seconds % 3600 / 60);
}

std::string time_of(const nlohmann::json& value) {
  if (!value.is_number() || value.get<std::int64_t>() <= 0) return "never";
  return format_rfc3339(value.get<std::int64_t>());
}

}  // namespace

void add_status_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "status",
      "Show what a running daemon serves, per target: model and parameters, backtest MASE,\n"
      "last fit, data age, and the fallback reason when it serves the observed value alone.\n"
      "Example: prescale status --server https://127.0.0.1:6443 --cacert ca.crt --cert me.crt "
      "--key me.key");
  struct Options {
    std::string server = "https://127.0.0.1:6443";
    std::string ca_file, cert_file, key_file;
    bool insecure = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-s,--server", o->server, "The daemon's base URL")->capture_default_str();
  cmd->add_option("--cacert", o->ca_file, "CA that signed the daemon's serving certificate");
  cmd->add_option("--cert", o->cert_file, "Client certificate (PEM)");
  cmd->add_option("--key", o->key_file, "Client key (PEM)");
  cmd->add_flag("-k,--insecure", o->insecure, "Do not verify the daemon's certificate");
  cmd->add_flag("--json", o->json, "Print the raw JSON");
  cmd->callback([o] {
    auto client = daemon_client(o->server, o->ca_file, o->cert_file, o->key_file, o->insecure);
    auto response = client.get("/status", {});
    if (!response) throw Failure(fmt::format("{}/status: {}", o->server, response.error().message));
    if (response->status != 200)
      throw Failure(
          fmt::format("{}/status: HTTP {}: {}", o->server, response->status, response->body));
    nlohmann::json body;
    try {
      body = nlohmann::json::parse(response->body);
    } catch (const nlohmann::json::exception& e) {
      throw Failure(fmt::format("{}/status: not JSON: {}", o->server, e.what()));
    }
    if (o->json) {
      fmt::print("{}\n", body.dump(2));
      return;
    }
    const auto& targets = body.is_array() ? body : field(body, "targets", "targets");
    if (!targets.is_array())
      throw Failure(fmt::format("{}/status: no 'targets' list in the reply", o->server));
    const auto& ready = field(body, "ready", "ready");
    fmt::print("{} targets{}\n", targets.size(),
               ready.is_boolean() && !ready.get<bool>() ? " (not ready yet)" : "");
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
    }
  });
}

}  // namespace prescale::cli
