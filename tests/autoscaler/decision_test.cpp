// Decision records: JSON lines, the rotating file, the in-memory ring, the
// tracker's triggers and causes, and a replay of the payroll trace where
// every pre-scale before a payroll window names the event.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/config/config.hpp"
#include "prescale/simulate/replay.hpp"

using namespace prescale;
using namespace prescale::autoscaler;
using namespace prescale::simulate;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("prescale-decisions-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

DecisionRecord sample_record(
    std::int64_t t, const std::string& reason = "seasonal peak at 09:35 America/New_York") {
  DecisionRecord r;
  r.time_unix = t;
  r.target = "payments-rps-forecast";
  r.kind = DecisionKind::change;
  r.reason = reason;
  r.cause = "seasonal-peak";
  r.observed = 812.5;
  r.forecast = 1530.25;
  r.served = 1530.25;
  r.previous_served = 900;
  r.replicas = 13;
  r.lead_seconds = 900;
  r.timezone = "America/New_York";
  r.model = "holt-winters(A,Ad,A;288,2016)";
  r.parameters = {{"alpha", 0.31}, {"phi", 0.98}};
  r.parameters_digest = parameters_digest(r.model, r.parameters);
  r.backtest_mase = 0.58;
  r.config_digest = "0123456789abcdef";
  r.anomaly_score = -0.4;
  r.anomaly = true;
  r.residual_z = -2.75;
  return r;
}

config::TargetConfig payments_target(std::int64_t step = 300) {
  config::TargetConfig t;
  t.metric = "payments-rps-forecast";
  t.query = "payments";
  t.step_seconds = step;
  t.history_seconds = 14 * 86400;
  t.timezone = "America/New_York";
  t.seasonality_seconds = {86400, 7 * 86400};
  t.calendars = {"payroll"};
  t.model = "auto";
  t.lead_time_seconds = 900;
  t.refit_interval_seconds = 6 * 3600;
  t.backtest_origins = 2;
  t.capacity_per_replica = 120;
  t.min_replicas = 2;
  t.max_replicas = 200;
  return t;
}

// PRESCALE_DUMP_DECISIONS=file appends a replay's records there (to read them).
void dump_if_asked(const std::vector<DecisionRecord>& records) {
  if (const char* path = std::getenv("PRESCALE_DUMP_DECISIONS")) {
    std::ofstream out(path, std::ios::app);
    for (const auto& r : records) out << to_json(r) << "\n";
  }
}

}  // namespace

TEST_CASE("a decision record survives a JSON round trip, NaN as null", "[decisions]") {
  auto r = sample_record(1772200800);
  r.previous_served = kNaN;
  r.forecast = kNaN;
  r.event = "payroll.payroll-end";
  const auto line = to_json(r);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find("\"forecast\":null") != std::string::npos);
  auto back = parse_decision(line);
  REQUIRE(back.has_value());
  CHECK(back->time_unix == r.time_unix);
  CHECK(back->target == r.target);
  CHECK(back->kind == r.kind);
  CHECK(back->reason == r.reason);
  CHECK(back->event == r.event);
  CHECK(std::isnan(back->forecast));
  CHECK(std::isnan(back->previous_served));
  CHECK(back->served == r.served);
  CHECK(back->replicas == r.replicas);
  CHECK(back->parameters == r.parameters);
  CHECK(back->parameters_digest == r.parameters_digest);
  CHECK(back->backtest_mase == r.backtest_mase);
  CHECK(back->timezone == "America/New_York");
  CHECK(to_json(*back) == line);
  // Without an SLO the record has neither headroom nor slo; with one, both travel.
  CHECK(line.find("headroom") == std::string::npos);
  CHECK(back->headroom == 1);
  r.headroom = 1.25;
  r.quantile = 0.75;
  r.slo = "SLO 0.1% of minutes short (margin 50%): quantile 0.75, headroom x1.25";
  auto tuned = parse_decision(to_json(r));
  REQUIRE(tuned.has_value());
  CHECK(tuned->headroom == 1.25);
  CHECK(tuned->quantile == 0.75);
  CHECK(tuned->slo == r.slo);
  // The hour's risk travels when it raised the forecast, and only then.
  CHECK(to_json(r).find("risk") == std::string::npos);
  CHECK(tuned->risk == 1);
  r.risk = 1.43;
  auto risky = parse_decision(to_json(r));
  REQUIRE(risky.has_value());
  CHECK(risky->risk == 1.43);
}

TEST_CASE("bad decision lines are refused with the line and the field named", "[decisions]") {
  CHECK_FALSE(parse_decision("not json").has_value());
  CHECK_FALSE(parse_decision("[1,2]").has_value());
  auto no_target = parse_decision(R"({"time_unix":1,"kind":"change"})");
  REQUIRE_FALSE(no_target.has_value());
  CHECK(no_target.error().message.find("target") != std::string::npos);
  auto bad_kind = parse_decision(R"({"time_unix":1,"target":"a","kind":"guess"})");
  REQUIRE_FALSE(bad_kind.has_value());
  CHECK(bad_kind.error().message.find("guess") != std::string::npos);
  auto bad_number =
      parse_decision(R"({"time_unix":1,"target":"a","kind":"change","served":"lots"})");
  REQUIRE_FALSE(bad_number.has_value());
  CHECK(bad_number.error().message.find("served") != std::string::npos);
  const std::string text = to_json(sample_record(1)) + "\n\n" + R"({"time_unix":2})" + "\n";
  auto many = parse_decisions(text);
  REQUIRE_FALSE(many.has_value());
  CHECK(many.error().message.find("line 3") != std::string::npos);
}

TEST_CASE("digests change with the parameters and the config", "[decisions]") {
  const std::map<std::string, double> p = {{"alpha", 0.3}};
  CHECK(parameters_digest("hw", p).size() == 16);
  CHECK(parameters_digest("hw", p) == parameters_digest("hw", {{"alpha", 0.3}}));
  CHECK(parameters_digest("hw", p) != parameters_digest("hw", {{"alpha", 0.30000001}}));
  CHECK(parameters_digest("", p).empty());
  auto a = payments_target();
  auto b = a;
  CHECK(config_digest(a) == config_digest(b));
  b.quantile = 0.95;
  CHECK(config_digest(a) != config_digest(b));
  b = a;
  b.decision_change_threshold = 0.2;
  CHECK(config_digest(a) != config_digest(b));
}

TEST_CASE("every key of a target entry changes the config digest", "[decisions]") {
  // Walks the config's field table: a key added there is digested without
  // an edit to config_digest.
  const std::string calendars =
      "calendars:\n  nyse:\n    timezone: America/New_York\n    sessions:\n"
      "      - {name: open, days: [mon], start: \"09:30\", end: \"16:00\"}\n";
  auto target = [&](const std::string& key, const std::string& value) {
    std::string yaml = calendars + "targets:\n  - metric: " + (key == "metric" ? value : "a") +
                       "\n    query: " + (key == "query" ? value : "up") + "\n";
    if (key != "metric" && key != "query") yaml += "    " + key + ": " + value + "\n";
    // `slo` counts minutes short of capacity: it needs capacityPerReplica.
    if (key == "slo") yaml += "    capacityPerReplica: 100\n";
    return config::parse_config(yaml).targets.at(0);
  };
  const auto plain = config_digest(target("metric", "a"));
  for (const auto& key : config::target_keys()) {
    INFO(key.key);
    CHECK(config_digest(target(std::string(key.key), std::string(key.example))) != plain);
  }
}

TEST_CASE("the decisions file never grows beyond its bound and keeps the newest records",
          "[decisions]") {
  const auto dir = fresh_dir("bound");
  DecisionLog::Options options;
  options.path = dir / "decisions.jsonl";
  options.max_bytes = 4096;
  options.max_files = 2;
  auto log = DecisionLog::open(options);
  REQUIRE(log.has_value());
  std::int64_t written = 0;
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<DecisionRecord> records;
    for (int i = 0; i < 3; ++i) records.push_back(sample_record(1000 + written++));
    REQUIRE((*log)->append(records));
    std::uintmax_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      CHECK(entry.file_size() <= options.max_bytes);
      total += entry.file_size();
    }
    CHECK(total <= (options.max_files + 1) * options.max_bytes);
  }
  CHECK(std::filesystem::exists(dir / "decisions.jsonl.2"));
  CHECK_FALSE(std::filesystem::exists(dir / "decisions.jsonl.3"));
  auto all = read_decision_files(options.path);
  REQUIRE(all.has_value());
  REQUIRE_FALSE(all->empty());
  // What is kept is the newest run of records, in order, ending with the last one written.
  CHECK(all->back().time_unix == 1000 + written - 1);
  for (std::size_t i = 1; i < all->size(); ++i)
    CHECK((*all)[i].time_unix == (*all)[i - 1].time_unix + 1);
  std::filesystem::remove_all(dir);
}

TEST_CASE("reopening the decisions file appends: a restart loses no earlier record",
          "[decisions]") {
  const auto dir = fresh_dir("restart");
  DecisionLog::Options options;
  options.path = dir / "sub" / "decisions.jsonl";  // the directory is made on open
  options.max_bytes = 1 << 20;
  {
    auto log = DecisionLog::open(options);
    REQUIRE(log.has_value());
    REQUIRE((*log)->append({sample_record(1), sample_record(2)}));
  }
  {
    auto log = DecisionLog::open(options);  // the daemon restarted
    REQUIRE(log.has_value());
    REQUIRE((*log)->append({sample_record(3)}));
  }
  auto all = read_decision_files(options.path);
  REQUIRE(all.has_value());
  REQUIRE(all->size() == 3);
  CHECK((*all)[0].time_unix == 1);
  CHECK((*all)[2].time_unix == 3);

  // A restart near the bound rotates on the next write instead of overshooting it.
  options.max_bytes = std::filesystem::file_size(options.path) + 10;
  auto log = DecisionLog::open(options);
  REQUIRE(log.has_value());
  REQUIRE((*log)->append({sample_record(4)}));
  CHECK(std::filesystem::file_size(options.path) <= options.max_bytes);
  auto after = read_decision_files(options.path);
  REQUIRE(after.has_value());
  REQUIRE(after->size() == 4);
  CHECK(after->back().time_unix == 4);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a decisions file that cannot be opened is an error naming it", "[decisions]") {
  DecisionLog::Options options;
  options.path = "/proc/prescale-cannot/decisions.jsonl";
  auto log = DecisionLog::open(options);
  REQUIRE_FALSE(log.has_value());
  CHECK(log.error().message.find("/proc/prescale-cannot") != std::string::npos);
  auto missing = read_decision_files("/nonexistent/decisions.jsonl");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("/nonexistent/decisions.jsonl") != std::string::npos);
}

TEST_CASE("the ring keeps the newest records and filters by target and time", "[decisions]") {
  DecisionRing ring(5);
  std::vector<DecisionRecord> records;
  for (int i = 0; i < 8; ++i) {
    auto r = sample_record(100 + i);
    if (i % 2) r.target = "other";
    records.push_back(r);
  }
  ring.add(records);
  CHECK(ring.query("", 0).size() == 5);
  const auto mine = ring.query("payments-rps-forecast", 0);
  REQUIRE(mine.size() == 2);  // 104 and 106 (100 and 102 fell out)
  CHECK(mine[0].time_unix == 104);
  CHECK(ring.query("payments-rps-forecast", 105).size() == 1);
  auto list = parse_decision_list(ring.query_json("other", 0));
  REQUIRE(list.has_value());
  CHECK(list->size() == 3);
  CHECK_FALSE(parse_decision_list(R"({"kind":"DecisionList"})").has_value());
}

TEST_CASE("the tracker records changes beyond the threshold, fallbacks and refits", "[decisions]") {
  auto target = payments_target();
  target.calendars.clear();
  DecisionTracker tracker(DecisionSettings{0.1});
  int identity_a = 0, identity_b = 0, identity_c = 0;
  DecisionInputs in;
  in.config = &target;
  in.step_seconds = 300;
  in.servable = true;
  in.model = "holt-winters(A,N,A;288)";
  in.backtest_mase = 0.62;
  in.fit_identity = &identity_a;
  in.fit_why = "first fit";
  auto tick = [&](std::int64_t t, double observed, double forecast) {
    in.now_unix = t;
    in.observed = observed;
    in.forecast = forecast;
    in.served = std::max(observed, forecast);
    in.window_quantiles = {forecast * 0.9, forecast, forecast * 0.95};
    return tracker.decide(in);
  };
  auto first = tick(1000, 100, 110);
  REQUIRE(first.size() == 2);
  CHECK(first[0].kind == DecisionKind::refit);
  CHECK(first[0].reason.find("first fit") != std::string::npos);
  CHECK(first[1].kind == DecisionKind::change);
  CHECK(std::isnan(first[1].previous_served));
  CHECK(tick(1300, 100, 115).empty());  // +4.5%: below the threshold
  CHECK(tick(1600, 100, 119).empty());  // +8.2% of the value in force (110)
  auto up = tick(1900, 100, 125);       // +13.6% of 110
  REQUIRE(up.size() == 1);
  CHECK(up[0].cause == "seasonal-peak");
  CHECK(up[0].previous_served == 110);
  CHECK(up[0].peak_unix == 1900 + 300);  // the window's maximum is its second step
  CHECK(up[0].reason.find("seasonal peak at") != std::string::npos);
  auto observed_wins = tick(2200, 200, 125);
  REQUIRE(observed_wins.size() == 1);
  CHECK(observed_wins[0].cause == "observed");
  CHECK(observed_wins[0].reason.rfind("observed load above forecast", 0) == 0);

  in.fallback_reason = "data stale: newest sample is 1200s old (more than 3 steps)";
  auto fallback = tick(2500, 200, kNaN);
  REQUIRE(fallback.size() == 1);
  CHECK(fallback[0].kind == DecisionKind::fallback);
  CHECK(fallback[0].reason.rfind("fallback: data stale", 0) == 0);
  CHECK(tick(2800, 100, kNaN).empty());  // still in fallback: no new record
  in.fallback_reason.clear();
  in.fit_identity = &identity_b;
  in.fit_why = "scheduled";
  in.backtest_mase = 0.58;
  auto back = tick(3100, 100, 130);
  REQUIRE(back.size() == 2);
  CHECK(back[0].kind == DecisionKind::refit);
  CHECK(back[0].reason == "refit (scheduled): backtest MASE 0.62 -> 0.58");
  CHECK(back[1].kind == DecisionKind::recovered);
  CHECK(back[1].reason.find("was in fallback: data stale") != std::string::npos);

  // The model's decision loss on the served window follows its MASE.
  in.fit_identity = &identity_c;
  in.decision_loss = "decision loss 0.61x seasonal naive's (q0.9 of the 3-step lead window's peak)";
  auto scored = tick(3400, 100, 130);
  REQUIRE_FALSE(scored.empty());
  CHECK(scored[0].kind == DecisionKind::refit);
  CHECK(scored[0].reason ==
        "refit (scheduled): backtest MASE 0.58 -> 0.58, decision loss 0.61x seasonal naive's "
        "(q0.9 of the 3-step lead window's peak)");
}

TEST_CASE("a rise names the calendar event active in the lead window", "[decisions]") {
  auto calendars = payments_calendars();
  REQUIRE(calendars.has_value());
  auto target = payments_target();
  // 2026-02-27 (the last business day of February) 05:50 New York = 10:50Z: the
  // lead window [05:50, 06:05] reaches into payroll-end's 06:00-11:00.
  const std::int64_t before_payroll =
      calendar::days_from_civil({2026, 2, 27}) * 86400 + 10 * 3600 + 50 * 60;
  auto zone = calendar::TimeZone::find("America/New_York");
  REQUIRE(zone.has_value());
  DecisionTracker tracker;
  DecisionInputs in;
  in.config = &target;
  in.calendars = &*calendars;
  in.zone = &*zone;
  in.step_seconds = 300;
  in.servable = true;
  in.model = "holt-winters(A,N,A;288)";
  in.fit_identity = &target;
  in.now_unix = before_payroll - 3600;
  in.observed = in.forecast = in.served = 500;
  in.window_quantiles = {500, 500, 500, 500};
  (void)tracker.decide(in);
  in.now_unix = before_payroll;
  in.forecast = in.served = 900;
  in.window_quantiles = {520, 600, 800, 900};
  auto records = tracker.decide(in);
  REQUIRE(records.size() == 1);
  CHECK(records[0].cause == "calendar-event");
  CHECK(records[0].event == "payroll.payroll-end");
  CHECK(records[0].reason.rfind("pre-scaling for calendar event payroll.payroll-end (06:00-11:00 "
                                "America/New_York), forecast peaks at "
                                "06:05 America/New_York",
                                0) == 0);
  // The same rise a day earlier is no payroll day: a seasonal peak.
  DecisionTracker other;
  in.now_unix = before_payroll - 86400 - 3600;
  in.forecast = in.served = 500;
  in.window_quantiles = {500, 500, 500, 500};
  (void)other.decide(in);
  in.now_unix = before_payroll - 86400;
  in.forecast = in.served = 900;
  in.window_quantiles = {520, 600, 800, 900};
  auto plain = other.decide(in);
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].cause == "seasonal-peak");
  CHECK(plain[0].event.empty());
}

TEST_CASE("a hold at an event's start is recorded once, naming the event", "[decisions][events]") {
  auto calendars = payments_calendars();
  REQUIRE(calendars.has_value());
  auto target = payments_target();
  // 2026-02-13 06:00 New York = 11:00Z: payroll-mid (the 15th is a Sunday).
  const std::int64_t start = calendar::days_from_civil({2026, 2, 13}) * 86400 + 11 * 3600;
  DecisionTracker tracker;
  DecisionInputs in;
  in.config = &target;
  in.calendars = &*calendars;
  in.step_seconds = 300;
  in.servable = true;
  in.now_unix = start - 300;
  in.observed = 509;
  in.forecast = in.served = 974;
  in.window_quantiles = {974, 960, 950, 940};
  (void)tracker.decide(in);
  // The forecast alone eases to 647; the hold keeps 974 served.
  in.now_unix = start;
  in.forecast = in.unramped = 647;
  in.window_quantiles = {600, 620, 640, 647};
  in.event_floor = "hold";
  in.event = "payroll.payroll-mid";
  in.event_description = "calendar event payroll.payroll-mid (06:00-11:00 America/New_York)";
  auto records = tracker.decide(in);
  REQUIRE(records.size() == 1);
  CHECK(records[0].cause == "calendar-event");
  CHECK(records[0].event == "payroll.payroll-mid");
  CHECK(records[0].served == 974);
  CHECK(records[0].reason.rfind("holding the capacity pre-scaled for calendar event "
                                "payroll.payroll-mid (06:00-11:00 America/New_York) until the "
                                "load reaches it (the forecast alone: 647)",
                                0) == 0);
  // Held on: nothing new to record.
  in.now_unix = start + 300;
  CHECK(tracker.decide(in).empty());
  // The load rising inside the window, carried over the lead time.
  in.now_unix = start + 1200;
  in.observed = 1093;
  in.forecast = in.unramped = 1181;
  in.served = 1400;
  in.event_floor = "rise";
  in.event_rise = 1.28;
  records = tracker.decide(in);
  REQUIRE(records.size() == 1);
  CHECK(records[0].event == "payroll.payroll-mid");
  CHECK(records[0].reason.rfind("load rising during calendar event payroll.payroll-mid "
                                "(06:00-11:00 America/New_York): x1.28 over the lead time",
                                0) == 0);
}

TEST_CASE("the decisions section configures thresholds, file and rotation", "[decisions][config]") {
  const auto config = config::parse_config(R"(
decisions:
  changeThreshold: 0.2
  anomalySteps: 2
  shiftSteps: 10
  file: /var/lib/prescale/decisions.jsonl
  maxBytes: 65536
  maxFiles: 3
targets:
  - metric: a
    query: up
)");
  CHECK(config.decisions.change_threshold == 0.2);
  CHECK(config.decisions.file == "/var/lib/prescale/decisions.jsonl");
  CHECK(config.decisions.max_bytes == 65536);
  CHECK(config.decisions.max_files == 3);
  REQUIRE(config.targets.size() == 1);
  CHECK(config.targets[0].decision_change_threshold == 0.2);
  CHECK(config.targets[0].anomaly_steps == 2);
  CHECK(config.targets[0].shift_steps == 10);
  const auto defaults = config::parse_config("targets:\n  - metric: a\n    query: up\n");
  CHECK(defaults.targets[0].decision_change_threshold == 0.1);
  CHECK(defaults.targets[0].anomaly_steps == 3);
  CHECK(defaults.targets[0].shift_steps == 15);
  try {
    (void)config::parse_config(
        "decisions:\n  changeThreshold: -1\ntargets:\n  - metric: a\n    query: up\n");
    FAIL("a negative threshold was accepted");
  } catch (const config::ConfigError& e) {
    CHECK(std::string(e.what()).find("decisions.changeThreshold") != std::string::npos);
  }
  CHECK_THROWS_AS(config::parse_config("decisions:\n  anomalySteps: 5\n  shiftSteps: 4\ntargets:\n "
                                       " - metric: a\n    query: up\n"),
                  config::ConfigError);
}

TEST_CASE("replay of the payroll trace: every pre-scale before a payroll window names the event",
          "[decisions][replay]") {
  // 5-minute steps; two short replays (18:00 the evening before to noon New
  // York time) around payroll days: payroll-end on Friday 2026-02-27 and
  // payroll-mid on Friday 2026-03-13 (the 15th is a Sunday), across the DST
  // change of 2026-03-08 (06:00 New York is 11:00Z, then 10:00Z).
  TraceOptions options;
  options.days = 41;
  options.step_seconds = 300;
  options.random_spikes = false;
  auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  auto calendars = payments_calendars();
  REQUIRE(calendars.has_value());
  const auto target = payments_target();
  auto zone = calendar::TimeZone::find("America/New_York");
  REQUIRE(zone.has_value());
  std::size_t prescales = 0, records_total = 0, scale_ups_total = 0;
  for (const calendar::CivilDate day :
       {calendar::CivilDate{2026, 2, 27}, calendar::CivilDate{2026, 3, 13}}) {
    const std::int64_t local_midnight = zone->to_utc(calendar::days_from_civil(day) * 86400);
    const std::int64_t window_start = local_midnight + 6 * 3600;  // 06:00 New York
    ReplayOptions replay_options;
    replay_options.start_unix = local_midnight - 6 * 3600;
    replay_options.end_unix = local_midnight + 12 * 3600;
    replay_options.calendars = &*calendars;
    auto result = replay(*trace, target, replay_options);
    REQUIRE(result.has_value());
    records_total += result->decisions.size();
    dump_if_asked(result->decisions);
    std::size_t scale_ups_at_window = 0;
    for (const auto& r : result->decisions) {
      INFO(to_json(r));
      CHECK(r.target == target.metric);
      CHECK_FALSE(r.reason.empty());
      // A rise of the served value on the forecast, within a lead time of the window's start.
      const bool forecast_rise =
          r.kind == DecisionKind::change && r.served > r.previous_served && r.forecast > r.observed;
      if (!forecast_rise || r.time_unix < window_start - target.lead_time_seconds ||
          r.time_unix >= window_start + target.lead_time_seconds)
        continue;
      CHECK(r.event.rfind("payroll.payroll-", 0) == 0);
      CHECK(r.reason.find("calendar event payroll.payroll-") != std::string::npos);
      CHECK(r.reason.find("(06:00-11:00 America/New_York)") != std::string::npos);
      if (r.time_unix < window_start) {  // a pre-scale proper
        ++prescales;
        CHECK(r.reason.rfind("pre-scaling for calendar event payroll.payroll-", 0) == 0);
      } else {
        CHECK(r.reason.rfind("scaling up during calendar event payroll.payroll-", 0) == 0);
      }
      ++scale_ups_at_window;
    }
    // (On 2026-03-13 the forecast rises only at 06:00 itself: a scale-up during the window, no
    // pre-scale.)
    scale_ups_total += scale_ups_at_window;
  }
  CHECK(scale_ups_total >= 2);
  CHECK(prescales >= 1);
  CHECK(records_total > prescales);
}

TEST_CASE("a decision whose forecast its hour's risk raised above the load names the forecast",
          "[decisions][slo]") {
  auto target = payments_target();
  target.calendars.clear();
  DecisionTracker tracker(DecisionSettings{0.1});
  int identity = 0;
  DecisionInputs in;
  in.config = &target;
  in.step_seconds = 300;
  in.servable = true;
  in.model = "holt-winters(A,N,A;288)";
  in.fit_identity = &identity;
  in.fit_why = "first fit";
  auto tick = [&](std::int64_t t, double observed, double forecast, double risk) {
    in.now_unix = t;
    in.observed = observed;
    in.forecast = forecast;
    in.risk = risk;
    in.served = std::max(observed, forecast * risk);
    in.window_quantiles = {forecast * 0.9, forecast, forecast * 0.95};
    return tracker.decide(in);
  };
  REQUIRE(tick(1000, 100, 110, 1).size() == 2);  // the first fit and its value
  // The load (130) is above the forecast (120) but below it raised x1.4 (168):
  // the raised forecast is served, and the record says so.
  const auto raised = tick(1300, 130, 120, 1.4);
  REQUIRE(raised.size() == 1);
  CHECK(raised[0].cause != "observed");
  CHECK(raised[0].risk == 1.4);
  CHECK_THAT(raised[0].reason, Catch::Contains("forecast q0.9 120 x1.4 (this hour's risk)"));
  // Without the risk the same load is served as observed.
  const auto plain = tick(1600, 200, 120, 1);
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].cause == "observed");
  CHECK(plain[0].risk == 1);
}
