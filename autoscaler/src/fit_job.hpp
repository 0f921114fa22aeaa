#pragma once
// The fit job of a target (internal to the engine): its model chosen and
// fitted off the ticking thread, logged, and handed to the worker through a
// locked mailbox; the anomaly warm-up then runs as a job of its own, so the
// first forecast never waits for it.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "prescale/autoscaler/anomaly_scorer.hpp"
#include "prescale/autoscaler/fit_frame.hpp"
#include "prescale/autoscaler/slo.hpp"
#include "prescale/autoscaler/target.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/logging.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/selection.hpp"
#include "prescale/forecast/series.hpp"
#include "prescale/source/source.hpp"
#include "prescale/source/window_history.hpp"

namespace prescale::autoscaler {

// Layout and regressor rows kept ahead of the newest sample, so most ticks
// extend nothing.
inline constexpr std::size_t kLayoutSlack = 64;

/// The model in use and everything it reads by index. Owned by one worker.
struct FitState {
  /// Seasons and regressors from the first sample fitted (index 0); the model points into it.
  std::unique_ptr<FitFrame> frame;
  std::unique_ptr<forecast::FittedModel> model;
  std::string model_name;
  std::map<std::string, double> parameters;
  std::optional<double> backtest_mase;
  double seasonal_naive_mase = 0;
  double fit_seconds = 0;
  std::int64_t fitted_at_unix = 0;
  std::string reason;         ///< the selection's explanation
  std::string event_choice;   ///< which model serves event windows, and why (may be empty)
  std::string decision_loss;  ///< its decision loss in words (decision records; may be empty)
  std::string forced_loses;   ///< non-empty: a forced model that loses to seasonal naive
  std::string why;            ///< why this fit ran (decision records)
  std::int64_t data_start_unix = 0;  ///< the history it was fitted on [start, end)
  std::int64_t data_end_unix = 0;
  SloOutcome slo;  ///< with `slo:`: the setting tuned at this refit, or why none
  /// A first fit with `slo:`: the decisions before it replayed from history
  /// (seed_readings), for the worker's recorder.
  std::vector<PolicyReading> slo_seed;

  /// Time of the next sample the model expects.
  [[nodiscard]] std::int64_t next_unix() const {
    return frame->start_unix() + static_cast<std::int64_t>(model->next_index()) * step();
  }
  [[nodiscard]] std::int64_t step() const { return frame->step_seconds(); }
  /// Makes the frame cover `count` samples, with slack so most ticks extend nothing.
  void extend(std::size_t count) const {
    if (count > frame->rows()) frame->extend_to(count + kLayoutSlack);
  }
};

/// A target's older event occurrences (`eventHistory`, event_history.hpp),
/// fetched by its fit jobs through a Source of their own: a slow Prometheus
/// holds the fit, never the tick, and the target serves meanwhile. Windows
/// fetched once are kept for the next fits (past data does not change).
/// Used by one fit job at a time (the mailbox's `running`); the worker only
/// calls source->cancel(), which is thread-safe.
struct EventHistoryFetch {
  std::unique_ptr<source::Source> source;
  std::unique_ptr<source::WindowHistory> windows;  ///< made at the first fetch
  std::string last_error;  ///< the last fetch failure logged, to log changes only
};

struct FitJob {
  config::TargetConfig config;
  calendar::TimeZone zone;
  std::shared_ptr<const calendar::CalendarSet> calendars;
  forecast::Series history;  ///< ends at the fit's cutoff
  std::int64_t now_unix = 0;
  std::string why;
  /// With `slo:`: tunes on the decisions recorded and those given (older).
  std::function<SloOutcome(const std::vector<PolicyReading>&)> tune_slo;
  /// With `slo:` and no decision tuned on yet (a start or reload): the
  /// decisions before the fit are replayed from history to tune on at once.
  bool seed_slo = false;
  bool warm_up_anomaly = false;  ///< the anomaly scales have not learned yet: learn from history
  /// Set when the target is stopped or removed: the fit gives up after the
  /// model it is fitting (nobody will read it; a stopping daemon need not wait).
  const std::atomic<bool>* cancel = nullptr;
  /// Occurrences of the target's events older than `history`: fetched by
  /// the job through `event_history` before it fits (null: none).
  std::shared_ptr<const std::vector<forecast::PastEvent>> past_events;
  std::shared_ptr<EventHistoryFetch> event_history;
  /// With seed_slo: a Source on `slo.servedQuery`, which reads back what
  /// the decisions replayed from history served (null: none; they count as
  /// never served). Used by one fit job at a time; the worker only calls
  /// its cancel(), which is thread-safe.
  std::shared_ptr<source::Source> served_source;
};

/// What the anomaly warm-up reads from a fit: the target and history it was
/// fitted with (prepare_history; the values point into the job's history),
/// and how it chose its model.
struct WarmUpInput {
  config::TargetConfig target;
  std::int64_t start_unix = 0;
  std::span<const double> values;
  std::size_t rows = 0;
  forecast::SelectionOptions options;
};

struct FitOutcome {
  std::unique_ptr<FitState> state;
  std::string failure;     ///< why no model, when state is null
  bool too_short = false;  ///< the failure is a history too short to fit or prove a model
  std::int64_t now_unix = 0;
  bool prepared = false;                      ///< the history was prepared (it had a value)
  std::vector<std::int64_t> dropped_seasons;  ///< seasons too long for the history (fit_frame.hpp)
  std::vector<std::string> season_notes;      ///< why, one note per dropped season
  /// Asked for and a model fitted: what the anomaly warm-up needs. It runs
  /// after the fit is delivered, so the first forecast never waits for it.
  std::optional<WarmUpInput> warm_up;
};

/// What a fit job hands the target worker; locked, shared by both.
struct FitMailbox {
  std::mutex mutex;
  bool running = false;
  std::atomic<bool> cancelled{false};  ///< FitJob::cancel
  std::optional<FitOutcome> done;
  std::unique_ptr<AnomalyScorer> warmed;  ///< the anomaly warm-up, once done
};

/// Logs the seasons a fit left out, or uses again, when they differ from
/// the last fit's: once per change, not at every refit.
void log_season_changes(const LogFunction& log, const std::string& target,
                        const std::vector<std::int64_t>& before, const FitOutcome& outcome);

/// Runs the fit job through `launch` (inline when it is empty): the fit and
/// its log line, the outcome into the mailbox, then, when the job asked for
/// it and a model was fitted, the anomaly warm-up as a job of its own.
void launch_fit_job(std::shared_ptr<FitJob> job, std::shared_ptr<FitMailbox> mailbox,
                    LogFunction log, const FitLauncher& launch);

}  // namespace prescale::autoscaler
