#pragma once
// The Prometheus half of the history options: --prometheus URL --query PROMQL
// [--start T] [--end T|now] [--history 35d] and how to reach the server
// (auth, TLS, tenant headers). input_options.cpp adds these beside --input;
// `prescale fetch` uses them alone.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "prescale/config/config.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::cli {

struct PrometheusInput {
  std::string url;    ///< --prometheus
  std::string query;  ///< --query
  std::string start;  ///< --start: RFC 3339, Unix seconds, now-<duration>; "" = end - history
  std::string end = "now";
  std::string history = "35d";
  std::string combine = "none";
  std::string bearer_token_file;
  std::string basic_auth_user;
  std::string basic_auth_password_file;
  std::string ca_file;
  bool insecure_skip_verify = false;
  std::vector<std::string> headers;  ///< "Name: value"
  std::string timeout = "1m";
  int retries = 3;

  [[nodiscard]] bool requested() const { return !url.empty(); }
};

/// Adds the options to `command` in a "Prometheus" group; returns --prometheus.
/// The fetch window is --history in `prescale fetch` and --prometheus-history
/// beside --input, where commands own --history already (simulate: the window
/// each fit uses).
CLI::Option* add_prometheus_options(CLI::App& command, PrometheusInput& options,
                                    const std::string& history_option = "--prometheus-history");

/// The reply limit of a command's Prometheus requests (a target's is the
/// config's maxReplyBytes, 16 MiB by default).
inline constexpr std::int64_t kCommandMaxReplyBytes = 64 * 1024 * 1024;

/// The flags as the `prometheus:` section serve reads, which
/// prometheus::client_options turns into the client's settings (one mapping
/// for both). Throws Failure naming a bad --timeout or --header.
[[nodiscard]] config::PrometheusConfig prometheus_config(const PrometheusInput& options);

/// The resolved [start, end) grid, aligned to the step (end exclusive; the
/// step holding "now" is the last one).
struct TimeRange {
  std::int64_t start_unix = 0;
  std::int64_t end_unix = 0;
  std::int64_t step_seconds = 60;
};
[[nodiscard]] TimeRange resolve_time_range(const PrometheusInput& options,
                                           std::int64_t step_seconds, std::int64_t now_unix);

/// Fetches the history; progress lines go to stderr when it takes over a
/// second (or always with `progress`). Throws Failure naming the option,
/// the server and the query.
[[nodiscard]] forecast::Series load_prometheus_series(const PrometheusInput& options,
                                                      std::int64_t step_seconds,
                                                      std::vector<std::string>* notes = nullptr,
                                                      bool progress = false);

}  // namespace prescale::cli
