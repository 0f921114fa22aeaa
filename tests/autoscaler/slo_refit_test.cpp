// A declared SLO is tuned at each refit, on a fit thread, while the target
// ticks on and records more decisions: the tuning reads the decisions as
// they were when its fit started. A first fit tunes on decisions replayed
// from history, forecast as the target's own refits would have.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prescale/autoscaler/fit_frame.hpp"
#include "prescale/autoscaler/slo.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/autoscaler/target.hpp"
#include "recorded_source.hpp"

using namespace prescale;
using namespace prescale::autoscaler;

namespace {

// A target declaring an SLO (default keys), one daily season, served two
// steps ahead; each test sets the history, zone, model and refit schedule it
// is about.
config::TargetConfig slo_target(std::int64_t step) {
  config::TargetConfig target;
  target.metric = "payments-rps-forecast";
  target.query = "payments";
  target.step_seconds = step;
  target.seasonality_seconds = {86400};
  target.lead_time_seconds = 2 * step;
  target.backtest_origins = 2;
  target.slo = config::SloConfig{};
  return target;
}

// The payments trace at `step`, without random spikes, over `days`.
forecast::Series smooth_trace(std::size_t days, std::int64_t step) {
  TraceOptions options;
  options.days = days;
  options.step_seconds = step;
  options.random_spikes = false;
  auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  return std::move(*trace);
}

// slo_target as the engine tests run it: `history_days` of history in
// `zone`, seasonal naive (a fit costs nothing), 100 a pod, three days of
// decisions kept.
config::TargetConfig engine_slo_target(std::int64_t step, std::int64_t history_days,
                                       const std::string& zone) {
  auto target = slo_target(step);
  target.history_seconds = history_days * 86400;
  target.timezone = zone;
  target.model = "seasonal-naive";
  target.capacity_per_replica = 100;
  target.slo->history_seconds = 3 * 86400;
  return target;
}

}  // namespace

TEST_CASE(
    "a refit tunes the SLO on the decisions recorded before it started, not on those recorded "
    "while it runs",
    "[slo][engine]") {
  constexpr std::int64_t kStep = 600;
  const auto trace = smooth_trace(14, kStep);
  auto target = engine_slo_target(kStep, 10, "America/New_York");
  target.refit_interval_seconds = 3 * 3600;

  // The target's calendars: the tuning tells their event days from ordinary ones.
  calendar::CalendarDefinition payroll;
  payroll.name = "payroll";
  payroll.events.push_back({"payroll-end", calendar::DayOfMonth::last_day(), {}, {}, {0, 3600}});
  const auto calendars = std::make_shared<const calendar::CalendarSet>(
      calendar::CalendarSet::build({payroll}).value());

  // The newest decision each tuning read (a day or more of them: it tunes).
  std::vector<std::int64_t> newest;
  const SloTuner tuner = [&](const config::TargetConfig&, const SloHistory& history,
                             const std::optional<SloSetting>&) -> Expected<SloSetting> {
    newest.push_back(history.start_unix +
                     static_cast<std::int64_t>(history.demand.size()) * history.step_seconds -
                     history.step_seconds);
    CHECK(history.calendars == calendars);
    return SloSetting{};
  };
  TargetWorker worker(target, std::make_unique<testing::RecordedSource>(trace), calendars, {},
                      tuner);
  // A fit pool that runs nothing until told.
  std::deque<std::function<void()>> queued;
  const FitLauncher launch = [&](std::function<void()> job) { queued.push_back(std::move(job)); };
  const auto run_queued = [&] {
    while (!queued.empty()) {
      auto job = std::move(queued.front());
      queued.pop_front();
      job();  // a first fit queues the anomaly warm-up behind it
    }
  };

  // The first fit tunes on decisions replayed from history.
  std::int64_t now = trace.end_unix() - 3 * 86400;
  (void)worker.tick(now, launch);
  REQUIRE(queued.size() == 1);
  run_queued();
  REQUIRE(newest.size() == 1);

  // Tick on until the schedule starts a refit; it runs three ticks later.
  std::int64_t started = 0;
  for (int i = 0; i < 40 && started == 0; ++i) {
    now += kStep;
    (void)worker.tick(now, launch);
    if (!queued.empty()) started = now;
  }
  REQUIRE(started != 0);
  for (int i = 0; i < 3; ++i) (void)worker.tick(now += kStep, launch);
  REQUIRE(queued.size() == 1);
  run_queued();
  // The tick that started the fit records its own decision after starting
  // it, and a decision's load is known from the next step's sample: the
  // newest one the tuning can read is the step before, none of the three since.
  REQUIRE(newest.size() == 2);
  CHECK(newest[1] == started - kStep);

  // The next refit reads those three, and the ones after.
  std::int64_t next = 0;
  for (int i = 0; i < 40 && next == 0; ++i) {
    now += kStep;
    (void)worker.tick(now, launch);
    if (!queued.empty()) next = now;
  }
  REQUIRE(next != 0);
  run_queued();
  REQUIRE(newest.size() == 3);
  CHECK(newest[2] == next - kStep);
  CHECK(newest[2] > started + 3 * kStep);
}

TEST_CASE(
    "a target's status carries the quantile and headroom its decision applied, and the tuning's "
    "figures",
    "[slo][engine]") {
  constexpr std::int64_t kStep = 600;
  const auto trace = smooth_trace(8, kStep);
  auto target = engine_slo_target(kStep, 6, "UTC");
  target.quantile = 0.8;

  // A setting whose quiet hours (every hour of the week here) serve their
  // own quantile and headroom: the status reports what the decision
  // applied, not the busy hours' setting.
  SloSetting tuned;
  tuned.quantile = 0.75;
  tuned.headroom = 1.25;
  tuned.quiet_hours.assign(168, true);
  tuned.quiet_quantile = 0.95;
  tuned.quiet_headroom = 2;
  tuned.meets_slo = true;
  tuned.summary = "tuned";
  tuned.figures.days = 3;
  tuned.figures.allowed_minutes = 4.32;
  tuned.figures.meets_slo = true;
  tuned.figures.short_minutes = 2;
  tuned.figures.replica_hours = 123.5;
  tuned.figures.reactive_swept = true;
  tuned.figures.reactive_replica_hours = 150;
  const SloTuner tuner = [&](const config::TargetConfig&, const SloHistory&,
                             const std::optional<SloSetting>&) -> Expected<SloSetting> {
    return tuned;
  };
  TargetWorker worker(target, std::make_unique<testing::RecordedSource>(trace), nullptr, {}, tuner);
  std::deque<std::function<void()>> queued;
  const FitLauncher launch = [&](std::function<void()> job) { queued.push_back(std::move(job)); };
  std::int64_t now = trace.end_unix() - 86400;
  const auto before = worker.tick(now, launch);
  // Before a tuning: the configured quantile, no headroom, no figures.
  CHECK(before.status.quantile == 0.8);
  CHECK(before.status.headroom == 1);
  CHECK(before.status.interval_quantile == 0.8);
  CHECK_FALSE(before.status.slo_figures.has_value());
  while (!queued.empty()) {
    auto job = std::move(queued.front());
    queued.pop_front();
    job();
  }
  const auto after = worker.tick(now += kStep, launch);
  REQUIRE(after.status.has_forecast);
  CHECK(after.status.quantile == 0.95);
  CHECK(after.status.headroom == 2);
  CHECK(after.status.interval_quantile == 0.8);  // the band stays the configured quantile's
  REQUIRE(after.status.slo_figures.has_value());
  CHECK(after.status.slo_figures->replica_hours == 123.5);
  CHECK(after.status.slo_figures->reactive_replica_hours == 150);
  CHECK(after.status.slo_figures->meets_slo);
}

namespace {

// 21 days at 5 minutes (UTC): a 100-request floor and a daily 80-request
// peak at 10:00, which moves to 16:00 from day 9 on; +-2 of noise.
forecast::Series shape_changing_trace() {
  constexpr std::int64_t kStep = 300;
  constexpr std::size_t kPerDay = 86400 / kStep;
  forecast::Series series{1'767'225'600, kStep, {}};  // 2026-01-01 00:00 UTC
  std::uint64_t state = 7;
  for (std::size_t i = 0; i < 21 * kPerDay; ++i) {
    const double hour = static_cast<double>(i % kPerDay) * kStep / 3600.0;
    const double peak = i < 9 * kPerDay ? 10 : 16;
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double noise = (static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5) * 4;
    series.values.push_back(100 + 80 * std::exp(-0.5 * std::pow((hour - peak) / 1.5, 2)) + noise);
  }
  return series;
}

}  // namespace

TEST_CASE(
    "decisions replayed from history are forecast by models refitted as the replay goes, so a "
    "daily shape that changed inside it is followed",
    "[slo][seed]") {
  const auto series = shape_changing_trace();
  const std::int64_t step = series.step_seconds;
  const std::size_t per_day = static_cast<std::size_t>(86400 / step);
  auto target = slo_target(step);
  target.history_seconds = 21 * 86400;
  target.timezone = "UTC";
  target.model = "holt-winters";
  target.refit_interval_seconds = 86400;
  target.slo->history_seconds = 14 * 86400;
  const auto zone = calendar::TimeZone::utc();

  // The last 14 days are replayed: the first week by a model fitted on the 7
  // days before them (the old shape), the second by one refitted on the 14
  // days before it (5 of them with the new shape), as the target would have.
  const auto seed = seed_readings(target, zone, nullptr, series);
  INFO(seed.note);
  const std::size_t before = 7 * per_day;
  const std::size_t refit = 14 * per_day;
  REQUIRE(seed.readings.size() == series.size() - before);
  CHECK(seed.fits == 2);
  CHECK(seed.refit_seconds == 7 * 86400);
  CHECK(seed.summary(step) ==
        "with 14.0 days of decisions replayed from history: a model fitted on the history before "
        "them, refitted every 7 days (2 fits)");

  // What the target refitted then serves over the second week: a model
  // chosen and fitted as its fits are on every sample before it, following
  // each sample.
  const forecast::Series earlier{
      series.start_unix, step,
      std::vector<double>(series.values.begin(),
                          series.values.begin() + static_cast<std::ptrdiff_t>(refit))};
  auto prepared = prepare_history(target, earlier);
  REQUIRE(prepared);
  const std::size_t window = lead_window_steps(target);
  const FitFrame frame(prepared->target, zone, nullptr, prepared->start_unix,
                       series.size() + window + 1);
  auto selection = forecast::select_and_fit(frame.fit_input(prepared->values),
                                            selection_options(prepared->target, window));
  REQUIRE(selection.fitted);
  auto& model = *selection.fitted;

  // The replayed decisions at the new peak (15:00-17:00) of the second week:
  // their forecast of the next step against the load it met.
  double seed_error = 0, refit_error = 0;
  std::size_t peaks = 0, differ = 0;
  for (std::size_t i = refit; i < series.size(); ++i) {
    const auto& reading = seed.readings[i - before];
    REQUIRE(reading.time_unix == series.time_at(i));
    REQUIRE(reading.window.size() == window);
    const auto served = model.forecast(window);
    for (std::size_t h = 0; h < window; ++h)
      if (std::abs(reading.window.mean[h] - served.mean[h]) > 1e-6 * std::abs(served.mean[h]))
        ++differ;
    const std::size_t slot = i % per_day;
    if (slot >= 15 * per_day / 24 && slot < 17 * per_day / 24) {
      seed_error += std::abs(reading.window.mean[0] - series.values[i]);
      refit_error += std::abs(served.mean[0] - series.values[i]);
      ++peaks;
    }
    model.update(series.values[i]);
  }
  seed_error /= static_cast<double>(peaks);
  refit_error /= static_cast<double>(peaks);
  INFO("mean absolute error at the new peak: replayed " << seed_error << ", refitted "
                                                        << refit_error);
  CHECK(differ == 0);
  CHECK(seed_error < 4);  // the noise is +-2: the replay follows the new shape
}

namespace {

// What Prometheus holds of a served gauge: a known value per step, or a
// failure, as a restarted target's `slo.servedQuery` reads it back.
class ServedGauge final : public source::Source {
 public:
  ServedGauge(forecast::Series series, bool fail) : series_(std::move(series)), fail_(fail) {}
  std::string describe() const override { return "served gauge"; }
  Expected<forecast::Series> fetch(std::int64_t start, std::int64_t end,
                                   std::int64_t step) override {
    ++calls;
    if (fail_) return make_error("prometheus answered 503");
    return testing::RecordedSource(series_).fetch(start, end, step);
  }
  int calls = 0;

 private:
  forecast::Series series_;
  bool fail_;
};

}  // namespace

TEST_CASE(
    "a restarted target reads back what it served before, for the decisions it replays from "
    "history",
    "[slo][seed]") {
  constexpr std::int64_t kStep = 600;
  const auto trace = smooth_trace(8, kStep);
  auto target = engine_slo_target(kStep, 6, "UTC");
  target.slo->served_query = "max(prescale_target_served{target=\"payments-rps-forecast\"})";

  // The gauge: 1000 + its step's index, with an hour missing (the old
  // process was down) two days before the restart.
  const std::int64_t now = trace.end_unix() - 86400;
  forecast::Series gauge{trace.start_unix, kStep, {}};
  for (std::size_t i = 0; i < trace.size(); ++i) gauge.values.push_back(1000.0 + double(i));
  const auto gap_from = static_cast<std::size_t>((now - 2 * 86400 - gauge.start_unix) / kStep);
  for (std::size_t i = gap_from; i < gap_from + 6; ++i) gauge.values[i] = forecast::kMissing;

  struct Run {
    std::optional<SloHistory> tuned_on;
    std::vector<std::string> messages;
  };
  auto run = [&](std::unique_ptr<source::Source> served) {
    Run out;
    const SloTuner tuner = [&](const config::TargetConfig&, const SloHistory& history,
                               const std::optional<SloSetting>&) -> Expected<SloSetting> {
      out.tuned_on = history;
      return SloSetting{};
    };
    const LogFunction log = [&](const LogRecord& r) { out.messages.push_back(r.message); };
    TargetWorker worker(target, std::make_unique<testing::RecordedSource>(trace), nullptr, log,
                        tuner, nullptr, std::move(served));
    (void)worker.tick(now, {});  // inline fit: the first one replays and tunes
    return out;
  };

  SECTION("the decisions before the start carry the gauge's value a step after each") {
    const auto got = run(std::make_unique<ServedGauge>(gauge, false));
    REQUIRE(got.tuned_on.has_value());
    const auto& h = *got.tuned_on;
    std::size_t read_back = 0, gap = 0;
    for (std::size_t i = 0; i < h.served.size(); ++i) {
      const std::int64_t t = h.start_unix + static_cast<std::int64_t>(i) * kStep;
      if (t >= now) continue;  // this process's own decision
      const auto at = static_cast<std::size_t>((t + kStep - gauge.start_unix) / kStep);
      if (std::isnan(gauge.values[at])) {
        ++gap;
        CHECK(std::isnan(h.served[i]));  // not served as far as anyone knows
        continue;
      }
      INFO("decision " << i);
      CHECK(h.served[i] == gauge.values[at]);
      ++read_back;
    }
    CHECK(gap == 6);
    CHECK(read_back + gap == static_cast<std::size_t>(3 * 86400 / kStep));
    CHECK(std::find(got.messages.begin(), got.messages.end(), "slo: served values read back") !=
          got.messages.end());
  }
  SECTION("without servedQuery's source they count as never served, as before") {
    const auto got = run(nullptr);
    REQUIRE(got.tuned_on.has_value());
    const auto& h = *got.tuned_on;
    for (std::size_t i = 0; i + 1 < h.served.size(); ++i) CHECK(std::isnan(h.served[i]));
  }
  SECTION("a failed read-back is logged and the tuning goes on without it") {
    const auto got = run(std::make_unique<ServedGauge>(gauge, true));
    REQUIRE(got.tuned_on.has_value());
    const auto& h = *got.tuned_on;
    for (std::size_t i = 0; i + 1 < h.served.size(); ++i) CHECK(std::isnan(h.served[i]));
    CHECK(std::find(got.messages.begin(), got.messages.end(), "slo: served values not read back") !=
          got.messages.end());
  }
}
