#pragma once
// A real Prometheus for tests: writes series as OpenMetrics, backfills them
// with `promtool tsdb create-blocks-from openmetrics`, starts `prometheus`
// on a free 127.0.0.1 port in its own process group and temp dir, waits for
// /-/ready, and stops it (the whole group) and removes the dir on destruction.
//
//   prescale::test::PrometheusFixture prom({{"load", {{"job", "api"}}, series}});
//   PrometheusSource source({.url = prom.url()}, {.query = "load"});
//
// Link prescale::prometheus_source (readiness is polled with its Client).
// Failures throw std::runtime_error with promtool's / prometheus' own log.
#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "prescale/forecast/series.hpp"
#include "prescale/prometheus/client.hpp"

namespace prescale::test {

/// One series to backfill. NaN values are written as missing samples (gaps);
/// Prometheus can store NaN too, but a Series cannot tell the two apart.
struct MetricSeries {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  forecast::Series series;
};

/// OpenMetrics exposition of `metrics` (one family per metric name, in
/// first-seen order; timestamps in seconds; values in shortest round-trip form).
inline std::string openmetrics_text(const std::vector<MetricSeries>& metrics) {
  std::vector<std::string> families;
  for (const auto& metric : metrics) {
    bool seen = false;
    for (const auto& family : families) seen = seen || family == metric.name;
    if (!seen) families.push_back(metric.name);
  }
  std::string out;
  for (const auto& family : families) {
    out +=
        fmt::format("# HELP {} Backfilled by prescale tests.\n# TYPE {} gauge\n", family, family);
    for (const auto& metric : metrics) {
      if (metric.name != family) continue;
      std::string labels;
      for (const auto& [key, value] : metric.labels) {
        labels += fmt::format("{}{}=\"{}\"", labels.empty() ? "{" : ",", key, value);
      }
      if (!labels.empty()) labels += "}";
      const forecast::Series& series = metric.series;
      for (std::size_t i = 0; i < series.size(); ++i) {
        const double value = series.values[i];
        if (std::isnan(value)) continue;
        const std::string text =
            std::isinf(value) ? (value > 0 ? "+Inf" : "-Inf") : fmt::format("{}", value);
        out += fmt::format("{}{} {} {}\n", family, labels, text, series.time_at(i));
      }
    }
  }
  out += "# EOF\n";
  return out;
}

class PrometheusFixture {
 public:
  struct Options {
    /// PromQL lookback. Prometheus's 5m default fills a gap with the previous
    /// sample for 5 minutes; set it under the step to see gaps as gaps.
    std::string lookback_delta = "5m";
    std::string retention = "10y";  ///< backfilled blocks older than retention are deleted
    std::chrono::seconds ready_timeout{120};
    std::string prometheus_bin = "/usr/bin/prometheus";
    std::string promtool_bin = "/usr/bin/promtool";
    std::vector<std::string> extra_args;  ///< e.g. --web.config.file=... (TLS: set scheme "https")
    std::string scheme = "http";
    /// When that web config asks for basic auth: how the readiness probe logs in.
    std::string basic_auth_user;
    std::string basic_auth_password;
    /// Live scraping besides the backfill: prometheus.yml's scrape_configs
    /// (a YAML list) and the global scrape interval.
    std::string scrape_configs = "[]";
    std::string scrape_interval = "1m";
  };

  explicit PrometheusFixture(const std::vector<MetricSeries>& metrics)
      : PrometheusFixture(metrics, Options{}) {}
  PrometheusFixture(const std::vector<MetricSeries>& metrics, Options options)
      : options_(std::move(options)) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "prescale-prometheus-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed for " + pattern);
    dir_ = pattern;
    try {
      write_file(dir_ / "prometheus.yml",
                 fmt::format("global:\n  scrape_interval: {}\nscrape_configs: {}\n",
                             options_.scrape_interval, options_.scrape_configs));
      std::filesystem::create_directories(dir_ / "data");
      if (!metrics.empty()) {
        write_file(dir_ / "input.om", openmetrics_text(metrics));
        // The hidden --max-block-duration: with the default 2h blocks promtool
        // re-reads the whole input once per block (420 passes for five weeks).
        const int status = run_and_wait(
            {options_.promtool_bin, "tsdb", "create-blocks-from", "openmetrics", "--quiet",
             "--max-block-duration=744h", (dir_ / "input.om").string(), (dir_ / "data").string()},
            dir_ / "promtool.log");
        if (status != 0)
          throw std::runtime_error("promtool backfill failed:\n" +
                                   read_file(dir_ / "promtool.log"));
        std::filesystem::remove(dir_ / "input.om");
      }
      start();
    } catch (...) {
      stop();
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw;
    }
  }

  ~PrometheusFixture() {
    stop();
    std::error_code ignored;
    if (!dir_.empty() && std::getenv("PRESCALE_KEEP_PROMETHEUS_DIR") == nullptr)
      std::filesystem::remove_all(dir_, ignored);
  }
  PrometheusFixture(const PrometheusFixture&) = delete;
  PrometheusFixture& operator=(const PrometheusFixture&) = delete;

  /// http://127.0.0.1:<port> (scheme from Options)
  [[nodiscard]] const std::string& url() const { return url_; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  [[nodiscard]] std::string log() const { return read_file(dir_ / "prometheus.log"); }

  /// Stops the whole process group: SIGTERM, then SIGKILL after 10 s.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    // Wait without reaping: the unreaped leader keeps the group id ours, so
    // the final kill cannot hit a process that reused the id.
    siginfo_t info{};
    while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == 0) {
      if (std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid_, SIGKILL);  // a hung leader, or stragglers of the group
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  /// A 127.0.0.1 port nobody listens on right now.
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot find a free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(address.sin_port);
  }

 private:
  static void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
  static std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // fork+exec in a new process group, stdout/stderr to `log`. Everything the
  // child needs is built before fork (only async-signal-safe calls after it).
  static pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log.string());
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::setpgid(0, 0);
      // If the test process dies (ctest timeout, crash), take the server with it.
      // Tied to the forking thread: construct fixtures on a thread that outlives them.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      ::dup2(log_fd, STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      const int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    if (pid < 0) throw std::runtime_error("fork failed for " + args.front());
    ::setpgid(pid, pid);  // also here: no race with the first kill(-pid)
    return pid;
  }

  static int run_and_wait(const std::vector<std::string>& args, const std::filesystem::path& log) {
    const pid_t pid = spawn(args, log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  void start() {
    std::string last_log;
    for (int attempt = 0; attempt < 3; ++attempt) {  // another process may grab the free port first
      port_ = free_port();
      url_ = fmt::format("{}://127.0.0.1:{}", options_.scheme, port_);
      std::vector<std::string> args{options_.prometheus_bin,
                                    "--config.file=" + (dir_ / "prometheus.yml").string(),
                                    "--storage.tsdb.path=" + (dir_ / "data").string(),
                                    "--storage.tsdb.retention.time=" + options_.retention,
                                    fmt::format("--web.listen-address=127.0.0.1:{}", port_),
                                    "--query.lookback-delta=" + options_.lookback_delta,
                                    "--log.level=warn"};
      args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
      pid_ = spawn(args, dir_ / "prometheus.log");
      if (wait_ready()) return;
      last_log = log();
      stop();
    }
    throw std::runtime_error("prometheus did not become ready:\n" + last_log);
  }

  bool wait_ready() {
    prometheus::ClientOptions client_options;
    client_options.url = url_;
    client_options.retry.max_attempts = 1;
    client_options.connect_timeout = std::chrono::milliseconds(500);
    client_options.total_timeout = std::chrono::milliseconds(2000);
    // A TLS-serving instance (extra_args web config) is probed without verification.
    client_options.insecure_skip_verify = true;
    client_options.basic_auth_user = options_.basic_auth_user;
    client_options.basic_auth_password = options_.basic_auth_password;
    prometheus::Client client(client_options);
    const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      auto response = client.get("/-/ready", {});
      if (response && response->status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  Options options_;
  std::filesystem::path dir_;
  std::string url_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace prescale::test
