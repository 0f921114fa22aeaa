#include "prescale/simulate/replay.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "prescale/autoscaler/clock.hpp"
#include "prescale/autoscaler/engine.hpp"
#include "prescale/simulate/tune.hpp"

namespace prescale::simulate {

using namespace autoscaler;

Expected<forecast::Series> RecordedSource::fetch(std::int64_t start_unix, std::int64_t end_unix,
                                                 std::int64_t step_seconds) {
  if (step_seconds != series_.step_seconds)
    return make_error(fmt::format("{}: asked step {}s of a {}s series", description_, step_seconds,
                                  series_.step_seconds));
  forecast::Series out;
  out.start_unix = start_unix;
  out.step_seconds = step_seconds;
  const auto visible_end = static_cast<std::int64_t>(std::floor(clock_.now()));
  for (std::int64_t t = start_unix; t < end_unix; t += step_seconds) {
    double v = forecast::kMissing;
    // A sample at t covers [t, t + step): visible once that interval is over.
    if (t >= series_.start_unix && t < series_.end_unix() && t + step_seconds <= visible_end &&
        (t - series_.start_unix) % step_seconds == 0)
      v = series_.values[static_cast<std::size_t>((t - series_.start_unix) / step_seconds)];
    out.values.push_back(v);
  }
  return out;
}

namespace {

// What the engine served at `t`, with its forecast at the lead time (the
// central interval at quantile p) and, out of fallback, the lead window.
ReplayStep replay_step(const TargetReport& report, std::int64_t t, std::int64_t lead_steps,
                       double p) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto& rec = report.recommendation;
  ReplayStep out;
  out.time_unix = t;
  out.observed = rec.observed;
  out.forecast = rec.forecast;
  out.served = rec.served;
  out.replicas = rec.replicas;
  out.model = report.status.model;
  out.fallback_reason = rec.fallback_reason;
  out.refitted = report.fit_adopted;
  const auto& window = report.forecast_window;
  const auto last = static_cast<std::size_t>(lead_steps);
  const bool banded = window.size() > last;
  out.lead_lower = banded ? window.quantile(last, 1 - p) : nan;
  out.lead_mean = banded ? window.mean[last] : nan;
  out.lead_upper = banded ? window.quantile(last, p) : nan;
  if (rec.fallback_reason.empty() && banded) {
    out.window = window;
    out.window.mean.resize(last + 1);
    out.window.sigma.resize(last + 1);
    if (!out.window.sigma_lower.empty()) out.window.sigma_lower.resize(last + 1);
  }
  return out;
}

}  // namespace

Expected<ReplayResult> replay(const forecast::Series& series, const config::TargetConfig& target,
                              const ReplayOptions& options) {
  const auto step = target.step_seconds;
  if (series.step_seconds != step)
    return make_error(fmt::format("replay: the series step is {}s but target {} has step {}s",
                                  series.step_seconds, target.metric, step));
  if (series.empty()) return make_error("replay: the series is empty");
  auto align = [&](std::int64_t t) {
    return series.start_unix + (t - series.start_unix + step - 1) / step * step;
  };
  const std::int64_t start =
      align(options.start_unix ? options.start_unix : series.start_unix + target.history_seconds);
  const std::int64_t end = options.end_unix ? options.end_unix : series.end_unix() + step;
  if (start >= end)
    return make_error(
        fmt::format("replay: nothing to replay (start {} >= end {}; the series spans "
                    "{} to {})",
                    start, end, series.start_unix, series.end_unix()));

  ReplayClock clock(static_cast<double>(start));
  calendar::CalendarSet calendars =
      options.calendars ? *options.calendars : calendar::CalendarSet();
  SourceFactory sources =
      [&](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(
        std::make_unique<RecordedSource>(series, clock, "recorded series (replay)"));
  };
  EngineOptions engine_options;
  engine_options.tick_threads = 0;  // inline: deterministic, fits on the engine's schedule
  engine_options.log = options.log;
  // A target with an `slo:` tunes as the daemon would (it costs a frontier
  // sweep of the recorded decisions at each refit once a day is recorded).
  engine_options.slo_tuner = tune_target_for_slo;
  // The reactive HPA each tuning compared with, kept per decision so that a
  // reactive HPA retuned at every refit can be replayed beside the daemon.
  double reactive_hpa_target = std::numeric_limits<double>::quiet_NaN();
  if (target.slo)
    engine_options.slo_tuner = [&reactive_hpa_target](
                                   const config::TargetConfig& tuned_target,
                                   const autoscaler::SloHistory& history,
                                   const std::optional<autoscaler::SloSetting>& in_force) {
      auto setting = tune_target_for_slo(tuned_target, history, in_force);
      if (setting && setting->reactive_hpa_target > 0)
        reactive_hpa_target = setting->reactive_hpa_target;
      return setting;
    };
  std::unique_ptr<Engine> engine;
  try {
    engine = std::make_unique<Engine>(std::vector<config::TargetConfig>{target}, calendars, sources,
                                      clock, SnapshotSink(), engine_options);
  } catch (const std::invalid_argument& e) {
    return make_error(e.what());
  }

  ReplayResult result;
  result.lead_steps = target.lead_steps();
  const double p = std::max(target.quantile, 1 - target.quantile);
  result.steps.reserve(static_cast<std::size_t>((end - start) / step));
  for (std::int64_t t = start; t < end; t += step) {
    clock.set(static_cast<double>(t));
    engine->tick();
    const auto report = engine->report(target.metric);
    if (!report) continue;
    ReplayStep out = replay_step(*report, t, result.lead_steps, p);
    out.reactive_hpa_target = reactive_hpa_target;
    // A report not renewed at t (no tick was due) must not repeat its records.
    if (!report->decisions.empty() && report->decisions.front().time_unix == t)
      result.decisions.insert(result.decisions.end(), report->decisions.begin(),
                              report->decisions.end());
    if (out.refitted) {
      ++result.fits;
      result.fit_seconds_total += report->status.fit_seconds;
    }
    result.steps.push_back(std::move(out));
  }
  return result;
}

ForecastBand lead_time_band(const ReplayResult& replayed, std::int64_t start_unix,
                            std::int64_t step_seconds, std::size_t count) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ForecastBand band;
  band.mean.assign(count, nan);
  band.lower.assign(count, nan);
  band.upper.assign(count, nan);
  for (const ReplayStep& decision : replayed.steps) {
    const std::int64_t at = decision.time_unix + replayed.lead_steps * step_seconds;
    if (at < start_unix || (at - start_unix) % step_seconds != 0) continue;
    const auto i = static_cast<std::size_t>((at - start_unix) / step_seconds);
    if (i >= count) continue;
    band.mean[i] = decision.lead_mean;
    band.lower[i] = decision.lead_lower;
    band.upper[i] = decision.lead_upper;
  }
  return band;
}

}  // namespace prescale::simulate
