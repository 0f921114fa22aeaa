#pragma once
// What the fault tests share: a child process, a command's output, waiting
// for a condition, and a misbehaving Prometheus (an in-process cpp-httplib
// server answering query_range the way a broken store would).
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace prescale::faults {

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

inline pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fd);
  REQUIRE(pid > 0);
  return pid;
}

/// True while the child has not exited (it is not reaped here).
inline bool running(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

/// SIGTERM, then SIGKILL after 15 s; the exit code, or 128 + signal.
inline int stop_process(pid_t pid, int signal = SIGTERM) {
  ::kill(pid, signal);
  int status = 0;
  for (int i = 0; i < 300; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Replaces a file the way kubelet and editors do: write aside, rename over.
inline void replace_file(const std::filesystem::path& path, const std::string& text) {
  const auto aside = path.string() + ".new";
  std::ofstream(aside, std::ios::binary) << text;
  std::filesystem::rename(aside, path);
}

struct Command {
  int status = -1;
  std::string output;
};

inline Command run(const std::string& command) {
  Command out;
  FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.output.append(buffer, n);
  const int status = ::pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

template <class F>
bool eventually(F condition, double seconds, int poll_ms = 400) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
  }
  return condition();
}

/// The load every healthy reply carries: positive, with a 10-minute season.
inline double healthy_load(double unix_seconds) {
  return 100 + 40 * std::sin(2 * M_PI * unix_seconds / 600);
}

/// A Prometheus that misbehaves on demand. Thread-safe: set mode() from the test.
class FakePrometheus {
 public:
  enum class Mode {
    ok,        ///< the healthy series
    hang,      ///< accepts, never answers (until the mode changes)
    slow,      ///< answers correctly after 10 s
    error500,  ///< HTTP 500 with a Prometheus error body
    garbage,   ///< 200 with bytes that are not JSON
    huge,      ///< 200 with a 100 MB reply, streamed
    partial,   ///< 200 with a reply cut in the middle
    empty,     ///< 200, success, no series (the query matches nothing)
  };

  FakePrometheus() : port_(free_port()) {
    // Hung and slow replies hold a thread each while the client retries.
    server_.new_task_queue = [] { return new httplib::ThreadPool(48); };
    server_.Get("/api/v1/query_range",
                [this](const httplib::Request& request, httplib::Response& response) {
                  ++requests_;
                  const auto query = request.get_param_value("query");
                  std::function<bool(const std::string&)> hang_if;
                  {
                    std::lock_guard lock(queries_mutex_);
                    queries_.push_back(query);
                    hang_if = hang_if_;
                  }
                  if (hang_if && hang_if(query)) {
                    hang_query();
                    return;
                  }
                  answer(request, response);
                });
    revive();
  }
  ~FakePrometheus() {
    stopping_ = true;
    kill();
  }

  /// Stops listening and closes every connection, as a killed process would.
  void kill() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  /// Listens again on the same port (a restarted Prometheus).
  void revive() {
    thread_ = std::thread([this] { server_.listen("127.0.0.1", port_); });
    REQUIRE(eventually([this] { return server_.is_running(); }, 10, 20));
  }
  FakePrometheus(const FakePrometheus&) = delete;
  FakePrometheus& operator=(const FakePrometheus&) = delete;

  void set_mode(Mode mode) { mode_ = mode; }
  /// Queries it hangs on whatever the mode: it accepts and reads the request
  /// and never answers (until this is cleared, 120 s pass, or it stops).
  void set_hang_if(std::function<bool(const std::string& query)> predicate) {
    std::lock_guard lock(queries_mutex_);
    hang_if_ = std::move(predicate);
    ++hang_generation_;
  }
  /// Requests that hung so far, and those hanging now.
  [[nodiscard]] int hung_requests() const { return hung_; }
  [[nodiscard]] int hanging_now() const { return hanging_; }
  /// query_range requests whose query contains `needle`.
  [[nodiscard]] int requests_for(const std::string& needle) const {
    std::lock_guard lock(queries_mutex_);
    int n = 0;
    for (const auto& q : queries_) n += q.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] int requests() const { return requests_; }
  [[nodiscard]] std::int64_t huge_bytes_sent() const { return huge_bytes_; }

 private:
  static std::string matrix(const httplib::Request& request) {
    const double start = std::stod(request.get_param_value("start"));
    const double end = std::stod(request.get_param_value("end"));
    const double step = std::stod(request.get_param_value("step"));
    std::string body =
        R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"app":"fault"},"values":[)";
    char sample[96];
    bool first = true;
    for (double t = start; t <= end + 1e-9; t += step) {
      std::snprintf(sample, sizeof sample, "%s[%.3f,\"%.6f\"]", first ? "" : ",", t,
                    healthy_load(t));
      body += sample;
      first = false;
    }
    return body + "]}]}}";
  }

  void hang_query() {
    ++hung_;
    ++hanging_;
    int generation;
    {
      std::lock_guard lock(queries_mutex_);
      generation = hang_generation_;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
      {
        std::lock_guard lock(queries_mutex_);
        if (hang_generation_ != generation) break;
      }
      if (stopping_ || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    --hanging_;
  }

  bool wait_while(Mode mode, std::chrono::seconds at_most) const {
    const auto deadline = std::chrono::steady_clock::now() + at_most;
    while (mode_ == mode && !stopping_ && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return !stopping_;
  }

  void answer(const httplib::Request& request, httplib::Response& response) {
    switch (mode_.load()) {
      case Mode::ok:
        response.set_content(matrix(request), "application/json");
        return;
      case Mode::hang:
        wait_while(Mode::hang, std::chrono::seconds(120));
        response.status = 503;
        return;
      case Mode::slow:
        if (wait_while(Mode::slow, std::chrono::seconds(10)))
          response.set_content(matrix(request), "application/json");
        return;
      case Mode::error500:
        response.status = 500;
        response.set_content(R"({"status":"error","errorType":"internal","error":"tsdb on fire"})",
                             "application/json");
        return;
      case Mode::garbage:
        response.set_content("<html><body>502 Bad Gateway \x01\xff\xfe</body></html>",
                             "application/json");
        return;
      case Mode::partial: {
        const std::string full = matrix(request);
        response.set_content(full.substr(0, full.size() / 2), "application/json");
        return;
      }
      case Mode::empty:
        response.set_content(R"({"status":"success","data":{"resultType":"matrix","result":[]}})",
                             "application/json");
        return;
      case Mode::huge: {
        // A valid start, then 100 MB inside one label value: generated chunk
        // by chunk, never held in memory here.
        constexpr std::int64_t kTotal = 100LL * 1024 * 1024;
        response.set_content_provider(
            static_cast<std::size_t>(kTotal), "application/json",
            [this](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
              static const std::string head =
                  R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{"x":")";
              std::string chunk;
              if (offset < head.size()) chunk = head.substr(offset);
              const std::size_t want = std::min<std::size_t>(length, 64 * 1024);
              if (chunk.size() < want) chunk.append(want - chunk.size(), 'a');
              if (stopping_ || !sink.write(chunk.data(), chunk.size())) return false;
              huge_bytes_ += static_cast<std::int64_t>(chunk.size());
              return true;
            });
        return;
      }
    }
  }

  int port_;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<Mode> mode_{Mode::ok};
  std::atomic<bool> stopping_{false};
  std::atomic<int> requests_{0};
  std::atomic<std::int64_t> huge_bytes_{0};
  mutable std::mutex queries_mutex_;
  std::vector<std::string> queries_;
  std::function<bool(const std::string&)> hang_if_;
  int hang_generation_ = 0;
  std::atomic<int> hung_{0};
  std::atomic<int> hanging_{0};
};

}  // namespace prescale::faults
