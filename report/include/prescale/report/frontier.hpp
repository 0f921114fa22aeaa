#pragma once
// The cost/SLO frontier shown to a person (simulate/frontier.hpp): a scatter
// of violation minutes against replica-hours with each run's frontier drawn
// as a line, the SLO as a horizontal rule and the settings that meet it
// ringed; the sweep as a text table; the headline numbers in words.
// Library code: returns strings, never prints.
#include <string>

#include "prescale/simulate/frontier.hpp"

namespace prescale::report {

/// The frontier plot as a standalone <svg> element (inline it in HTML or
/// save it as a file). The y axis is violation minutes on a log scale
/// (log10(1 + minutes)), so zero and thousands fit on one plot.
std::string render_frontier_svg(const simulate::FrontierResult& frontier, const std::string& title);

/// Every swept setting, one line each (frontier points marked "*"), then
/// the headline lines (format_frontier_headline).
std::string format_frontier_table(const simulate::FrontierResult& frontier);

/// The headline in words: replica-hours to meet the SLO per run and the
/// saving, violation minutes at equal replica-hours, the worst excess.
std::string format_frontier_headline(const simulate::FrontierResult& frontier);

/// An HTML section (heading, plot, headline, how to read it) for the report.
std::string render_frontier_html(const simulate::FrontierResult& frontier);

/// The saving at the SLO in words, as every table and recommendation says
/// it: "29.4 % fewer replica-hours than reactive", or, when the predictive
/// setting costs more, that the forecast does not pay for itself at this
/// SLO and the reactive setting is the one to run (at loose SLOs the misses
/// are noise inside the HPA's tolerance, which a lower reactive target buys
/// more cheaply than forecast capacity: docs/targets.md, "Pick the operating
/// point: the frontier").
std::string saving_against_reactive(double saved_percent);

}  // namespace prescale::report
