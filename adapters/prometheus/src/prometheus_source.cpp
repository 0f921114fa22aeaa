#include "prescale/prometheus/prometheus_source.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "prescale/common/integer.hpp"
#include "prescale/common/time.hpp"
#include "prescale/common/url.hpp"

namespace prescale::prometheus {
namespace {

// "3 series: a{x="1"}, a{x="2"}, ...": enough for the user to see what to aggregate by.
template <class Items, class LabelOf>
std::string name_series(const Items& items, LabelOf label_of) {
  constexpr std::size_t shown = 5;
  std::string names;
  for (std::size_t i = 0; i < items.size() && i < shown; ++i) {
    if (i > 0) names += ", ";
    names += label_of(items[i]);
  }
  if (items.size() > shown) names += fmt::format(" and {} more", items.size() - shown);
  return names;
}

Error several_series_error(std::size_t count, const std::string& names) {
  return make_error(
      fmt::format("the query returned {} series ({}) but one is needed: aggregate it in PromQL "
                  "(e.g. sum by () (...)) "
                  "or set combine: sum|max|min",
                  count, names));
}

}  // namespace

Expected<Combine> parse_combine(std::string_view text) {
  if (text == "none" || text.empty()) return Combine::none;
  if (text == "sum") return Combine::sum;
  if (text == "max") return Combine::max;
  if (text == "min") return Combine::min;
  return make_error(fmt::format("unknown combine '{}' (none, sum, max, min)", text));
}

std::string_view to_string(Combine combine) {
  switch (combine) {
    case Combine::sum:
      return "sum";
    case Combine::max:
      return "max";
    case Combine::min:
      return "min";
    case Combine::none:
      break;
  }
  return "none";
}

std::vector<double> combine_series(const std::vector<LabeledSeries>& series, Combine combine) {
  if (series.empty()) return {};
  std::vector<double> out(series.front().values.size(), std::numeric_limits<double>::quiet_NaN());
  for (const LabeledSeries& one : series) {
    for (std::size_t i = 0; i < out.size() && i < one.values.size(); ++i) {
      const double value = one.values[i];
      if (std::isnan(value)) continue;
      double& folded = out[i];
      if (std::isnan(folded)) {
        folded = value;
      } else if (combine == Combine::max) {
        folded = std::max(folded, value);
      } else if (combine == Combine::min) {
        folded = std::min(folded, value);
      } else {
        folded += value;
      }
    }
  }
  return out;
}

PrometheusSource::PrometheusSource(ClientOptions client, QueryOptions query)
    : client_(std::move(client)), query_(std::move(query)) {
  query_.max_points_per_request = std::clamp<std::size_t>(query_.max_points_per_request, 1, 11000);
}

std::string PrometheusSource::describe() const {
  std::string text =
      fmt::format("prometheus {} query '{}'", redact_url(client_.options().url), query_.query);
  if (query_.combine != Combine::none)
    text += fmt::format(" (combine {})", to_string(query_.combine));
  return text;
}

std::string PrometheusSource::where() const {
  return fmt::format("prometheus {}", redact_url(client_.options().url));
}

Error PrometheusSource::describe_failure(const HttpResponse& response,
                                         std::string_view what) const {
  std::string detail;
  // Prometheus explains 4xx/5xx in a JSON envelope; proxies answer in HTML.
  ReplyParser parser;
  auto parsed = parser.parse_instant(response.body);
  if (!parsed && parsed.error().message.find("status error") != std::string::npos) {
    detail = parsed.error().message;
  } else {
    std::string body = response.body.substr(0, 200);
    std::replace(body.begin(), body.end(), '\n', ' ');
    detail = fmt::format("{}{}", body.empty() ? "(empty body)" : body,
                         response.body.size() > 200 ? "..." : "");
  }
  return make_error(fmt::format("{}: {}: HTTP {} after {} attempt{}: {}", where(), what,
                                response.status, response.attempts,
                                response.attempts == 1 ? "" : "s", detail));
}

Expected<std::vector<double>> PrometheusSource::fetch_chunk(const Grid& grid) {
  const std::int64_t last =
      grid.start_unix + static_cast<std::int64_t>(grid.count - 1) * grid.step_seconds;
  const std::string what =
      fmt::format("query_range {} .. {} step {}s", format_rfc3339(grid.start_unix),
                  format_rfc3339(last), grid.step_seconds);
  auto response = client_.get("/api/v1/query_range", {{"query", query_.query},
                                                      {"start", std::to_string(grid.start_unix)},
                                                      {"end", std::to_string(last)},
                                                      {"step", std::to_string(grid.step_seconds)}});
  ++requests_;
  if (!response)
    return make_error(fmt::format("{}: {}: {}", where(), what, response.error().message));
  requests_ += static_cast<std::size_t>(response->attempts - 1);
  if (response->status != 200) return describe_failure(*response, what);
  auto reply = parser_.parse_range(response->body, grid);
  if (!reply) return make_error(fmt::format("{}: {}: {}", where(), what, reply.error().message));
  warnings_.insert(warnings_.end(), reply->warnings.begin(), reply->warnings.end());
  if (reply->series.empty())
    return std::vector<double>(grid.count, std::numeric_limits<double>::quiet_NaN());
  if (reply->series.size() == 1) return std::move(reply->series.front().values);
  if (query_.combine == Combine::none) {
    const Error error = several_series_error(
        reply->series.size(),
        name_series(reply->series, [](const LabeledSeries& s) { return s.labels; }));
    return make_error(fmt::format("{}: {}", where(), error.message));
  }
  return combine_series(reply->series, query_.combine);
}

Expected<forecast::Series> PrometheusSource::fetch(std::int64_t start_unix, std::int64_t end_unix,
                                                   std::int64_t step_seconds) {
  if (step_seconds <= 0)
    return make_error(fmt::format("{}: step must be positive, got {}s", where(), step_seconds));
  if (end_unix < start_unix) {
    return make_error(fmt::format("{}: end {} is before start {}", where(),
                                  format_rfc3339(end_unix), format_rfc3339(start_unix)));
  }
  warnings_.clear();
  forecast::Series series;
  series.step_seconds = step_seconds;
  series.start_unix = floor_to(start_unix, step_seconds);
  const std::int64_t end = ceil_to(end_unix, step_seconds);
  const auto total = static_cast<std::size_t>((end - series.start_unix) / step_seconds);
  series.values.resize(total);
  // Chunk k asks for points [i, i + count) inclusive of both ends in
  // Prometheus's terms, and chunk k+1 starts one step later: no overlap, no hole.
  for (std::size_t done = 0; done < total;) {
    const std::size_t count = std::min(query_.max_points_per_request, total - done);
    const Grid grid{series.time_at(done), step_seconds, count};
    auto chunk = fetch_chunk(grid);
    if (!chunk) return chunk.error();
    std::copy(chunk->begin(), chunk->end(),
              series.values.begin() + static_cast<std::ptrdiff_t>(done));
    done += count;
    if (query_.progress) query_.progress(done, total);
  }
  return series;
}

Expected<InstantSample> PrometheusSource::latest(std::optional<std::int64_t> at_unix) {
  warnings_.clear();
  std::vector<Header> params{{"query", query_.query}};
  if (at_unix) params.emplace_back("time", std::to_string(*at_unix));
  auto response = client_.get("/api/v1/query", params);
  ++requests_;
  if (!response) return make_error(fmt::format("{}: query: {}", where(), response.error().message));
  requests_ += static_cast<std::size_t>(response->attempts - 1);
  if (response->status != 200) return describe_failure(*response, "query");
  auto reply = parser_.parse_instant(response->body);
  if (!reply) return make_error(fmt::format("{}: query: {}", where(), reply.error().message));
  warnings_ = reply->warnings;
  if (reply->samples.empty())
    return make_error(fmt::format("{}: query returned no sample (no data yet?)", where()));
  if (reply->samples.size() == 1) return reply->samples.front();
  if (query_.combine == Combine::none) {
    const Error error = several_series_error(
        reply->samples.size(),
        name_series(reply->samples, [](const InstantSample& s) { return s.labels; }));
    return make_error(fmt::format("{}: {}", where(), error.message));
  }
  std::vector<LabeledSeries> as_series;
  for (const InstantSample& sample : reply->samples)
    as_series.push_back({sample.labels, {sample.value}});
  InstantSample folded{fmt::format("{}(...)", to_string(query_.combine)),
                       reply->samples.front().time_unix,
                       combine_series(as_series, query_.combine).front()};
  return folded;
}

}  // namespace prescale::prometheus
