#include "prescale/report/svg.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "prescale/calendar/civil_date.hpp"
#include "prescale/common/integer.hpp"

namespace prescale::report {
namespace {

constexpr double kMarginLeft = 72;
constexpr double kMarginRight = 24;
constexpr double kTitleHeight = 34;  // above the legend rows
constexpr double kLegendRow = 18;
constexpr double kLegendGap = 10;     // legend to plot frame
constexpr double kMarginBottom = 58;  // two-line time labels + axis title
constexpr const char* kFont =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
constexpr std::array<const char*, 7> kWeekdays = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct LocalParts {
  calendar::CivilDate date;
  calendar::Weekday weekday;
  int hour, minute, second;
};

LocalParts local_parts(std::int64_t unix_seconds, const calendar::TimeZone& zone) {
  const std::int64_t local = zone.to_local(unix_seconds);
  const std::int64_t days = floor_div(local, 86400);
  const std::int64_t of_day = local - days * 86400;
  return {calendar::civil_from_days(days), calendar::weekday_of_days(days),
          static_cast<int>(of_day / 3600), static_cast<int>(of_day / 60 % 60),
          static_cast<int>(of_day % 60)};
}

std::string day_label(const LocalParts& p) {
  return fmt::format("{} {:02} {}", kWeekdays[static_cast<int>(p.weekday)], p.date.day,
                     kMonths[p.date.month - 1]);
}

// A 1-2-2.5-5 step giving about `ticks` intervals up to `max_value`.
double nice_step(double max_value, int ticks) {
  const double raw = max_value / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (factor * magnitude >= raw) return factor * magnitude;
  }
  return 10 * magnitude;
}

std::string num(double v) {
  return fmt::format("{:.1f}", v);
}

// Per pixel column, the values a column must show: min and max in index
// order, so peaks survive decimation of long traces.
struct Point {
  double x;
  double y;
};

class Frame {
 public:
  Frame(const TimePlot& plot, std::size_t end, double y_max, double top)
      : plot_(plot), end_(end), y_max_(y_max) {
    left_ = kMarginLeft;
    top_ = top;
    width_ = plot.width - kMarginLeft - kMarginRight;
    height_ = plot.height - top - kMarginBottom;
    t_begin_ = plot.start_unix + static_cast<std::int64_t>(plot.begin) * plot.step_seconds;
    t_end_ = plot.start_unix + static_cast<std::int64_t>(end) * plot.step_seconds;
  }
  double x_of_time(double unix_seconds) const {
    return left_ + (unix_seconds - static_cast<double>(t_begin_)) /
                       static_cast<double>(std::max<std::int64_t>(1, t_end_ - t_begin_)) * width_;
  }
  double x_of_step(double index) const {
    return x_of_time(static_cast<double>(plot_.start_unix) +
                     index * static_cast<double>(plot_.step_seconds));
  }
  double y_of(double value) const {
    return top_ + height_ - std::clamp(value / y_max_, 0.0, 1.05) * height_;
  }
  double left() const { return left_; }
  double top() const { return top_; }
  double width() const { return width_; }
  double height() const { return height_; }
  double bottom() const { return top_ + height_; }
  std::int64_t t_begin() const { return t_begin_; }
  std::int64_t t_end() const { return t_end_; }
  std::size_t begin() const { return plot_.begin; }
  std::size_t end() const { return end_; }
  // Steps per pixel column (1 = no decimation).
  std::size_t bucket() const {
    const std::size_t steps = end_ - plot_.begin;
    const auto columns = static_cast<std::size_t>(std::max(1.0, width_));
    return steps > 2 * columns ? (steps + columns - 1) / columns : 1;
  }

 private:
  const TimePlot& plot_;
  std::size_t end_;
  double y_max_;
  double left_, top_, width_, height_;
  std::int64_t t_begin_, t_end_;
};

std::string line_path(const Frame& frame, const PlotLine& line) {
  std::string path;
  bool pen_down = false;
  auto add = [&](double x, double y) {
    path += fmt::format("{}{} {} ", pen_down ? "L" : "M", num(x), num(y));
    pen_down = true;
  };
  const std::size_t end = std::min(frame.end(), line.values.size());
  const std::size_t bucket = frame.bucket();
  const bool step = line.style != LineStyle::line && bucket == 1;
  for (std::size_t i = frame.begin(); i < end; i += bucket) {
    const std::size_t last = std::min(end, i + bucket);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    std::size_t lo_at = i, hi_at = i;
    for (std::size_t j = i; j < last; ++j) {
      const double v = line.values[j];
      if (!std::isfinite(v)) continue;
      if (v < lo) lo = v, lo_at = j;
      if (v > hi) hi = v, hi_at = j;
    }
    if (!std::isfinite(lo)) {
      pen_down = false;  // a gap breaks the line
      continue;
    }
    if (step) {
      add(frame.x_of_step(static_cast<double>(i)), frame.y_of(lo));
      add(frame.x_of_step(static_cast<double>(i + 1)), frame.y_of(lo));
    } else if (bucket == 1) {
      add(frame.x_of_step(static_cast<double>(i) + 0.5), frame.y_of(lo));
    } else {
      const double x =
          frame.x_of_step(static_cast<double>(i) + 0.5 * static_cast<double>(last - i));
      if (lo_at <= hi_at) {
        add(x, frame.y_of(lo));
        add(x, frame.y_of(hi));
      } else {
        add(x, frame.y_of(hi));
        add(x, frame.y_of(lo));
      }
    }
  }
  return path;
}

std::string band_paths(const Frame& frame, const PlotBand& band) {
  // One closed polygon per stretch without gaps.
  std::string out;
  const std::size_t end = std::min({frame.end(), band.lower.size(), band.upper.size()});
  const std::size_t bucket = frame.bucket();
  std::vector<Point> upper, lower;
  auto flush = [&] {
    if (upper.size() >= 2) {
      std::string d;
      for (std::size_t k = 0; k < upper.size(); ++k) {
        d += fmt::format("{}{} {} ", k == 0 ? "M" : "L", num(upper[k].x), num(upper[k].y));
      }
      for (std::size_t k = lower.size(); k-- > 0;) {
        d += fmt::format("L{} {} ", num(lower[k].x), num(lower[k].y));
      }
      out += fmt::format("<path d=\"{}Z\" fill=\"{}\" fill-opacity=\"{}\" stroke=\"none\"/>\n", d,
                         band.color, band.opacity);
    }
    upper.clear();
    lower.clear();
  };
  for (std::size_t i = frame.begin(); i < end; i += bucket) {
    const std::size_t last = std::min(end, i + bucket);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t j = i; j < last; ++j) {
      if (std::isfinite(band.lower[j])) lo = std::min(lo, band.lower[j]);
      if (std::isfinite(band.upper[j])) hi = std::max(hi, band.upper[j]);
    }
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
      flush();
      continue;
    }
    const double x = frame.x_of_step(static_cast<double>(i) + 0.5 * static_cast<double>(last - i));
    upper.push_back({x, frame.y_of(hi)});
    lower.push_back({x, frame.y_of(lo)});
  }
  flush();
  return out;
}

std::string span_rects(const Frame& frame, const PlotSpans& spans) {
  std::string out;
  const std::size_t end = std::min(frame.end(), spans.mask.size());
  std::size_t i = frame.begin();
  while (i < end) {
    if (!spans.mask[i]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < end && spans.mask[j]) ++j;
    const double x0 = frame.x_of_step(static_cast<double>(i));
    // At least one pixel wide, so a short violation on a long plot still shows.
    const double x1 = std::max(frame.x_of_step(static_cast<double>(j)), x0 + 1.0);
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" fill-opacity=\"{}\"/>\n",
        num(x0), num(frame.top()), num(x1 - x0), num(frame.height()), spans.color, spans.opacity);
    i = j;
  }
  return out;
}

double visible_max(const TimePlot& plot, std::size_t end) {
  double max_value = 0;
  auto scan = [&](const std::vector<double>& values) {
    for (std::size_t i = plot.begin; i < std::min(end, values.size()); ++i) {
      if (std::isfinite(values[i])) max_value = std::max(max_value, values[i]);
    }
  };
  for (const auto& line : plot.lines) scan(line.values);
  for (const auto& band : plot.bands) scan(band.upper);
  return max_value;
}

std::string time_axis(const Frame& frame, const calendar::TimeZone& zone) {
  static constexpr std::array<std::int64_t, 17> kIntervals = {
      60,    120,   300,   600,       900,       1800,       3600,       7200,      10800,
      21600, 43200, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400, 91 * 86400};
  const std::int64_t span = std::max<std::int64_t>(1, frame.t_end() - frame.t_begin());
  const double max_ticks = std::max(2.0, frame.width() / 105.0);
  std::int64_t interval = kIntervals.back();
  for (auto candidate : kIntervals) {
    if (static_cast<double>(span) / static_cast<double>(candidate) <= max_ticks) {
      interval = candidate;
      break;
    }
  }
  // Weeks start on Monday (1970-01-05, day 4); shorter ticks on local clock multiples.
  const std::int64_t offset = interval >= 7 * 86400 ? 4 * 86400 : 0;
  const std::int64_t local_begin = zone.to_local(frame.t_begin());
  std::int64_t local_tick = floor_div(local_begin - offset, interval) * interval + offset;
  if (zone.to_utc(local_tick) < frame.t_begin()) local_tick += interval;

  std::string out;
  std::int64_t previous_day = std::numeric_limits<std::int64_t>::min();
  int previous_year = std::numeric_limits<int>::min();
  std::int64_t previous_utc = std::numeric_limits<std::int64_t>::min();
  for (int guard = 0; guard < 200; ++guard, local_tick += interval) {
    const std::int64_t utc = zone.to_utc(local_tick);
    if (utc > frame.t_end()) break;
    if (utc < frame.t_begin() || utc == previous_utc) continue;
    previous_utc = utc;
    const double x = frame.x_of_time(static_cast<double>(utc));
    const auto parts = local_parts(utc, zone);
    const std::int64_t day = floor_div(zone.to_local(utc), 86400);
    const bool midnight = parts.hour == 0 && parts.minute == 0;
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"1\"/>\n",
        num(x), num(frame.top()), num(frame.bottom() + 5),
        midnight && interval < 86400 ? "#cbd5e1" : "#e5e7eb");
    std::string first, second;
    if (interval < 86400) {
      first = fmt::format("{:02}:{:02}", parts.hour, parts.minute);
      if (day != previous_day) second = day_label(parts);
    } else {
      first = day_label(parts);
      if (parts.date.year != previous_year) second = fmt::format("{}", parts.date.year);
    }
    previous_day = day;
    previous_year = parts.date.year;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"tick\">{}</text>\n",
                       num(x), num(frame.bottom() + 18), xml_escape(first));
    if (!second.empty()) {
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" class=\"tick sub\">{}</text>\n", num(x),
          num(frame.bottom() + 32), xml_escape(second));
    }
  }
  out += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"axis\">local time ({})</text>\n",
      num(frame.left() + frame.width()), num(frame.bottom() + 50), xml_escape(zone.name()));
  return out;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string format_axis_number(double value) {
  const double magnitude = std::abs(value);
  auto trim = [](std::string s) {
    if (s.find('.') != std::string::npos) {
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
    }
    return s;
  };
  if (magnitude >= 1e9) return trim(fmt::format("{:.2f}", value / 1e9)) + "G";
  if (magnitude >= 1e6) return trim(fmt::format("{:.2f}", value / 1e6)) + "M";
  if (magnitude >= 1e4) return trim(fmt::format("{:.1f}", value / 1e3)) + "k";
  if (magnitude >= 100 || magnitude == 0) return fmt::format("{:.0f}", value);
  return trim(fmt::format("{:.2f}", value));
}

std::string format_local_minute(std::int64_t unix_seconds, const calendar::TimeZone& zone) {
  const auto p = local_parts(unix_seconds, zone);
  return fmt::format("{}-{:02}-{:02} {:02}:{:02}", p.date.year, p.date.month, p.date.day, p.hour,
                     p.minute);
}

std::string format_local_iso(std::int64_t unix_seconds, const calendar::TimeZone& zone) {
  const auto p = local_parts(unix_seconds, zone);
  const std::int64_t offset = zone.utc_offset(unix_seconds);
  const std::int64_t minutes = std::abs(offset) / 60;
  return fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}", p.date.year, p.date.month,
                     p.date.day, p.hour, p.minute, p.second, offset < 0 ? '-' : '+', minutes / 60,
                     minutes % 60);
}

std::string render_time_plot_svg(const TimePlot& plot, const calendar::TimeZone& zone) {
  std::size_t end = plot.end;
  if (end == 0) {
    for (const auto& line : plot.lines) end = std::max(end, line.values.size());
  }
  end = std::max(end, plot.begin + 1);
  double y_max = visible_max(plot, end);
  if (!(y_max > 0)) y_max = 1;
  const double y_step = nice_step(y_max * 1.05, 5);
  y_max = std::ceil(y_max * 1.05 / y_step) * y_step;
  // Legend entries, wrapped into rows that fit the frame width.
  struct LegendEntry {
    enum Kind { line, band, spans } kind;
    std::string color, label;
    double opacity;
    LineStyle style;
    double x, y;
  };
  std::vector<LegendEntry> legend;
  for (const auto& line : plot.lines) {
    legend.push_back({LegendEntry::line, line.color, line.label, 1.0, line.style, 0, 0});
  }
  for (const auto& band : plot.bands) {
    legend.push_back(
        {LegendEntry::band, band.color, band.label, band.opacity, LineStyle::line, 0, 0});
  }
  for (const auto& spans : plot.spans) {
    legend.push_back(
        {LegendEntry::spans, spans.color, spans.label, spans.opacity, LineStyle::line, 0, 0});
  }
  const double legend_right = plot.width - kMarginRight;
  double legend_x = kMarginLeft;
  double legend_y = kTitleHeight + 10;
  for (auto& entry : legend) {
    const double item_width = 24 + 7.0 * static_cast<double>(entry.label.size()) + 18;
    if (legend_x + item_width > legend_right && legend_x > kMarginLeft) {
      legend_x = kMarginLeft;
      legend_y += kLegendRow;
    }
    entry.x = legend_x;
    entry.y = legend_y;
    legend_x += item_width;
  }
  const double top = legend_y + kLegendGap + 8;
  const Frame frame(plot, end, y_max, top);

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" "
      "role=\"img\" aria-label=\"{2}\" font-family=\"{3}\">\n"
      "<style>.tick{{font-size:11px;fill:#475569}} .sub{{fill:#64748b}} "
      ".axis{{font-size:11px;fill:#64748b}} "
      ".title{{font-size:15px;font-weight:600;fill:#0f172a}} "
      ".legend{{font-size:12px;fill:#334155}}</style>\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n",
      plot.width, plot.height, xml_escape(plot.title), kFont);
  svg += fmt::format("<text x=\"{}\" y=\"22\" class=\"title\">{}</text>\n", num(frame.left()),
                     xml_escape(plot.title));

  // Grid and y axis.
  for (double v = 0; v <= y_max + y_step * 0.01; v += y_step) {
    const double y = frame.y_of(v);
    svg += fmt::format(
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>\n",
        num(frame.left()), num(y), num(frame.left() + frame.width()), num(y),
        v == 0 ? "#94a3b8" : "#eef2f7");
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"tick\">{}</text>\n",
                       num(frame.left() - 8), num(y + 4), format_axis_number(v));
  }
  svg += fmt::format(
      "<text transform=\"translate(16 {}) rotate(-90)\" text-anchor=\"middle\" "
      "class=\"axis\">{}</text>\n",
      num(frame.top() + frame.height() / 2), xml_escape(plot.y_label));
  svg += time_axis(frame, zone);

  // Clip the data to the frame so decimated peaks never spill over the axes.
  svg += fmt::format(
      "<clipPath id=\"{}-frame\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>\n",
      xml_escape(plot.id), num(frame.left()), num(frame.top() - 2), num(frame.width()),
      num(frame.height() + 2));
  svg += fmt::format("<g clip-path=\"url(#{}-frame)\">\n", xml_escape(plot.id));
  for (const auto& spans : plot.spans) svg += span_rects(frame, spans);
  for (const auto& band : plot.bands) svg += band_paths(frame, band);
  for (const auto& line : plot.lines) {
    const std::string path = line_path(frame, line);
    if (path.empty()) continue;
    svg += fmt::format(
        "<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" "
        "stroke-linejoin=\"round\"{}/>\n",
        path, line.color, line.width,
        line.style == LineStyle::dashed_step ? " stroke-dasharray=\"6 4\"" : "");
  }
  svg += "</g>\n";
  svg += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#cbd5e1\"/>\n",
      num(frame.left()), num(frame.top()), num(frame.width()), num(frame.height()));

  for (const auto& entry : legend) {
    const double x = entry.x, y = entry.y;
    if (entry.kind == LegendEntry::line) {
      svg += fmt::format(
          "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\"{}/>\n",
          num(x), num(y), num(x + 18), num(y), entry.color,
          entry.style == LineStyle::dashed_step ? " stroke-dasharray=\"5 3\"" : "");
    } else {
      svg += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"10\" fill=\"{}\" fill-opacity=\"{}\"/>\n",
          num(x), num(y - 5), entry.color, std::max(0.35, entry.opacity));
    }
    svg += fmt::format("<text x=\"{}\" y=\"{}\" class=\"legend\">{}</text>\n", num(x + 24),
                       num(y + 4), xml_escape(entry.label));
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace prescale::report
