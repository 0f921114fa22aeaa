#pragma once
// A small SVG writer for time plots (no external libraries): lines, step
// lines, shaded bands and shaded spans over a regular time grid, with axes
// labelled in local wall-clock time and a legend. Output is a standalone
// <svg> element that can be saved as a file or inlined in HTML.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "prescale/calendar/time_zone.hpp"

namespace prescale::report {

enum class LineStyle { line, step, dashed_step };

/// One curve: values[i] at start + i * step (NaN breaks the line).
struct PlotLine {
  std::string label;
  std::string color;  ///< CSS colour, e.g. "#2563eb"
  std::vector<double> values;
  LineStyle style = LineStyle::line;
  double width = 1.5;
};

/// A filled band between two curves (e.g. a forecast interval).
struct PlotBand {
  std::string label;
  std::string color;
  std::vector<double> lower;
  std::vector<double> upper;
  double opacity = 0.25;
};

/// Vertical spans over the steps where mask[i] is true (e.g. SLO violations).
struct PlotSpans {
  std::string label;
  std::string color;
  std::vector<bool> mask;
  double opacity = 0.18;
};

/// A plot of steps [begin, end) of a grid. Value type.
struct TimePlot {
  std::string id = "plot";  ///< unique per page when several plots are inlined in one HTML
  std::string title;
  std::string y_label;
  std::int64_t start_unix = 0;
  std::int64_t step_seconds = 60;
  std::size_t begin = 0;
  std::size_t end = 0;  ///< 0 = through the longest series
  std::vector<PlotSpans> spans;
  std::vector<PlotBand> bands;
  std::vector<PlotLine> lines;
  int width = 1100;
  int height = 380;
};

/// Renders the plot; the x axis is labelled in `zone`'s local time.
std::string render_time_plot_svg(const TimePlot& plot, const calendar::TimeZone& zone);

/// "1.2k", "350", "0.25": short numbers for axis labels.
std::string format_axis_number(double value);
/// "2014-07-01 09:30" in the zone's local time.
std::string format_local_minute(std::int64_t unix_seconds, const calendar::TimeZone& zone);
/// "2014-07-01T09:30:00-04:00": ISO 8601 local time with its UTC offset.
std::string format_local_iso(std::int64_t unix_seconds, const calendar::TimeZone& zone);
/// Escapes &, <, >, " for XML text and attributes.
std::string xml_escape(std::string_view text);

}  // namespace prescale::report
