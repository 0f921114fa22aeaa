#pragma once
// What a simulation shows a person: the summary table (text or HTML), the
// per-step timeline as CSV, SVG plots of the trace, and one self-contained
// HTML page (inline SVG and CSS, no network) with the full trace and zoomed
// plots of the worst surges. Library code: returns strings or writes to a
// stream it is given; never prints.
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

#include "prescale/calendar/time_zone.hpp"
#include "prescale/report/svg.hpp"
#include "prescale/simulate/frontier.hpp"
#include "prescale/simulate/simulation.hpp"

namespace prescale::report {

struct ReportOptions {
  std::string title = "Autoscaling simulation";
  std::string trace_name;  ///< e.g. the input file
  calendar::TimeZone zone = calendar::TimeZone::utc();
  std::string hpa_description;     ///< e.g. "no behavior (Kubernetes defaults)"
  std::vector<std::string> notes;  ///< shown above the table (e.g. why a run is missing)
  std::size_t zoom_windows = 3;
  std::string generator;  ///< e.g. "prescale 0.1.0"
  /// The cost/SLO frontier (simulate --frontier): drawn after the summary when set.
  const simulate::FrontierResult* frontier = nullptr;
};

/// A stretch of steps [begin, end) and the SLO-violation minutes of the run
/// it was chosen for.
struct TimeWindow {
  std::size_t begin = 0;
  std::size_t end = 0;
  double violation_minutes = 0;
};

/// The `count` non-overlapping windows of `width_steps` with the most
/// SLO-violation time of run `run_index`, worst first; windows without any
/// violation are left out.
std::vector<TimeWindow> worst_windows(const simulate::SimulationResult& result,
                                      std::size_t run_index, std::size_t count,
                                      std::size_t width_steps);
/// Zoom width: 6 hours of steps, at least 24 steps, at most a quarter of the trace.
std::size_t default_zoom_steps(const simulate::SimulationResult& result);

/// Demand, each run's ready capacity, the forecast (band when given) and
/// shaded SLO violations of every run but the oracle, over steps [begin, end).
TimePlot trace_plot(const simulate::SimulationResult& result, std::size_t begin, std::size_t end,
                    std::string title, std::string id);
/// The whole trace as a standalone SVG document.
std::string render_trace_svg(const simulate::SimulationResult& result,
                             const calendar::TimeZone& zone, const std::string& title);
/// The self-contained HTML report.
std::string render_report_html(const simulate::SimulationResult& result,
                               const ReportOptions& options);

/// One row per step: timestamp (UTC), local_time, demand, forecast columns,
/// then per run <name>_served, <name>_replicas, <name>_ready,
/// <name>_violation_seconds. Gaps are empty fields.
void write_timeline_csv(std::ostream& out, const simulate::SimulationResult& result,
                        const calendar::TimeZone& zone);
/// The summary as an aligned text table, for terminals.
std::string format_summary_table(const simulate::SimulationResult& result);

}  // namespace prescale::report
