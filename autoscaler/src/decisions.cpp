#include "prescale/autoscaler/decisions.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

namespace prescale::autoscaler {

namespace {

using json = nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr std::pair<DecisionKind, std::string_view> kKinds[] = {
    {DecisionKind::change, "change"},       {DecisionKind::fallback, "fallback"},
    {DecisionKind::recovered, "recovered"}, {DecisionKind::refit, "refit"},
    {DecisionKind::anomaly, "anomaly"},     {DecisionKind::anomaly_end, "anomaly-end"},
    {DecisionKind::shift, "shift"},
};

json number_or_null(double value) {
  return std::isfinite(value) ? json(value) : json(nullptr);
}

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string hex(std::uint64_t value) {
  return fmt::format("{:016x}", value);
}

// Typed field access with an error that names the key.
struct Reader {
  const json& object;
  std::string error;

  const json* find(const char* key) const {
    auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }
  double number(const char* key, double otherwise = kNaN) {
    const json* v = find(key);
    if (!v || v->is_null()) return otherwise;
    if (!v->is_number()) {
      if (error.empty()) error = fmt::format("'{}' is not a number", key);
      return otherwise;
    }
    return v->get<double>();
  }
  std::int64_t integer(const char* key) {
    const json* v = find(key);
    if (!v || v->is_null()) return 0;
    if (!v->is_number()) {
      if (error.empty()) error = fmt::format("'{}' is not a number", key);
      return 0;
    }
    if (v->is_number_integer()) return v->get<std::int64_t>();
    const double d = v->get<double>();
    if (!(std::abs(d) < 9e18)) {  // casting a larger double is undefined
      if (error.empty()) error = fmt::format("'{}' is out of range", key);
      return 0;
    }
    return static_cast<std::int64_t>(d);
  }
  // Times and durations: year 0 to 9999 keeps every difference of two of them finite.
  std::int64_t seconds(const char* key) {
    const std::int64_t value = integer(key);
    if (value < -62167219200 || value > 253402300799) {
      if (error.empty()) error = fmt::format("'{}' is out of range (seconds in years 0-9999)", key);
      return 0;
    }
    return value;
  }
  std::string text(const char* key) {
    const json* v = find(key);
    if (!v || v->is_null()) return {};
    if (!v->is_string()) {
      if (error.empty()) error = fmt::format("'{}' is not a string", key);
      return {};
    }
    return v->get<std::string>();
  }
  bool boolean(const char* key) {
    const json* v = find(key);
    if (!v || v->is_null()) return false;
    if (!v->is_boolean()) {
      if (error.empty()) error = fmt::format("'{}' is not true or false", key);
      return false;
    }
    return v->get<bool>();
  }
};

}  // namespace

std::string_view to_string(DecisionKind kind) {
  for (const auto& [k, name] : kKinds)
    if (k == kind) return name;
  return "change";
}

Expected<DecisionKind> parse_decision_kind(std::string_view text) {
  for (const auto& [k, name] : kKinds)
    if (name == text) return k;
  return make_error(
      fmt::format("unknown decision kind '{}' (change, fallback, recovered, refit, anomaly, "
                  "anomaly-end or shift)",
                  text));
}

std::string to_json(const DecisionRecord& r) {
  json j = json::object();
  j["time_unix"] = r.time_unix;
  j["target"] = r.target;
  j["kind"] = std::string(to_string(r.kind));
  j["reason"] = r.reason;
  j["cause"] = r.cause;
  if (!r.event.empty()) j["event"] = r.event;
  j["observed"] = number_or_null(r.observed);
  j["forecast"] = number_or_null(r.forecast);
  j["quantile"] = r.quantile;
  // Only targets with an `slo:` have these (records of others stay as they were).
  if (r.headroom != 1 || !r.slo.empty()) j["headroom"] = number_or_null(r.headroom);
  if (r.risk != 1) j["risk"] = number_or_null(r.risk);
  if (!r.slo.empty()) j["slo"] = r.slo;
  j["served"] = number_or_null(r.served);
  j["previous_served"] = number_or_null(r.previous_served);
  j["replicas"] = r.replicas ? number_or_null(*r.replicas) : json(nullptr);
  j["lead_seconds"] = r.lead_seconds;
  j["timezone"] = r.timezone;
  j["peak_unix"] = r.peak_unix;
  j["model"] = r.model;
  json parameters = json::object();
  for (const auto& [name, value] : r.parameters) parameters[name] = number_or_null(value);
  j["parameters"] = parameters;
  j["parameters_digest"] = r.parameters_digest;
  j["backtest_mase"] = r.backtest_mase ? number_or_null(*r.backtest_mase) : json(nullptr);
  j["fitted_at_unix"] = r.fitted_at_unix;
  j["data_start_unix"] = r.data_start_unix;
  j["data_end_unix"] = r.data_end_unix;
  j["config_digest"] = r.config_digest;
  j["fallback_reason"] = r.fallback_reason;
  j["anomaly_score"] = number_or_null(r.anomaly_score);
  j["anomaly"] = r.anomaly;
  j["residual_z"] = number_or_null(r.residual_z);
  j["outside_interval"] = r.outside_interval;
  j["outside_steps"] = r.outside_steps;
  // Invalid UTF-8 (a label or reason from outside) must not make the record unwritable.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

Expected<DecisionRecord> decision_from_json(const json& j);

}  // namespace

Expected<DecisionRecord> parse_decision(std::string_view line) {
  json j;
  try {
    j = json::parse(line);
  } catch (const json::exception& e) {
    return make_error(fmt::format("not JSON: {}", e.what()));
  }
  return decision_from_json(j);
}

Expected<std::vector<DecisionRecord>> parse_decision_list(std::string_view body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    return make_error(fmt::format("not JSON: {}", e.what()));
  }
  if (!j.is_object() || !j.contains("items") || !j.at("items").is_array())
    return make_error("not a DecisionList (no 'items' array)");
  std::vector<DecisionRecord> out;
  for (const auto& item : j.at("items")) {
    auto record = decision_from_json(item);
    if (!record)
      return make_error(fmt::format("items[{}]: {}", out.size(), record.error().message));
    out.push_back(std::move(*record));
  }
  return out;
}

namespace {

Expected<DecisionRecord> decision_from_json(const json& j) {
  if (!j.is_object()) return make_error("not a JSON object");
  Reader in{j, {}};
  DecisionRecord r;
  r.time_unix = in.seconds("time_unix");
  r.target = in.text("target");
  const auto kind_text = in.text("kind");
  r.reason = in.text("reason");
  r.cause = in.text("cause");
  r.event = in.text("event");
  r.observed = in.number("observed");
  r.forecast = in.number("forecast");
  r.quantile = in.number("quantile", 0.9);
  // Records written before SLO tuning existed have neither: no headroom.
  r.headroom = in.number("headroom", 1);
  r.risk = in.number("risk", 1);
  r.slo = in.text("slo");
  r.served = in.number("served");
  r.previous_served = in.number("previous_served");
  if (const double replicas = in.number("replicas"); std::isfinite(replicas)) r.replicas = replicas;
  r.lead_seconds = in.seconds("lead_seconds");
  r.timezone = in.text("timezone");
  r.peak_unix = in.seconds("peak_unix");
  r.model = in.text("model");
  if (const json* p = in.find("parameters"); p && !p->is_null()) {
    if (!p->is_object()) return make_error("'parameters' is not an object");
    for (auto it = p->begin(); it != p->end(); ++it)
      r.parameters[it.key()] = it.value().is_number() ? it.value().get<double>() : kNaN;
  }
  r.parameters_digest = in.text("parameters_digest");
  if (const double mase = in.number("backtest_mase"); std::isfinite(mase)) r.backtest_mase = mase;
  r.fitted_at_unix = in.seconds("fitted_at_unix");
  r.data_start_unix = in.seconds("data_start_unix");
  r.data_end_unix = in.seconds("data_end_unix");
  r.config_digest = in.text("config_digest");
  r.fallback_reason = in.text("fallback_reason");
  r.anomaly_score = in.number("anomaly_score");
  r.anomaly = in.boolean("anomaly");
  r.residual_z = in.number("residual_z");
  r.outside_interval = in.boolean("outside_interval");
  r.outside_steps = in.integer("outside_steps");
  if (!in.error.empty()) return make_error(in.error);
  if (r.target.empty()) return make_error("missing 'target'");
  if (!in.find("time_unix")) return make_error("missing 'time_unix'");
  auto kind = parse_decision_kind(kind_text);
  if (!kind) return kind.error();
  r.kind = *kind;
  return r;
}

}  // namespace

Expected<std::vector<DecisionRecord>> parse_decisions(std::string_view text) {
  std::vector<DecisionRecord> out;
  std::size_t line_number = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto record = parse_decision(line);
    if (!record) return make_error(fmt::format("line {}: {}", line_number, record.error().message));
    out.push_back(std::move(*record));
  }
  return out;
}

Expected<std::vector<DecisionRecord>> read_decision_files(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return make_error(fmt::format("{}: no such decisions file", path.string()));
  std::vector<std::filesystem::path> files;
  for (std::size_t n = 1;; ++n) {
    std::filesystem::path rotated = path;
    rotated += fmt::format(".{}", n);
    if (!std::filesystem::exists(rotated, ec)) break;
    files.push_back(rotated);
  }
  std::reverse(files.begin(), files.end());  // .N is the oldest
  files.push_back(path);
  std::vector<DecisionRecord> out;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error(fmt::format("{}: cannot read the file", file.string()));
    std::ostringstream text;
    text << in.rdbuf();
    auto records = parse_decisions(text.str());
    if (!records) return make_error(fmt::format("{}: {}", file.string(), records.error().message));
    out.insert(out.end(), records->begin(), records->end());
  }
  return out;
}

std::string config_digest(const config::TargetConfig& t) {
  // Every setting of the target, as its field table spells them: a field
  // added to the table is part of the digest without an edit here.
  return hex(fnv1a(t.settings_text()));
}

std::string parameters_digest(const std::string& model,
                              const std::map<std::string, double>& parameters) {
  if (model.empty()) return {};
  std::string text = model;
  for (const auto& [name, value] : parameters) text += fmt::format("|{}={:.17g}", name, value);
  return hex(fnv1a(text));
}

// ---- DecisionLog ----

Expected<std::unique_ptr<DecisionLog>> DecisionLog::open(Options options) {
  if (options.path.empty()) return make_error("decisions file: empty path");
  if (options.max_bytes < 1024)
    return make_error(fmt::format("{}: maxBytes {} is too small (at least 1024)",
                                  options.path.string(), options.max_bytes));
  std::error_code ec;
  if (options.path.has_parent_path()) {
    std::filesystem::create_directories(options.path.parent_path(), ec);
    if (ec)
      return make_error(
          fmt::format("{}: cannot create the directory: {}", options.path.string(), ec.message()));
  }
  std::ofstream touch(options.path, std::ios::binary | std::ios::app);
  if (!touch)
    return make_error(fmt::format("{}: cannot open for appending", options.path.string()));
  touch.close();
  std::unique_ptr<DecisionLog> log(new DecisionLog(std::move(options)));
  log->size_ = std::filesystem::file_size(log->options_.path, ec);
  if (ec) log->size_ = 0;
  return log;
}

Status DecisionLog::rotate() {
  std::error_code ec;
  auto numbered = [&](std::size_t n) {
    std::filesystem::path p = options_.path;
    p += fmt::format(".{}", n);
    return p;
  };
  if (options_.max_files == 0) {
    std::filesystem::remove(options_.path, ec);
  } else {
    std::filesystem::remove(numbered(options_.max_files), ec);
    for (std::size_t n = options_.max_files; n > 1; --n) {
      if (std::filesystem::exists(numbered(n - 1), ec))
        std::filesystem::rename(numbered(n - 1), numbered(n), ec);
      if (ec)
        return make_error(
            fmt::format("{}: cannot rotate: {}", numbered(n - 1).string(), ec.message()));
    }
    std::filesystem::rename(options_.path, numbered(1), ec);
    if (ec)
      return make_error(fmt::format("{}: cannot rotate: {}", options_.path.string(), ec.message()));
  }
  size_ = 0;
  return Status::ok();
}

Status DecisionLog::append(const std::vector<DecisionRecord>& records) {
  if (records.empty()) return Status::ok();
  std::lock_guard lock(mutex_);
  std::ofstream out;
  for (const auto& record : records) {
    std::string line = to_json(record) + "\n";
    // A single record larger than the bound would break it: cut its reason.
    if (line.size() > options_.max_bytes) {
      DecisionRecord shorter = record;
      shorter.reason = shorter.reason.substr(0, 200) + " [truncated]";
      shorter.parameters.clear();
      line = to_json(shorter) + "\n";
      if (line.size() > options_.max_bytes) continue;
    }
    if (size_ + line.size() > options_.max_bytes) {
      if (out.is_open()) out.close();
      if (auto status = rotate(); !status) return status;
    }
    if (!out.is_open()) {
      out.open(options_.path, std::ios::binary | std::ios::app);
      if (!out)
        return make_error(fmt::format("{}: cannot open for appending", options_.path.string()));
    }
    out << line;
    if (!out) return make_error(fmt::format("{}: write failed", options_.path.string()));
    size_ += line.size();
  }
  out.flush();
  if (!out) return make_error(fmt::format("{}: write failed", options_.path.string()));
  return Status::ok();
}

// ---- DecisionRing ----

void DecisionRing::add(const std::vector<DecisionRecord>& records) {
  std::lock_guard lock(mutex_);
  for (const auto& r : records) {
    records_.push_back(r);
    if (records_.size() > capacity_) records_.pop_front();
  }
}

std::vector<DecisionRecord> DecisionRing::query(std::string_view target,
                                                std::int64_t since_unix) const {
  std::lock_guard lock(mutex_);
  std::vector<DecisionRecord> out;
  for (const auto& r : records_)
    if ((target.empty() || r.target == target) && r.time_unix >= since_unix) out.push_back(r);
  return out;
}

std::string DecisionRing::query_json(std::string_view target, std::int64_t since_unix) const {
  std::string body = R"({"kind":"DecisionList","items":[)";
  bool first = true;
  for (const auto& r : query(target, since_unix)) {
    if (!first) body += ",";
    first = false;
    body += to_json(r);
  }
  body += "]}";
  return body;
}

}  // namespace prescale::autoscaler
