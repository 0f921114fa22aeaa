#include "prometheus_input.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "commands.hpp"
#include "prescale/calendar/timestamp.hpp"
#include "prescale/common/integer.hpp"
#include "prescale/common/text.hpp"
#include "prescale/common/time.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/file/csv_series.hpp"
#include "prescale/prometheus/client_config.hpp"
#include "prescale/prometheus/prometheus_source.hpp"

namespace prescale::cli {
namespace {

// "now", "now-2h", or a timestamp as CSV files accept it (RFC 3339, Unix seconds).
std::int64_t parse_time(const std::string& option, const std::string& text, std::int64_t now_unix) {
  if (text == "now") return now_unix;
  if (text.rfind("now-", 0) == 0) {
    auto ago = config::parse_duration_seconds(text.substr(4));
    if (!ago) throw Failure(fmt::format("{} '{}': {}", option, text, ago.error().message));
    return now_unix - *ago;
  }
  auto when = calendar::parse_timestamp(text, std::nullopt);
  if (!when) {
    throw Failure(fmt::format("{} '{}': {} (use RFC 3339, Unix seconds, now or now-<duration>)",
                              option, text, when.error().message));
  }
  return static_cast<std::int64_t>(std::floor(*when));
}

}  // namespace

CLI::Option* add_prometheus_options(CLI::App& command, PrometheusInput& options,
                                    const std::string& history_option) {
  const std::string group = "Prometheus";
  auto* url =
      command
          .add_option(
              "--prometheus", options.url,
              "Prometheus-compatible API base URL (Prometheus, Thanos, Mimir, VictoriaMetrics),\n"
              "e.g. http://prometheus:9090 or https://mimir/prometheus")
          ->group(group);
  auto* query =
      command
          .add_option(
              "--query", options.query,
              "PromQL giving one series, e.g. sum(rate(http_requests_total{job=\"api\"}[5m]))")
          ->group(group);
  url->needs(query);
  query->needs(url);
  command
      .add_option("--start", options.start,
                  "First step: RFC 3339, Unix seconds or now-<duration> (default: --end minus " +
                      history_option + ")")
      ->group(group);
  command
      .add_option("--end", options.end,
                  "End of the history, exclusive (default now: the step holding now is the last)")
      ->capture_default_str()
      ->group(group);
  command
      .add_option(history_option, options.history,
                  "How much history to fetch when --start is not given")
      ->capture_default_str()
      ->group(group);
  command
      .add_option(
          "--combine", options.combine,
          "When the query returns several series: none (an error naming them), sum, max or min")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "sum", "max", "min"}))
      ->group(group);
  auto* bearer = command
                     .add_option("--bearer-token-file", options.bearer_token_file,
                                 "Bearer token file, re-read when it changes (e.g. "
                                 "/var/run/secrets/kubernetes.io/serviceaccount/token)")
                     ->check(CLI::ExistingFile)
                     ->group(group);
  auto* user = command.add_option("--basic-auth-user", options.basic_auth_user, "Basic auth user")
                   ->group(group);
  // As in the config's prometheus section: one way to authenticate, and a
  // password only beside a user.
  bearer->excludes(user);
  command
      .add_option("--basic-auth-password-file", options.basic_auth_password_file,
                  "File holding the basic auth password (kept off the command line; its trailing "
                  "line end is not part of it)")
      ->check(CLI::ExistingFile)
      ->needs(user)
      ->group(group);
  command.add_option("--ca-file", options.ca_file, "PEM CA bundle that verifies an https server")
      ->check(CLI::ExistingFile)
      ->group(group);
  command
      .add_flag("--insecure-skip-verify", options.insecure_skip_verify,
                "Do not verify the server certificate")
      ->group(group);
  command
      .add_option("--header", options.headers,
                  "Extra request header 'Name: value' (repeatable), e.g. 'X-Scope-OrgID: team-a'")
      ->group(group);
  command.add_option("--timeout", options.timeout, "Per-request timeout")
      ->capture_default_str()
      ->group(group);
  command
      .add_option("--retries", options.retries,
                  "Retries on connection errors, 429 and 5xx (backoff with jitter)")
      ->capture_default_str()
      ->check(CLI::Range(0, 20))
      ->group(group);
  return url;
}

config::PrometheusConfig prometheus_config(const PrometheusInput& options) {
  config::PrometheusConfig p;
  p.url = options.url;
  auto timeout = config::parse_duration_seconds(options.timeout);
  if (!timeout || *timeout <= 0)
    throw Failure(fmt::format("--timeout '{}': expected a positive duration", options.timeout));
  p.timeout_seconds = *timeout;
  p.bearer_token_file = options.bearer_token_file;
  p.basic_auth_username = options.basic_auth_user;
  p.basic_auth_password_file = options.basic_auth_password_file;
  for (const std::string& header : options.headers) {
    const auto colon = header.find(':');
    if (colon == std::string::npos || colon == 0)
      throw Failure(fmt::format("--header '{}': expected 'Name: value'", header));
    const std::string name = header.substr(0, colon);
    if (!p.headers.emplace(name, trim(std::string_view(header).substr(colon + 1))).second)
      throw Failure(fmt::format("--header '{}': {} is given twice", header, name));
  }
  p.ca_file = options.ca_file;
  p.insecure_skip_verify = options.insecure_skip_verify;
  // A command fetches one window once, and --combine may parse dozens of
  // series into one: a larger reply than a target's (SECURITY.md).
  p.max_reply_bytes = kCommandMaxReplyBytes;
  return p;
}

TimeRange resolve_time_range(const PrometheusInput& options, std::int64_t step_seconds,
                             std::int64_t now_unix) {
  TimeRange range;
  range.step_seconds = step_seconds;
  const std::int64_t end = parse_time("--end", options.end, now_unix);
  // "now" names the step in progress; an explicit end is already exclusive.
  range.end_unix = options.end == "now" ? floor_to(end, step_seconds) + step_seconds
                                        : floor_to(end + step_seconds - 1, step_seconds);
  if (!options.start.empty()) {
    range.start_unix = floor_to(parse_time("--start", options.start, now_unix), step_seconds);
  } else {
    auto history = config::parse_duration_seconds(options.history);
    if (!history) throw Failure("history '" + options.history + "': " + history.error().message);
    range.start_unix = range.end_unix - floor_to(*history, step_seconds);
  }
  if (range.start_unix >= range.end_unix) {
    throw Failure(fmt::format("--start {} is not before --end {}", format_rfc3339(range.start_unix),
                              format_rfc3339(range.end_unix)));
  }
  return range;
}

forecast::Series load_prometheus_series(const PrometheusInput& options, std::int64_t step_seconds,
                                        std::vector<std::string>* notes, bool progress) {
  auto client = prometheus::client_options(prometheus_config(options));
  if (!client) throw Failure("--basic-auth-password-file: " + client.error().message);
  client->retry.max_attempts = options.retries + 1;

  prometheus::QueryOptions query;
  query.query = options.query;
  query.combine = *prometheus::parse_combine(options.combine);
  const auto started = std::chrono::steady_clock::now();
  query.progress = [&](std::size_t done, std::size_t total) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (progress || elapsed > 1.0) {
      std::fprintf(stderr, "fetch: %zu/%zu points (%.0f%%), %.1f s\n", done, total,
                   100.0 * static_cast<double>(done) / static_cast<double>(total), elapsed);
    }
  };
  prometheus::PrometheusSource source(std::move(*client), query);
  const TimeRange range = resolve_time_range(options, step_seconds, std::time(nullptr));
  auto series = source.fetch(range.start_unix, range.end_unix, range.step_seconds);
  if (!series) throw Failure(series.error().message);
  if (notes != nullptr) {
    for (const std::string& warning : source.last_warnings())
      notes->push_back("Prometheus warning: " + warning);
    notes->push_back(fmt::format(
        "{} steps of {} from {} ({} .. {}, {} gaps, {} requests)", series->size(),
        config::format_duration(step_seconds), source.describe(), format_rfc3339(range.start_unix),
        format_rfc3339(range.end_unix), series->missing_count(), source.requests_made()));
  }
  if (series->size() == series->missing_count()) {
    throw Failure(fmt::format(
        "{}: no sample between {} and {} (is the query right? is the history retained?)",
        source.describe(), format_rfc3339(range.start_unix), format_rfc3339(range.end_unix)));
  }
  return std::move(*series);
}

}  // namespace prescale::cli
