// `prescale demo` (what `make demo` runs): no cluster, no Prometheus. The
// bundled payments trace is replayed on an accelerated clock through the
// daemon, and the External Metrics API is served on localhost over TLS.
#include <fmt/core.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/config/slo_ranges.hpp"
#include "prescale/daemon/demo.hpp"
#include "prescale/daemon/demo_run.hpp"

namespace prescale::cli {

sigset_t block_control_signals();
LogFunction make_log_function(const std::string& format, std::FILE* out, LogLevel min_level);

namespace {

std::string local_time(std::int64_t unix_seconds) {
  static const auto zone = calendar::TimeZone::find("America/New_York");
  const std::int64_t local = zone ? zone->to_local(unix_seconds) : unix_seconds;
  const std::time_t t = local;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%a %Y-%m-%d %H:%M", &tm);
  return text;
}

// What the run adds up to, and where its report is.
void print_summary(const daemon::Demo& demo, const daemon::DemoRecorder& recorder,
                   const std::filesystem::path& dir, const std::string& stopped_by,
                   const std::optional<double>& slo_percent) {
  fmt::print("\nprescale demo: stopped by {}.\n", stopped_by);
  const auto& trace = demo.trace();
  auto summary = daemon::summarise_demo(recorder.steps(), trace.values, trace.start_unix,
                                        demo.deployment(), dir / "demo-report.html");
  if (!summary) {
    fmt::print("  no summary: {}\n  files kept in {}\n", summary.error().message, dir.string());
    return;
  }
  const auto& s = *summary;
  fmt::print("  steps served        {} ({} from a forecast, {} in fallback)\n", s.steps,
             s.forecast_steps, s.steps - s.forecast_steps);
  if (s.grid_steps > s.steps)
    fmt::print(
        "                      {} of the {} steps went by between two looks (the clock ran faster "
        "than the engine); a lower --speed gives a faithful summary\n",
        s.grid_steps - s.steps, s.grid_steps);
  for (const auto& [reason, steps] : s.fallbacks) {
    const bool first_fit = reason == "first fit in progress";
    fmt::print("    fallback: {} for {} steps{}\n", reason, steps,
               first_fit ? " (the observed value is served while the first model is fitted)" : "");
  }
  fmt::print(
      "  surges              {} where an HPA on the observed load ran short of ready pods; "
      "pre-scaled in time by prescale: {}\n",
      s.surges, s.surges_in_time);
  fmt::print(
      "  minutes short       reactive {:.0f}, with prescale {:.0f} (pods need {} min to start)\n",
      s.reactive_violation_minutes, s.predictive_violation_minutes,
      demo.deployment().startup_seconds / 60);
  fmt::print("  replica-hours       reactive {:.1f}, with prescale {:.1f}\n",
             s.reactive_replica_hours, s.predictive_replica_hours);
  // The fair yardstick: the same replica-hours spent on a lower HPA target.
  if (s.equal_cost_reactive_minutes)
    fmt::print(
        "  at equal cost       a reactive HPA with its per-pod target lowered to {:.0f} % of "
        "capacity spends prescale's {:.1f} replica-hours: {:.0f} minutes short, with prescale "
        "{:.0f}\n",
        100 * *s.equal_cost_reactive_target, s.predictive_replica_hours,
        *s.equal_cost_reactive_minutes, s.predictive_violation_minutes);
  else
    fmt::print(
        "  at equal cost       prescale spent less than a reactive HPA at the pods' capacity\n");
  if (slo_percent)
    fmt::print(
        "                      (two days tuned for at most {:g} % of minutes short on its own "
        "decisions, replayed\n"
        "                      from the five weeks before: two days hold too few misses to judge "
        "an SLO; weeks of it\n"
        "                      on payments traces: docs/targets.md, \"What it saves, and against "
        "what\")\n",
        *slo_percent);
  else
    fmt::print(
        "                      (two days at the defaults, quantile 0.9 and no headroom; declare "
        "an SLO on a target\n"
        "                      and it tunes both on weeks of its own decisions: --slo, and "
        "docs/targets.md, \"What it saves,\n"
        "                      and against what\")\n");
  fmt::print("  report              {} (open it in a browser)\n  files kept in {}\n",
             s.report.string(), dir.string());
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", std::string(kDemoDescription));
  struct Options {
    double duration = 0;
    double speed = 600;
    int port = 0;
    std::string dir;
    std::string log_format = "text";
    std::optional<double> slo;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--duration", o->duration, "Real seconds to run, 0 = until Ctrl-C")
      ->capture_default_str();
  cmd->add_option("--speed", o->speed, "Simulated seconds per real second")
      ->check(CLI::Range(1.0, 100000.0))
      ->capture_default_str();
  cmd->add_option("--port", o->port, "HTTPS port on 127.0.0.1, 0 = any free port")
      ->capture_default_str();
  cmd->add_option("--dir", o->dir,
                  "Where certificates, config and kubeconfig go (default: a new temp dir)");
  cmd->add_option("--log-format", o->log_format,
                  "text or json, for the engine's log lines (stderr)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--slo", o->slo,
                  "Declare an SLO on the demo's target, at most this % of minutes short (e.g. "
                  "0.1): the daemon tunes its quantile and headroom on its own decisions, and "
                  "`prescale status` and /metrics show what that setting costs beside a reactive "
                  "HPA tuned the same way");
  cmd->callback([o] {
    const sigset_t signals = block_control_signals();
    std::filesystem::path dir = o->dir;
    if (dir.empty()) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "prescale-demo-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr)
        throw Failure("cannot create a temp dir for the demo");
      dir = pattern;
    }
    daemon::DemoOptions options;
    options.work_dir = dir;
    options.speed = o->speed;
    options.port = o->port;
    // slo.maxShortPercent's range and words (config/slo_ranges.hpp).
    if (o->slo)
      if (auto problem = config::slo_ranges::max_short_percent_problem(
              "--slo", fmt::format("{}", *o->slo), *o->slo);
          !problem.empty())
        throw Failure(problem);
    options.slo_percent = o->slo;
    // Engine events (refits, fallbacks) go to stderr; stdout carries the status lines.
    options.log = make_log_function(o->log_format, stderr, LogLevel::info);
    std::unique_ptr<daemon::Demo> demo;
    try {
      demo = std::make_unique<daemon::Demo>(options);
    } catch (const std::exception& e) {
      throw Failure(e.what());
    }
    if (auto started = demo->start(); !started) throw Failure(started.error().message);
    const auto& certs = demo->certificates();
    const std::string base = fmt::format("https://127.0.0.1:{}", demo->port());
    fmt::print(
        "prescale demo: serving the External Metrics API on {base} (TLS, client certificates, "
        "always-allow)\n"
        "  clock: {speed:g}x real time, starting {start} New York, step {step}s; config "
        "{config}\n\n"
        "Read the forecast (and its replica count) with curl:\n"
        "  curl --cacert {ca} --cert {cert} --key {key} {base}{path}\n"
        "  curl --cacert {ca} --cert {cert} --key {key} {base}{rpath}\n"
        "or with kubectl:\n"
        "  kubectl --kubeconfig {kubeconfig} get --raw {path}\n"
        "Status (model, backtest MASE, fallback): prescale status --server {base} --cacert {ca} "
        "--cert {cert} --key {key}\n\n",
        fmt::arg("base", base), fmt::arg("speed", o->speed),
        fmt::arg("start", local_time(static_cast<std::int64_t>(demo->clock().now()))),
        fmt::arg("step", demo->step_seconds()), fmt::arg("config", demo->config_path().string()),
        fmt::arg("ca", certs.ca_cert.string()), fmt::arg("cert", certs.client_cert.string()),
        fmt::arg("key", certs.client_key.string()), fmt::arg("path", demo->metric_path()),
        fmt::arg("rpath", demo->metric_path(true)),
        fmt::arg("kubeconfig", demo->kubeconfig_path().string()));
    std::fflush(stdout);

    const auto started_at = std::chrono::steady_clock::now();
    daemon::DemoRecorder recorder;
    std::int64_t printed = 0;
    std::string stopped_by = "Ctrl-C";
    // Check for a new snapshot a few times per simulated step.
    const double poll =
        std::clamp(static_cast<double>(demo->step_seconds()) / o->speed / 4, 0.02, 1.0);
    for (;;) {
      timespec wait{static_cast<time_t>(poll), static_cast<long>((poll - std::floor(poll)) * 1e9)};
      const int signal = sigtimedwait(&signals, nullptr, &wait);
      if (signal == SIGINT || signal == SIGTERM) {
        stopped_by = signal == SIGINT ? "Ctrl-C" : "SIGTERM";
        break;
      }
      if (o->duration > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at).count() >=
              o->duration) {
        stopped_by = fmt::format("--duration {:g}", o->duration);
        break;
      }
      // Past its last sample the trace has nothing more to say: the data
      // would only grow stale and the target fall back.
      if (demo->clock().now() >= static_cast<double>(demo->trace_end_unix())) {
        stopped_by = "the end of the trace";
        break;
      }
      const auto snapshot = demo->snapshots().current();
      if (snapshot->targets.empty() || snapshot->generated_unix == printed) continue;
      printed = snapshot->generated_unix;
      recorder.add(*snapshot);
      const auto& t = snapshot->targets.front();
      std::string tail = t.in_fallback() ? "fallback: " + t.fallback_reason : t.model;
      fmt::print("{}  observed {:8.1f}  forecast {:8.1f}  served {:8.1f}  replicas {:>3}  {}\n",
                 local_time(snapshot->generated_unix), t.observed, t.forecast, t.served,
                 t.replicas ? fmt::format("{:.0f}", *t.replicas) : "-", tail);
      std::fflush(stdout);
    }
    demo->stop();
    print_summary(*demo, recorder, dir, stopped_by, o->slo);
  });
}

}  // namespace prescale::cli
