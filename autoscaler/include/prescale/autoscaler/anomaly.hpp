#pragma once
// Anomaly signals: is the load still what the model expects?
//
// Each new sample is compared with the forecast made anomalySteps - 1 steps
// before it (so the samples that make an anomaly are all judged against a
// forecast made before the first of them), or, once a run of large
// residuals has begun, with the forecast made just before that run (a model
// that follows the level would otherwise absorb an outage within a few
// steps). The residual, less the habitual miss of its seasonal slot (local
// time of day; business day, Saturday, or Sunday and holiday), is divided by
// that slot's residual scale, both learned from the target's own residuals:
// a market open or a lunch dip is as volatile as it usually is at that hour,
// no more, and a miss the model makes every Saturday morning is its habit,
// not news. A run's residuals are learned only once it is over, so an
// incident cannot widen the scale it is being judged by. Inside a calendar
// event the target names (a payroll morning, a holiday) the residual is
// measured against that event's own bias and spread instead, its start, middle
// and end apart, so a surge the calendar announces is no anomaly.
//
// A model can be wrong in a way the load is not: a weekly season that learnt
// one month end's batch forecasts it every Saturday after, a Saturday morning
// may get a market open. So an anomaly is also cross-checked against the
// load at the same local time on the last comparable day (the previous
// business day, last Saturday, the last Sunday or holiday; one longest season
// before without a weekly season), scaled by how today's load compares with
// that day's over the hour before the run (a busier day is busier all
// morning, which says nothing of an incident): the run must be off from that
// value too,
// in the same direction, by that difference's own learned per-slot bias and
// scale (a CUSUM with allowance 1 and threshold 2.5 of those scales over the
// run: a sustained move of two scales passes at the third sample, of 3.5 at
// the first). The model's ghosts match the last comparable day; incidents
// match neither. Without that value (a gap, a young target), the model's
// test alone decides.
//
// The standardised residuals z feed a two-sided CUSUM: S+ = max(0, S+ + z - k)
// (S- likewise for -z). An anomaly is S+ or S- above h, and lasts until both
// are back at 0. The allowance k is the size a Gaussian residual exceeds by
// chance about 27 times a week at the target's step (3.0 at one-minute steps,
// 2.6 at five, 2.0 at thirty): the more samples a week, the more tests, the
// stricter each one. h = 10, and no sample adds more than h / (anomalySteps -
// 1) beyond k, so one wild sample (a bad scrape) never makes an anomaly on its
// own. The result: a sustained shift of k + 5 residual scales is flagged
// after anomalySteps samples, ordinary noise about once a month or less
// (bench/anomaly/run measures it).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace prescale::autoscaler {

/// From the `decisions:` section.
struct AnomalySettings {
  std::int64_t anomaly_steps = 3;  ///< N: the fewest samples an anomaly needs as evidence
  std::int64_t shift_steps = 15;   ///< M: an anomaly lasting M steps is a new normal: refit
};

/// One residual scale (a slot's or an event's): an exponentially weighted
/// mean of |residual - bias| x sqrt(pi/2) (the sigma of a normal residual),
/// and the bias, an exponentially weighted mean of the signed residual: a
/// miss the model makes every week at that hour (a market open forecast on a
/// Saturday) is the model's habit, not news. Each residual is capped at 4
/// scales so one outage teaches neither "volatile" nor "biased". Both are
/// shrunk (the scale towards a fallback, the bias towards 0) while they have
/// few samples. Value type.
struct ResidualScale {
  double value = 0;  ///< learned scale (valid when samples > 0)
  double mean = 0;   ///< learned bias (valid when samples > 0)
  std::int64_t samples = 0;

  /// The scale to use: the learned one, shrunk towards `prior` with the
  /// weight of 5 samples.
  [[nodiscard]] double get(double prior) const;
  /// The bias to take off a residual: the learned one, shrunk towards 0 with
  /// the weight of 5 samples.
  [[nodiscard]] double bias() const;
  /// Learns one residual (rate max(1/samples, 1/100)).
  void learn(double residual, double prior);
};

/// The day types of the residual scale slots: a weekly season has business
/// days, Saturdays and Sundays (with weekday holidays) apart, since a model
/// with a weekly season misses each of them its own way.
enum class AnomalyDayType { business = 0, saturday = 1, rest = 2 };

/// Where a sample sits for the residual scale: day type x time of day.
struct AnomalySlot {
  std::size_t index = 0;  ///< < AnomalySlots::count()
  /// A named calendar event in progress and its phase ("" none), e.g.
  /// "payroll.payroll-end (start)" or "nyse.holiday".
  std::string event;
};

/// One sample to score, as the target worker sees it. Value type.
struct AnomalySample {
  std::int64_t sample_unix = 0;
  double observed = 0;
  double one_step_mean = 0;   ///< the model's forecast of this sample, one step before
  double one_step_sigma = 0;  ///< its sigma: the scale until residuals have taught one
  /// The forecast made anomaly_steps - 1 steps before this sample, so that
  /// the anomaly_steps samples that make an anomaly are all judged against
  /// a forecast made before the first of them (fewer steps when the model
  /// is younger), and how many steps ahead it was made.
  double lagged_mean = 0;
  std::int64_t lagged_steps = 1;
  /// During an anomaly: the forecast of the model as it was when the run
  /// began, and how many steps ahead it was made (0: none kept).
  double reference_mean = 0;
  std::int64_t reference_steps = 0;
  /// The load at the same local time on the last comparable day
  /// (AnomalyScorer::comparable_time); NaN when unknown: then the model's
  /// test alone decides.
  double comparable = std::numeric_limits<double>::quiet_NaN();
  AnomalySlot slot;
};

/// The newest sample's standing. Value type.
struct AnomalyState {
  double score = 0;  ///< z: standardised residual of the newest sample (signed); 0 before any
  /// max(S+, S-) / h, signed like the larger side; at least 1 in magnitude
  /// while an anomaly lasts, at most 1 otherwise.
  double evidence = 0;
  bool anomaly = false;                 ///< an anomaly is in progress (the rule of the records)
  std::int64_t episode_start_unix = 0;  ///< first sample of the run that became the anomaly
  std::int64_t episode_steps = 0;       ///< samples since then (0 when no anomaly)
  bool shift = false;                   ///< this anomaly has lasted shift_steps: a new normal
  std::int64_t sample_unix = 0;         ///< time of the newest scored sample (0 = none yet)
  double observed = 0;                  ///< the newest scored sample
  double expected = 0;  ///< the forecast it was measured against (reference or one-step)
  double scale = 0;     ///< the residual scale it was divided by (slot or event, horizon)
  std::int64_t reference_steps = 1;  ///< steps ahead that forecast was made
  std::string event;                 ///< named calendar event in progress, if any
  /// The per-sample test of the prediction interval at the target's quantile
  /// (one-step forecast and sigma): true on about 1 - 2(1 - q) of samples by
  /// design; informational, not the anomaly rule.
  bool outside = false;
  std::int64_t outside_steps = 0;  ///< consecutive samples outside that interval
  double one_step_mean = 0;  ///< the one-step forecast of the newest sample (the interval's centre)
  double one_step_sigma = 0;  ///< its sigma (0: none)
};

/// The residual scale slots of a target: time-of-day buckets of at least five
/// minutes or three steps (one bucket without a daily season), times the day
/// type (business day, Saturday, Sunday or holiday; one day type without a
/// weekly season). Value type.
struct AnomalySlotLayout {
  std::size_t buckets_per_day = 1;
  std::size_t day_types = 1;
  [[nodiscard]] std::size_t count() const { return buckets_per_day * day_types; }
  /// The layout for a target's step and seasonal periods.
  static AnomalySlotLayout for_target(std::int64_t step_seconds,
                                      const std::vector<std::int64_t>& seasonality_seconds);
  /// Slot of a sample at `seconds_of_day` local time on a day of `type`.
  [[nodiscard]] std::size_t index(std::int64_t seconds_of_day, AnomalyDayType type) const;
};

/// The CUSUM allowance k for a step: the |z| a Gaussian residual exceeds
/// about 27 times a week (3.0 at 60 s). Pure.
[[nodiscard]] double anomaly_allowance(std::int64_t step_seconds);
/// h, in residual scales.
inline constexpr double kAnomalyThreshold = 10.0;
/// The cross-check against the last comparable day: its CUSUM's allowance and
/// threshold, in that residual's own scales.
inline constexpr double kSeasonalAllowance = 1.0;
inline constexpr double kSeasonalThreshold = 2.5;

/// Not thread-safe: owned by one target worker (or one warm-up).
class AnomalyTracker {
 public:
  AnomalyTracker(AnomalySettings settings, std::int64_t step_seconds, double quantile,
                 AnomalySlotLayout layout);
  AnomalyTracker() : AnomalyTracker({}, 60, 0.9, {}) {}
  void set_settings(AnomalySettings settings) { settings_ = settings; }
  [[nodiscard]] const AnomalySettings& settings() const { return settings_; }

  /// Scores one sample. A non-finite value or forecast scores nothing (a gap
  /// is no evidence). Returns true when this sample makes the anomaly
  /// shift_steps long (and again after every further shift_steps): refit now.
  bool observe(const AnomalySample& sample);
  [[nodiscard]] const AnomalyState& state() const { return state_; }

  /// Start of the current run of large residuals (the CUSUM left zero), 0
  /// when none: the caller keeps the model as it was then and passes its
  /// forecast as reference_mean.
  [[nodiscard]] std::int64_t excursion_start_unix() const { return excursion_start_unix_; }

  /// Learns how a forecast made `steps_ahead` steps before misses, relative
  /// to the one-step residual scale: the growth that widens the reference's
  /// scale during a run. Ignored during an anomaly.
  void learn_horizon(std::int64_t steps_ahead, double residual, const AnomalySlot& slot,
                     double one_step_sigma);
  /// Residual scale of a forecast `steps_ahead` steps old relative to a
  /// one-step one: sqrt(1 + c (steps - 1)), c learned (0.1 before).
  [[nodiscard]] double horizon_growth(std::int64_t steps_ahead) const;

  /// Samples the scales have learned from.
  [[nodiscard]] std::int64_t learned_samples() const { return learned_; }
  /// Whether scored residuals teach the scales (default true). Off while the
  /// model in use is known not to describe the load (a refit is pending):
  /// its misses are the model's, not the load's volatility.
  void set_learning(bool learning) { learning_ = learning; }
  /// Takes the learned scales and growth of `other` (a warm-up over the
  /// history), keeping this tracker's own state of the newest sample.
  void adopt_learning(const AnomalyTracker& other);

  [[nodiscard]] double slot_scale(std::size_t slot, double fallback) const;
  /// The slot's learned bias (its habitual residual, shrunk towards 0).
  [[nodiscard]] double slot_bias(std::size_t slot) const;
  /// The residual against the comparable day's value at today's level, and
  /// that residual standardised (NaN until its scale has learned a day of
  /// samples); both NaN without the value.
  struct SeasonalResidual {
    double residual = std::numeric_limits<double>::quiet_NaN();
    double z = std::numeric_limits<double>::quiet_NaN();
  };
  [[nodiscard]] SeasonalResidual seasonal_residual(const AnomalySample& sample, double prior) const;

 private:
  /// A residual to learn once its run is known not to be an anomaly.
  struct PendingResidual {
    double residual = 0;
    AnomalySlot slot;
    double prior = 0;       ///< the scale before any learning
    double slot_scale = 0;  ///< the slot's scale when it was scored (an event's prior)
    double seasonal = std::numeric_limits<double>::quiet_NaN();  ///< observed - comparable
  };
  static constexpr std::size_t kMaxWaiting = 240;
  /// How one sample is judged: its slot's scale, the scale it is divided by
  /// (slot or event), whether it counts as evidence (an event not yet
  /// learned does not), and the forecast it is measured against.
  struct Judgement {
    double slot_value = 0;
    double scale = 0;
    double bias = 0;  ///< the slot's or event's habitual miss, taken off the residual
    bool judged = true;
    double expected = 0;
    double widened = 0;  ///< scale widened to the reference's horizon
    std::int64_t steps = 1;
  };
  // observe(), phase by phase.
  [[nodiscard]] Judgement judge_scale(const AnomalySample& sample, double prior) const;
  void choose_reference(const AnomalySample& sample, std::int64_t lag, Judgement& j) const;
  void accumulate(double z, bool judged, std::int64_t lag);
  void cross_check(double seasonal_z, const AnomalySample& sample);
  /// Whether the run is off from the comparable day in this direction too (or
  /// could not be checked).
  [[nodiscard]] bool corroborated(bool up) const;
  void record(const AnomalySample& sample, const Judgement& j, double z, double fallback);
  void learn_when_settled(const AnomalySample& sample, double prior, double slot_value,
                          std::int64_t lag, double seasonal);
  /// Starts, follows and ends the anomaly; true when it asks for a shift refit.
  bool follow_episode(std::int64_t sample_unix, bool was_flat);
  void learn(const PendingResidual& pending);
  [[nodiscard]] double global_scale(double fallback) const;
  AnomalySettings settings_;
  std::int64_t step_seconds_;
  double interval_z_;  ///< z of the central interval at the quantile
  double allowance_;   ///< k
  AnomalyState state_;
  double cusum_up_ = 0, cusum_down_ = 0;
  std::int64_t excursion_start_unix_ = 0;
  std::int64_t shift_base_ = 0;           ///< episode_steps at the last shift
  std::vector<PendingResidual> waiting_;  ///< residuals of the current run, not yet learned
  // Learned scales.
  AnomalySlotLayout layout_;
  std::vector<ResidualScale> slots_;
  std::map<std::string, ResidualScale> events_;
  ResidualScale global_;
  std::int64_t learned_ = 0;
  bool learning_ = true;
  static constexpr std::size_t kProbeSteps = 10;
  std::vector<ResidualScale> horizon_;  ///< growth ratio at 2..kProbeSteps steps
  double growth_ = 0.1;
  // The cross-check against the comparable day: learned per slot (outside
  // events), and its CUSUM over the current run.
  std::vector<ResidualScale> seasonal_slots_;
  ResidualScale seasonal_global_;
  double seasonal_up_ = 0, seasonal_down_ = 0;
  /// An hour's exponential means of the load and of the comparable day's,
  /// held during a run: today's level against that day's (0: none yet).
  double level_observed_ = 0, level_comparable_ = 0;
  bool seasonal_known_ = false;    ///< the run has had a sample with a comparable value
  std::int64_t denied_steps_ = 0;  ///< samples past h the cross-check has not corroborated
};

/// The largest value the -anomaly external metric serves.
inline constexpr double kMaxServedAnomalyScore = 1e6;

/// The value of a target's opt-in `<metric>-anomaly` external metric: the
/// anomaly evidence |max(S+, S-)| / h, 1 or more while an anomaly is in
/// progress (the same rule as the decision records and the
/// prescale_anomaly gauge), capped at kMaxServedAnomalyScore. 0 before any
/// sample is scored, when the target is not forecasting (fallback: no
/// trusted forecast to compare with), and for a NaN. Never negative, NaN or
/// infinite. Pure.
[[nodiscard]] double served_anomaly_score(const AnomalyState& state, bool forecasting);

/// "observed 512 is 6.3 residual scales below the forecast 1020 made 3 steps
/// before (evidence 1.4x the threshold; during payroll.payroll-end (start))".
[[nodiscard]] std::string describe_anomaly(const AnomalyState& state);

}  // namespace prescale::autoscaler
