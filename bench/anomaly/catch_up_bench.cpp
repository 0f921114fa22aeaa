// The anomaly signal's catch-up, timed: a model fitted on the older part of
// a synthetic payments trace (New York time, weekly season, the nyse and
// payroll calendars) follows the newest days sample by sample as a target's
// worker does after a long fetch gap or a first fit (TargetWorker::
// follow_samples): the comparable day's time, the scorer, the model's
// update. Prints JSON: seconds for the whole catch-up and for the
// comparable-time lookups alone, and nanoseconds per sample. Compare two
// builds (or two commits) with the same arguments; no timed assertion.
//
//   prescale_bench_anomaly_catch_up [--days N] [--follow-days N] [--step S] [--repeat R]
#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "prescale/autoscaler/anomaly_scorer.hpp"
#include "prescale/autoscaler/fit_frame.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/forecast/selection.hpp"

using namespace prescale;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  int days = 35, follow_days = 7, repeat = 20;
  std::int64_t step = 60;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (flag == "--days") days = static_cast<int>(value);
    if (flag == "--follow-days") follow_days = static_cast<int>(value);
    if (flag == "--step") step = value;
    if (flag == "--repeat") repeat = static_cast<int>(value);
  }
  autoscaler::TraceOptions options;
  options.days = days;
  options.step_seconds = step;
  auto trace = autoscaler::generate_trace(options);
  auto calendars = autoscaler::payments_calendars();
  const auto zone = calendar::TimeZone::find(options.time_zone);
  if (!trace || !calendars || !zone) {
    fmt::print(stderr, "catch_up_bench: cannot build the trace, calendars or zone\n");
    return 1;
  }
  const auto shared = std::make_shared<const calendar::CalendarSet>(std::move(*calendars));
  config::TargetConfig target;
  target.metric = "payments";
  target.step_seconds = step;
  target.timezone = options.time_zone;
  target.seasonality_seconds = {86400, 7 * 86400};
  target.calendars = {"nyse", "payroll"};
  target.model = "holt-winters";
  target.backtest_origins = 1;

  const std::size_t rows = trace->values.size();
  const std::size_t follow = static_cast<std::size_t>(follow_days * 86400 / step);
  const std::size_t fitted_rows = rows - follow;
  // Rows past the end: the scorer forecasts a few steps beyond each sample.
  const autoscaler::FitFrame frame(target, *zone, shared, trace->start_unix, rows + 16);
  auto selection = forecast::select_and_fit(
      frame.fit_input(std::span<const double>(trace->values).first(fitted_rows)),
      autoscaler::selection_options(target, 4));
  if (!selection.fitted) {
    fmt::print(stderr, "catch_up_bench: the fit failed\n");
    return 1;
  }

  double catch_up = 0, lookups = 0, checksum = 0;
  for (int r = 0; r < repeat; ++r) {
    // The lookups alone, as follow_samples makes them.
    const autoscaler::AnomalyScorer probe(target, *zone, shared);
    auto started = std::chrono::steady_clock::now();
    for (std::size_t i = fitted_rows; i < rows; ++i)
      checksum += static_cast<double>(
          probe.comparable_time(trace->start_unix + static_cast<std::int64_t>(i) * step) % 7);
    lookups += seconds_since(started);
    // The whole catch-up: lookup, score, update.
    auto model = selection.fitted->clone();
    autoscaler::AnomalyScorer scorer(target, *zone, shared);
    started = std::chrono::steady_clock::now();
    for (std::size_t i = fitted_rows; i < rows; ++i) {
      const std::int64_t t = trace->start_unix + static_cast<std::int64_t>(i) * step;
      const std::int64_t then = scorer.comparable_time(t);
      const double comparable =
          then >= trace->start_unix
              ? trace->values[static_cast<std::size_t>((then - trace->start_unix) / step)]
              : std::nan("");
      (void)scorer.score(*model, t, trace->values[i], comparable);
      model->update(trace->values[i]);
    }
    catch_up += seconds_since(started);
    checksum += scorer.tracker().state().evidence;
  }
  const double samples = static_cast<double>(follow) * repeat;
  fmt::print(
      "{{\"model\": \"{}\", \"samples\": {}, \"repeat\": {}, \"catch_up_seconds\": {:.4f}, "
      "\"catch_up_ns_per_sample\": {:.0f}, \"comparable_time_seconds\": {:.4f}, "
      "\"comparable_time_ns_per_sample\": {:.0f}, \"checksum\": {:.6g}}}\n",
      selection.model, follow, repeat, catch_up, catch_up / samples * 1e9, lookups,
      lookups / samples * 1e9, checksum);
  return 0;
}
