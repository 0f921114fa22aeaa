// Every option that describes the target reaches the fit, in each command
// that fits: forecast and backtest (cli/input_options.cpp: flags -> a
// config::TargetConfig -> autoscaler::FitFrame -> the engine's selection)
// and simulate (the same target replayed by the engine serve runs). Each
// case changes one option against a baseline and looks for its effect in
// what the fit produced: the model, its parameters, its interval, the
// decision records. serve and demo read the same TargetConfig from YAML
// (tests/daemon/target_options_daemon_test.cpp: each key in a running
// daemon; tests/cli/demo_cli_test.cpp: they refuse these flags).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("prescale_target_options_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs prescale; its stdout parsed as JSON (REQUIREs success).
json run_json(const TempDir& dir, const std::string& args) {
  static int counter = 0;
  const fs::path out = dir.path / ("out_" + std::to_string(counter));
  const fs::path err = dir.path / ("err_" + std::to_string(counter++));
  const std::string command = prescale::test::prescale_bin().string() + " " + args + " >" +
                              out.string() + " 2>" + err.string();
  const int status = std::system(command.c_str());
  INFO("prescale " << args << "\n" << slurp(err));
  REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return json::parse(slurp(out));
}

std::vector<json> read_records(const fs::path& path) {
  std::vector<json> records;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) records.push_back(json::parse(line));
  return records;
}

std::string calendars_file() {
  return (prescale::test::source_dir() / "config" / "calendars" / "payments.yaml").string();
}

// 15 days at 15 minutes across the US DST change (Sun 8 March 2026), so a
// week-ago slot in New York time is another UTC hour than in UTC.
std::string payments_trace(const TempDir& dir) {
  const std::string trace = (dir.path / "payments.csv").string();
  const std::string command = prescale::test::prescale_bin().string() +
                              " generate --kind payments --start 2026-02-25 --days 15 --step 15m "
                              "--seed 5 --output " +
                              trace + " >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  return trace;
}

bool has_parameter_prefix(const json& parameters, const std::string& prefix) {
  for (const auto& [name, value] : parameters.items())
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

bool has_note(const json& notes, const std::string& part) {
  for (const auto& note : notes)
    if (note.get<std::string>().find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("forecast and backtest: each target option reaches the fit", "[cli][target]") {
  TempDir dir;
  const std::string base = "--input " + payments_trace(dir) + " --horizon 1h --format json";
  const std::string naive = base + " --model seasonal-naive";
  const json plain = run_json(dir, "forecast " + naive);
  REQUIRE(plain.at("model") == "seasonal-naive(96,672)");

  SECTION("--seasonality: the seasons the model uses") {
    CHECK(run_json(dir, "forecast " + naive + " --seasonality 1d").at("model") ==
          "seasonal-naive(96)");
  }
  SECTION("--timezone: seasons follow New York's clock across DST") {
    const json local = run_json(dir, "forecast " + naive + " --timezone America/New_York");
    CHECK(local.at("points").at(0).at("mean") != plain.at("points").at(0).at("mean"));
  }
  SECTION("--step: the grid the model is fitted on") {
    CHECK(run_json(dir, "forecast " + naive + " --step 30m").at("model") ==
          "seasonal-naive(48,336)");
  }
  SECTION("--model") {
    const auto model = run_json(dir, "forecast " + base + " --model holt-winters:A,N,A")
                           .at("model")
                           .get<std::string>();
    CHECK(model.rfind("holt-winters(A,N,A", 0) == 0);
  }
  SECTION("--quantile: the interval") {
    const json narrow = run_json(dir, "forecast " + naive + " --quantile 0.6");
    const auto width = [](const json& point) {
      return point.at("upper").get<double>() - point.at("lower").get<double>();
    };
    CHECK(width(narrow.at("points").at(0)) < width(plain.at("points").at(0)));
  }
  SECTION("--calendar and --calendar-use: the regressors of the calendars in use") {
    const std::string calendar =
        " --model holt-winters+calendar --timezone America/New_York "
        "--calendar " +
        calendars_file();
    const json all = run_json(dir, "forecast " + base + calendar);
    CHECK(all.at("model").get<std::string>().find("+calendar(") != std::string::npos);
    CHECK(has_parameter_prefix(all.at("parameters"), "calendar.payroll."));
    CHECK(has_parameter_prefix(all.at("parameters"), "calendar.settlement."));
    const json payroll = run_json(dir, "forecast " + base + calendar + " --calendar-use payroll");
    CHECK(has_parameter_prefix(payroll.at("parameters"), "calendar.payroll."));
    CHECK_FALSE(has_parameter_prefix(payroll.at("parameters"), "calendar.settlement."));
  }
  SECTION("a leading gap: the fit starts at the first sample with a value, as the engine's") {
    // Two days without a value before the trace, as --prometheus returns a
    // --start before the metric existed.
    const fs::path gapped = dir.path / "gapped.csv";
    {
      std::ifstream in(dir.path / "payments.csv");
      std::ofstream out(gapped);
      std::string line;
      std::getline(in, line);  // header
      out << line << "\n";
      const std::int64_t first = 1771995600;  // 2026-02-25T05:00:00Z, the trace's first sample
      for (std::int64_t t = first - 2 * 86400; t < first; t += 900) out << t << ",NaN\n";
      while (std::getline(in, line)) out << line << "\n";
    }
    const std::string model = " --horizon 1h --format json --model holt-winters:A,N,A";
    const json whole =
        run_json(dir, "forecast --input " + (dir.path / "payments.csv").string() + model);
    const json gap = run_json(dir, "forecast --input " + gapped.string() + model);
    CHECK(gap.at("model") == whole.at("model"));
    CHECK(gap.at("parameters") == whole.at("parameters"));
    CHECK(gap.at("points") == whole.at("points"));
    CHECK(has_note(gap.at("notes"), "192 leading steps without one"));
  }
  SECTION("backtest --origins and --keep-outliers") {
    const json two = run_json(dir, "backtest " + naive + " --origins 2");
    CHECK(two.at("origins") == 2);
    CHECK(has_note(two.at("notes"), "outliers:"));
    const json kept = run_json(dir, "backtest " + naive + " --origins 3 --keep-outliers");
    CHECK(kept.at("origins") == 3);
    CHECK_FALSE(has_note(kept.at("notes"), "outliers:"));
  }
}

TEST_CASE("simulate: each target option reaches the engine's fits", "[cli][target]") {
  TempDir dir;
  const std::string base =
      "simulate --input " + payments_trace(dir) + " --capacity-per-replica 120 --format json";
  int run = 0;
  json summary;  // of the last replay
  // The decision records of one predictive replay.
  auto records = [&](const std::string& options) {
    const fs::path file = dir.path / ("decisions_" + std::to_string(run++) + ".jsonl");
    summary = run_json(dir, base + " " + options + " --decisions " + file.string());
    REQUIRE(summary.at("predictive_available").get<bool>());
    auto out = read_records(file);
    REQUIRE_FALSE(out.empty());
    return out;
  };
  auto refits = [](const std::vector<json>& all) {
    std::vector<json> out;
    for (const auto& r : all)
      if (r.at("kind") == "refit") out.push_back(r);
    return out;
  };
  // Each fit reads up to 7 days (half the trace): the first, on the data
  // settled before the first decision, holds less than a cycle of 1w and
  // leaves it out, as forecast would; the next ones use it.
  const auto plain = records("--model seasonal-naive --refit-interval 1d");
  REQUIRE(plain.front().at("model") == "seasonal-naive(96)");
  CHECK(plain.back().at("model") == "seasonal-naive(96,672)");
  CHECK(has_note(summary.at("notes"), "predictive: season 1w dropped: the history ("));

  SECTION("--seasonality") {
    CHECK(records("--model seasonal-naive --refit-interval 1d --seasonality 12h,1d")
              .front()
              .at("model") == "seasonal-naive(48,96)");
  }
  SECTION("--timezone") {
    const auto local =
        records("--model seasonal-naive --refit-interval 1d --timezone America/New_York");
    CHECK(local.front().at("timezone") == "America/New_York");
    // After the DST change a week-ago slot is another hour: the engine's
    // forecasts, and so its decisions, differ from those in UTC.
    auto forecasts = [](const std::vector<json>& all) {
      std::vector<std::pair<std::int64_t, double>> out;
      for (const auto& r : all) out.emplace_back(r.at("time_unix"), r.at("forecast"));
      return out;
    };
    CHECK(forecasts(local) != forecasts(plain));
  }
  SECTION("--model and --quantile") {
    const auto forced = records("--model holt-winters:A,N,A --quantile 0.8");
    CHECK(forced.front().at("model").get<std::string>().rfind("holt-winters(A,N,A", 0) == 0);
    CHECK(forced.front().at("quantile") == 0.8);
  }
  SECTION("--origins and --keep-outliers: the backtest each fit chooses by") {
    // backtestOrigins and keepOutliers of the target serve reads: another
    // backtest, another score of the same model.
    const auto mase = [&](const std::vector<json>& all) {
      return refits(all).at(0).at("backtest_mase").get<double>();
    };
    REQUIRE_FALSE(refits(plain).empty());
    CHECK(mase(records("--model seasonal-naive --refit-interval 1d --origins 2")) != mase(plain));
    CHECK(mase(records("--model seasonal-naive --refit-interval 1d --keep-outliers")) !=
          mase(plain));
  }
  SECTION("--lead-time") {
    CHECK(records("--model seasonal-naive --lead-time 45m").front().at("lead_seconds") == 2700);
  }
  SECTION("--history: the window each fit reads") {
    const auto short_history = records("--model seasonal-naive --seasonality 1d --history 3d");
    REQUIRE_FALSE(refits(short_history).empty());
    const json fit = refits(short_history).front();
    CHECK(fit.at("data_end_unix").get<std::int64_t>() -
              fit.at("data_start_unix").get<std::int64_t>() <=
          3 * 86400);
  }
  SECTION("--refit-interval") {
    CHECK(refits(records("--model seasonal-naive --refit-interval 6h")).size() >
          refits(plain).size());
  }
  SECTION("--calendar: the fits' regressors") {
    const auto calendar = records(
        "--model holt-winters+calendar --timezone America/New_York "
        "--calendar " +
        calendars_file() + " --calendar-use payroll");
    REQUIRE_FALSE(refits(calendar).empty());
    const json fit = refits(calendar).front();
    CHECK(fit.at("model").get<std::string>().find("+calendar(") != std::string::npos);
    CHECK(has_parameter_prefix(fit.at("parameters"), "calendar.payroll."));
  }
}

TEST_CASE("--horizon is serve's leadTime plus one step: backtest scores what the engine scored",
          "[cli][target]") {
  // A target serving leadTime ahead forecasts the step in progress and the
  // steps up to now + leadTime: its backtest scores leadTime + one step
  // ahead. backtest --horizon on the samples the engine's first fit read
  // gives the score of that fit.
  TempDir dir;
  const std::string trace = payments_trace(dir);  // 15-minute steps
  const std::string model = " --model holt-winters:A,N,A --seasonality 1d --origins 3";
  const fs::path decisions = dir.path / "horizon.jsonl";
  (void)run_json(dir, "simulate --input " + trace +
                          " --capacity-per-replica 120 --format json --lead-time 45m" + model +
                          " --decisions " + decisions.string());
  json fit;
  for (const auto& record : read_records(decisions)) {
    if (record.at("kind") == "refit") {
      fit = record;
      break;
    }
  }
  REQUIRE(fit.is_object());
  const auto from = fit.at("data_start_unix").get<std::int64_t>();
  const auto to = fit.at("data_end_unix").get<std::int64_t>();
  // The trace's rows the fit read, as a CSV of their own (the trace starts
  // at midnight New York, 2026-02-25T05:00:00Z, one row every 15 minutes).
  const fs::path fitted = dir.path / "fitted.csv";
  {
    constexpr std::int64_t kTraceStart = 1771995600;
    std::ifstream in(trace);
    std::ofstream out(fitted);
    std::string line;
    std::getline(in, line);
    REQUIRE(line == "timestamp,value");
    out << line << "\n";
    for (std::int64_t t = kTraceStart; std::getline(in, line); t += 900) {
      if (t == kTraceStart) REQUIRE(line.rfind("2026-02-25T05:00:00Z,", 0) == 0);
      if (t >= from && t < to) out << line << "\n";
    }
  }
  const auto backtest_mase = [&](const std::string& horizon) {
    const json scored = run_json(dir, "backtest --input " + fitted.string() + " --horizon " +
                                          horizon + model + " --format json");
    for (const auto& scored_model : scored.at("models"))  // beside seasonal naive's
      if (scored_model.at("model") == scored.at("selected"))
        return scored_model.at("mase").get<double>();
    FAIL("no score of the selected model");
    return 0.0;
  };
  const double engine = fit.at("backtest_mase").get<double>();
  CHECK(backtest_mase("1h") == Approx(engine).epsilon(1e-9));
  CHECK(backtest_mase("45m") != Approx(engine).epsilon(1e-6));
}

TEST_CASE("backtest --lead-time scores the window the engine serves from", "[cli][target]") {
  // The engine's refit record names the lead window its decision loss is
  // scored on (autoscaler::lead_window_steps: the lead time rounded up to
  // whole steps, at least one, plus the step in progress); backtest
  // --lead-time must score the same window for the same lead time and step.
  TempDir dir;
  struct Case {
    const char* lead;
    const char* step;
  };
  for (const Case c : {Case{"3m", "1m"}, Case{"3m", "5m"}, Case{"90s", "1m"}, Case{"7m", "5m"}}) {
    CAPTURE(c.lead, c.step);
    const fs::path trace = dir.path / (std::string("lead_") + c.step + ".csv");
    if (!fs::exists(trace)) {
      const std::string command = prescale::test::prescale_bin().string() +
                                  " generate --kind payments --start 2026-01-05 --days 6 --step " +
                                  c.step + " --seed 3 --output " + trace.string() +
                                  " >/dev/null 2>&1";
      REQUIRE(std::system(command.c_str()) == 0);
    }
    const std::string model = " --model holt-winters:A,N,A --seasonality 1d --lead-time " +
                              std::string(c.lead) + " --format json";
    const fs::path decisions = dir.path / "lead.jsonl";
    (void)run_json(dir, "simulate --input " + trace.string() +
                            " --capacity-per-replica 120 --refit-interval 1d" + model +
                            " --decisions " + decisions.string());
    std::string engine_window;
    for (const auto& record : read_records(decisions)) {
      const auto reason = record.at("reason").get<std::string>();
      if (const auto at = reason.find("-step lead window"); at != std::string::npos) {
        engine_window = reason.substr(reason.rfind(' ', at) + 1, at - reason.rfind(' ', at) - 1);
        break;
      }
    }
    REQUIRE_FALSE(engine_window.empty());
    const json backtest =
        run_json(dir, "backtest --input " + trace.string() + " --horizon 30m" + model);
    CHECK(std::to_string(backtest.at("served_window").at("steps").get<int>()) == engine_window);
  }
}
