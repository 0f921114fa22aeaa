#include "prescale/prometheus/reply.hpp"

#include <fmt/core.h>
#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <limits>

namespace prescale::prometheus {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

Error json_error(simdjson::error_code code, std::string_view where) {
  return make_error(
      fmt::format("invalid reply from Prometheus: {} ({})", where, simdjson::error_message(code)));
}

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
}

// name{a="b", c="d"}: the notation users see in Prometheus itself.
std::string format_labels(object metric) {
  std::string name;
  std::string labels;
  for (auto field : metric) {
    std::string_view value;
    if (field.value.get_string().get(value) != simdjson::SUCCESS) continue;
    if (field.key == "__name__") {
      name = std::string(value);
      continue;
    }
    if (!labels.empty()) labels += ", ";
    labels.append(field.key);
    labels += "=\"";
    append_escaped(labels, value);
    labels += '"';
  }
  return name + "{" + labels + "}";
}

// status, errorType/error, warnings: the envelope every API reply shares.
Expected<element> open_envelope(simdjson::dom::parser& parser, const std::string& json,
                                std::vector<std::string>& warnings) {
  element doc;
  const bool padded = json.capacity() - json.size() >= simdjson::SIMDJSON_PADDING;
  if (auto code = parser.parse(json.data(), json.size(), !padded).get(doc);
      code != simdjson::SUCCESS) {
    std::string start(json.substr(0, 80));
    return make_error(fmt::format("invalid reply from Prometheus: not JSON ({}), starts with '{}'",
                                  simdjson::error_message(code), start));
  }
  std::string_view status;
  if (auto code = doc["status"].get_string().get(status); code != simdjson::SUCCESS) {
    return json_error(code, "no \"status\" string");
  }
  array warning_list;
  if (doc["warnings"].get_array().get(warning_list) == simdjson::SUCCESS) {
    for (auto warning : warning_list) {
      std::string_view text;
      if (warning.get_string().get(text) == simdjson::SUCCESS) warnings.emplace_back(text);
    }
  }
  if (status == "error") {
    std::string_view type = "unknown";
    std::string_view message = "(no message)";
    // Both optional: keep the defaults when absent.
    if (doc["errorType"].get_string().get(type) != simdjson::SUCCESS) type = "unknown";
    if (doc["error"].get_string().get(message) != simdjson::SUCCESS) message = "(no message)";
    return make_error(fmt::format("Prometheus answered status error: {}: {}", type, message));
  }
  if (status != "success")
    return make_error(fmt::format("invalid reply from Prometheus: status '{}'", status));
  element data;
  if (auto code = doc["data"].get(data); code != simdjson::SUCCESS)
    return json_error(code, "no \"data\"");
  return data;
}

Expected<std::pair<double, double>> read_point(element point) {
  array pair;
  if (auto code = point.get_array().get(pair); code != simdjson::SUCCESS)
    return json_error(code, "point is not [t, \"v\"]");
  double time = 0;
  std::string_view text;
  // Iterators, not at(i): at() walks the array from its start each call.
  auto item = pair.begin();
  if (item == pair.end() || (*item).get_double().get(time) != simdjson::SUCCESS) {
    return json_error(simdjson::INCORRECT_TYPE, "point time is not a number");
  }
  ++item;
  if (item == pair.end() || (*item).get_string().get(text) != simdjson::SUCCESS) {
    return json_error(simdjson::INCORRECT_TYPE, "point value is not a string");
  }
  auto value = parse_sample_value(text);
  if (!value) return value.error();
  return std::pair{time, *value};
}

}  // namespace

Expected<double> parse_sample_value(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  double value = 0;
  const auto [end, code] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (code != std::errc() || end != digits.data() + digits.size() || digits.empty()) {
    return make_error(
        fmt::format("invalid reply from Prometheus: sample value '{}' is not a number", text));
  }
  return value;
}

struct ReplyParser::Impl {
  simdjson::dom::parser parser;

  // The parser's buffers (about 3.5 times the reply: tape, string buffer,
  // structural indexes) are kept between replies only while small, which
  // covers the daemon's steady state (a few new points per tick). A large
  // reply's buffers are freed as soon as it is parsed: a parser per target
  // holding its largest reply took 1.55 GB for six 66 MB replies.
  static constexpr std::size_t kKeptCapacity = 1024 * 1024;
  struct ReleaseWhenLarge {
    simdjson::dom::parser& parser;
    ~ReleaseWhenLarge() {
      if (parser.capacity() > kKeptCapacity) parser = simdjson::dom::parser{};
    }
  };
};

ReplyParser::ReplyParser() : impl_(std::make_unique<Impl>()) {}
ReplyParser::~ReplyParser() = default;
ReplyParser::ReplyParser(ReplyParser&&) noexcept = default;
ReplyParser& ReplyParser::operator=(ReplyParser&&) noexcept = default;

std::size_t ReplyParser::kept_capacity() const {
  return impl_->parser.capacity();
}

Expected<RangeReply> ReplyParser::parse_range(const std::string& json, const Grid& grid) {
  // The reply copies what it keeps out of the DOM, so the buffers may go after it.
  Impl::ReleaseWhenLarge release{impl_->parser};
  RangeReply reply;
  auto data = open_envelope(impl_->parser, json, reply.warnings);
  if (!data) return data.error();
  std::string_view type;
  if (auto code = (*data)["resultType"].get_string().get(type); code != simdjson::SUCCESS) {
    return json_error(code, "no data.resultType");
  }
  if (type != "matrix") {
    return make_error(fmt::format(
        "invalid reply from Prometheus: query_range gave resultType '{}', not matrix", type));
  }
  array result;
  if (auto code = (*data)["result"].get_array().get(result); code != simdjson::SUCCESS) {
    return json_error(code, "no data.result array");
  }
  // Integer milliseconds keep the grid arithmetic exact (times are float seconds).
  const std::int64_t start_ms = grid.start_unix * 1000;
  const std::int64_t step_ms = grid.step_seconds * 1000;
  for (element item : result) {
    object metric;
    LabeledSeries series;
    if (item["metric"].get_object().get(metric) == simdjson::SUCCESS)
      series.labels = format_labels(metric);
    series.values.assign(grid.count, std::numeric_limits<double>::quiet_NaN());
    array points;
    if (auto code = item["values"].get_array().get(points); code != simdjson::SUCCESS) {
      if (item["histograms"].error() == simdjson::SUCCESS) {
        return make_error(
            fmt::format("series {} holds native histograms; query a rate or quantile of it instead",
                        series.labels));
      }
      return json_error(code, "series without \"values\"");
    }
    for (element point : points) {
      auto sample = read_point(point);
      if (!sample) return sample.error();
      const auto time_ms = static_cast<std::int64_t>(std::llround(sample->first * 1000.0));
      const std::int64_t offset = time_ms - start_ms;
      if (offset < 0 || offset % step_ms != 0 ||
          static_cast<std::uint64_t>(offset / step_ms) >= grid.count) {
        return make_error(
            fmt::format("invalid reply from Prometheus: point at {:.3f} is off the grid asked for "
                        "(start {}, step {}s, {} points)",
                        sample->first, grid.start_unix, grid.step_seconds, grid.count));
      }
      series.values[static_cast<std::size_t>(offset / step_ms)] = sample->second;
    }
    reply.series.push_back(std::move(series));
  }
  return reply;
}

Expected<InstantReply> ReplyParser::parse_instant(const std::string& json) {
  Impl::ReleaseWhenLarge release{impl_->parser};
  InstantReply reply;
  auto data = open_envelope(impl_->parser, json, reply.warnings);
  if (!data) return data.error();
  std::string_view type;
  if (auto code = (*data)["resultType"].get_string().get(type); code != simdjson::SUCCESS) {
    return json_error(code, "no data.resultType");
  }
  element result;
  if (auto code = (*data)["result"].get(result); code != simdjson::SUCCESS)
    return json_error(code, "no data.result");
  if (type == "scalar") {
    auto sample = read_point(result);
    if (!sample) return sample.error();
    reply.samples.push_back({"scalar", sample->first, sample->second});
    return reply;
  }
  if (type != "vector") {
    return make_error(
        fmt::format("invalid reply from Prometheus: query gave resultType '{}', not vector", type));
  }
  array items;
  if (auto code = result.get_array().get(items); code != simdjson::SUCCESS)
    return json_error(code, "data.result is not an array");
  for (element item : items) {
    InstantSample sample;
    object metric;
    if (item["metric"].get_object().get(metric) == simdjson::SUCCESS)
      sample.labels = format_labels(metric);
    element value;
    if (auto code = item["value"].get(value); code != simdjson::SUCCESS) {
      return json_error(code, "vector item without \"value\"");
    }
    auto point = read_point(value);
    if (!point) return point.error();
    sample.time_unix = point->first;
    sample.value = point->second;
    reply.samples.push_back(std::move(sample));
  }
  return reply;
}

}  // namespace prescale::prometheus
