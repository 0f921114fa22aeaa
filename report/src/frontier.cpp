#include "prescale/report/frontier.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "prescale/report/svg.hpp"

namespace prescale::report {
namespace {

using simulate::FrontierPoint;
using simulate::FrontierResult;

struct RunLook {
  const char* run;
  const char* color;
  const char* label;
};
// Short labels: with the daemon's two runs, five fit on one line.
constexpr RunLook kRuns[] = {{"reactive", "#dc2626", "reactive HPA, target swept"},
                             {"predictive", "#2563eb", "predictive, settings swept"},
                             {"oracle", "#16a34a", "oracle (perfect foresight)"},
                             {"daemon", "#9333ea", "daemon"},
                             {"reactive-tuned", "#f97316", "reactive, retuned"}};

std::string num(double v) {
  return fmt::format("{:.1f}", v);
}

std::string setting(const FrontierPoint& p) {
  if (p.run == "predictive" && p.two_targets())
    return fmt::format("observed load at {:.0f} %, forecast at {:.0f} %, q{:g}",
                       100 * p.observed_fraction(), 100 * p.target_fraction, p.quantile);
  if (p.run == "predictive")
    return fmt::format("target {:.0f} %, q{:g}", 100 * p.target_fraction, p.quantile);
  return fmt::format("target {:.0f} %", 100 * p.target_fraction);
}

// A predictive setting off the diagonal (two targets) that is not on the
// frontier: of a plane of settings only the envelope is drawn and listed.
bool hidden(const FrontierPoint& p) {
  return p.run == "predictive" && p.two_targets() && !p.on_frontier;
}

// The frontier of the predictive settings with one target for both metrics
// (the diagonal), as points; empty when the sweep has no two-target setting.
std::vector<FrontierPoint> diagonal_frontier(std::span<const FrontierPoint> points) {
  std::vector<FrontierPoint> diagonal;
  bool plane = false;
  for (const auto& p : points) {
    if (p.run != "predictive") continue;
    if (p.two_targets()) {
      plane = true;
    } else {
      diagonal.push_back(p);
    }
  }
  if (!plane) return {};
  std::vector<FrontierPoint> out;
  for (std::size_t i : simulate::frontier_of(diagonal, "predictive")) out.push_back(diagonal[i]);
  return out;
}

std::string thousands(double value) {
  if (!std::isfinite(value)) return "–";
  std::string digits = fmt::format("{:.0f}", std::abs(value));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

}  // namespace

std::string render_frontier_svg(const FrontierResult& frontier, const std::string& title) {
  const int width = 1100, height = 460;
  const double left = 76, right = 24, top = 64, bottom = 52;
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const auto& points = frontier.points;
  double x_min = std::numeric_limits<double>::infinity(), x_max = 0, y_max = 1;
  for (const auto& p : points) {
    x_min = std::min(x_min, p.replica_hours);
    x_max = std::max(x_max, p.replica_hours);
    y_max = std::max(y_max, p.violation_minutes);
  }
  if (!std::isfinite(x_min)) x_min = 0;
  if (!(x_max > x_min)) x_max = x_min + 1;
  const double pad = (x_max - x_min) * 0.04;
  x_min = std::max(0.0, x_min - pad);
  x_max += pad;
  // log10(1 + minutes): zero sits on the axis, thousands stay readable.
  const double y_top = std::ceil(std::log10(1 + y_max * 1.2));
  auto x_of = [&](double rh) { return left + (rh - x_min) / (x_max - x_min) * plot_w; };
  auto y_of = [&](double minutes) {
    return top + plot_h - std::log10(1 + std::max(0.0, minutes)) / std::max(1.0, y_top) * plot_h;
  };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" role=\"img\" aria-label=\"{2}\" font-family=\"system-ui, sans-serif\">\n"
      "<style>.tick{{font-size:11px;fill:#475569}} .axis{{font-size:11px;fill:#64748b}} "
      ".title{{font-size:15px;font-weight:600;fill:#0f172a}} "
      ".legend{{font-size:12px;fill:#334155}}</style>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      "<text x=\"{3}\" y=\"22\" class=\"title\">{2}</text>\n",
      width, height, xml_escape(title), num(left));
  // Legend.
  double lx = left;
  for (const auto& look : kRuns) {
    // The daemon's point, and the reactive HPA retuned beside it, exist only
    // for a replay with its slo: tuning.
    const std::string run = look.run;
    if (std::none_of(points.begin(), points.end(),
                     [&](const FrontierPoint& p) { return p.run == run; }) &&
        (run == "daemon" || run == "reactive-tuned"))
      continue;
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"42\" x2=\"{1}\" y2=\"42\" stroke=\"{2}\" stroke-width=\"2.5\"/>"
        "<circle cx=\"{3}\" cy=\"42\" r=\"3.5\" fill=\"{2}\"/>"
        "<text x=\"{4}\" y=\"46\" class=\"legend\">{5}</text>\n",
        num(lx), num(lx + 22), look.color, num(lx + 11), num(lx + 28), xml_escape(look.label));
    lx += 28 + 7.0 * static_cast<double>(std::string(look.label).size()) + 22;
  }
  // Grid: decades of minutes; a 1-2-5 step of replica-hours.
  for (int d = 0; d <= static_cast<int>(y_top); ++d) {
    const double minutes = std::pow(10.0, d) - 1;
    const double y = y_of(minutes);
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\"/>"
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"tick\">{}</text>\n",
        num(left), num(y), num(left + plot_w), num(y), d == 0 ? "#94a3b8" : "#eef2f7",
        num(left - 8), num(y + 4), format_axis_number(d == 0 ? 0 : std::pow(10.0, d)));
  }
  const double raw = (x_max - x_min) / 6;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double x_step = 10 * magnitude;
  for (double f : {1.0, 2.0, 2.5, 5.0}) {
    if (f * magnitude >= raw) {
      x_step = f * magnitude;
      break;
    }
  }
  for (double v = std::ceil(x_min / x_step) * x_step; v <= x_max; v += x_step) {
    const double x = x_of(v);
    svg += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#eef2f7\"/>"
        "<text x=\"{0}\" y=\"{3}\" text-anchor=\"middle\" class=\"tick\">{4}</text>\n",
        num(x), num(top), num(top + plot_h), num(top + plot_h + 16), format_axis_number(v));
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"axis\">replica-hours (the "
      "bill)</text>\n"
      "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" "
      "class=\"axis\">SLO-violation minutes (log scale)</text>\n",
      num(left + plot_w / 2), num(height - 12), num(top + plot_h / 2));
  // The SLO line.
  const auto& h = frontier.headline;
  const double slo_y = y_of(h.slo_minutes);
  svg += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"#0f172a\" "
      "stroke-dasharray=\"6 4\"/><text x=\"{3}\" y=\"{4}\" text-anchor=\"end\" "
      "class=\"axis\">SLO: {5} violation minutes</text>\n",
      num(left), num(slo_y), num(left + plot_w), num(left + plot_w - 4), num(slo_y - 5),
      format_axis_number(h.slo_minutes));
  // Points, then each run's frontier as a line, then the settings meeting the SLO ringed.
  for (const auto& look : kRuns) {
    for (const auto& p : points) {
      if (p.run != look.run || hidden(p)) continue;
      svg += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" fill-opacity=\"{}\"/>\n",
                         num(x_of(p.replica_hours)), num(y_of(p.violation_minutes)),
                         p.on_frontier ? 4 : 2.5, look.color, p.on_frontier ? 0.95 : 0.35);
    }
    std::string path;
    for (std::size_t i : simulate::frontier_of(points, look.run)) {
      path += fmt::format("{}{} {}", path.empty() ? "M" : " L", num(x_of(points[i].replica_hours)),
                          num(y_of(points[i].violation_minutes)));
    }
    if (!path.empty())
      svg += fmt::format(
          "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
          "stroke-linejoin=\"round\"{}/>\n",
          path, look.color, std::string(look.run) == "oracle" ? " stroke-dasharray=\"6 4\"" : "");
  }
  // The predictive frontier with one target for both metrics, faint: what
  // the second target added is the gap to the solid line.
  std::string diagonal;
  for (const auto& p : diagonal_frontier(points))
    diagonal += fmt::format("{}{} {}", diagonal.empty() ? "M" : " L", num(x_of(p.replica_hours)),
                            num(y_of(p.violation_minutes)));
  if (!diagonal.empty())
    svg += fmt::format(
        "<path d=\"{}\" fill=\"none\" stroke=\"#2563eb\" stroke-opacity=\"0.35\" "
        "stroke-width=\"1.5\" stroke-dasharray=\"3 3\"/>\n",
        diagonal);
  for (const auto& at : {h.reactive_at_slo, h.predictive_at_slo, h.oracle_at_slo}) {
    if (!at) continue;
    const auto& p = points[*at];
    const char* color = p.run == "reactive" ? "#dc2626" : p.run == "oracle" ? "#16a34a" : "#2563eb";
    svg += fmt::format(
        "<circle cx=\"{}\" cy=\"{}\" r=\"9\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
        num(x_of(p.replica_hours)), num(y_of(p.violation_minutes)), color);
  }
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#cbd5e1\"/>\n",
      num(left), num(top), num(plot_w), num(plot_h));
  svg += "</svg>\n";
  return svg;
}

std::string format_frontier_headline(const FrontierResult& frontier) {
  const auto& h = frontier.headline;
  const auto& points = frontier.points;
  std::string out =
      fmt::format("SLO: at most {:.0f} violation minutes ({:g} % of {} minutes)\n", h.slo_minutes,
                  h.observed_minutes > 0 ? 100 * h.slo_minutes / h.observed_minutes : 0,
                  thousands(h.observed_minutes));
  auto at_slo = [&](const char* run, const std::optional<std::size_t>& at) {
    if (!at) return fmt::format("  {:<11} does not meet it at any swept setting\n", run);
    const auto& p = points[*at];
    return fmt::format("  {:<11} meets it with {} replica-hours ({}, {:.1f} violation minutes)\n",
                       run, thousands(p.replica_hours), setting(p), p.violation_minutes);
  };
  out += "replica-hours to meet the SLO (cheapest swept setting):\n";
  out += at_slo("reactive", h.reactive_at_slo);
  if (frontier.replayed_quantile > 0) out += at_slo("predictive", h.predictive_at_slo);
  out += at_slo("oracle", h.oracle_at_slo);
  if (h.saved_percent)
    out += "  predictive needs " + saving_against_reactive(*h.saved_percent) + "\n";
  if (h.oracle_saved_percent)
    out += fmt::format("  the oracle needs {:.1f} % fewer (the limit with this HPA)\n",
                       *h.oracle_saved_percent);
  if (h.operating_point) {
    const auto& op = points[*h.operating_point];
    out += fmt::format("at equal replica-hours ({}, predictive {}):\n", thousands(op.replica_hours),
                       setting(op));
    if (h.reactive_minutes_at_equal_cost) {
      out += fmt::format(
          "  predictive {:.1f} violation minutes, reactive frontier {:.1f}{}\n",
          op.violation_minutes, *h.reactive_minutes_at_equal_cost,
          h.violation_ratio ? fmt::format(": {:.2f}x", *h.violation_ratio) : std::string());
    } else {
      out += "  outside the reactive sweep's range of replica-hours: no comparison\n";
    }
  }
  if (h.worst_excess_minutes && h.worst_excess_point) {
    const auto& p = points[*h.worst_excess_point];
    out += *h.worst_excess_minutes > 0
               ? fmt::format(
                     "predictive frontier above the reactive one by at most {:.1f} minutes "
                     "({})\n",
                     *h.worst_excess_minutes, setting(p))
               : "predictive frontier nowhere above the reactive one\n";
  }
  if (h.daemon_point) {
    const auto& p = points[*h.daemon_point];
    out += fmt::format(
        "the daemon's own tuning (slo: retuned at each refit, HPA target = capacity for the "
        "forecast, {:.0f} % for the observed load): {} replica-hours, {:.1f} violation minutes "
        "({})\n",
        100 * p.observed_fraction(), thousands(p.replica_hours), p.violation_minutes,
        h.daemon_meets_slo ? "meets the SLO" : "misses it");
    // "N % fewer", or "N % more" where the daemon spends more.
    auto against = [](double saved, const char* what) {
      return fmt::format("  {:.1f} % {} replica-hours than {}\n", std::abs(saved),
                         saved >= 0 ? "fewer" : "more", what);
    };
    if (h.daemon_saved_percent)
      out += against(*h.daemon_saved_percent, "the cheapest reactive target");
    if (h.daemon_reactive_minutes_at_equal_cost)
      out += fmt::format(
          "  the reactive frontier has {:.1f} violation minutes at its replica-hours{}\n",
          *h.daemon_reactive_minutes_at_equal_cost,
          h.daemon_violation_ratio ? fmt::format(": {:.2f}x", *h.daemon_violation_ratio)
                                   : std::string());
    if (h.tuned_reactive_point) {
      const auto& tuned = points[*h.tuned_reactive_point];
      out += fmt::format(
          "  a reactive HPA retuned the same way (its per-pod target the tuning's reactive "
          "choice at each refit): {} replica-hours, {:.1f} violation minutes ({})\n",
          thousands(tuned.replica_hours), tuned.violation_minutes,
          h.tuned_reactive_meets_slo ? "meets the SLO" : "misses it");
      if (h.daemon_saved_vs_tuned_reactive_percent)
        out += against(*h.daemon_saved_vs_tuned_reactive_percent, "that retuned reactive HPA");
    }
  }
  if (frontier.holdout) {
    const auto& c = *frontier.holdout;
    out += fmt::format(
        "tuned on the first half for {:.1f} minutes, judged on the second (SLO there: {:.0f} "
        "minutes):\n",
        c.tuning_slo_minutes, c.slo_minutes);
    auto judged = [&](const char* run, const std::optional<FrontierPoint>& p, bool met) {
      if (!p) return std::string();
      return fmt::format("  {:<11} {}{}: {} replica-hours, {:.1f} violation minutes ({})\n", run,
                         setting(*p), met ? "" : " (the safest: none met it on the first half)",
                         thousands(p->replica_hours), p->violation_minutes,
                         p->violation_minutes <= c.slo_minutes ? "meets the SLO" : "misses it");
    };
    out += judged("reactive", c.reactive, c.reactive_met_in_tuning);
    if (frontier.replayed_quantile > 0)
      out += judged("predictive", c.predictive, c.predictive_met_in_tuning);
    if (c.saved_percent)
      out += "  predictive spends " + saving_against_reactive(*c.saved_percent) + "\n";
    if (c.hindsight_reactive)
      out += fmt::format(
          "  in hindsight the cheapest reactive target meeting the SLO there was {}: {} "
          "replica-hours\n",
          setting(*c.hindsight_reactive), thousands(c.hindsight_reactive->replica_hours));
    if (c.violation_ratio)
      out += fmt::format(
          "  predictive has {:.2f}x the violation minutes of that half's reactive frontier at "
          "equal replica-hours\n",
          *c.violation_ratio);
  }
  return out;
}

std::string saving_against_reactive(double saved_percent) {
  if (saved_percent >= 0)
    return fmt::format("{:.1f} % fewer replica-hours than reactive", saved_percent);
  return fmt::format(
      "{:.1f} % more replica-hours than reactive: at this SLO the forecast does not pay for "
      "itself, run the reactive setting",
      -saved_percent);
}

std::string format_frontier_table(const FrontierResult& frontier) {
  std::string out =
      fmt::format("{:<11} {:>7} {:>9} {:>9} {:>14} {:>14}  {}\n", "run", "target", "observed",
                  "quantile", "violation min", "replica-hours", "frontier");
  std::size_t unlisted = 0;
  for (const char* run : {"reactive", "predictive", "oracle", "daemon"}) {
    for (const auto& p : frontier.points) {
      if (p.run != run) continue;
      if (hidden(p)) {
        ++unlisted;
        continue;
      }
      const bool predictive = p.run == "predictive" || p.run == "daemon";
      out += fmt::format("{:<11} {:>6.0f}% {:>9} {:>9} {:>14.1f} {:>14.1f}  {}\n", p.run,
                         100 * p.target_fraction,
                         predictive ? fmt::format("{:.0f}%", 100 * p.observed_fraction()) : "",
                         p.run == "predictive" ? fmt::format("{:g}", p.quantile) : "",
                         p.violation_minutes, p.replica_hours, p.on_frontier ? "*" : "");
    }
  }
  if (unlisted > 0)
    out += fmt::format(
        "(predictive: target is the forecast metric's, observed the observed load's; {} settings "
        "with two targets off the frontier not listed, the JSON has every one)\n",
        unlisted);
  return out + "\n" + format_frontier_headline(frontier);
}

std::string render_frontier_html(const FrontierResult& frontier) {
  std::string html = "<h2>Cost against SLO: the frontier</h2>\n<figure>\n";
  html += render_frontier_svg(frontier, "Violation minutes against replica-hours");
  html +=
      "<figcaption>Each dot is one setting simulated over the same stretch; lines join each "
      "run's frontier (no other setting of that run is both cheaper and better). Ringed: the "
      "cheapest setting of each run that meets the SLO (dashed line). Lower and further left is "
      "better.";
  if (!diagonal_frontier(frontier.points).empty())
    html +=
        " Predictive settings read the observed load and the forecast each at its own per-pod "
        "target: of those with two targets only the frontier's are drawn; the faint dotted "
        "blue line is the predictive frontier with one target for both.";
  html += "</figcaption>\n</figure>\n<pre class=\"headline\">";
  html += xml_escape(format_frontier_headline(frontier));
  html += "</pre>\n";
  return html;
}

}  // namespace prescale::report
