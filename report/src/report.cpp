#include "prescale/report/report.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

#include "prescale/config/duration.hpp"
#include "prescale/report/frontier.hpp"

namespace prescale::report {

using simulate::ForecastBand;
using simulate::RunSummary;
using simulate::SimulationResult;

// report/resources/report.css, embedded at build time (report_css.cpp.in).
extern const std::string_view kReportCss;

namespace {

struct RunStyle {
  std::string color;
  LineStyle style;
};

RunStyle style_of(const std::string& name, std::size_t index) {
  if (name == "reactive") return {"#dc2626", LineStyle::step};
  if (name == "predictive") return {"#2563eb", LineStyle::step};
  if (name == "oracle") return {"#16a34a", LineStyle::dashed_step};
  static const char* kPalette[] = {"#9333ea", "#ea580c", "#0891b2", "#4d7c0f"};
  return {kPalette[index % 4], LineStyle::step};
}

std::string csv_number(double value) {
  if (!std::isfinite(value)) return "";
  return fmt::format("{:.6g}", value);
}

std::string grouped(double value, int decimals = 0) {
  // 1234567.8 -> "1,234,568": readable request counts.
  if (!std::isfinite(value)) return "–";
  std::string digits = fmt::format("{:.{}f}", std::abs(value), decimals);
  const auto dot = digits.find('.');
  std::string integer = digits.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : digits.substr(dot);
  std::string out;
  for (std::size_t i = 0; i < integer.size(); ++i) {
    if (i > 0 && (integer.size() - i) % 3 == 0) out += ',';
    out += integer[i];
  }
  return (value < 0 ? "-" : "") + out + fraction;
}

std::string relative(double value, double baseline) {
  if (!(baseline > 0) || !std::isfinite(value)) return "";
  const double change = (value - baseline) / baseline * 100.0;
  if (std::abs(change) < 0.05) return "±0 %";
  return fmt::format("{}{:.1f} %", change > 0 ? "+" : "−", std::abs(change));
}

std::optional<std::size_t> run_index(const SimulationResult& result, const std::string& name) {
  for (std::size_t i = 0; i < result.summaries.size(); ++i) {
    if (result.summaries[i].name == name) return i;
  }
  return std::nullopt;
}

std::string duration_text(std::int64_t seconds) {
  return config::format_duration(seconds);
}

}  // namespace

std::size_t default_zoom_steps(const SimulationResult& result) {
  const auto step = static_cast<std::size_t>(std::max<std::int64_t>(1, result.config.step_seconds));
  const std::size_t six_hours = (6 * 3600 + step - 1) / step;
  const std::size_t quarter = std::max<std::size_t>(1, result.steps() / 4);
  return std::min(std::max<std::size_t>(six_hours, 24), quarter);
}

std::vector<TimeWindow> worst_windows(const SimulationResult& result, std::size_t run_index,
                                      std::size_t count, std::size_t width_steps) {
  std::vector<TimeWindow> windows;
  if (run_index >= result.timelines.size() || result.steps() == 0) return windows;
  const auto& violation = result.timelines[run_index].violation_seconds;
  const std::size_t n = violation.size();
  const std::size_t width = std::clamp<std::size_t>(width_steps, 1, n);
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + violation[i];
  std::vector<bool> taken(n, false);
  for (std::size_t k = 0; k < count; ++k) {
    double best = 0;
    std::size_t best_start = n;
    for (std::size_t s = 0; s + width <= n; ++s) {
      // A window may not overlap one already chosen.
      if (taken[s] || taken[s + width - 1]) continue;
      const double sum = prefix[s + width] - prefix[s];
      if (sum > best) {
        best = sum;
        best_start = s;
      }
    }
    if (best_start == n) break;
    // Centre the violation inside the window so the surge's start shows.
    std::size_t first = best_start, last = best_start + width;
    while (first < last && violation[first] == 0) ++first;
    while (last > first && violation[last - 1] == 0) --last;
    const std::size_t centre = (first + last) / 2;
    std::size_t begin = centre >= width / 2 ? centre - width / 2 : 0;
    begin = std::min(begin, n - width);
    for (std::size_t i = begin; i < begin + width; ++i) {
      if (taken[i]) {  // re-centring ran into a chosen window: keep the original
        begin = best_start;
        break;
      }
    }
    for (std::size_t i = begin; i < begin + width; ++i) taken[i] = true;
    windows.push_back({begin, begin + width, (prefix[begin + width] - prefix[begin]) / 60.0});
  }
  return windows;
}

TimePlot trace_plot(const SimulationResult& result, std::size_t begin, std::size_t end,
                    std::string title, std::string id) {
  TimePlot plot;
  plot.id = std::move(id);
  plot.title = std::move(title);
  plot.y_label = "requests / s";
  plot.start_unix = result.config.start_unix;
  plot.step_seconds = result.config.step_seconds;
  plot.begin = begin;
  plot.end = end;
  const double per_replica = result.config.capacity_per_replica;

  for (std::size_t r = 0; r < result.summaries.size(); ++r) {
    const auto& name = result.summaries[r].name;
    if (name == "oracle") continue;
    PlotSpans spans;
    spans.label = name + " SLO violation";
    spans.color = style_of(name, r).color;
    spans.opacity = 0.12;
    spans.mask.reserve(result.steps());
    for (double seconds : result.timelines[r].violation_seconds) spans.mask.push_back(seconds > 0);
    if (std::find(spans.mask.begin(), spans.mask.end(), true) != spans.mask.end()) {
      plot.spans.push_back(std::move(spans));
    }
  }
  const auto& forecast = result.forecast;
  if (!forecast.lower.empty() && !forecast.upper.empty()) {
    plot.bands.push_back({"forecast interval, one lead time ahead", "#60a5fa", forecast.lower,
                          forecast.upper, 0.22});
  }
  plot.lines.push_back({"demand", "#111827", result.demand, LineStyle::line, 1.6});
  if (!forecast.mean.empty()) {
    plot.lines.push_back({"forecast", "#60a5fa", forecast.mean, LineStyle::line, 1.2});
  }
  for (std::size_t r = 0; r < result.summaries.size(); ++r) {
    const auto& name = result.summaries[r].name;
    const auto style = style_of(name, r);
    std::vector<double> capacity;
    capacity.reserve(result.steps());
    for (double ready : result.timelines[r].ready) capacity.push_back(ready * per_replica);
    plot.lines.push_back(
        {name + " ready capacity", style.color, std::move(capacity), style.style, 1.6});
  }
  return plot;
}

std::string render_trace_svg(const SimulationResult& result, const calendar::TimeZone& zone,
                             const std::string& title) {
  const auto plot = trace_plot(result, 0, result.steps(), title, "trace");
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + render_time_plot_svg(plot, zone);
}

void write_timeline_csv(std::ostream& out, const SimulationResult& result,
                        const calendar::TimeZone& zone) {
  out << "timestamp,local_time,demand,forecast,forecast_lower,forecast_upper";
  for (const auto& s : result.summaries) {
    out << ',' << s.name << "_served," << s.name << "_replicas," << s.name << "_ready," << s.name
        << "_violation_seconds";
  }
  out << '\n';
  auto at = [](const std::vector<double>& v, std::size_t i) {
    return i < v.size() ? v[i] : std::numeric_limits<double>::quiet_NaN();
  };
  const calendar::TimeZone utc = calendar::TimeZone::utc();
  for (std::size_t i = 0; i < result.steps(); ++i) {
    const std::int64_t t = result.time_at(i);
    std::string utc_text = format_local_iso(t, utc);
    utc_text.replace(utc_text.size() - 6, 6, "Z");
    out << utc_text << ',' << format_local_iso(t, zone) << ',' << csv_number(result.demand[i])
        << ',' << csv_number(at(result.forecast.mean, i)) << ','
        << csv_number(at(result.forecast.lower, i)) << ','
        << csv_number(at(result.forecast.upper, i));
    for (const auto& timeline : result.timelines) {
      out << ',' << csv_number(timeline.served[i]) << ',' << timeline.replicas[i] << ','
          << csv_number(timeline.ready[i]) << ',' << csv_number(timeline.violation_seconds[i]);
    }
    out << '\n';
  }
}

std::string format_summary_table(const SimulationResult& result) {
  const std::vector<std::string> headers = {
      "run",           "SLO violation min",    "unserved requests",
      "replica-hours", "over-prov. replica-h", "scale events",
      "peak replicas"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : result.summaries) {
    rows.push_back({s.name, fmt::format("{:.1f}", s.slo_violation_minutes),
                    grouped(s.unserved_requests), fmt::format("{:.1f}", s.replica_hours),
                    fmt::format("{:.1f}", s.overprovisioned_replica_hours),
                    fmt::format("{} ({} up, {} down)", s.scale_events, s.scale_ups, s.scale_downs),
                    fmt::format("{}", s.peak_replicas)});
  }
  std::vector<std::size_t> widths(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) {
    widths[c] = headers[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::size_t pad = widths[c] - cells[c].size();
      // Names left-aligned, numbers right-aligned.
      out += c == 0 ? cells[c] + std::string(pad, ' ') : std::string(pad, ' ') + cells[c];
      out += c + 1 < cells.size() ? "  " : "\n";
    }
  };
  emit(headers);
  for (const auto& row : rows) emit(row);
  return out;
}

std::string render_report_html(const SimulationResult& result, const ReportOptions& options) {
  const auto& config = result.config;
  const auto& zone = options.zone;
  const std::int64_t end_unix = result.time_at(result.steps());
  std::string html = fmt::format(
      R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — {trace}</title>
<style>
{css}</style>
</head>
<body>
<main>
<h1>{title}</h1>
<p class="subtitle">{trace} · {from} → {to} ({zone})</p>
<div class="facts">
  <div class="fact"><b>Trace</b>{steps} steps of {step}{missing}</div>
  <div class="fact"><b>Capacity per replica</b>{capacity} requests/s</div>
  <div class="fact"><b>Pod start-up</b>{startup}</div>
  <div class="fact"><b>Replicas</b>{min} – {max}</div>
  <div class="fact"><b>HPA</b>{hpa}</div>
</div>
)",
      fmt::arg("css", kReportCss), fmt::arg("title", xml_escape(options.title)),
      fmt::arg("trace", xml_escape(options.trace_name)),
      fmt::arg("from", format_local_minute(config.start_unix, zone)),
      fmt::arg("to", format_local_minute(end_unix, zone)),
      fmt::arg("zone", xml_escape(zone.name())),
      fmt::arg("steps", grouped(static_cast<double>(result.steps()))),
      fmt::arg("step", duration_text(config.step_seconds)),
      fmt::arg("missing", result.missing_steps == 0
                              ? std::string{}
                              : fmt::format(", {} missing", result.missing_steps)),
      fmt::arg("capacity", format_axis_number(config.capacity_per_replica)),
      fmt::arg("startup", duration_text(config.startup_seconds)),
      fmt::arg("min", config.min_replicas), fmt::arg("max", config.max_replicas),
      fmt::arg("hpa", xml_escape(options.hpa_description.empty() ? "sync 15 s, tolerance 0.1"
                                                                 : options.hpa_description)));
  for (const auto& note : options.notes) {
    html += fmt::format("<p class=\"note\">{}</p>\n", xml_escape(note));
  }

  // Summary table, with changes relative to the reactive HPA.
  const auto reactive = run_index(result, "reactive");
  double best_violation = std::numeric_limits<double>::infinity();
  for (const auto& s : result.summaries)
    best_violation = std::min(best_violation, s.slo_violation_minutes);
  html +=
      "<h2>Summary</h2>\n<table>\n<thead><tr><th>run</th><th>SLO violation (min)</th>"
      "<th>unserved requests</th><th>replica-hours</th><th>over-provisioned replica-hours</th>"
      "<th>scale events</th><th>peak replicas</th></tr></thead>\n<tbody>\n";
  for (std::size_t r = 0; r < result.summaries.size(); ++r) {
    const auto& s = result.summaries[r];
    const RunSummary* base = reactive && *reactive != r ? &result.summaries[*reactive] : nullptr;
    auto delta = [&](double value, double base_value) {
      if (!base) return std::string{};
      const auto text = relative(value, base_value);
      return text.empty() ? std::string{}
                          : fmt::format("<span class=\"delta\">{} vs reactive</span>", text);
    };
    html += fmt::format(
        "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>"
        "<td{}>{:.1f}{}</td><td>{}{}</td><td>{:.1f}{}</td><td>{:.1f}</td><td>{} <span "
        "class=\"delta\">{} up · {} down</span></td><td>{}</td></tr>\n",
        style_of(s.name, r).color, xml_escape(s.name),
        s.slo_violation_minutes == best_violation ? " class=\"best\"" : "", s.slo_violation_minutes,
        base ? delta(s.slo_violation_minutes, base->slo_violation_minutes) : "",
        grouped(s.unserved_requests),
        base ? delta(s.unserved_requests, base->unserved_requests) : "", s.replica_hours,
        base ? delta(s.replica_hours, base->replica_hours) : "", s.overprovisioned_replica_hours,
        s.scale_events, s.scale_ups, s.scale_downs, s.peak_replicas);
  }
  html += "</tbody>\n</table>\n";
  if (options.frontier != nullptr) html += render_frontier_html(*options.frontier);

  html += "<h2>Full trace</h2>\n<figure>\n";
  html += render_time_plot_svg(
      trace_plot(result, 0, result.steps(), "Demand and ready capacity", "full"), zone);
  html +=
      "<figcaption>Ready capacity = ready pods × capacity per replica (pods still starting do not "
      "serve). "
      "Shaded: time with demand above a run's ready capacity.</figcaption>\n</figure>\n";

  // Zoomed plots of the surges where the reactive HPA (or the first run) fell short.
  const std::size_t focus = reactive.value_or(0);
  const auto windows =
      worst_windows(result, focus, options.zoom_windows, default_zoom_steps(result));
  html += fmt::format("<h2>Worst surges for the {} run</h2>\n",
                      xml_escape(result.summaries.empty() ? "" : result.summaries[focus].name));
  if (windows.empty()) {
    html += "<p>No SLO violation in this trace: nothing to zoom into.</p>\n";
  }
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const auto& window = windows[w];
    std::string per_run;
    for (std::size_t r = 0; r < result.timelines.size(); ++r) {
      double seconds = 0;
      for (std::size_t i = window.begin; i < window.end; ++i)
        seconds += result.timelines[r].violation_seconds[i];
      per_run += fmt::format("{}{}: {:.1f} min", per_run.empty() ? "" : " · ",
                             result.summaries[r].name, seconds / 60.0);
    }
    const auto title =
        fmt::format("{} → {}", format_local_minute(result.time_at(window.begin), zone),
                    format_local_minute(result.time_at(window.end), zone));
    html += "<figure>\n";
    html += render_time_plot_svg(
        trace_plot(result, window.begin, window.end, fmt::format("Surge {} · {}", w + 1, title),
                   fmt::format("zoom{}", w + 1)),
        zone);
    html += fmt::format("<figcaption>SLO violation in this window — {}</figcaption>\n</figure>\n",
                        xml_escape(per_run));
  }

  html += R"(<h2>How to read this</h2>
<dl>
<dt>reactive</dt><dd>The HPA on the observed load alone (External metric, AverageValue = capacity per replica).</dd>
<dt>predictive</dt><dd>The HPA on two metrics, the observed load and prescale's served forecast; it takes their max.</dd>
<dt>oracle</dt><dd>The HPA fed the true peak of the next start-up + sync period: the best any forecast could do with this HPA.</dd>
<dt>forecast</dt><dd>The forecast quantile the predictive run served, taken as the max over its lead window (decided with only data before each step).</dd>
<dt>forecast interval</dt><dd>For each minute, the interval between the lower and upper served quantiles (e.g. q0.1 to q0.9) that the engine forecast for it one lead time earlier, when it had to act; calibrated from backtest errors. Demand above it is a surge the model did not expect.</dd>
<dt>SLO violation</dt><dd>Time with demand above ready capacity; unserved requests is the area above it.</dd>
<dt>over-provisioned</dt><dd>Ready capacity above demand, counted in replicas, over time.</dd>
</dl>
)";
  html += fmt::format(
      "<footer>Generated by {} · HPA model: Kubernetes autoscaling/v2 (sync 15 s, tolerance "
      "{:g}).</footer>\n",
      xml_escape(options.generator.empty() ? "prescale" : options.generator), config.tolerance);
  html += "</main>\n</body>\n</html>\n";
  return html;
}

}  // namespace prescale::report
