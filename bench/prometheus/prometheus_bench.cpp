// Loads 35 days x 1 minute for N series (default 100) from a local Prometheus
// backfilled by the test fixture, and measures the JSON reply parser. Every
// figure comes with a baseline measured in the same run:
//   load:  PrometheusSource.fetch (HTTP + parse + stitch) vs the same HTTP
//          requests without parsing (Client.get only);
//   parse: ReplyParser.parse_range vs simdjson's bare DOM parse and vs
//          nlohmann::json on the same bodies.
//   prometheus_bench [series=100] [repeats=3]
#include <fmt/core.h>
#include <simdjson.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "prescale/prometheus/prometheus_source.hpp"
#include "prometheus_fixture.hpp"

using namespace prescale::prometheus;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kStep = 60;
constexpr std::size_t kPoints = 35 * 1440;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

template <class F>
double median_seconds(int repeats, F&& run) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    run();
    times.push_back(seconds_since(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int series_count = argc > 1 ? std::atoi(argv[1]) : 100;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  const std::int64_t now = std::time(nullptr);
  const std::int64_t start =
      now - now % 3600 - 2 * 3600 - static_cast<std::int64_t>(kPoints) * kStep;

  std::vector<prescale::test::MetricSeries> metrics;
  for (int s = 0; s < series_count; ++s) {
    prescale::forecast::Series series{start, kStep, {}};
    series.values.reserve(kPoints);
    for (std::size_t i = 0; i < kPoints; ++i) {
      const double day = 2.0 * M_PI * static_cast<double>(series.time_at(i) % 86400) / 86400.0;
      series.values.push_back(std::round((300.0 + 10.0 * s + 200.0 * std::sin(day + s)) * 1000.0) /
                              1000.0);
    }
    metrics.push_back({"prescale_bench_load", {{"series", std::to_string(s)}}, std::move(series)});
  }
  auto started = Clock::now();
  prescale::test::PrometheusFixture prometheus(metrics);
  fmt::print("setup: backfilled and started Prometheus with {} series x {} points in {:.1f} s\n",
             series_count, kPoints, seconds_since(started));
  metrics.clear();

  ClientOptions client;
  client.url = prometheus.url();
  const std::int64_t end = start + static_cast<std::int64_t>(kPoints) * kStep;

  // Baseline: the same chunked requests, bodies downloaded but not parsed.
  std::size_t body_bytes = 0;
  std::vector<std::string> sample_bodies;  // one series' chunks, for the parse benchmark
  const auto http_pass = [&] {
    Client http(client);
    body_bytes = 0;
    for (int s = 0; s < series_count; ++s) {
      for (std::int64_t from = start; from < end; from += 11000 * kStep) {
        const std::int64_t last = std::min(end, from + 11000 * kStep) - kStep;
        auto response = http.get("/api/v1/query_range",
                                 {{"query", fmt::format("prescale_bench_load{{series=\"{}\"}}", s)},
                                  {"start", std::to_string(from)},
                                  {"end", std::to_string(last)},
                                  {"step", std::to_string(kStep)}});
        if (!response || response->status != 200) {
          fmt::print(stderr, "request failed: {}\n",
                     response ? response->body : response.error().message);
          std::exit(1);
        }
        body_bytes += response->body.size();
        if (s == 0 && sample_bodies.size() < 5) sample_bodies.push_back(std::move(response->body));
      }
    }
  };
  // One untimed pass first: Prometheus's first reads of fresh blocks (page
  // cache, postings) would otherwise be charged to whichever run goes first.
  http_pass();
  const double http_only = median_seconds(repeats, http_pass);

  std::size_t points = 0;
  const double load = median_seconds(repeats, [&] {
    points = 0;
    for (int s = 0; s < series_count; ++s) {
      QueryOptions query;
      query.query = fmt::format("prescale_bench_load{{series=\"{}\"}}", s);
      PrometheusSource source(client, query);
      auto series = source.fetch(start, end, kStep);
      if (!series) {
        fmt::print(stderr, "{}\n", series.error().message);
        std::exit(1);
      }
      points += series->size() - series->missing_count();
    }
  });
  fmt::print(
      "load: {} series x 35 d x 1 min = {} points in {:.3f} s ({:.2f} M points/s; median of {})\n",
      series_count, points, load, static_cast<double>(points) / load / 1e6, repeats);
  fmt::print(
      "load baseline (HTTP only, no parse): {:.3f} s for {:.1f} MB of JSON; load/http = {:.2f}\n",
      http_only, static_cast<double>(body_bytes) / 1e6, load / http_only);

  // Parse rate on one series' five chunk bodies, many times over.
  std::size_t sample_bytes = 0;
  for (const auto& body : sample_bodies) sample_bytes += body.size();
  const int parse_rounds = 40;
  ReplyParser parser;
  const double parse = median_seconds(repeats, [&] {
    for (int round = 0; round < parse_rounds; ++round) {
      std::int64_t from = start;
      for (const auto& body : sample_bodies) {
        const std::size_t count =
            std::min<std::size_t>(11000, static_cast<std::size_t>((end - from) / kStep));
        auto reply = parser.parse_range(body, Grid{from, kStep, count});
        if (!reply || reply->series.size() != 1) std::exit(2);
        from += static_cast<std::int64_t>(count) * kStep;
      }
    }
  });
  simdjson::dom::parser bare;
  const double bare_parse = median_seconds(repeats, [&] {
    for (int round = 0; round < parse_rounds; ++round) {
      for (const auto& body : sample_bodies) {
        simdjson::dom::element doc;
        if (bare.parse(body).get(doc) != simdjson::SUCCESS) std::exit(3);
      }
    }
  });
  const double nlohmann_parse = median_seconds(repeats, [&] {
    for (int round = 0; round < parse_rounds / 8; ++round) {
      for (const auto& body : sample_bodies) {
        const auto doc = nlohmann::json::parse(body);
        if (doc["data"]["result"].empty()) std::exit(4);
      }
    }
  });
  const double megabytes = static_cast<double>(sample_bytes) * parse_rounds / 1e6;
  const double rate = megabytes / parse;
  fmt::print("parse: ReplyParser {:.0f} MB/s ({:.1f} M points/s) on {} bodies of {:.2f} MB\n", rate,
             static_cast<double>(kPoints) * parse_rounds / parse / 1e6, sample_bodies.size(),
             static_cast<double>(sample_bytes) / 1e6);
  fmt::print(
      "parse baselines: simdjson DOM alone {:.0f} MB/s (ours = {:.2f}x of it); nlohmann::json "
      "{:.0f} MB/s "
      "(ours = {:.1f}x faster)\n",
      megabytes / bare_parse, bare_parse / parse, megabytes / 8 / nlohmann_parse,
      rate / (megabytes / 8 / nlohmann_parse));
  return 0;
}
