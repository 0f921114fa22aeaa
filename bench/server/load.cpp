// Drives one HTTPS path with keep-alive connections, as the aggregator
// would (front-proxy certificate + X-Remote-User), at a fixed total rate
// (open loop; latency counted from the scheduled send time so a stall is
// not hidden) or as fast as possible (--rate 0). Prints one JSON line.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", path = "/healthz", ca, cert, key, user = "system:kube-aggregator";
  int port = 0, connections = 16;
  double rate = 1000, seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--port")
      port = std::atoi(value.c_str());
    else if (flag == "--path")
      path = value;
    else if (flag == "--ca")
      ca = value;
    else if (flag == "--cert")
      cert = value;
    else if (flag == "--key")
      key = value;
    else if (flag == "--user")
      user = value;
    else if (flag == "--connections")
      connections = std::atoi(value.c_str());
    else if (flag == "--rate")
      rate = std::atof(value.c_str());
    else if (flag == "--seconds")
      seconds = std::atof(value.c_str());
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  using Clock = std::chrono::steady_clock;
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::atomic<long> errors{0};
  std::string first_error;
  const auto start = Clock::now() + std::chrono::milliseconds(200);
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));

  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      httplib::SSLClient client(host, port, cert, key);
      client.set_ca_cert_path(ca.c_str());
      client.enable_server_certificate_verification(true);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      const httplib::Headers headers{{"X-Remote-User", user}, {"X-Remote-Group", "system:masters"}};
      std::vector<double> local;
      local.reserve(200000);
      // Each connection sends every connections/rate seconds, phase-shifted.
      const auto interval = rate > 0 ? std::chrono::duration<double>(connections / rate)
                                     : std::chrono::duration<double>(0);
      auto next = start + std::chrono::duration_cast<Clock::duration>(
                              interval * (static_cast<double>(c) / connections));
      // Connect and handshake before the clock starts: the bench measures requests.
      if (auto warm_up = client.Get(path.c_str(), headers); !warm_up) errors++;
      std::this_thread::sleep_until(start);
      while (true) {
        if (rate > 0) {
          if (next >= end) break;
          std::this_thread::sleep_until(next);
        } else if (Clock::now() >= end) {
          break;
        }
        const auto sent = rate > 0 ? next : Clock::now();
        auto response = client.Get(path.c_str(), headers);
        const auto done = Clock::now();
        if (!response || response->status != 200) {
          if (errors++ == 0) {
            std::lock_guard lock(mutex);
            first_error = response
                              ? "HTTP " + std::to_string(response->status) + " " + response->body
                              : "transport error " + httplib::to_string(response.error());
          }
        } else {
          local.push_back(std::chrono::duration<double, std::milli>(done - sent).count());
        }
        if (rate > 0) next += std::chrono::duration_cast<Clock::duration>(interval);
      }
      std::lock_guard lock(mutex);
      latencies_ms.insert(latencies_ms.end(), local.begin(), local.end());
    });
  }
  for (auto& thread : threads) thread.join();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto percentile = [&](double p) {
    if (latencies_ms.empty()) return 0.0;
    const auto index =
        static_cast<std::size_t>(p * static_cast<double>(latencies_ms.size() - 1) + 0.5);
    return latencies_ms[std::min(index, latencies_ms.size() - 1)];
  };
  const double achieved = static_cast<double>(latencies_ms.size()) / seconds;
  std::printf(
      "{\"path\":\"%s\",\"connections\":%d,\"target_rate\":%.0f,\"seconds\":%.1f,\"requests\":%zu,"
      "\"errors\":%ld,"
      "\"requests_per_second\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%."
      "3f,\"max_ms\":%.3f}\n",
      path.c_str(), connections, rate, seconds, latencies_ms.size(), errors.load(), achieved,
      percentile(0.5), percentile(0.9), percentile(0.99), percentile(0.999),
      latencies_ms.empty() ? 0.0 : latencies_ms.back());
  if (errors.load() > 0) std::fprintf(stderr, "first error: %s\n", first_error.c_str());
  return errors.load() == 0 ? 0 : 1;
}
