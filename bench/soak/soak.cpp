// Soak harness: the real engine and the real External Metrics server in one
// process, N targets (synthetic payments traces, one seed each, 1-minute
// steps) replayed on an accelerated clock, so that a refit interval of an
// hour comes every 60/speed wall minutes. Clients (bench/server's TLS load
// driver, started by bench/soak/run) hammer the metric endpoint meanwhile.
// Every --sample seconds it prints one JSON line: RSS, CPU, ticks and fits
// so far; at the end a summary line. Prints the bound port to --port-file.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/engine.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/kubernetes/server.hpp"
#include "prescale/simulate/replay.hpp"

using namespace prescale;

namespace {

double rss_mib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return 0;
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int targets = 1000;
  double minutes = 30, speed = 60, sample_seconds = 10;
  std::size_t tick_threads = 2, fit_threads = 2;
  int history_days = 3;
  std::string port_file;
  kubernetes::ServerOptions server_options;
  server_options.address = "127.0.0.1";
  server_options.port = 0;
  server_options.authorization.mode = kubernetes::AuthorizationOptions::Mode::always_allow;
  server_options.requestheader_allowed_names = {"front-proxy-client"};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--targets")
      targets = std::atoi(value.c_str());
    else if (flag == "--minutes")
      minutes = std::atof(value.c_str());
    else if (flag == "--speed")
      speed = std::atof(value.c_str());
    else if (flag == "--sample")
      sample_seconds = std::atof(value.c_str());
    else if (flag == "--history-days")
      history_days = std::atoi(value.c_str());
    else if (flag == "--tick-threads")
      tick_threads = static_cast<std::size_t>(std::atoi(value.c_str()));
    else if (flag == "--fit-threads")
      fit_threads = static_cast<std::size_t>(std::atoi(value.c_str()));
    else if (flag == "--cert")
      server_options.cert_file = value;
    else if (flag == "--key")
      server_options.key_file = value;
    else if (flag == "--front-proxy-ca")
      server_options.requestheader_client_ca_file = value;
    else if (flag == "--port-file")
      port_file = value;
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }

  // History before the replay, then the replayed span, per target.
  const std::int64_t step = 60;
  const double replay_seconds = minutes * 60 * speed;
  autoscaler::TraceOptions trace;
  trace.days = history_days + static_cast<int>(std::ceil(replay_seconds / 86400)) + 1;
  trace.step_seconds = step;
  const std::int64_t replay_start = trace.start_unix + history_days * 86400LL;

  std::vector<forecast::Series> series;
  std::vector<config::TargetConfig> configs;
  for (int i = 0; i < targets; ++i) {
    trace.seed = static_cast<std::uint64_t>(i + 1);
    trace.level = 200 + 10 * (i % 100);
    auto s = autoscaler::generate_trace(trace);
    if (!s) {
      std::cerr << s.error().message << "\n";
      return 1;
    }
    series.push_back(std::move(*s));
    config::TargetConfig t;
    t.metric = "target-" + std::to_string(i) + "-rps";
    t.labels = {{"target", "target-" + std::to_string(i)}};
    t.query = "synthetic seed " + std::to_string(i + 1);
    t.step_seconds = step;
    t.history_seconds = history_days * 86400LL;
    t.seasonality_seconds = {86400};
    t.model = "holt-winters";
    t.backtest_origins = 1;
    t.refit_interval_seconds = 3600;
    t.capacity_per_replica = 100;
    configs.push_back(std::move(t));
  }

  autoscaler::AcceleratedClock clock(static_cast<double>(replay_start), speed);
  autoscaler::SourceFactory sources =
      [&](const config::TargetConfig& t) -> Expected<std::unique_ptr<source::Source>> {
    const auto index = static_cast<std::size_t>(std::atoi(t.metric.c_str() + 7));
    return std::unique_ptr<source::Source>(
        std::make_unique<simulate::RecordedSource>(series[index], clock, t.metric));
  };
  std::atomic<long> fits{0}, engine_errors{0};
  std::atomic<double> fit_cpu_seconds{0};
  std::mutex log_mutex;
  autoscaler::EngineOptions engine_options;
  engine_options.tick_threads = tick_threads;
  engine_options.fit_threads = fit_threads;
  engine_options.log = [&](const LogRecord& record) {
    if (record.message == "refit") {
      ++fits;
      for (const auto& [key, value] : record.fields)
        if (key == "fit_seconds" && std::holds_alternative<double>(value))
          fit_cpu_seconds.fetch_add(std::get<double>(value));
    } else if (record.level == LogLevel::error) {
      ++engine_errors;
      std::lock_guard lock(log_mutex);
      if (engine_errors < 5) std::cerr << "engine error: " << record.message << "\n";
    }
  };
  SnapshotStore store;
  std::atomic<long> snapshots{0};
  const auto started = std::chrono::steady_clock::now();
  const double cpu_at_start = cpu_seconds();
  autoscaler::Engine engine(
      configs, calendar::CalendarSet(), sources, clock,
      [&](std::shared_ptr<const Snapshot> s) {
        ++snapshots;
        store.publish(std::move(s));
      },
      engine_options);
  kubernetes::Server server(server_options, store);
  if (auto ok = server.start(); !ok) {
    std::cerr << ok.error().message << "\n";
    return 1;
  }
  std::thread engine_thread([&] { engine.run(); });
  // Clients start once every target serves a value (observed at first).
  for (int i = 0;
       i < 1200 && store.current()->metrics.size() < 2 * static_cast<std::size_t>(targets); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (!port_file.empty()) std::ofstream(port_file) << server.port() << "\n";

  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  double last_cpu = cpu_at_start, last_t = 0;
  long last_fits = 0;
  std::vector<double> rss_after_warmup;
  const double warmup = std::min(minutes * 60 / 3, 300.0);  // and two refit rounds, below
  double max_fits_per_minute = 0, first_full_refit_seconds = -1;
  while (elapsed() < minutes * 60) {
    std::this_thread::sleep_for(std::chrono::duration<double>(sample_seconds));
    const double t = elapsed(), cpu = cpu_seconds(), rss = rss_mib();
    const long f = fits.load();
    const double fits_per_minute = (f - last_fits) / (t - last_t) * 60;
    // Warm once two full refit rounds are in: every model, buffer and
    // connection has been allocated at least once.
    if (t > warmup && f >= 2L * targets) {
      rss_after_warmup.push_back(rss);
      max_fits_per_minute = std::max(max_fits_per_minute, fits_per_minute);
    }
    if (first_full_refit_seconds < 0 && f >= targets) first_full_refit_seconds = t;
    std::printf(
        "{\"t\":%.0f,\"rss_mib\":%.1f,\"cpu_cores\":%.2f,\"fits\":%ld,\"fits_per_minute\":%.0f,"
        "\"snapshots\":%ld,\"simulated_minutes\":%.0f}\n",
        t, rss, (cpu - last_cpu) / (t - last_t), f, fits_per_minute, snapshots.load(),
        (clock.now() - static_cast<double>(replay_start)) / 60);
    std::fflush(stdout);
    last_cpu = cpu;
    last_t = t;
    last_fits = f;
  }
  engine.stop();
  engine_thread.join();
  server.stop();

  const double total = elapsed();
  double first = rss_after_warmup.empty() ? 0 : rss_after_warmup.front();
  double peak = first;
  for (double r : rss_after_warmup) peak = std::max(peak, r);
  // Refit rounds raise RSS while they run, so "first sample vs any later
  // peak" mixes a round's transient with growth. Also reported: the peak of
  // the last window against the peak of the first (same length, a few refit
  // rounds each), which compares like with like.
  const std::size_t window = std::max<std::size_t>(1, rss_after_warmup.size() / 4);
  double first_window_peak = 0, last_window_peak = 0;
  for (std::size_t i = 0; i < rss_after_warmup.size(); ++i) {
    if (i < window) first_window_peak = std::max(first_window_peak, rss_after_warmup[i]);
    if (i + window >= rss_after_warmup.size())
      last_window_peak = std::max(last_window_peak, rss_after_warmup[i]);
  }
  // Checks every served value on the way out: the same rule the API enforces.
  long bad = 0;
  const auto last = store.current();  // held: a temporary would die before the loop
  for (const auto& m : last->metrics)
    if (!std::isfinite(m.value) || m.value < 0) ++bad;
  std::printf(
      "{\"summary\":true,\"targets\":%d,\"wall_seconds\":%.0f,\"speed\":%.0f,\"fits\":%ld,"
      "\"engine_errors\":%ld,\"first_full_refit_seconds\":%.0f,\"max_fits_per_minute_after_"
      "warmup\":%.0f,"
      "\"fit_seconds_total\":%.1f,\"cpu_cores_mean\":%.2f,\"rss_mib_after_warmup\":%.1f,"
      "\"rss_mib_peak_after_warmup\":%.1f,\"rss_growth_percent\":%.1f,"
      "\"rss_window_peaks_mib\":[%.1f,%.1f],\"rss_peak_to_peak_growth_percent\":%.1f,\"served_"
      "metrics\":%zu,"
      "\"target_ticks_per_second\":%.0f,\"target_ticks_per_second_needed\":%.0f,"
      "\"bad_values\":%ld}\n",
      targets, total, speed, fits.load(), engine_errors.load(), first_full_refit_seconds,
      max_fits_per_minute, fit_cpu_seconds.load(), (cpu_seconds() - cpu_at_start) / total, first,
      peak, first > 0 ? (peak - first) / first * 100 : 0.0, first_window_peak, last_window_peak,
      first_window_peak > 0 ? (last_window_peak - first_window_peak) / first_window_peak * 100
                            : 0.0,
      last->metrics.size(), static_cast<double>(engine.ticks_done()) / total,
      targets * speed / static_cast<double>(step), bad);
  return bad == 0 ? 0 : 1;
}
