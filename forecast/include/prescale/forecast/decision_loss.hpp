#pragma once
// The decision loss: a backtest score of what the autoscaler serves, not of
// the forecast mean. At each decision the daemon serves the largest
// q-quantile of the forecast over the lead window (the steps a new pod takes
// to start, autoscaler/policy.hpp); the window is short of capacity when the
// load's peak in it exceeds that, and a replica-hour is wasted when it falls
// below. The two cost very different amounts (an SLO minute against a pod
// idling), which MASE, symmetric and of the mean, cannot see: a model with
// a slightly better mean and a band that misses the surges ranks first.
//
// For each window of `steps` consecutive lead steps inside one backtest
// origin's errors (every start: a window of 3 steps in a 12-step horizon
// gives 10 windows per origin; select_and_fit passes the steps within the
// backtest horizon, which for the daemon is the lead window itself), the
// served value
//   s = max over the window of the forecast's q-quantile
// is scored against the window's peak load a = max of the actuals there by
// the pinball (quantile) loss at q:
//   L = q (a - s)       when a >= s  (short: q per unit)
//   L = (1 - q) (s - a) otherwise    (idle: 1 - q per unit)
// whose expected value is least when s is the q-quantile of the peak: the
// asymmetry is the served quantile's own (q0.9: a unit short costs nine
// units idle). The loss is the mean over windows, in the load's units;
// select_and_fit divides it by seasonal naive's (scale-free, as MASE is) and
// reports it when the caller declares its served window
// (SelectionOptions::served; ranking by it is opt-in, selection.hpp says why).
//
// The q-quantile is the one served: mean + z_q sigma after the interval
// calibration the chosen model would get (interval_calibration.hpp), from
// the same errors (in sample, alike for every candidate), so a model is not
// ranked on a band the calibration would then replace. Windows with a
// missing actual are left out.
#include <cstddef>
#include <span>
#include <vector>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/interval_calibration.hpp"

namespace prescale::forecast {

/// What the caller serves from each forecast: the largest `quantile` over
/// the first `steps` lead steps (the daemon: lead steps + 1).
struct ServedWindow {
  std::size_t steps = 1;
  double quantile = 0.9;
};

/// Pinball loss of serving `served` when `actual` came, at quantile q.
[[nodiscard]] double pinball_loss(double actual, double served, double q);

/// The mean pinball loss over every window of one model's backtest errors
/// (top of this file); y is the series the backtest scored (actual =
/// y[index]). `calibration` (may be empty: the model's sigma) rescales each
/// origin's forecast as the fitted model's would be. Only origins listed in
/// `origins` count (index - step is the origin); empty: all. NaN when no
/// window could be scored. Pure function.
[[nodiscard]] double decision_loss(std::span<const BacktestError> errors, std::span<const double> y,
                                   const ServedWindow& window,
                                   const IntervalCalibration& calibration = {},
                                   std::span<const std::size_t> origins = {});

}  // namespace prescale::forecast
