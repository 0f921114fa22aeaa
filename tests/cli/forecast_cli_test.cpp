#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "prescale/common/time.hpp"
#include "prescale/file/csv_series.hpp"
#include "run_prescale.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using prescale::test::Run;
using prescale::test::run_prescale;

struct TempCsv {
  fs::path path;
  explicit TempCsv(const std::string& name, const std::string& text) {
    path = fs::temp_directory_path() / ("prescale_cli_" + std::to_string(::getpid()) + "_" + name);
    std::ofstream(path) << text;
  }
  ~TempCsv() { fs::remove(path); }
};

constexpr std::int64_t kStart = 1767571200;  // 2026-01-05T00:00:00Z

// Three weeks of 5-minute load with a daily cycle, in RFC 3339.
std::string daily_csv(std::size_t days) {
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, 2);
  std::string text = "timestamp,value\n";
  for (std::size_t i = 0; i < days * 288; ++i) {
    const double v =
        100 + 40 * std::sin(2 * M_PI * static_cast<double>(i % 288) / 288) + noise(rng);
    text += prescale::format_rfc3339(kStart + static_cast<std::int64_t>(i) * 300) + "," +
            std::to_string(v) + "\n";
  }
  return text;
}

}  // namespace

TEST_CASE("forecast prints the documented JSON, starting one step after the input",
          "[cli][forecast]") {
  TempCsv csv("daily.csv", daily_csv(15));
  const Run run =
      run_prescale("forecast --input " + csv.path.string() + " --horizon 1h --quantile 0.9");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto json = nlohmann::json::parse(run.out);
  CHECK(json["model"].is_string());
  CHECK(json["parameters"].is_object());
  CHECK(json["step_seconds"] == 300);
  CHECK(json["fit_seconds"].is_number());
  CHECK(json["notes"].is_array());
  const auto& points = json["points"];
  REQUIRE(points.size() == 12);
  const std::int64_t last_input = kStart + (15 * 288 - 1) * 300;
  CHECK(points[0]["timestamp"] == prescale::format_rfc3339(last_input + 300));
  CHECK(points[11]["timestamp"] == prescale::format_rfc3339(last_input + 12 * 300));
  for (const auto& p : points) {
    CHECK(p["lower"].get<double>() <= p["mean"].get<double>());
    CHECK(p["mean"].get<double>() <= p["upper"].get<double>());
  }
  // The daily cycle: the next hour is at the start of the sine, near 100.
  CHECK(points[0]["mean"].get<double>() == Approx(100).margin(15));
}

TEST_CASE("a bad CSV row is reported with its file and line", "[cli][forecast]") {
  TempCsv csv("bad.csv", "timestamp,value\n2026-01-05T00:00:00Z,1\n2026-01-05T00:05:00Z,1O\n");
  const Run run = run_prescale("forecast --input " + csv.path.string());
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.err, Catch::Contains(csv.path.string() + ":3: value '1O' is not a number"));
  CHECK(run.out.empty());
}

TEST_CASE("bad options are explained", "[cli][forecast]") {
  TempCsv csv("ok.csv", daily_csv(3));
  const Run zone = run_prescale("forecast --input " + csv.path.string() + " --timezone Mars/Base");
  CHECK(zone.exit_code == 1);
  CHECK_THAT(zone.err, Catch::Contains("--timezone: unknown time zone 'Mars/Base'"));
  const Run model = run_prescale("forecast --input " + csv.path.string() + " --model prophet");
  CHECK(model.exit_code == 1);
  CHECK_THAT(model.err, Catch::Contains("unknown model 'prophet'"));
  const Run season = run_prescale("forecast --input " + csv.path.string() + " --seasonality 7m");
  CHECK(season.exit_code == 1);
  CHECK_THAT(season.err, Catch::Contains("--seasonality: 7m is not a multiple"));
  const Run missing = run_prescale("forecast --input /nonexistent/load.csv");
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("/nonexistent/load.csv"));
}

TEST_CASE("a short history drops the weekly season and says so", "[cli][forecast]") {
  TempCsv csv("short.csv", daily_csv(3));
  const Run run = run_prescale("forecast --input " + csv.path.string() + " --format json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto json = nlohmann::json::parse(run.out);
  bool dropped = false;
  for (const auto& note : json["notes"])
    dropped |= note.get<std::string>().find("season 1w dropped") != std::string::npos;
  CHECK(dropped);
}

TEST_CASE("csv and table formats", "[cli][forecast]") {
  TempCsv csv("fmt.csv", daily_csv(4));
  const Run as_csv = run_prescale("forecast --input " + csv.path.string() +
                                  " --format csv --horizon 30m --model seasonal-naive");
  REQUIRE(as_csv.exit_code == 0);
  CHECK(as_csv.out.rfind("timestamp,mean,lower,upper\n", 0) == 0);
  CHECK(std::count(as_csv.out.begin(), as_csv.out.end(), '\n') == 7);
  const Run table =
      run_prescale("forecast --input " + csv.path.string() + " --format table --horizon 30m");
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("model: "));
  CHECK_THAT(table.out, Catch::Contains("q90"));
}

TEST_CASE("backtest prints every model's scores and the selection", "[cli][backtest]") {
  TempCsv csv("bt.csv", daily_csv(15));
  const Run run = run_prescale("backtest --input " + csv.path.string() +
                               " --horizon 1h --origins 4 --format json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto json = nlohmann::json::parse(run.out);
  CHECK(json["horizon_seconds"] == 3600);
  CHECK(json["origins"] == 4);
  REQUIRE(json["models"].size() >= 2);
  CHECK(json["models"][0]["model"].get<std::string>().rfind("seasonal-naive", 0) == 0);
  for (const auto& m : json["models"]) {
    CHECK(m.contains("mase"));
    CHECK(m.contains("smape"));
    CHECK(m.contains("coverage"));
    CHECK(m.contains("fit_seconds_mean"));
  }
  CHECK(json["selected"].is_string());
  const Run table = run_prescale("backtest --input " + csv.path.string() + " --origins 4");
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("selected: "));
}

TEST_CASE("backtest --lead-time reports each model's decision loss beside MASE, same choice",
          "[cli][backtest]") {
  TempCsv csv("bt_lead.csv", daily_csv(15));
  const std::string common = "backtest --input " + csv.path.string() + " --horizon 30m --origins 4";
  const Run plain = run_prescale(common + " --format json");
  REQUIRE(plain.exit_code == 0);
  CHECK_FALSE(nlohmann::json::parse(plain.out)["models"][0].contains("decision_loss"));
  // 12 minutes at 5-minute steps: 3 lead steps + the step in progress.
  const Run run = run_prescale(common + " --lead-time 12m --quantile 0.95 --format json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto json = nlohmann::json::parse(run.out);
  CHECK(json["served_window"]["steps"] == 4);
  CHECK(json["served_window"]["quantile"] == 0.95);
  CHECK(json["models"][0]["decision_loss"] == Approx(1.0));  // seasonal naive, the yardstick
  for (const auto& m : json["models"]) CHECK(m.contains("decision_loss"));
  CHECK(json["selected"] == nlohmann::json::parse(plain.out)["selected"]);
  CHECK_THAT(json["reason"].get<std::string>(),
             Catch::Contains("decision loss at q0.95 of the 4-step lead window's peak"));
  const Run table = run_prescale(common + " --lead-time 12m");
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("decision"));

  const Run too_long = run_prescale(common + " --lead-time 1h");
  CHECK(too_long.exit_code != 0);
  CHECK_THAT(too_long.err, Catch::Contains("--lead-time 1h"));
  CHECK_THAT(too_long.err, Catch::Contains("--horizon"));
}

TEST_CASE("--help teaches with an example", "[cli]") {
  for (const char* command : {"forecast", "backtest"}) {
    CAPTURE(command);
    const Run run = run_prescale(std::string(command) + " --help");
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.out, Catch::Contains("Example:"));
    CHECK_THAT(run.out, Catch::Contains("--input"));
    CHECK_THAT(run.out, Catch::Contains("--seasonality"));
  }
}

TEST_CASE("a NAB trace forecasts end to end", "[cli][shared-data]") {
  PRESCALE_REQUIRE_SHARED_DATA(data);
  const Run run =
      run_prescale("forecast --input " + (data / "nab" / "elb_request_count_8c0756.csv").string() +
                   " --horizon 1h --format json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  const auto json = nlohmann::json::parse(run.out);
  CHECK(json["points"].size() == 12);
  CHECK(json["points"][0]["timestamp"] == "2014-04-24T00:44:00Z");  // last row 2014-04-24 00:39:00
}
