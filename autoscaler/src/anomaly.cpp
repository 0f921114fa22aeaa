#include "prescale/autoscaler/anomaly.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "prescale/forecast/model.hpp"

namespace prescale::autoscaler {

namespace {

// sigma of a normal residual = E|e| x sqrt(pi / 2).
constexpr double kMeanAbsToSigma = 1.2533141373155003;
// A residual counts at most this many scales when learning (an outage must
// not teach "volatile").
constexpr double kLearnCap = 4.0;
// Pseudo-samples of the prior in a young scale, and the slowest learning rate
// (memory of about 100 samples of the slot: a week or two of its minutes).
constexpr double kPriorSamples = 5;
constexpr double kSlowestRate = 0.01;
// An event's spread before its residuals have taught one: this many slot scales.
constexpr double kEventPriorScales = 3.0;
// An event's phase is judged once its spread has been learned from this many
// samples (and half an hour's worth, a start phase's length): until then its
// windows are no evidence either way.
constexpr std::int64_t kEventMinSamples = 10;
// Before the residuals against the comparable day have taught a scale: this
// many of the model's (the difference of two noisy samples).
constexpr double kSeasonalPriorRatio = 1.4142135623730951;
// Per-sample interval exceedances a week the allowance is set for (3.0 at 1-minute steps).
constexpr double kChanceExceedancesPerWeek = 27.0;

}  // namespace

double ResidualScale::get(double prior) const {
  if (samples <= 0) return prior;
  const double n = static_cast<double>(samples);
  return (n * value + kPriorSamples * prior) / (n + kPriorSamples);
}

double ResidualScale::bias() const {
  if (samples <= 0) return 0;
  const double n = static_cast<double>(samples);
  return n * mean / (n + kPriorSamples);
}

void ResidualScale::learn(double residual, double prior) {
  const double current = get(prior);
  const double cap = current > 0 ? kLearnCap * current : std::abs(residual);
  const double deviation = std::clamp(residual - bias(), -cap, cap);
  const double sample = kMeanAbsToSigma * std::abs(deviation);
  if (samples == 0) value = current > 0 ? current : sample;
  ++samples;
  const double rate = std::max(1.0 / static_cast<double>(samples), kSlowestRate);
  value += rate * (sample - value);
  mean += rate * (std::clamp(residual, -cap, cap) - mean);
}

AnomalySlotLayout AnomalySlotLayout::for_target(std::int64_t step_seconds,
                                                const std::vector<std::int64_t>& seasonality) {
  AnomalySlotLayout layout;
  const bool daily = std::find(seasonality.begin(), seasonality.end(), 86400) != seasonality.end();
  const bool weekly =
      std::find(seasonality.begin(), seasonality.end(), 7 * 86400) != seasonality.end();
  if (daily || weekly) {
    // Narrow enough for a market open's first minutes, wide enough for three samples a day.
    const std::int64_t width = std::max<std::int64_t>(3 * step_seconds, 5 * 60);
    layout.buckets_per_day = static_cast<std::size_t>((86400 + width - 1) / width);
  }
  if (weekly) layout.day_types = 3;
  return layout;
}

std::size_t AnomalySlotLayout::index(std::int64_t seconds_of_day, AnomalyDayType type) const {
  const std::int64_t day = std::clamp<std::int64_t>(seconds_of_day, 0, 86399);
  const auto bucket =
      std::min(buckets_per_day - 1,
               static_cast<std::size_t>(day * static_cast<std::int64_t>(buckets_per_day) / 86400));
  const auto kind = std::min(static_cast<std::size_t>(type), day_types - 1);
  return kind * buckets_per_day + bucket;
}

double anomaly_allowance(std::int64_t step_seconds) {
  const double tests_per_week =
      604800.0 / static_cast<double>(std::max<std::int64_t>(step_seconds, 1));
  const double chance = std::min(0.5, kChanceExceedancesPerWeek / tests_per_week);
  return std::clamp(forecast::normal_quantile(1 - chance / 2), 1.0, 4.0);
}

AnomalyTracker::AnomalyTracker(AnomalySettings settings, std::int64_t step_seconds, double quantile,
                               AnomalySlotLayout layout)
    : settings_(settings),
      step_seconds_(std::max<std::int64_t>(step_seconds, 1)),
      allowance_(anomaly_allowance(step_seconds)),
      layout_(layout),
      slots_(layout.count()),
      horizon_(kProbeSteps),
      seasonal_slots_(layout.count()) {
  // The central interval whose upper edge is the served quantile: [q_(1-p), q_p].
  const double p = std::max(quantile, 1 - quantile);
  interval_z_ = p > 0.5 && p < 1 ? forecast::normal_quantile(p) : 0;
}

double AnomalyTracker::global_scale(double fallback) const {
  return global_.get(fallback);
}

double AnomalyTracker::slot_scale(std::size_t slot, double fallback) const {
  const double global = global_scale(fallback);
  return slot < slots_.size() ? slots_[slot].get(global) : global;
}

double AnomalyTracker::slot_bias(std::size_t slot) const {
  return slot < slots_.size() ? slots_[slot].bias() : 0;
}

double AnomalyTracker::horizon_growth(std::int64_t steps_ahead) const {
  if (steps_ahead <= 1) return 1;
  return std::sqrt(1 + growth_ * static_cast<double>(steps_ahead - 1));
}

void AnomalyTracker::learn_horizon(std::int64_t steps_ahead, double residual,
                                   const AnomalySlot& slot, double one_step_sigma) {
  if (!learning_ || state_.anomaly || steps_ahead < 1 ||
      steps_ahead > static_cast<std::int64_t>(kProbeSteps) || !std::isfinite(residual))
    return;
  double scale = slot_scale(slot.index, one_step_sigma);
  if (!slot.event.empty()) {
    if (auto it = events_.find(slot.event); it != events_.end())
      scale = std::max(scale, it->second.get(kEventPriorScales * scale));
    else
      scale *= kEventPriorScales;
  }
  if (!(scale > 0)) return;
  auto prior = [](std::size_t h) { return std::sqrt(1 + 0.1 * static_cast<double>(h)); };
  const auto h = static_cast<std::size_t>(steps_ahead - 1);
  horizon_[h].learn(residual / scale, prior(h));
  // Least squares of (g_h / g_1)^2 - 1 = c (h - 1) over the probed horizons.
  const double one = horizon_[0].get(prior(0));
  if (!(one > 0)) return;
  double numerator = 0, denominator = 0;
  for (std::size_t k = 1; k < horizon_.size(); ++k) {
    const double ratio = horizon_[k].get(prior(k)) / one;
    numerator += (ratio * ratio - 1) * static_cast<double>(k);
    denominator += static_cast<double>(k * k);
  }
  growth_ = std::clamp(numerator / denominator, 0.0, 4.0);
}

void AnomalyTracker::adopt_learning(const AnomalyTracker& other) {
  if (other.layout_.count() != layout_.count()) return;
  slots_ = other.slots_;
  events_ = other.events_;
  global_ = other.global_;
  learned_ = other.learned_;
  horizon_ = other.horizon_;
  growth_ = other.growth_;
  seasonal_slots_ = other.seasonal_slots_;
  seasonal_global_ = other.seasonal_global_;
  if (level_comparable_ == 0 && level_observed_ == 0) {
    level_observed_ = other.level_observed_;
    level_comparable_ = other.level_comparable_;
  }
}

void AnomalyTracker::learn(const PendingResidual& pending) {
  // Against the comparable day: the load's own day-to-day spread, whatever
  // the model (so also while a refit is pending); not inside an event, which
  // that day did not have.
  if (std::isfinite(pending.seasonal) && pending.slot.event.empty()) {
    const double prior = kSeasonalPriorRatio * pending.prior;
    seasonal_global_.learn(pending.seasonal, prior);
    if (pending.slot.index < seasonal_slots_.size())
      seasonal_slots_[pending.slot.index].learn(pending.seasonal, seasonal_global_.get(prior));
  }
  if (!learning_) return;
  if (!pending.slot.event.empty()) {
    events_[pending.slot.event].learn(pending.residual, kEventPriorScales * pending.slot_scale);
  } else {
    global_.learn(pending.residual, pending.prior);
    if (pending.slot.index < slots_.size())
      slots_[pending.slot.index].learn(pending.residual, global_scale(pending.prior));
  }
  ++learned_;
}

AnomalyTracker::Judgement AnomalyTracker::judge_scale(const AnomalySample& sample,
                                                      double prior) const {
  // The lagged residual's scale in this slot, or in the event in progress
  // (never below the slot's).
  Judgement j;
  j.slot_value = slot_scale(sample.slot.index, prior);
  j.scale = j.slot_value;
  if (sample.slot.index < slots_.size()) j.bias = slots_[sample.slot.index].bias();
  if (!sample.slot.event.empty()) {
    const auto it = events_.find(sample.slot.event);
    const ResidualScale event_scale = it != events_.end() ? it->second : ResidualScale{};
    j.scale = std::max(j.slot_value, event_scale.get(kEventPriorScales * j.slot_value));
    j.bias = event_scale.bias();
    j.judged =
        event_scale.samples >= std::max<std::int64_t>(kEventMinSamples, 1800 / step_seconds_);
  }
  // A constant series has no spread: any change is far outside it.
  j.scale = std::max(j.scale, 1e-9 * (std::abs(sample.one_step_mean) + 1));
  return j;
}

void AnomalyTracker::choose_reference(const AnomalySample& sample, std::int64_t lag,
                                      Judgement& j) const {
  // Outside a run of large residuals: the lagged forecast. Within one (an
  // anomaly or not yet): the forecast of the model as the run began, once it
  // is older than the lagged one (which has then seen the run), its scale
  // widened with the steps since. Otherwise a model that follows the level
  // absorbs a drop within a few samples, before the evidence is complete.
  j.expected = sample.lagged_mean;
  j.widened = j.scale;
  j.steps = sample.lagged_steps;
  const bool in_run = cusum_up_ > 0 || cusum_down_ > 0;
  if (in_run && sample.reference_steps >= sample.lagged_steps &&
      std::isfinite(sample.reference_mean)) {
    j.expected = sample.reference_mean;
    j.steps = sample.reference_steps;
    j.widened = j.scale * std::max(1.0, horizon_growth(j.steps) / horizon_growth(lag));
  }
}

void AnomalyTracker::accumulate(double z, bool judged, std::int64_t lag) {
  // Two-sided CUSUM; no single sample brings it past the threshold.
  const double h = kAnomalyThreshold, k = allowance_;
  const double per_sample = lag > 1 ? k + h / static_cast<double>(lag - 1) : 1e300;
  const double counted = judged ? std::clamp(z, -per_sample, per_sample) : 0.0;
  const double cap = h + 2 * k;  // leaves an anomaly within a few samples of its end
  cusum_up_ = std::min(cap, std::max(0.0, cusum_up_ + counted - k));
  cusum_down_ = std::min(cap, std::max(0.0, cusum_down_ - counted - k));
}

AnomalyTracker::SeasonalResidual AnomalyTracker::seasonal_residual(const AnomalySample& sample,
                                                                   double prior) const {
  SeasonalResidual out;
  if (!std::isfinite(sample.comparable)) return out;
  const double level =
      level_comparable_ > 0 && level_observed_ >= 0 ? level_observed_ / level_comparable_ : 1.0;
  out.residual = sample.observed - level * sample.comparable;
  if (seasonal_global_.samples < std::max<std::int64_t>(kPriorSamples, 86400 / step_seconds_))
    return out;
  const double global = seasonal_global_.get(kSeasonalPriorRatio * prior);
  const bool in_layout = sample.slot.index < seasonal_slots_.size();
  const double scale = in_layout ? seasonal_slots_[sample.slot.index].get(global) : global;
  const double bias = in_layout ? seasonal_slots_[sample.slot.index].bias() : 0;
  const double floor = 1e-9 * (std::abs(sample.comparable) + 1);
  out.z = (out.residual - bias) / std::max(scale, floor);
  return out;
}

void AnomalyTracker::cross_check(double seasonal_z, const AnomalySample& sample) {
  // Over the samples of the current run only: the model's run is what it
  // corroborates. Outside runs, the levels follow the last hour.
  if (cusum_up_ == 0 && cusum_down_ == 0) {
    seasonal_up_ = seasonal_down_ = 0;
    seasonal_known_ = false;
    if (std::isfinite(sample.comparable)) {
      const double rate = std::min(1.0, static_cast<double>(step_seconds_) / 3600.0);
      const bool first = level_comparable_ == 0 && level_observed_ == 0;
      level_observed_ += (first ? 1.0 : rate) * (sample.observed - level_observed_);
      level_comparable_ += (first ? 1.0 : rate) * (sample.comparable - level_comparable_);
    }
    return;
  }
  if (!std::isfinite(seasonal_z)) return;
  seasonal_known_ = true;
  const double k = kSeasonalAllowance, cap = kSeasonalThreshold + 2 * kSeasonalAllowance;
  seasonal_up_ = std::min(cap, std::max(0.0, seasonal_up_ + seasonal_z - k));
  seasonal_down_ = std::min(cap, std::max(0.0, seasonal_down_ - seasonal_z - k));
}

bool AnomalyTracker::corroborated(bool up) const {
  return !seasonal_known_ || (up ? seasonal_up_ : seasonal_down_) >= kSeasonalThreshold;
}

void AnomalyTracker::record(const AnomalySample& sample, const Judgement& j, double z,
                            double fallback) {
  state_.score = z;
  state_.evidence = (cusum_up_ >= cusum_down_ ? cusum_up_ : -cusum_down_) / kAnomalyThreshold;
  // Before an anomaly is declared it needs both tests: the evidence is the
  // weaker one's (so it reaches 1 only when the anomaly begins).
  if (!state_.anomaly && seasonal_known_) {
    const double seasonal =
        (state_.evidence >= 0 ? seasonal_up_ : seasonal_down_) / kSeasonalThreshold;
    state_.evidence = std::copysign(std::min(std::abs(state_.evidence), seasonal), state_.evidence);
  }
  state_.sample_unix = sample.sample_unix;
  state_.observed = sample.observed;
  state_.expected = j.expected + j.bias;
  state_.scale = j.widened;
  state_.reference_steps = j.steps;
  state_.event = sample.slot.event;
  // The per-sample test of the prediction interval (informational).
  state_.outside =
      fallback > 0 && std::abs(sample.observed - sample.one_step_mean) > interval_z_ * fallback;
  state_.outside_steps = state_.outside ? state_.outside_steps + 1 : 0;
  state_.one_step_mean = sample.one_step_mean;
  state_.one_step_sigma = fallback;
}

void AnomalyTracker::learn_when_settled(const AnomalySample& sample, double prior,
                                        double slot_value, std::int64_t lag, double seasonal) {
  // Learn the lagged residual's scale, but never during a run of large
  // residuals: its samples wait until it ends. A scale that grows during an
  // incident's first minutes would hide the incident; learned afterwards
  // (each residual capped at kLearnCap scales), a run that recurs at the same
  // hour (a market open's jolt) widens its slot, and a one-off widens it a
  // little for a while.
  if (sample.lagged_steps != lag) return;
  const bool in_run_now = cusum_up_ > 0 || cusum_down_ > 0;
  waiting_.push_back(
      {sample.observed - sample.lagged_mean, sample.slot, prior, slot_value, seasonal});
  if (!in_run_now) {
    for (const auto& w : waiting_) learn(w);
    waiting_.clear();
  } else if (waiting_.size() > kMaxWaiting) {  // a run this long: its start is history
    learn(waiting_.front());
    waiting_.erase(waiting_.begin());
  }
}

bool AnomalyTracker::follow_episode(std::int64_t sample_unix, bool was_flat) {
  const bool up = cusum_up_ > kAnomalyThreshold && corroborated(true);
  const bool down = cusum_down_ > kAnomalyThreshold && corroborated(false);
  if (!state_.anomaly && std::max(cusum_up_, cusum_down_) > kAnomalyThreshold && !up && !down) {
    // Past the threshold but not off from the comparable day: the model's
    // miss, not the load's. After anomaly_steps such samples the run is
    // dismissed and its residuals learned (a habit the slot's bias takes);
    // the next run is judged afresh against the model of the moment.
    if (++denied_steps_ >= std::max<std::int64_t>(settings_.anomaly_steps, 1)) {
      cusum_up_ = cusum_down_ = 0;
      seasonal_up_ = seasonal_down_ = 0;
      seasonal_known_ = false;
      for (const auto& w : waiting_) learn(w);
      waiting_.clear();
    }
  } else {
    denied_steps_ = 0;
  }
  if (cusum_up_ == 0 && cusum_down_ == 0) {
    denied_steps_ = 0;
    excursion_start_unix_ = 0;
    state_.anomaly = false;
    state_.episode_start_unix = 0;
    state_.episode_steps = 0;
    state_.shift = false;
    shift_base_ = 0;
    return false;
  }
  if (was_flat || excursion_start_unix_ == 0) excursion_start_unix_ = sample_unix;
  const bool begins = !state_.anomaly && (up || down);
  if (begins) {
    state_.anomaly = true;
    state_.episode_start_unix = excursion_start_unix_;
  }
  if (!state_.anomaly) return false;
  state_.episode_steps = (sample_unix - state_.episode_start_unix) / step_seconds_ + 1;
  // A new normal needs shift_steps samples of anomaly, counting the
  // anomaly_steps that made it: a run that crept up to the threshold
  // over many samples has not been an anomaly for all of them.
  if (begins)
    shift_base_ = std::max<std::int64_t>(0, state_.episode_steps - settings_.anomaly_steps);
  // Every further M steps (the refit did not absorb it) asks again.
  if (!state_.shift && state_.episode_steps - shift_base_ >= settings_.shift_steps) {
    state_.shift = true;
    shift_base_ = state_.episode_steps;
    return true;
  }
  return false;
}

bool AnomalyTracker::observe(const AnomalySample& sample) {
  if (!std::isfinite(sample.observed) || !std::isfinite(sample.one_step_mean) ||
      !std::isfinite(sample.lagged_mean))
    return false;
  const double fallback =
      std::isfinite(sample.one_step_sigma) && sample.one_step_sigma > 0 ? sample.one_step_sigma : 0;
  const std::int64_t lag = std::max<std::int64_t>(settings_.anomaly_steps, 1);
  // Before any learning, the model's sigma widened to the lag.
  const double prior = fallback * horizon_growth(lag);
  Judgement j = judge_scale(sample, prior);
  choose_reference(sample, lag, j);
  const double z = (sample.observed - j.expected - j.bias) / j.widened;
  const bool was_flat = cusum_up_ == 0 && cusum_down_ == 0;
  accumulate(z, j.judged, lag);
  const SeasonalResidual seasonal = seasonal_residual(sample, prior);
  cross_check(seasonal.z, sample);
  learn_when_settled(sample, prior, j.slot_value, lag, seasonal.residual);
  const bool refit = follow_episode(sample.sample_unix, was_flat);
  record(sample, j, z, fallback);
  // The evidence reads as the rule: at least 1 while an anomaly lasts (it
  // ends only when the CUSUM is back at 0, so the sum may dip below h before
  // then), at most 1 otherwise (none has passed h since the last 0).
  if (state_.anomaly && std::abs(state_.evidence) < 1)
    state_.evidence = state_.evidence < 0 ? -1.0 : 1.0;
  return refit;
}

double served_anomaly_score(const AnomalyState& state, bool forecasting) {
  if (!forecasting || state.sample_unix == 0 || std::isnan(state.evidence)) return 0;
  return std::min(std::abs(state.evidence), kMaxServedAnomalyScore);
}

std::string describe_anomaly(const AnomalyState& state) {
  const double distance = std::abs(state.observed - state.expected) / std::max(state.scale, 1e-300);
  return fmt::format(
      "observed {:.6g} is {:.1f} residual scales {} the forecast {:.6g}{} (anomaly evidence "
      "{:.2f}x the threshold{})",
      state.observed, distance, state.observed < state.expected ? "below" : "above", state.expected,
      state.reference_steps > 1 ? fmt::format(" made {} steps before", state.reference_steps)
                                : std::string(),
      std::abs(state.evidence), state.event.empty() ? "" : ", during " + state.event);
}

}  // namespace prescale::autoscaler
