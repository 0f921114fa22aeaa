// The calendar options, run as a user would: every command that takes
// --calendar uses it the same way, and an option a command would not use is
// refused with a message instead of being ignored.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "run_prescale.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using prescale::test::Run;
using prescale::test::run_prescale;

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("prescale_calendar_cli_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string calendars_file() {
  return (prescale::test::source_dir() / "config" / "calendars" / "payments.yaml").string();
}

}  // namespace

TEST_CASE("simulate --calendar: decision records pre-scale for each payroll window",
          "[cli][simulate][calendar]") {
  TempDir dir;
  const std::string trace = (dir.path / "payments.csv").string();
  // Six weeks at 5 minutes; the replay starts after three (half the trace),
  // so it decides through payroll-mid (Fri Feb 13: the 15th is a Sunday) and
  // payroll-end (Fri Feb 27), 06:00-11:00 New York.
  const Run generated = run_prescale(
      "generate --kind payments --start 2026-01-19 --days 42 --step 5m --seed 3 "
      "--output " +
      trace);
  REQUIRE(generated.exit_code == 0);
  const std::string decisions = (dir.path / "decisions.jsonl").string();
  const Run run = run_prescale(
      "simulate --input " + trace + " --timezone America/New_York --calendar " + calendars_file() +
      " --capacity-per-replica 120 --startup 3m --lead-time 30m --refit-interval 1d"
      " --model holt-winters+calendar --format json --decisions " +
      decisions);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto summary = nlohmann::json::parse(run.out);
  INFO(summary.dump(2));
  REQUIRE(summary.at("predictive_available").get<bool>());
  bool calendars_noted = false;
  for (const auto& note : summary.at("notes"))
    if (note.get<std::string>().find("calendars nyse, payroll, settlement") != std::string::npos)
      calendars_noted = true;
  CHECK(calendars_noted);

  // 06:00 New York = 11:00Z in February.
  const std::vector<std::pair<std::string, std::int64_t>> windows = {
      {"payroll.payroll-mid", 1770980400},  // 2026-02-13T11:00:00Z
      {"payroll.payroll-end", 1772190000},  // 2026-02-27T11:00:00Z
  };
  std::ifstream lines(decisions);
  std::string line;
  std::set<std::string> prescaled;
  std::size_t records = 0;
  while (std::getline(lines, line)) {
    ++records;
    const auto record = nlohmann::json::parse(line);
    if (record.at("cause") != "calendar-event") continue;
    const auto time = record.at("time_unix").get<std::int64_t>();
    for (const auto& [event, start] : windows) {
      if (record.at("event") == event && time < start && time >= start - 1800 &&
          record.at("reason").get<std::string>().rfind("pre-scaling for calendar event " + event,
                                                       0) == 0)
        prescaled.insert(event);
    }
  }
  INFO(records << " decision records");
  CHECK(prescaled.count("payroll.payroll-mid") == 1);
  CHECK(prescaled.count("payroll.payroll-end") == 1);
}

TEST_CASE("simulate --calendar: the payroll morning has its capacity ready through the surge",
          "[cli][simulate][calendar]") {
  TempDir dir;
  // The golden simulate-payments trace: three weeks at 5 minutes from Mon Feb
  // 23; the replay starts half-way, so it decides through payroll-mid on Fri
  // Mar 13 (the 15th is a Sunday), the group's first occurrence in its
  // history: the forecast under-sizes the surge, the observed rise is carried.
  const std::string trace = (dir.path / "payments.csv").string();
  const Run generated = run_prescale(
      "generate --kind payments --start 2026-02-23 --days 21 --step 5m --seed 7 --output " + trace);
  REQUIRE(generated.exit_code == 0);
  const std::string timeline = (dir.path / "timeline.csv").string();
  const std::string decisions = (dir.path / "decisions.jsonl").string();
  const Run run = run_prescale("simulate --input " + trace +
                               " --timezone America/New_York --calendar " + calendars_file() +
                               " --capacity-per-replica 200 --startup 3m --format json"
                               " --timeline " +
                               timeline + " --decisions " + decisions);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);

  std::ifstream rows(timeline);
  std::string line;
  REQUIRE(std::getline(rows, line));
  std::vector<std::string> header;
  for (std::istringstream fields(line); std::getline(fields, line, ',');) header.push_back(line);
  const auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  };
  const std::size_t local = column("local_time"), demand = column("demand"),
                    ready = column("predictive_ready"),
                    short_seconds = column("predictive_violation_seconds");
  REQUIRE(short_seconds < header.size());
  double morning_short = 0, morning_peak = 0;
  std::size_t morning_steps = 0;
  while (std::getline(rows, line)) {
    std::vector<std::string> cells;
    for (std::istringstream fields(line); std::getline(fields, line, ',');) cells.push_back(line);
    // 06:00-11:00 New York on Fri Mar 13 (EDT since Mar 8).
    const std::string& when = cells.at(local);
    if (when.rfind("2026-03-13T", 0) != 0 || when.substr(11, 2) < "06" ||
        when.substr(11, 2) >= "11")
      continue;
    ++morning_steps;
    morning_peak = std::max(morning_peak, std::stod(cells.at(demand)));
    INFO(when << ": demand " << cells.at(demand) << ", ready " << cells.at(ready));
    CHECK(std::stod(cells.at(short_seconds)) == 0);
    morning_short += std::stod(cells.at(short_seconds));
  }
  CHECK(morning_steps == 60);
  CHECK(morning_peak > 1500);  // a surge, several times the night's load
  CHECK(morning_short == 0);

  // The decisions that carried the surge name the event.
  std::ifstream lines(decisions);
  std::size_t carried = 0;
  while (std::getline(lines, line)) {
    const auto record = nlohmann::json::parse(line);
    if (record.at("reason").get<std::string>().rfind(
            "load rising during calendar event payroll.payroll-mid (06:00-11:00", 0) == 0) {
      CHECK(record.at("event") == "payroll.payroll-mid");
      ++carried;
    }
  }
  CHECK(carried >= 1);
}

TEST_CASE("simulate --calendar: a month-end batch arriving as a step is carried at most double",
          "[cli][simulate][calendar]") {
  TempDir dir;
  // Four weeks from Mon Jan 5; the replay decides through payroll-end (Fri
  // Jan 30) and the month-end batch of Sat Jan 31 (20:00-23:00), which jumps
  // from ~420 to ~1350 within two samples: read as a rate over a lead time,
  // that step was carried x4.3 (49 replicas for a load of 1349).
  const std::string trace = (dir.path / "payments.csv").string();
  REQUIRE(run_prescale("generate --kind payments --start 2026-01-05 --days 28 --step 5m --seed 1 "
                       "--output " +
                       trace)
              .exit_code == 0);
  const std::string decisions = (dir.path / "decisions.jsonl").string();
  const Run run = run_prescale("simulate --input " + trace +
                               " --timezone America/New_York --calendar " + calendars_file() +
                               " --capacity-per-replica 118 --startup 3m --refit-interval 1d"
                               " --format json --decisions " +
                               decisions);
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  std::ifstream lines(decisions);
  std::string line;
  std::size_t batch_rises = 0;
  while (std::getline(lines, line)) {
    const auto record = nlohmann::json::parse(line);
    if (record.at("reason").get<std::string>().rfind("load rising during", 0) != 0) continue;
    INFO(line);
    CHECK(record.at("served").get<double>() <= 2 * record.at("observed").get<double>() + 1e-6);
    if (record.at("event") == "settlement.month-end-batch") ++batch_rises;
  }
  CHECK(batch_rises >= 1);
}

TEST_CASE("an option a command would not use is refused", "[cli][calendar]") {
  TempDir dir;
  const std::string trace = (dir.path / "flat.csv").string();
  REQUIRE(run_prescale("generate --kind flat --days 3 --step 5m --output " + trace).exit_code == 0);
  const std::string input = " --input " + trace;

  struct Case {
    std::string args;
    std::vector<std::string> said;  // parts of what stderr must say
  };
  const std::vector<Case> cases = {
      {"forecast" + input + " --calendar-use nyse", {"--calendar-use requires --calendar"}},
      {"backtest" + input + " --calendar-use payroll", {"--calendar-use requires --calendar"}},
      {"forecast" + input + " --event-origins 2", {"--event-origins requires --calendar"}},
      {"backtest" + input + " --event-origins 0", {"--event-origins requires --calendar"}},
      {"simulate" + input + " --capacity-per-replica 100 --calendar-use nyse",
       {"--calendar-use requires --calendar"}},
      {"simulate" + input + " --capacity-per-replica 100 --no-predictive --calendar " +
           calendars_file(),
       {"--calendar", "excludes", "--no-predictive"}},
      {"simulate" + input + " --capacity-per-replica 100 --no-predictive --model arima",
       {"--model", "excludes", "--no-predictive"}},
      {"simulate" + input + " --capacity-per-replica 100 --no-predictive --decisions x.jsonl",
       {"--decisions", "excludes", "--no-predictive"}},
      {"forecast" + input + " --calendar " + calendars_file() + " --calendar-use nyse,nasdaq",
       {"--calendar-use: no calendar 'nasdaq' in the --calendar files"}},
      {"forecast" + input + " --calendar " + calendars_file() + " --calendar " + calendars_file(),
       {"calendar 'nyse' is defined in both"}},
      {"forecast" + input + " --calendar " + calendars_file() + " --event-history 183d",
       {"--event-history requires --history"}},
      {"backtest" + input + " --history 2d --event-history 183d",
       {"--event-history requires --calendar"}},
      {"generate --kind flat --payroll-shape spike", {"--payroll-shape: only the payments kind"}},
      {"generate --kind payments --no-payroll --payroll-effect additive",
       {"--payroll-effect", "excludes", "--no-payroll"}},
      {"generate --kind payments --outage-factor 0.2", {"--outage-factor requires --outage"}},
  };
  for (const Case& c : cases) {
    INFO("prescale " << c.args);
    const Run run = run_prescale(c.args);
    INFO(run.err);
    CHECK(run.exit_code != 0);
    for (const std::string& part : c.said) CHECK(run.err.find(part) != std::string::npos);
  }
}

TEST_CASE("forecast and backtest take --calendar-use and say which columns they built",
          "[cli][calendar]") {
  TempDir dir;
  const std::string trace = (dir.path / "payments.csv").string();
  REQUIRE(run_prescale("generate --kind payments --start 2026-02-02 --days 15 --step 15m "
                       "--output " +
                       trace)
              .exit_code == 0);
  const std::string common = " --input " + trace + " --timezone America/New_York --calendar " +
                             calendars_file() + " --model seasonal-naive --horizon 1h";
  const Run all = run_prescale("forecast" + common);
  const Run payroll = run_prescale("backtest" + common + " --calendar-use payroll --format json");
  INFO(all.err << payroll.err);
  REQUIRE(all.exit_code == 0);
  REQUIRE(payroll.exit_code == 0);
  // payroll alone: its events and business-day columns, not nyse's session
  // or settlement's batch.
  auto columns = [](const std::string& text) {
    const auto at = text.find("calendar regressors: ");
    return at == std::string::npos ? -1 : std::atoi(text.c_str() + at + 21);
  };
  CHECK(columns(payroll.out) > 0);
  CHECK(columns(payroll.out) < columns(all.out));
}

namespace {

// Five months of 15-minute payments load from Mon 2025-10-06 (to Mar 5)
// and the calendars it follows.
void generate_five_months(const std::string& trace, const std::string& calendars) {
  REQUIRE(run_prescale("generate --kind payments --start 2025-10-06 --days 150 --step 15m "
                       "--timezone America/New_York --output " +
                       trace + " --calendar-out " + calendars)
              .exit_code == 0);
}

}  // namespace

TEST_CASE("forecast --event-history learns the older occurrences of a long CSV as the daemon does",
          "[cli][calendar][events]") {
  // Five months of 15-minute payments load; the fit reads the newest 35 days
  // (to Thu Mar 5: payroll-end Jan 30 and Feb 27, payroll-mid Feb 13) and, with --event-history,
  // the older payroll mornings as sparse windows of the same file (the daemon's `eventHistory`
  // path, autoscaler/event_history.hpp).
  TempDir dir;
  const std::string trace = (dir.path / "payments.csv").string();
  const std::string calendars = (dir.path / "calendars.yaml").string();
  generate_five_months(trace, calendars);
  const std::string common = "forecast --input " + trace +
                             " --timezone America/New_York --calendar " + calendars +
                             " --model events --horizon 1h --format json";
  const Run whole = run_prescale(common);
  const Run recent = run_prescale(common + " --history 35d");
  const Run sparse = run_prescale(common + " --history 35d --event-history 150d");
  INFO(whole.err << recent.err << sparse.err);
  REQUIRE(whole.exit_code == 0);
  REQUIRE(recent.exit_code == 0);
  REQUIRE(sparse.exit_code == 0);
  const auto parameters = [](const Run& run) {
    return nlohmann::json::parse(run.out).at("parameters");
  };
  for (const std::string event : {"payroll-mid", "payroll-end"}) {
    INFO(event);
    const std::string key = "events.payroll." + event;
    // The 35 days alone hold one or two occurrences; the older ones join
    // them, as many as the whole file gives the dense fit.
    CHECK(parameters(recent).at(key + ".occurrences").get<double>() <= 2);
    CHECK(parameters(sparse).at(key + ".older_occurrences").get<double>() >= 3);
    CHECK(parameters(sparse).at(key + ".occurrences") ==
          parameters(whole).at(key + ".occurrences"));
  }
  CHECK(sparse.out.find("event history: ") != std::string::npos);
}

TEST_CASE(
    "with ten days of dense history, a payroll-end morning is forecast from its older "
    "occurrences",
    "[cli][calendar][events]") {
  // Prometheus keeps 15 days by default: the dense history (10 days to Fri
  // Feb 27, February's last business day) holds no payroll morning, the
  // event history (the same file, --event-history) holds four payroll-ends
  // (Oct 31 .. Jan 30) and the payroll-mids beside them.
  TempDir dir;
  const std::string trace = (dir.path / "payments.csv").string();
  const std::string before = (dir.path / "before.csv").string();
  const std::string calendars = (dir.path / "calendars.yaml").string();
  generate_five_months(trace, calendars);
  // The data before New York midnight of Feb 27 (05:00 UTC) forecast that
  // morning; the rest is the truth its 06:00-11:00 payroll window is judged on.
  const std::string midnight = "2026-02-27T05:00:00Z";
  const std::string window_start = "2026-02-27T11:00:00Z", window_end = "2026-02-27T16:00:00Z";
  double true_peak = 0;
  {
    std::ifstream in(trace);
    std::ofstream out(before);
    std::string line;
    std::getline(in, line);
    out << line << '\n';
    while (std::getline(in, line)) {
      const std::string time = line.substr(0, line.find(','));
      if (time < midnight) out << line << '\n';
      if (time >= window_start && time < window_end)
        true_peak = std::max(true_peak, std::stod(line.substr(line.find(',') + 1)));
    }
  }
  REQUIRE(true_peak > 0);
  const std::string common =
      "forecast --input " + before + " --timezone America/New_York --calendar " + calendars +
      " --model auto --horizon 11h --quantile 0.9 --format json --history 10d";
  const Run sparse = run_prescale(common + " --event-history 183d");
  const Run dense_only = run_prescale(common);
  INFO(sparse.err << dense_only.err);
  REQUIRE(sparse.exit_code == 0);
  REQUIRE(dense_only.exit_code == 0);
  struct Peaks {
    double mean = 0, upper = 0;
  };
  const auto peaks = [&](const Run& run) {
    Peaks p;
    const nlohmann::json forecast = nlohmann::json::parse(run.out);
    for (const auto& point : forecast.at("points")) {
      const std::string time = point.at("timestamp").get<std::string>();
      if (time < window_start || time >= window_end) continue;
      p.mean = std::max(p.mean, point.at("mean").get<double>());
      p.upper = std::max(p.upper, point.at("upper").get<double>());
    }
    return p;
  };
  const Peaks with_events = peaks(sparse), without = peaks(dense_only);
  INFO("true peak " << true_peak << ", with the event history " << with_events.mean << " (q0.9 "
                    << with_events.upper << "), without " << without.mean << "\n"
                    << sparse.out.substr(0, 2000));
  // The events model serves the window, its effect learnt from the older
  // mornings: the peak within 15 %, the q0.9 at or above it; without them
  // the ten days say nothing of a payroll morning.
  CHECK(nlohmann::json::parse(sparse.out)
            .at("model")
            .get<std::string>()
            .find("event windows events+") != std::string::npos);
  CHECK(std::abs(with_events.mean / true_peak - 1) <= 0.15);
  CHECK(with_events.upper >= true_peak);
  CHECK(without.mean < 0.7 * true_peak);
}
