// The SVG plot and the HTML report open in a real browser: headless Chromium
// takes a screenshot and the PNG must show the chart (many colours, ink on
// the page, the run colours), not a blank or broken page. Also drives
// `prescale simulate` end to end on a real trace.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "png.hpp"
#include "prescale/report/frontier.hpp"
#include "prescale/report/report.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace prescale;
using namespace prescale::report;
using namespace prescale::simulate;

namespace {

const char* kChromium = "/usr/bin/chromium";

// A fresh directory per test and process, so parallel runs do not collide.
fs::path scratch_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("prescale-report-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Headless screenshot of a local file at 1200x800; returns the PNG path.
fs::path screenshot(const fs::path& page, const fs::path& dir) {
  const fs::path png = dir / (page.stem().string() + ".png");
  const std::string command =
      std::string("timeout 120 ") + kChromium +
      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir=" +
      (dir / "chromium-profile").string() + " --screenshot=" + png.string() +
      " --window-size=1200,800 file://" + page.string() + " > " + (dir / "chromium.log").string() +
      " 2>&1";
  const int status = std::system(command.c_str());
  INFO("chromium log: " << (dir / "chromium.log").string());
  REQUIRE(status == 0);
  REQUIRE(fs::exists(png));
  return png;
}

struct Ink {
  std::size_t colours = 0;
  double non_background = 0;   // fraction of pixels unlike the page background
  std::size_t near_red = 0;    // reactive #dc2626
  std::size_t near_green = 0;  // oracle #16a34a
};

Ink measure(const fs::path& png) {
  std::string error;
  const auto image = test::read_png(png, error);
  INFO(error);
  REQUIRE(error.empty());
  CHECK(image.width == 1200);
  CHECK(image.height == 800);
  auto close_to = [](std::uint32_t pixel, int r, int g, int b) {
    const int pr = static_cast<int>(pixel >> 16 & 0xff), pg = static_cast<int>(pixel >> 8 & 0xff),
              pb = static_cast<int>(pixel & 0xff);
    return std::abs(pr - r) + std::abs(pg - g) + std::abs(pb - b) <= 40;
  };
  const std::uint32_t background = image.pixels.front();  // the top-left corner
  Ink ink;
  std::set<std::uint32_t> colours;
  std::size_t different = 0;
  for (auto pixel : image.pixels) {
    colours.insert(pixel);
    different += pixel != background ? 1 : 0;
    ink.near_red += close_to(pixel, 0xdc, 0x26, 0x26) ? 1 : 0;
    ink.near_green += close_to(pixel, 0x16, 0xa3, 0x4a) ? 1 : 0;
  }
  ink.colours = colours.size();
  ink.non_background = static_cast<double>(different) / static_cast<double>(image.pixels.size());
  return ink;
}

SimulationResult daily_surges() {
  SimulationConfig config;
  config.start_unix = 1772859600;  // 2026-03-07 00:00 America/New_York
  config.step_seconds = 300;
  config.capacity_per_replica = 100;
  config.startup_seconds = 240;
  const std::size_t steps = 4 * 288;
  std::vector<double> demand(steps);
  ForecastBand band;
  for (std::size_t i = 0; i < steps; ++i) {
    const double hour = static_cast<double>(i % 288) / 12.0;
    demand[i] = 400 + 300 * std::sin((hour - 6) / 24 * 2 * M_PI) +
                ((i % 288) >= 114 && (i % 288) < 126 ? 600 : 0);
    band.mean.push_back(demand[i] * 1.02);
    band.lower.push_back(demand[i] * 0.9);
    band.upper.push_back(demand[i] * 1.12);
  }
  const std::vector<RunSpec> runs = {reactive_run(demand), oracle_run(demand, config)};
  auto result = simulate::simulate(config, demand, runs, band);
  REQUIRE(result.has_value());
  return *result;
}

}  // namespace

TEST_CASE("The SVG plot and the HTML report render in headless Chromium", "[report][chromium]") {
  // make test installs chromium (scripts/install-deps test): missing, it is a failure.
  INFO("/usr/bin/chromium is not installed (Debian package chromium)");
  REQUIRE(fs::exists(kChromium));
  const auto dir = scratch_dir("render");
  const auto result = daily_surges();
  auto zone = calendar::TimeZone::find("America/New_York");
  REQUIRE(zone.has_value());

  const fs::path svg = dir / "plot.svg";
  std::ofstream(svg) << render_trace_svg(result, *zone, "Demand and ready capacity");
  const Ink svg_ink = measure(screenshot(svg, dir));
  CHECK(svg_ink.colours > 50);           // anti-aliased lines, text, shading
  CHECK(svg_ink.non_background > 0.02);  // the chart is drawn, not a blank page
  CHECK(svg_ink.near_red > 50);          // the reactive capacity line and violation shading
  CHECK(svg_ink.near_green > 50);        // the oracle line

  ReportOptions options;
  options.trace_name = "daily-surges.csv";
  options.zone = *zone;
  const fs::path html = dir / "report.html";
  std::ofstream(html) << render_report_html(result, options);
  const Ink html_ink = measure(screenshot(html, dir));
  CHECK(html_ink.colours > 50);
  CHECK(html_ink.non_background > 0.05);
  CHECK(html_ink.near_red > 20);  // table swatch, chart lines
  fs::remove_all(dir);
}

TEST_CASE("The frontier plot renders in headless Chromium, alone and in the report",
          "[report][chromium][frontier]") {
  // make test installs chromium (scripts/install-deps test): missing, it is a failure.
  INFO("/usr/bin/chromium is not installed (Debian package chromium)");
  REQUIRE(fs::exists(kChromium));
  const auto dir = scratch_dir("frontier");
  const auto result = daily_surges();
  FrontierOptions options;
  options.reactive_targets = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5};
  const auto frontier = sweep_frontier(result.config, result.demand, nullptr, options);
  REQUIRE(frontier.has_value());

  const fs::path svg = dir / "frontier.svg";
  std::ofstream(svg) << render_frontier_svg(*frontier, "Violation minutes against replica-hours");
  const Ink ink = measure(screenshot(svg, dir));
  CHECK(ink.colours > 30);
  CHECK(ink.non_background > 0.01);
  CHECK(ink.near_red > 50);    // the reactive frontier and its points
  CHECK(ink.near_green > 50);  // the oracle's

  ReportOptions report_options;
  report_options.trace_name = "daily-surges.csv";
  report_options.frontier = &*frontier;
  const fs::path html = dir / "report.html";
  std::ofstream(html) << render_report_html(result, report_options);
  const Ink html_ink = measure(screenshot(html, dir));
  CHECK(html_ink.colours > 50);
  CHECK(html_ink.non_background > 0.05);
  fs::remove_all(dir);
}

TEST_CASE("The screenshot check fails on a blank page", "[report][chromium]") {
  // make test installs chromium (scripts/install-deps test): missing, it is a failure.
  INFO("/usr/bin/chromium is not installed (Debian package chromium)");
  REQUIRE(fs::exists(kChromium));
  const auto dir = scratch_dir("blank");
  const fs::path html = dir / "blank.html";
  std::ofstream(html) << "<!DOCTYPE html><html><body style=\"background:#fff\"></body></html>";
  const Ink ink = measure(screenshot(html, dir));
  CHECK(ink.colours <= 2);
  CHECK(ink.non_background < 0.001);
  fs::remove_all(dir);
}

TEST_CASE("prescale simulate on a real trace writes a report Chromium renders",
          "[report][cli][shared-data]") {
  PRESCALE_REQUIRE_SHARED_DATA(data);
  const fs::path trace = data / "nab" / "ec2_cpu_utilization_5f5533.csv";
  INFO(trace << " is missing from ../shared/data");
  REQUIRE(fs::exists(trace));
  const auto dir = scratch_dir("cli");
  const std::string command =
      test::prescale_bin().string() + " simulate --input " + trace.string() +
      " --capacity-per-replica 10 --startup 4m --history 5d --refit-interval 1d"
      " --timezone America/New_York --report " +
      (dir / "report.html").string() + " --timeline " + (dir / "timeline.csv").string() +
      " --plot " + (dir / "plot.svg").string() + " --format json > " +
      (dir / "summary.json").string() + " 2> " + (dir / "stderr.txt").string();
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream json_file(dir / "summary.json");
  const std::string json((std::istreambuf_iterator<char>(json_file)),
                         std::istreambuf_iterator<char>());
  CHECK_THAT(json, Catch::Contains("\"name\": \"reactive\""));
  CHECK_THAT(json, Catch::Contains("\"name\": \"oracle\""));
  CHECK_THAT(json, Catch::Contains("\"slo_violation_minutes\""));
  // The predictive run is either simulated or said to be missing, never silently absent.
  const bool predictive = json.find("\"name\": \"predictive\"") != std::string::npos;
  CHECK(predictive == (json.find("\"predictive_available\": true") != std::string::npos));
  if (!predictive) CHECK_THAT(json, Catch::Contains("predictive run not simulated"));

  std::ifstream timeline(dir / "timeline.csv");
  std::string header;
  std::getline(timeline, header);
  CHECK_THAT(header, Catch::StartsWith("timestamp,local_time,demand,forecast"));
  std::size_t rows = 0;
  for (std::string line; std::getline(timeline, line);) ++rows;
  CHECK(rows > 1000);

  REQUIRE(fs::exists(kChromium));
  const Ink ink = measure(screenshot(dir / "report.html", dir));
  CHECK(ink.colours > 50);
  CHECK(ink.non_background > 0.05);
  fs::remove_all(dir);
}

TEST_CASE("prescale simulate --frontier --recommend sweeps, recommends and reports",
          "[report][cli][frontier]") {
  const auto dir = scratch_dir("frontier-cli");
  const std::string trace = (dir / "payments.csv").string();
  const std::string generate = test::prescale_bin().string() +
                               " generate --kind payments --start 2026-01-05 --days 6 --step 10m"
                               " --timezone America/New_York --seed 3 --output " +
                               trace + " > /dev/null 2>&1";
  REQUIRE(std::system(generate.c_str()) == 0);
  const std::string command =
      test::prescale_bin().string() + " simulate --input " + trace +
      " --timezone America/New_York --seasonality 1d --capacity-per-replica 100 --startup 5m"
      " --history 3d --refit-interval 1d --frontier --recommend --frontier-quantiles 0.5,0.9"
      " --frontier-predictive-targets 100,90 --frontier-targets 100,90,80,70,60,50"
      " --frontier-refine-percent 0 --frontier-floor-percent 0 --report " +
      (dir / "report.html").string() + " --format json > " + (dir / "out.json").string() + " 2> " +
      (dir / "stderr.txt").string();
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream json_file(dir / "out.json");
  const std::string json((std::istreambuf_iterator<char>(json_file)),
                         std::istreambuf_iterator<char>());
  CHECK_THAT(json, Catch::Contains("\"frontier\""));
  CHECK_THAT(json, Catch::Contains("\"replica_hours_saved_percent\""));
  CHECK_THAT(json, Catch::Contains("\"recommendation\""));
  const auto parsed = nlohmann::json::parse(json);
  const auto& frontier = parsed.at("frontier");
  // 6 reactive + 6 oracle + 2 x 2 x 2 predictive settings (observed-load target x
  // forecast target x quantile), each saying both targets: the listed ones
  // only (none between them, none below them).
  CHECK(frontier.at("points").size() == 20);
  std::size_t two_targets = 0;
  for (const auto& p : frontier.at("points")) {
    REQUIRE(p.contains("observed_target_percent"));
    if (p.at("run") != "predictive") {
      CHECK(p.at("observed_target_percent") == p.at("target_percent"));
      continue;
    }
    two_targets += p.at("observed_target_percent") != p.at("target_percent") ? 1 : 0;
  }
  CHECK(two_targets == 4);
  const auto& recommended = parsed.at("recommendation").at("predictive");
  if (recommended.is_object())
    CHECK(std::stod(recommended.at("observed_average_value").get<std::string>()) ==
          Approx(recommended.at("observed_target_percent").get<double>()));  // capacity 100
  CHECK(frontier.at("slo_minutes").get<double>() ==
        Approx(0.001 * frontier.at("observed_minutes").get<double>()));
  CHECK(frontier.at("replayed_quantile").get<double>() == 0.9);
  std::ifstream html_file(dir / "report.html");
  const std::string html((std::istreambuf_iterator<char>(html_file)),
                         std::istreambuf_iterator<char>());
  CHECK_THAT(html, Catch::Contains("Cost against SLO: the frontier"));

  // A bad sweep flag is named.
  const std::string bad = test::prescale_bin().string() + " simulate --input " + trace +
                          " --capacity-per-replica 100 --no-predictive --frontier"
                          " --frontier-quantiles 0.9,1.2 > " +
                          (dir / "bad.txt").string() + " 2>&1";
  CHECK(std::system(bad.c_str()) != 0);
  std::ifstream bad_file(dir / "bad.txt");
  const std::string bad_text((std::istreambuf_iterator<char>(bad_file)),
                             std::istreambuf_iterator<char>());
  CHECK_THAT(bad_text, Catch::Contains("--frontier-quantiles: 1.2 is not in (0, 1)"));
  fs::remove_all(dir);
}

TEST_CASE("prescale simulate names a bad behavior file and a bad capacity", "[report][cli]") {
  const auto dir = scratch_dir("errors");
  {
    std::ofstream csv(dir / "load.csv");
    csv << "timestamp,value\n";
    for (int i = 0; i < 100; ++i) csv << 1767225600 + i * 60 << ',' << 100 + i << '\n';
    std::ofstream(dir / "hpa.yaml") << "behavior:\n  scaleUp:\n    selectPolicy: Fastest\n";
  }
  auto run = [&](const std::string& extra) {
    const std::string command = test::prescale_bin().string() +
                                " simulate --no-predictive --input " + (dir / "load.csv").string() +
                                " " + extra + " > " + (dir / "out.txt").string() + " 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream in(dir / "out.txt");
    return std::make_pair(status, std::string((std::istreambuf_iterator<char>(in)),
                                              std::istreambuf_iterator<char>()));
  };
  const auto [bad_yaml_status, bad_yaml] =
      run("--capacity-per-replica 10 --hpa-behavior " + (dir / "hpa.yaml").string());
  CHECK(bad_yaml_status != 0);
  CHECK_THAT(bad_yaml, Catch::Contains(
                           "behavior.scaleUp.selectPolicy: 'Fastest' is not Max, Min or Disabled"));
  const auto [zero_status, zero] = run("--capacity-per-replica 0");
  CHECK(zero_status != 0);
  CHECK_THAT(zero, Catch::Contains("--capacity-per-replica"));
  const auto [ok_status, ok] = run("--capacity-per-replica 10 --format table");
  CHECK(ok_status == 0);
  CHECK_THAT(ok, Catch::Contains("predictive run skipped (--no-predictive)"));
  CHECK_THAT(ok, Catch::Contains("reactive"));
  fs::remove_all(dir);
}
