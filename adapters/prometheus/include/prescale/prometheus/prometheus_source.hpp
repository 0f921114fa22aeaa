#pragma once
// The Source that reads a PromQL query's history through /api/v1/query_range,
// in chunks under Prometheus's 11,000-points-per-series limit.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/prometheus/client.hpp"
#include "prescale/prometheus/reply.hpp"
#include "prescale/source/source.hpp"

namespace prescale::prometheus {

/// How the series of a query that returns several become one. `none` makes
/// several series an error that names them.
enum class Combine { none, sum, max, min };
Expected<Combine> parse_combine(std::string_view text);
std::string_view to_string(Combine combine);

struct QueryOptions {
  std::string query;  ///< PromQL, e.g. sum(rate(http_requests_total{job="api"}[5m]))
  Combine combine = Combine::none;
  /// Points per query_range request; Prometheus refuses more than 11,000.
  std::size_t max_points_per_request = 11000;
  /// Called after each chunk with (points fetched, points asked), for progress.
  std::function<void(std::size_t, std::size_t)> progress;
};

/// Not thread-safe: one engine worker at a time (as Source says).
class PrometheusSource final : public source::Source {
 public:
  PrometheusSource(ClientOptions client, QueryOptions query);

  /// The URL (without user-info) and the query: for logs, never for errors
  /// (those reach /status and decision records; they name the URL only).
  [[nodiscard]] std::string describe() const override;
  /// start is aligned down and end up to multiples of step (the grid
  /// Prometheus results are stable on), then fetched chunk by chunk.
  [[nodiscard]] Expected<forecast::Series> fetch(std::int64_t start_unix, std::int64_t end_unix,
                                                 std::int64_t step_seconds) override;
  /// Thread-safe: aborts the request in flight (Client::cancel).
  void cancel() override { client_.cancel(); }
  /// The latest value through /api/v1/query (evaluated at `at_unix`, or now).
  [[nodiscard]] Expected<InstantSample> latest(std::optional<std::int64_t> at_unix = std::nullopt);
  /// Warnings the server attached to the last fetch() or latest().
  [[nodiscard]] const std::vector<std::string>& last_warnings() const { return warnings_; }
  /// HTTP requests made so far (chunks and retries), for tests and logs.
  [[nodiscard]] std::size_t requests_made() const { return requests_; }

 private:
  Expected<std::vector<double>> fetch_chunk(const Grid& grid);
  Error describe_failure(const HttpResponse& response, std::string_view what) const;
  /// "prometheus <url>": what errors start with.
  [[nodiscard]] std::string where() const;

  Client client_;
  QueryOptions query_;
  ReplyParser parser_;
  std::vector<std::string> warnings_;
  std::size_t requests_ = 0;
};

/// Folds several series (each on the same grid) into one, NaN-aware: a step
/// is NaN only when every series misses it.
std::vector<double> combine_series(const std::vector<LabeledSeries>& series, Combine combine);

}  // namespace prescale::prometheus
