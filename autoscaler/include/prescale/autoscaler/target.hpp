#pragma once
// One target's life in the engine: its history, its fitted model following
// every new sample in O(1), its refits, and its recommendation each step.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "prescale/autoscaler/anomaly_scorer.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/drift.hpp"
#include "prescale/autoscaler/policy.hpp"
#include "prescale/autoscaler/slo.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/common/logging.hpp"
#include "prescale/common/snapshot.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/series.hpp"
#include "prescale/source/incremental_history.hpp"
#include "prescale/source/source.hpp"

namespace prescale::autoscaler {

/// Makes the Source of a target (a Prometheus query, a CSV file, a trace).
/// Called at start-up and on reload, from the engine's controlling thread.
using SourceFactory =
    std::function<Expected<std::unique_ptr<source::Source>>(const config::TargetConfig&)>;

/// What one tick produced. Immutable once made; shared with the snapshot.
struct TargetReport {
  TargetStatus status;
  std::vector<MetricValue> metrics;  ///< empty before the first observation
  Recommendation recommendation;
  bool fit_adopted = false;            ///< a new fit took over at this tick
  forecast::Forecast forecast_window;  ///< steps [t, t + lead] the policy read (empty in fallback)
  std::vector<DecisionRecord> decisions;  ///< records this tick made (decisions.hpp)
};

/// A fit built off the ticking thread, adopted by the next tick.
struct FitState;
/// Where a fit job leaves its outcome for the next tick (fit_job.hpp).
struct FitMailbox;
/// A target's older event occurrences, fetched by its fit jobs (fit_job.hpp).
struct EventHistoryFetch;

/// Runs a fit job somewhere (a bounded pool); empty = run it inline.
using FitLauncher = std::function<void(std::function<void()>)>;

/// The calendars a target names (with those they borrow business days
/// from), or null when it names none. An error names a missing calendar.
Expected<std::shared_ptr<const calendar::CalendarSet>> calendars_for(
    const config::TargetConfig& target, const calendar::CalendarSet& all);

/// Not thread-safe: the engine runs one tick() at a time per target; fits
/// run elsewhere and hand their result over through a locked mailbox.
class TargetWorker {
 public:
  /// `slo_tuner` chooses the quantile and headroom at each refit when the
  /// target declares an `slo:` (slo.hpp); empty: the `slo:` is reported as
  /// not tuned and the configured quantile is served. `event_source`, a
  /// second Source on the same query, fetches the older occurrences of the
  /// target's events (`eventHistory`, event_history.hpp) in its fit jobs, so
  /// a slow Prometheus never holds a tick; null: no event history.
  /// `served_source`, a Source on `slo.servedQuery`, reads back what the
  /// target served before this process started, for the decisions its
  /// first fit replays from history; null: those count as never served.
  TargetWorker(config::TargetConfig config, std::unique_ptr<source::Source> source,
               std::shared_ptr<const calendar::CalendarSet> calendars, LogFunction log,
               SloTuner slo_tuner = {}, std::unique_ptr<source::Source> event_source = nullptr,
               std::unique_ptr<source::Source> served_source = nullptr);
  ~TargetWorker();

  [[nodiscard]] const config::TargetConfig& config() const { return config_; }
  /// Fetches the samples that became visible up to `now_unix`, follows them,
  /// starts a refit when due (through `launch`, or inline when it is empty),
  /// and recommends the value to serve. After cancel(): does nothing and
  /// returns an empty report.
  TargetReport tick(std::int64_t now_unix, const FitLauncher& launch);
  /// Thread-safe: ends a fetch in flight (Source::cancel; the fit job's
  /// event-history fetch too), makes a fit running give up after the model
  /// it is fitting (logged "fit cancelled")
  /// and every later tick a no-op. For a target a reload removed, and shutdown.
  void cancel();
  [[nodiscard]] bool cancelled() const { return cancelled_; }

 private:
  // New samples and the model that follows them.
  void fetch(std::int64_t end_unix);
  /// Adopts a finished fit, follows the new samples, starts a refit when due;
  /// true when a new fit took over.
  bool update_model(std::int64_t now_unix, const FitLauncher& launch);
  void follow_samples();
  /// Scores the sample at `t` against the model before it learns it (anomaly,
  /// drift), and against `comparable`, the load on the last comparable day
  /// (AnomalyScorer::comparable_time; NaN: unknown).
  void score_sample(std::int64_t t, double y, double comparable);
  /// A refit to start: why ("" = none), and the end of the data it fits on.
  struct RefitPlan {
    std::string why;
    std::int64_t cutoff_unix = 0;
  };
  /// Refits run on a wall-clock schedule every replica shares: the data of a
  /// scheduled fit ends at the last `refitInterval` boundary (shifted by the
  /// target's own phase) that lies two settled steps back, so replicas that
  /// started at different times fit the same samples and serve the same value.
  [[nodiscard]] RefitPlan refit_due(std::int64_t now_unix) const;
  /// The newest schedule boundary of `period` whose samples have settled by `end_unix`.
  [[nodiscard]] std::int64_t schedule_cutoff(std::int64_t end_unix, std::int64_t period) const;
  void start_fit(std::int64_t now_unix, const RefitPlan& plan, const FitLauncher& launch);
  bool adopt_fit();
  // What the tick reports, in order: why serve the observed value alone (if
  // so), the lead-window forecast, then the status, the decision tracker's
  // inputs and the served metrics built from the recommendation.
  /// Why serve the observed value alone (empty reason: no need), and the
  /// reason's kind, the one word /metrics shows (TargetStatus::fallback_kind).
  struct Fallback {
    std::string reason;
    std::string kind;
  };
  [[nodiscard]] Fallback fallback(std::int64_t now_unix) const;
  [[nodiscard]] std::int64_t data_age(std::int64_t now_unix) const;
  [[nodiscard]] forecast::Forecast lead_window_forecast(std::int64_t decision_unix,
                                                        const std::string& fallback);
  void log_fallback_change(const std::string& fallback);
  /// The calendar event the lead window from `decision_unix` has reached, its
  /// hold and its observed rise (policy.hpp EventRamp); no event: empty.
  [[nodiscard]] EventRamp event_ramp(std::int64_t decision_unix);
  /// The observed growth carried to the end of the lead window from
  /// `decision_unix`: the newest sample over the one a lead earlier (to the
  /// step), as a rate over the time from the newest sample to that end. NaN
  /// when either sample is missing.
  [[nodiscard]] double observed_rise(std::int64_t decision_unix) const;
  /// Up to the event's start, the hold level follows the largest value served.
  void note_event_served(std::int64_t decision_unix, const Recommendation& rec);
  // The SLO tuning of the model in use (slo.hpp): quantile and headroom in
  // force, and the line records and /status carry (empty without `slo:`).
  [[nodiscard]] double quantile_in_force() const;
  [[nodiscard]] double headroom_in_force() const;
  [[nodiscard]] std::string slo_text() const;
  [[nodiscard]] TargetStatus make_status(std::int64_t now_unix, const Recommendation& rec,
                                         const Fallback& fallback) const;
  [[nodiscard]] DecisionInputs make_decision_inputs(std::int64_t now_unix,
                                                    const TargetReport& report) const;
  [[nodiscard]] std::vector<MetricValue> make_metrics(std::int64_t now_unix,
                                                      const Recommendation& rec,
                                                      bool forecasting) const;

  config::TargetConfig config_;
  calendar::TimeZone zone_;
  std::unique_ptr<source::Source> source_;
  std::shared_ptr<const calendar::CalendarSet> calendars_;
  LogFunction log_;

  std::unique_ptr<source::IncrementalHistory> incremental_;
  std::shared_ptr<EventHistoryFetch> event_history_;  ///< null without `eventHistory`
  std::shared_ptr<source::Source> served_source_;     ///< null without `slo.servedQuery`
  std::int64_t last_valid_unix_ = 0;  ///< time of the newest valid sample (0 = none)
  double last_valid_value_ = 0;
  std::string fetch_error_;
  std::unique_ptr<FitState> fit_;  ///< the model in use, following the samples
  std::string fit_failure_;        ///< why there is no usable model
  bool fit_failure_too_short_ = false;
  std::uint64_t fit_failures_ =
      0;  ///< failed fits since start (prescale_target_fit_failures_total)
  std::int64_t last_fit_attempt_unix_ = 0;
  std::int64_t attempted_cutoff_unix_ = 0;     ///< the data end of the last fit started
  bool anomaly_warmed_ = false;                ///< the anomaly scales learned from the history once
  std::string logged_fallback_;                ///< the reason last logged, to log changes only
  std::vector<std::int64_t> dropped_seasons_;  ///< left out by the last fit, to log changes only
  AnomalyScorer anomaly_;      ///< newest samples against the forecasts made for them
  DriftDetector drift_;        ///< when the model in use no longer describes the load
  DecisionTracker decisions_;  ///< when a tick makes a decision record
  /// The named event occurrence the lead window has reached (EventRamp::hold).
  struct EventHold {
    std::string event;  ///< qualified name
    std::int64_t start_unix = 0;
    double level = 0;     ///< largest value served (before headroom) up to the start
    bool lapsed = false;  ///< the observed load has reached the level
  };
  std::optional<EventHold> event_hold_;
  SloTuner slo_tuner_;
  std::unique_ptr<PolicyRecorder> recorder_;  ///< with `slo:`: what the policy read
  std::shared_ptr<FitMailbox> mailbox_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace prescale::autoscaler
