// Reports: worst-surge windows, the timeline CSV, SVG axes in local time,
// and a self-contained HTML page.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "prescale/report/frontier.hpp"
#include "prescale/report/report.hpp"
#include "prescale/report/svg.hpp"

using namespace prescale;
using namespace prescale::report;
using namespace prescale::simulate;

namespace {

// 2026-03-07 00:00 America/New_York (EST, UTC-5): the next day is the 23-hour
// spring-forward day.
constexpr std::int64_t kSaturdayNewYork = 1772859600;

calendar::TimeZone new_york() {
  auto zone = calendar::TimeZone::find("America/New_York");
  REQUIRE(zone.has_value());
  return *zone;
}

SimulationResult surge_result() {
  SimulationConfig config;
  config.start_unix = kSaturdayNewYork;
  config.step_seconds = 300;
  config.capacity_per_replica = 100;
  config.startup_seconds = 300;
  std::vector<double> demand(3 * 288, 400.0);               // three days of 5-minute steps
  for (std::size_t i = 100; i < 130; ++i) demand[i] = 900;  // small surge
  // A staircase the HPA keeps chasing: every step is another 5-minute start-up.
  for (std::size_t i = 400; i < 460; ++i) demand[i] = 900.0 + 100.0 * static_cast<double>(i - 400);
  const std::vector<RunSpec> runs = {reactive_run(demand), oracle_run(demand, config)};
  auto result = simulate::simulate(config, demand, runs);
  REQUIRE(result.has_value());
  return *result;
}

}  // namespace

TEST_CASE("worst_windows: worst first, non-overlapping, none without violation", "[report]") {
  const auto result = surge_result();
  const auto windows = worst_windows(result, 0, 3, 72);
  REQUIRE(windows.size() == 2);  // only two surges violate
  CHECK(windows[0].begin <= 400);
  CHECK(windows[0].end > 400);
  CHECK(windows[1].begin <= 100);
  CHECK(windows[1].end > 100);
  CHECK(windows[0].violation_minutes > windows[1].violation_minutes);
  CHECK(windows[0].violation_minutes ==
        Approx(result.summaries[0].slo_violation_minutes - windows[1].violation_minutes));
  // The oracle never misses the small surge (within the 10 % tolerance it can
  // still trail the staircase).
  for (const auto& w : worst_windows(result, 1, 3, 72)) CHECK(w.begin > 130);
  CHECK(worst_windows(result, 0, 0, 72).empty());
  CHECK(default_zoom_steps(result) == 72);  // 6 hours of 5 minutes
}

TEST_CASE("Timeline CSV: one row per step, UTC and local time, per-run columns", "[report]") {
  const auto result = surge_result();
  std::ostringstream out;
  write_timeline_csv(out, result, new_york());
  std::istringstream in(out.str());
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  CHECK(header ==
        "timestamp,local_time,demand,forecast,forecast_lower,forecast_upper,reactive_served,"
        "reactive_replicas,reactive_ready,reactive_violation_seconds,oracle_served,oracle_replicas,"
        "oracle_ready,oracle_violation_seconds");
  CHECK(first == "2026-03-07T05:00:00Z,2026-03-07T00:00:00-05:00,400,,,,400,4,4,0,400,4,4,0");
  std::size_t rows = 1;
  std::string line, last;
  while (std::getline(in, line)) {
    ++rows;
    last = line;
  }
  CHECK(rows == result.steps());
  // Three days from Saturday 00:00 EST end on Tuesday 01:00 EDT (Sunday has 23 hours).
  CHECK_THAT(last, Catch::StartsWith("2026-03-10T04:55:00Z,2026-03-10T00:55:00-04:00,"));
}

TEST_CASE("SVG time axis: local wall-clock ticks, DST gap skipped", "[report][svg]") {
  TimePlot plot;
  plot.title = "DST <day> & co";
  plot.start_unix = kSaturdayNewYork + 86400;  // Sunday 2026-03-08, 23 hours long
  plot.step_seconds = 300;
  plot.lines.push_back({"demand", "#111827", std::vector<double>(276, 5.0), LineStyle::line, 1.5});
  const std::string svg = render_time_plot_svg(plot, new_york());
  CHECK_THAT(svg, Catch::StartsWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK_THAT(svg, Catch::Contains(">00:00<"));
  CHECK_THAT(svg, Catch::Contains(">03:00<"));
  CHECK_THAT(svg, Catch::Contains(">21:00<"));
  CHECK_THAT(svg, Catch::Contains(">Sun 08 Mar<"));
  CHECK_FALSE(svg.find(">02:00<") != std::string::npos);  // 02:00 does not exist that day
  CHECK_THAT(svg, Catch::Contains("local time (America/New_York)"));
  CHECK_THAT(svg, Catch::Contains("DST &lt;day&gt; &amp; co"));
  CHECK(svg.find("<day>") == std::string::npos);
}

TEST_CASE("Long traces are decimated but keep their peaks", "[report][svg]") {
  TimePlot plot;
  plot.start_unix = 0;
  plot.step_seconds = 60;
  std::vector<double> values(200000, 10.0);
  values[123457] = 1000.0;
  plot.lines.push_back({"load", "#000", values, LineStyle::line, 1.0});
  const std::string svg = render_time_plot_svg(plot, calendar::TimeZone::utc());
  CHECK(svg.size() < 200000);                  // not one point per sample
  CHECK_THAT(svg, Catch::Contains(">1250<"));  // the y axis reaches the peak
}

TEST_CASE("Number formatting for axes and local times", "[report][svg]") {
  CHECK(format_axis_number(0) == "0");
  CHECK(format_axis_number(250) == "250");
  CHECK(format_axis_number(12500) == "12.5k");
  CHECK(format_axis_number(2000000) == "2M");
  CHECK(format_axis_number(0.25) == "0.25");
  CHECK(format_local_minute(kSaturdayNewYork, new_york()) == "2026-03-07 00:00");
  CHECK(format_local_iso(kSaturdayNewYork, calendar::TimeZone::utc()) ==
        "2026-03-07T05:00:00+00:00");
  CHECK(xml_escape("a<b>&\"c\"") == "a&lt;b&gt;&amp;&quot;c&quot;");
}

TEST_CASE("HTML report: self-contained, summary table, zoomed surges", "[report]") {
  const auto result = surge_result();
  ReportOptions options;
  options.trace_name = "surges.csv";
  options.zone = new_york();
  options.notes = {"predictive run not simulated: <why>"};
  const std::string html = render_report_html(result, options);
  CHECK_THAT(html, Catch::StartsWith("<!DOCTYPE html>"));
  CHECK_THAT(html, Catch::Contains("surges.csv"));
  CHECK_THAT(html, Catch::Contains("predictive run not simulated: &lt;why&gt;"));
  CHECK_THAT(html,
             Catch::Contains(
                 "<td><span class=\"swatch\" style=\"background:#dc2626\"></span>reactive</td>"));
  CHECK_THAT(html, Catch::Contains("Surge 1 · 2026-03-08"));
  CHECK_THAT(html, Catch::Contains("Surge 2 · 2026-03-07"));
  CHECK(html.find("Surge 3") == std::string::npos);
  // Four inline plots with distinct clip ids; nothing fetched from a network.
  std::size_t plots = 0;
  for (auto at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1))
    ++plots;
  CHECK(plots == 3);
  CHECK_THAT(html, Catch::Contains("id=\"full-frame\""));
  CHECK_THAT(html, Catch::Contains("id=\"zoom2-frame\""));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
}

TEST_CASE("Text summary table", "[report]") {
  const auto table = format_summary_table(surge_result());
  CHECK_THAT(table, Catch::StartsWith("run       SLO violation min"));
  CHECK_THAT(table, Catch::Contains("\nreactive "));
  CHECK_THAT(table, Catch::Contains("\noracle "));
}

namespace {

FrontierResult small_frontier() {
  FrontierResult f;
  auto add = [&](const char* run, double target, double q, double minutes, double rh) {
    FrontierPoint p;
    p.run = run;
    p.target_fraction = target;
    p.quantile = q;
    p.violation_minutes = minutes;
    p.replica_hours = rh;
    f.points.push_back(p);
  };
  add("reactive", 1.0, 0, 800, 1000);
  add("reactive", 0.8, 0, 60, 1300);
  add("reactive", 0.6, 0, 5, 1700);
  add("predictive", 1.0, 0.9, 300, 1050);
  add("predictive", 0.9, 0.9, 6, 1200);
  add("oracle", 1.0, 0, 90, 1020);
  add("oracle", 0.9, 0, 0, 1100);
  for (const char* run : {"reactive", "predictive", "oracle"})
    for (auto i : frontier_of(f.points, run)) f.points[i].on_frontier = true;
  f.replayed_quantile = 0.9;
  auto& h = f.headline;
  h.observed_minutes = 10000;
  h.slo_minutes = 10;
  h.reactive_at_slo = 2;
  h.predictive_at_slo = 4;
  h.oracle_at_slo = 6;
  h.saved_percent = 100 * (1 - 1200.0 / 1700.0);
  h.operating_point = 4;
  h.reactive_minutes_at_equal_cost = frontier_minutes_at(f.points, "reactive", 1200);
  h.violation_ratio = 6 / *h.reactive_minutes_at_equal_cost;
  return f;
}

}  // namespace

TEST_CASE("The frontier table lists every setting and says the headline in words",
          "[report][frontier]") {
  const auto f = small_frontier();
  const std::string table = format_frontier_table(f);
  CHECK_THAT(table, Catch::Contains("reactive        60%"));
  CHECK_THAT(table, Catch::Contains("predictive      90%       90%       0.9"));
  CHECK_THAT(table, Catch::Contains("SLO: at most 10 violation minutes (0.1 % of 10,000 minutes)"));
  CHECK_THAT(table,
             Catch::Contains("predictive  meets it with 1,200 replica-hours (target 90 %, q0.9"));
  CHECK_THAT(table, Catch::Contains("predictive needs 29.4 % fewer replica-hours than reactive"));
  // 1200 rh on the reactive frontier: between (1000, 800) and (1300, 60) -> 306.7.
  CHECK_THAT(table, Catch::Contains("predictive 6.0 violation minutes, reactive frontier 306.7: "
                                    "0.02x"));
}

TEST_CASE("Where predictive costs more at the SLO, the table says to run the reactive setting",
          "[report][frontier]") {
  // A loose SLO on a noisy trace: the cheapest predictive setting meeting it
  // spends more than the cheapest reactive one (docs/targets.md).
  auto f = small_frontier();
  f.headline.saved_percent = 100 * (1 - 1200.0 / 1150.0);
  const std::string table = format_frontier_table(f);
  CHECK_THAT(table, Catch::Contains("predictive needs 4.3 % more replica-hours than reactive: at "
                                    "this SLO the forecast does not pay for itself, run the "
                                    "reactive setting"));
  CHECK_THAT(table, !Catch::Contains("fewer replica-hours than reactive"));
  CHECK(saving_against_reactive(29.44) == "29.4 % fewer replica-hours than reactive");
}

TEST_CASE("The frontier plot draws each run's frontier and the SLO; the report includes it",
          "[report][frontier]") {
  const auto f = small_frontier();
  const std::string svg = render_frontier_svg(f, "Frontier");
  CHECK_THAT(svg, Catch::StartsWith("<svg"));
  CHECK_THAT(svg, Catch::Contains("SLO: 10 violation minutes"));
  for (const char* color : {"#dc2626", "#2563eb", "#16a34a"}) {
    CHECK_THAT(svg, Catch::Contains(std::string("<path d=\"M")));
    CHECK_THAT(svg, Catch::Contains(std::string("fill=\"") + color));
  }
  CHECK(std::count(svg.begin(), svg.end(), '\n') > 20);
  const auto result = surge_result();
  ReportOptions options;
  const std::string without = render_report_html(result, options);
  CHECK_THAT(without, !Catch::Contains("the frontier"));
  options.frontier = &f;
  const std::string with = render_report_html(result, options);
  CHECK_THAT(with, Catch::Contains("Cost against SLO: the frontier"));
  CHECK_THAT(with, Catch::Contains("Violation minutes against replica-hours"));
}

TEST_CASE("The daemon's own tuning is one more point, said in words and drawn only when replayed",
          "[report][frontier]") {
  auto f = small_frontier();
  CHECK_THAT(render_frontier_svg(f, "Frontier"), !Catch::Contains(">daemon<"));
  CHECK_THAT(format_frontier_table(f), !Catch::Contains("the daemon's own tuning"));
  // A point of its own run, as the sweep adds the daemon's two.
  auto own_point = [](const char* run, double minutes, double replica_hours) {
    FrontierPoint p;
    p.run = run;
    p.target_fraction = 1;
    p.violation_minutes = minutes;
    p.replica_hours = replica_hours;
    p.on_frontier = true;
    return p;
  };
  FrontierPoint daemon = own_point("daemon", 8, 1250);
  daemon.quantile = 0.9;
  daemon.observed_target = 0.8;
  f.points.push_back(daemon);
  auto& h = f.headline;
  h.daemon_point = f.points.size() - 1;
  h.daemon_meets_slo = true;
  h.daemon_saved_percent = 100 * (1 - 1250.0 / 1700.0);
  h.daemon_reactive_minutes_at_equal_cost = frontier_minutes_at(f.points, "reactive", 1250);
  h.daemon_violation_ratio = 8 / *h.daemon_reactive_minutes_at_equal_cost;
  const std::string table = format_frontier_table(f);
  CHECK_THAT(table, Catch::Contains("daemon         100%       80%"));
  CHECK_THAT(table, Catch::Contains("the daemon's own tuning (slo: retuned at each refit, HPA "
                                    "target = capacity for the forecast, 80 % for the observed "
                                    "load): 1,250 replica-hours, 8.0 violation minutes (meets "
                                    "the SLO)"));
  CHECK_THAT(table,
             Catch::Contains("26.5 % fewer replica-hours than the cheapest reactive target"));
  // 1250 rh: between (1000, 800) and (1300, 60) -> 183.3 minutes.
  CHECK_THAT(table, Catch::Contains("has 183.3 violation minutes at its replica-hours: 0.04x"));
  const std::string svg = render_frontier_svg(f, "Frontier");
  CHECK_THAT(svg, Catch::Contains(">daemon<"));
  CHECK_THAT(svg, Catch::Contains("fill=\"#9333ea\""));
  CHECK_THAT(svg, !Catch::Contains("reactive, retuned"));
  CHECK_THAT(table, !Catch::Contains("retuned the same way"));

  // Beside it, the reactive HPA retuned the same way: a line of its own
  // (not a table row: its target moves), and a point in the plot.
  f.points.push_back(own_point("reactive-tuned", 9, 1400));
  h.tuned_reactive_point = f.points.size() - 1;
  h.tuned_reactive_meets_slo = true;
  h.daemon_saved_vs_tuned_reactive_percent = 100 * (1 - 1250.0 / 1400.0);
  const std::string with_retuned = format_frontier_table(f);
  CHECK_THAT(with_retuned, Catch::Contains("a reactive HPA retuned the same way (its per-pod "
                                           "target the tuning's reactive choice at each refit): "
                                           "1,400 replica-hours, 9.0 violation minutes (meets "
                                           "the SLO)"));
  CHECK_THAT(with_retuned,
             Catch::Contains("10.7 % fewer replica-hours than that retuned reactive HPA"));
  CHECK_THAT(with_retuned, !Catch::Contains("reactive-tuned "));
  const std::string retuned_svg = render_frontier_svg(f, "Frontier");
  CHECK_THAT(retuned_svg, Catch::Contains(">reactive, retuned<"));
  CHECK_THAT(retuned_svg, Catch::Contains("fill=\"#f97316\""));

  // Where the daemon spends more, the line says "more", never "-N % fewer".
  h.daemon_saved_percent = -19.8;
  const std::string dearer = format_frontier_table(f);
  CHECK_THAT(dearer,
             Catch::Contains("19.8 % more replica-hours than the cheapest reactive target"));
  CHECK_THAT(dearer, !Catch::Contains("-19.8"));
}

TEST_CASE("Settings with two targets: only the frontier's are listed and drawn, with both targets",
          "[report][frontier]") {
  auto f = small_frontier();
  const std::string diagonal_svg = render_frontier_svg(f, "Frontier");
  CHECK_THAT(diagonal_svg, !Catch::Contains("stroke-dasharray=\"3 3\""));
  auto add = [&](double observed, double forecast, double minutes, double rh) {
    FrontierPoint p;
    p.run = "predictive";
    p.observed_target = observed;
    p.target_fraction = forecast;
    p.quantile = 0.5;
    p.violation_minutes = minutes;
    p.replica_hours = rh;
    f.points.push_back(p);
  };
  add(0.85, 1.0, 40, 1100);    // cheaper and better than the diagonal's 90 %: on the frontier
  add(0.95, 0.85, 500, 1400);  // beaten on both: neither listed nor drawn
  for (auto& p : f.points) p.on_frontier = false;
  for (const char* run : {"reactive", "predictive", "oracle"})
    for (auto i : frontier_of(f.points, run)) f.points[i].on_frontier = true;
  REQUIRE(f.points[7].on_frontier);
  REQUIRE_FALSE(f.points[8].on_frontier);
  f.headline.predictive_at_slo = 4;
  f.headline.worst_excess_minutes = 25;
  f.headline.worst_excess_point = 7;
  const std::string table = format_frontier_table(f);
  CHECK_THAT(table, Catch::Contains("predictive     100%       85%       0.5           40.0"));
  CHECK_THAT(table, !Catch::Contains("1400.0"));
  CHECK_THAT(table, Catch::Contains("1 settings with two targets off the frontier not listed"));
  CHECK_THAT(table, Catch::Contains("by at most 25.0 minutes (observed load at 85 %, forecast at "
                                    "100 %, q0.5)"));
  const std::string svg = render_frontier_svg(f, "Frontier");
  // The two-target point off the frontier is not drawn; the diagonal's
  // frontier is, faint, beside the plane's.
  const auto dots = [](const std::string& text) {
    std::size_t n = 0;
    for (auto at = text.find("<circle"); at != std::string::npos; at = text.find("<circle", at + 1))
      ++n;
    return n;
  };
  CHECK(dots(svg) == dots(diagonal_svg) + 1);
  CHECK_THAT(svg, Catch::Contains("stroke-dasharray=\"3 3\""));
  CHECK_THAT(render_frontier_html(f), Catch::Contains("faint dotted blue line"));
  CHECK_THAT(render_frontier_html(small_frontier()), !Catch::Contains("faint dotted"));
}
