#pragma once
// Rolling-origin backtest: for each origin o (the newest last), a model sees
// only y[0, o) and forecasts y[o, o + horizon); errors are scored against
// what really happened there.
//
// Cost: by default each model is fitted ONCE, on the data before the first
// origin, and carried to the later origins with update() (O(1) per sample).
// No data after an origin ever reaches its forecast, but parameters are not
// re-estimated at later origins: a model whose parameters drift scores a
// little worse than a full refit would. refit_each_origin = true refits at
// every origin (origins x the fit cost) for an exact evaluation.
//
// Event origins: the recent origins above rarely hold a calendar event (a
// payroll day comes twice a month), so a ranking by them alone cannot see
// whether a model forecasts the surges that matter most. When the input has
// calendar regressors, up to `event_origins` more origins are placed before
// the most recent past event occurrences (event_backtest_origins()), each
// with a fit of its own on the data before it (an event origin is older
// than the rolling ones, and a model carried forward from it would learn its
// calendar effects from a history without the later events). Their mean
// MASE is blended with the rolling origins' by `event_weight`.
//
// Fit times are measured here with std::chrono::steady_clock (a duration,
// not a time of day: the library still reads no wall clock).
#include <atomic>
#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

struct BacktestOptions {
  std::size_t horizon = 12;  ///< steps forecast from each origin
  std::size_t origins = 8;   ///< at most this many (fewer when history is short)
  double quantile = 0.9;     ///< interval [1-q, q] whose coverage is reported
  /// Steps between origins; 0 = max(horizon, ceil(longest season / origins)),
  /// which spreads the origins over the last week for a weekly season
  /// (narrowed when the history cannot hold them after min_training).
  std::size_t origin_spacing = 0;
  /// Each origin needs at least this much history; 0 = two cycles of the
  /// longest season when the history has them, else of the shortest (or
  /// 2 * horizon without seasons).
  std::size_t min_training = 0;
  bool refit_each_origin = false;
  /// Lead steps whose errors are kept in ModelBacktest::errors (0 or less
  /// than horizon = horizon). Steps past the horizon are forecast for
  /// interval calibration only, never scored: a 3-step window x 4 origins
  /// is too few errors for a tail quantile.
  std::size_t error_horizon = 0;
  /// At most this many event origins (0 = none; see the top of this file).
  /// Each costs one fit per model.
  std::size_t event_origins = 3;
  /// Share of the event origins' mean in ModelBacktest::mase (the rolling
  /// origins' mean has the rest). 1/3: calendar events are a few percent of
  /// the time but the surges an autoscaler exists for, so a plain mean over
  /// (say) 8 rolling and 2 event origins would let a model blind to them
  /// win by a small edge on ordinary hours; at 1/3 a model good only at
  /// events cannot win on them alone either.
  double event_weight = 1.0 / 3.0;
  /// Models backtested at once, one per thread (the caller's included).
  /// Results do not depend on it. 1 in the daemon, whose fit threads already
  /// share the CPUs; the CLI uses the machine's.
  std::size_t threads = 1;
  /// When set (by another thread), models not scored yet are skipped with
  /// FitStatus::cancelled: a daemon stopping does not wait for a fit nobody
  /// will read. Null: never.
  const std::atomic<bool>* cancel = nullptr;
};

/// True when `options.cancel` is set.
[[nodiscard]] inline bool cancelled(const BacktestOptions& options) {
  return options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed);
}

/// Origins (indices into y, ascending) the options give for n samples; empty
/// when the history is too short for even one.
[[nodiscard]] std::vector<std::size_t> backtest_origins(std::size_t n, const SeasonLayout* layout,
                                                        const BacktestOptions& options);

/// Origins (ascending) before the most recent past calendar events of
/// input.regressors, at most options.event_origins; empty without
/// regressors. An event occurrence is a run of history rows whose 0/1
/// columns differ from their slot's usual value (slot: the layout's longest
/// season with two cycles, else the whole history) by more than 0.5: a
/// payroll morning, a holiday, a one-off date. An occurrence gets an origin
/// only when it leaves min_training of history before the origin and the
/// history before the origin holds an earlier occurrence of a related event
/// (one of its unusual columns, or a sibling: same calendar and suffix, see
/// pool_sibling_events), so models had something to learn from. The origin
/// is placed so that the forecast window ends at the occurrence's end when
/// the horizon is at least as long as it, else at its start; newest
/// occurrences first, windows never overlapping each other (one may equal a
/// rolling origin: it is then scored in both groups). Placement reads the
/// calendar columns only, never y.
///
/// from_past_events: an occurrence is learnable too when an older
/// occurrence of a related event is among input.past_events (the event
/// history a target fetches beyond its history).
[[nodiscard]] std::vector<std::size_t> event_backtest_origins(const FitInput& input,
                                                              const BacktestOptions& options,
                                                              bool from_past_events = false);

/// One out-of-sample error of a backtest: at lead step `step` (0 = one step
/// ahead) of one origin, what happened (y[index]) minus the forecast mean,
/// and the sigma the model gave that step (interval_calibration.hpp
/// rescales by it).
struct BacktestError {
  std::size_t step = 0;
  std::size_t index = 0;
  double error = 0;
  double sigma = 0;
  /// How far apart a combination's members forecast this value (the
  /// standard deviation of their forecasts, combination.hpp); 0 for one
  /// model. interval_calibration.hpp widens the band with it.
  double spread = 0;
};

/// One model's backtest. Value type.
struct ModelBacktest {
  std::string model;  ///< fitted name, e.g. holt-winters(A,Ad,A;288,2016)
  FitStatus status = FitStatus::invalid_input;
  std::string message;  ///< why a fit failed or fell back
  double mase =
      0;  ///< mean over origins of MASE (NaN-safe), event origins blended in by event_weight
  double event_mase = 0;  ///< mean MASE over the event origins alone (NaN when none)
  /// Mean pinball loss of the served lead-window peak (decision_loss.hpp),
  /// event origins blended in by event_weight; NaN unless the selection was
  /// given a served window (SelectionOptions::served).
  double decision_loss = std::numeric_limits<double>::quiet_NaN();
  double smape = 0;     ///< mean over origins, percent
  double coverage = 0;  ///< share of actuals inside [q_{1-p}, q_p], all origins pooled
  double fit_seconds_mean = 0;
  std::size_t origins_scored = 0;  ///< rolling and event origins
  /// Every scored error, origin by origin (missing actuals left out).
  std::vector<BacktestError> errors;
  /// The event origins' errors (lead steps < horizon), apart from `errors`:
  /// an event origin may equal a rolling one. combine_backtests()
  /// (combination.hpp) rescores a mean of models from them.
  std::vector<BacktestError> event_errors;
  /// parameters() of the fit at the first rolling origin (empty if none):
  /// a warm start for the fit on the whole history (FitInput::warm_start).
  std::map<std::string, double> origin_parameters;
};

struct BacktestReport {
  std::vector<std::size_t> origins;        ///< the rolling origins
  std::vector<std::size_t> event_origins;  ///< before past calendar events (event_backtest_origins)
  std::size_t horizon = 0;
  std::vector<ModelBacktest> models;  ///< in the order given
  /// MASE scale of each origin (seasonal_naive_scale of the history before
  /// it), parallel to origins and event_origins.
  std::vector<double> origin_scales;
  std::vector<double> event_scales;
};

/// The event origins given alone (no rolling origins): each model fitted
/// afresh before each and scored there as backtest() scores its event
/// origins (event_mase over the origins all models were scored at,
/// event_errors); mase and the rolling figures stay unset.
[[nodiscard]] BacktestReport backtest_at_event_origins(const FitInput& input,
                                                       std::span<const Model* const> models,
                                                       const BacktestOptions& options,
                                                       std::vector<std::size_t> origins);

/// Called after each model: (models done, models in total, model name); with
/// BacktestOptions::threads > 1 from the thread that scored it, one call at a time.
using BacktestProgress = std::function<void(std::size_t, std::size_t, const std::string&)>;

/// Runs every model over the same origins. input.y is the whole history;
/// its layout/regressors must cover it. Thread-safe if the models are.
[[nodiscard]] BacktestReport backtest(const FitInput& input, std::span<const Model* const> models,
                                      const BacktestOptions& options,
                                      const BacktestProgress& progress = {});

}  // namespace prescale::forecast
