#pragma once
// One rule for a score measured on rolling and on event origins (backtest.hpp,
// BacktestOptions::event_weight): the blend backtest.cpp gives MASE and sMAPE,
// combination.cpp a combination's, selection.cpp the decision loss.
#include <algorithm>
#include <cmath>

namespace prescale::forecast {

/// (1 - weight) x rolling + weight x event, weight clamped to [0, 1]; a side
/// that could not be scored (NaN) leaves the other alone.
inline double blend_event_score(double rolling, double event, double weight) {
  if (std::isnan(event)) return rolling;
  if (std::isnan(rolling)) return event;
  const double w = std::clamp(weight, 0.0, 1.0);
  return (1 - w) * rolling + w * event;
}

}  // namespace prescale::forecast
