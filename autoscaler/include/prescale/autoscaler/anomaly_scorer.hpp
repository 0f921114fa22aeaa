#pragma once
// Feeds a target's samples to its AnomalyTracker: finds each sample's slot
// (local time of day, business day) and the named calendar event in
// progress, takes the forecasts to compare with (the one the model made
// anomaly_steps - 1 steps before the sample; during an anomaly, the one of
// the model as it was when the run began), and probes now and then how a
// forecast a few steps old misses, so that old forecasts are judged with the
// spread they have.
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "prescale/autoscaler/anomaly.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/logging.hpp"
#include "prescale/config/config.hpp"
#include "prescale/forecast/model.hpp"
#include "prescale/forecast/selection.hpp"

namespace prescale::autoscaler {

/// What scoring one sample gave the caller.
struct ScoredSample {
  bool scored = false;       ///< false: no finite one-step forecast (nothing learned)
  bool refit = false;        ///< a persistent anomaly asks for a refit (a new normal)
  double one_step_mean = 0;  ///< the model's one-step forecast of the sample
};

/// Not thread-safe: owned by one target worker (or one warm-up).
class AnomalyScorer {
 public:
  /// `calendars`: the target's (calendars_for), may be null; only those the
  /// target names count as events.
  AnomalyScorer(const config::TargetConfig& config, calendar::TimeZone zone,
                std::shared_ptr<const calendar::CalendarSet> calendars);

  /// Scores `observed` at `sample_unix` (a NaN scores nothing) against
  /// `model`, which has not learned it yet and whose layout covers it, and
  /// against `comparable`, the load at comparable_time(sample_unix) (NaN:
  /// unknown, the model's test alone decides).
  ScoredSample score(const forecast::FittedModel& model, std::int64_t sample_unix, double observed,
                     double comparable = std::numeric_limits<double>::quiet_NaN());
  /// When the load to cross-check the sample at `t` against was: with a
  /// weekly season, the same local time on the latest earlier day of its day
  /// type (the previous business day, last Saturday, the last Sunday or
  /// holiday; a week before at most); otherwise one longest season before
  /// (yesterday with a daily season). 0 without a season: no cross-check.
  /// Keeps its lookups per local day (one thread at a time, as the rest).
  [[nodiscard]] std::int64_t comparable_time(std::int64_t t) const;
  /// A new model took over: forecasts kept from the old one are dropped.
  void model_changed();

  [[nodiscard]] const AnomalyTracker& tracker() const { return tracker_; }
  [[nodiscard]] AnomalyTracker& tracker() { return tracker_; }
  /// The slot and named event of a sample time.
  [[nodiscard]] AnomalySlot slot_of(std::int64_t unix_seconds);

 private:
  struct Kept {
    std::unique_ptr<forecast::FittedModel> model;
    std::int64_t start_unix = 0;  ///< the first sample it forecast (one step ahead)
  };
  [[nodiscard]] std::string event_at(std::int64_t unix_seconds);
  [[nodiscard]] AnomalyDayType day_type(calendar::CivilDate local_date) const;
  /// zone_.to_local, with the UTC offset kept over the span it holds.
  [[nodiscard]] std::int64_t to_local(std::int64_t t) const;

  std::int64_t step_seconds_;
  std::int64_t season_seconds_ = 0;
  std::vector<std::string> named_;  ///< calendars the target names
  calendar::TimeZone zone_;
  std::shared_ptr<const calendar::CalendarSet> calendars_;
  const calendar::Calendar* business_ = nullptr;  ///< business days: the first named with holidays
  AnomalySlotLayout layout_;
  AnomalyTracker tracker_;
  /// Forecasts of the last anomaly_steps samples' models (origin first
  /// forecast, means), newest last: where the lagged forecast comes from.
  struct Path {
    std::int64_t origin_unix = 0;
    std::vector<double> mean;
  };
  std::vector<Path> paths_;
  Kept reference_;  ///< the model when the current run began
  Kept probe_;      ///< a forecast followed a few steps to learn the horizon growth
  std::int64_t next_probe_unix_ = 0;
  // Named event occurrences near the newest sample (refreshed per window).
  std::int64_t events_from_ = 0, events_to_ = 0;
  std::vector<calendar::Occurrence> events_;
  /// Lookups kept while they hold, since a catch-up follows days of samples
  /// in order: the UTC offset over the span it holds (a tz database search
  /// each), and comparable_time's day type walk for the local day of its
  /// last call. Derived from the zone and calendars alone, never stale.
  struct Lookups {
    calendar::TimeZone::OffsetSpan span;                          ///< empty until the first lookup
    std::int64_t day = std::numeric_limits<std::int64_t>::min();  ///< local day (days since 1970)
    std::int64_t back = 0;                         ///< days back to the comparable day
    std::optional<std::int64_t> whole_day_offset;  ///< the offset all that day; none: to_utc
  };
  mutable Lookups lookups_;
};

/// The scorer of a target (`config`) taught by the last days of the
/// history a fit of `fitted` (the target as prepare_history left it) ran on:
/// `values` from start_unix, `rows` rows of layout. The last week at most (a
/// quarter of the history) is scored by a model chosen and fitted with
/// `options` on the days before it, as the model in use would have scored it
/// then, so a target's first anomaly judgement is as well informed as its
/// hundredth. That fit costs about what the target's own did (the daemon
/// runs it as a fit job of its own, after the first forecast is served).
/// Null when the history is too short or that fit fails (out of memory
/// included); `log` (may be empty) says when it is done and how long it took.
[[nodiscard]] std::unique_ptr<AnomalyScorer> learn_from_history(
    const config::TargetConfig& config, const calendar::TimeZone& zone,
    const std::shared_ptr<const calendar::CalendarSet>& calendars,
    const config::TargetConfig& fitted, std::int64_t start_unix, std::span<const double> values,
    std::size_t rows, forecast::SelectionOptions options, const LogFunction& log);

}  // namespace prescale::autoscaler
