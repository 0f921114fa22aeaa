// Issue 3's done-when, on the generated 1-minute payments trace (America/
// New_York, US DST change on 2026-03-08):
//  - the week after the change forecast from the four weeks before it: in
//    the hour after each market open (09:30-10:30 New York) the error of
//    the auto-selected model (local-time seasons + calendar regressors) is
//    at most half that of seasonal naive over one week in UTC, which is an
//    hour off after the change;
//  - a payroll day on the last business day (2026-02-27) is forecast with
//    its surge (peak within 15%) from a history holding two earlier payroll
//    days (2026-01-30, 2026-02-13).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/calendar/regressors.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/forecast/calendar_effects.hpp"
#include "prescale/forecast/outliers.hpp"
#include "prescale/forecast/seasonal_naive.hpp"
#include "prescale/forecast/selection.hpp"

namespace fc = prescale::forecast;
namespace cal = prescale::calendar;
using prescale::autoscaler::TraceOptions;

namespace {

constexpr std::int64_t kStep = 60;
constexpr std::uint32_t kDaySlots = 1440;
constexpr std::uint32_t kWeekSlots = 10080;

// "2026-03-09T09:30" in New York time, as UTC seconds.
std::int64_t local(const cal::TimeZone& zone, const char* text) {
  auto t = prescale::autoscaler::parse_trace_time(text, zone);
  REQUIRE(t);
  return *t;
}

struct Problem {
  fc::Series truth;     // history + the forecast window
  std::size_t history;  // samples before the forecast origin
  std::size_t horizon;
  fc::SeasonLayout local_layout;
  Eigen::MatrixXd regressors;
  std::vector<std::string> names;
};

// Trace from local midnight `first` for `days`; the forecast origin is local
// midnight `origin`, the horizon runs to local midnight `end`.
Problem make_problem(const cal::TimeZone& zone, std::int64_t first, std::int64_t origin,
                     std::int64_t end,
                     std::vector<prescale::autoscaler::TraceWindow> outages = {}) {
  Problem p;
  TraceOptions options;
  options.outages = std::move(outages);
  options.start_unix = first;
  options.days = static_cast<int>((end - first) / 86400 + 1);
  options.step_seconds = kStep;
  auto trace = prescale::autoscaler::generate_trace(options);
  REQUIRE(trace);
  p.history = static_cast<std::size_t>((origin - first) / kStep);
  p.horizon = static_cast<std::size_t>((end - origin) / kStep);
  trace->values.resize(p.history + p.horizon);
  p.truth = std::move(*trace);
  const std::size_t rows = p.history + p.horizon;
  p.local_layout.slots = {kDaySlots, kWeekSlots};
  p.local_layout.positions.push_back(cal::seasonal_positions(zone, first, kStep, rows, 86400));
  p.local_layout.positions.push_back(cal::seasonal_positions(zone, first, kStep, rows, 7 * 86400));
  auto calendars = prescale::autoscaler::payments_calendars();
  REQUIRE(calendars);
  const cal::RegressorMatrix matrix = cal::calendar_regressors(*calendars, first, kStep, rows);
  p.names = matrix.names;
  p.regressors.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(matrix.cols()));
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < matrix.cols(); ++c) {
      p.regressors(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = matrix.at(r, c);
    }
  }
  return p;
}

// prescale's forecast: selection (auto, or a family) in local time with
// calendar regressors, outliers replaced.
fc::Forecast selected_forecast(const Problem& p, const std::string& model, std::string* chosen) {
  fc::FitInput input;
  const std::span<const double> history(p.truth.values.data(), p.history);
  input.y = history;
  input.layout = &p.local_layout;
  input.regressors = &p.regressors;
  input.regressor_names = p.names;
  fc::SelectionOptions options;
  options.model = model;
  options.horizon = 60;
  options.origins = 4;
  fc::Selection selection = fc::select_and_fit(input, options);
  REQUIRE(selection.status == fc::FitStatus::ok);
  REQUIRE(selection.fitted);
  *chosen = selection.reason;
  for (const std::string& note : selection.notes) chosen->append("\n  note: " + note);
  return selection.fitted->forecast(p.horizon);
}

// Seasonal naive with a one-week season counted in UTC (the usual baseline).
fc::Forecast utc_naive_forecast(const Problem& p) {
  const fc::SeasonLayout utc =
      fc::SeasonLayout::modular({kDaySlots, kWeekSlots}, p.history + p.horizon);
  fc::FitInput input;
  input.y = std::span<const double>(p.truth.values.data(), p.history);
  input.layout = &utc;
  fc::FitResult fit = fc::SeasonalNaive().fit(input);
  REQUIRE(fit.fitted);
  return fit.fitted->forecast(p.horizon);
}

}  // namespace

TEST_CASE(
    "after the DST change, the hour after market open is forecast at least twice as well as "
    "seasonal naive in UTC",
    "[calendar_forecast][acceptance]") {
  auto zone = cal::TimeZone::find("America/New_York");
  REQUIRE(zone);
  const Problem p = make_problem(*zone, local(*zone, "2026-02-08"), local(*zone, "2026-03-08"),
                                 local(*zone, "2026-03-15"));
  REQUIRE(p.history == 28 * 1440);
  REQUIRE(p.horizon == 7 * 1440 - 60);  // the 23-hour day of the change
  std::string chosen;
  const fc::Forecast ours = selected_forecast(p, "auto", &chosen);
  const fc::Forecast naive = utc_naive_forecast(p);
  double ours_error = 0, naive_error = 0;
  std::size_t samples = 0;
  for (const char* day : {"2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"}) {
    const std::int64_t open = local(*zone, (std::string(day) + "T09:30").c_str());
    const auto first = static_cast<std::size_t>((open - p.truth.start_unix) / kStep) - p.history;
    for (std::size_t i = first; i < first + 60; ++i) {
      const double actual = p.truth.values[p.history + i];
      ours_error += std::abs(ours.mean[i] - actual);
      naive_error += std::abs(naive.mean[i] - actual);
      ++samples;
    }
  }
  ours_error /= static_cast<double>(samples);
  naive_error /= static_cast<double>(samples);
  const double ratio = ours_error / naive_error;
  std::printf(
      "market open 09:30-10:30 New York, 2026-03-09..13: MAE ours %.1f, seasonal naive (UTC) %.1f, "
      "ratio %.3f\n  %s\n",
      ours_error, naive_error, ratio, chosen.c_str());
  CHECK(ratio <= 0.5);
}

TEST_CASE("a payroll day on the last business day is forecast with its surge",
          "[calendar_forecast][acceptance]") {
  auto zone = cal::TimeZone::find("America/New_York");
  REQUIRE(zone);
  // History 2026-01-19 .. 2026-02-26 holds payroll-end 2026-01-30 and
  // payroll-mid 2026-02-13; 2026-02-27 is February's last business day.
  const Problem p = make_problem(*zone, local(*zone, "2026-01-19"), local(*zone, "2026-02-27"),
                                 local(*zone, "2026-02-28"));
  // The Holt-Winters + calendar family, chosen among by backtest, and auto:
  // its rolling origins cover the last days, which hold no payroll day, so
  // the backtest adds origins before past calendar events (2026-02-13's
  // payroll-mid, learnt from 01-30's payroll-end, and 02-16's holiday).
  std::string chosen, auto_chosen;
  const fc::Forecast ours = selected_forecast(p, "holt-winters+calendar", &chosen);
  const fc::Forecast automatic = selected_forecast(p, "auto", &auto_chosen);
  const fc::Forecast naive = utc_naive_forecast(p);
  const auto window_start =
      static_cast<std::size_t>((local(*zone, "2026-02-27T06:00") - p.truth.start_unix) / kStep) -
      p.history;
  const auto window_end =
      static_cast<std::size_t>((local(*zone, "2026-02-27T11:00") - p.truth.start_unix) / kStep) -
      p.history;
  double actual_peak = 0, ours_peak = 0, naive_peak = 0, auto_peak = 0;
  for (std::size_t i = window_start; i < window_end; ++i) {
    actual_peak = std::max(actual_peak, p.truth.values[p.history + i]);
    ours_peak = std::max(ours_peak, ours.mean[i]);
    naive_peak = std::max(naive_peak, naive.mean[i]);
    auto_peak = std::max(auto_peak, automatic.mean[i]);
  }
  const double ours_peak_error = std::abs(ours_peak - actual_peak) / actual_peak;
  const double naive_peak_error = std::abs(naive_peak - actual_peak) / actual_peak;
  std::printf(
      "payroll-end 2026-02-27 06:00-11:00 New York: actual peak %.0f, ours %.0f (error %.1f%%), "
      "seasonal naive %.0f (error %.1f%%)\n  %s\n",
      actual_peak, ours_peak, 100 * ours_peak_error, naive_peak, 100 * naive_peak_error,
      chosen.c_str());
  std::printf("  auto: peak %.0f (error %.1f%%)\n  %s\n", auto_peak,
              100 * std::abs(auto_peak - actual_peak) / actual_peak, auto_chosen.c_str());
  CHECK(ours_peak_error <= 0.15);
  CHECK(std::abs(auto_peak - actual_peak) / actual_peak <= 0.15);
  CHECK(auto_chosen.find("before past calendar events") != std::string::npos);
  // The week before had no payroll: a model that ignores the calendar misses it.
  CHECK(naive_peak_error > 0.3);
}

TEST_CASE("an hour-long outage in the history is replaced, payroll surges are not",
          "[calendar_forecast][outliers]") {
  auto zone = cal::TimeZone::find("America/New_York");
  REQUIRE(zone);
  const std::int64_t outage = local(*zone, "2026-02-24T12:00");
  const Problem p = make_problem(*zone, local(*zone, "2026-01-19"), local(*zone, "2026-02-27"),
                                 local(*zone, "2026-02-28"), {{outage, outage + 3600}});
  fc::FitInput input;
  input.y = std::span<const double>(p.truth.values.data(), p.history);
  input.layout = &p.local_layout;
  input.regressors = &p.regressors;
  input.regressor_names = p.names;
  const fc::OutlierReport report = fc::replace_outliers(input);
  std::printf("%s\n", report.summary.c_str());
  const auto first = static_cast<std::size_t>((outage - p.truth.start_unix) / kStep);
  std::size_t replaced = 0;
  for (std::size_t i = first; i < first + 60; ++i) {
    replaced += report.flagged[i];
    if (report.flagged[i] != 0)
      CHECK(report.cleaned[i] > 1.5 * p.truth.values[i]);  // halved traffic restored
  }
  CHECK(replaced >= 55);
  // No payroll sample (06:00-11:00 on 2026-01-30 and 2026-02-13) is touched.
  for (const char* day : {"2026-01-30T06:00", "2026-02-13T06:00"}) {
    const auto start = static_cast<std::size_t>((local(*zone, day) - p.truth.start_unix) / kStep);
    for (std::size_t i = start; i < start + 300; ++i) CHECK(report.flagged[i] == 0);
  }
}
