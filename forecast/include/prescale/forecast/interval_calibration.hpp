#pragma once
// Prediction intervals calibrated from backtest errors. A model's sigma
// assumes its own error model (normal, constant variance); on real load the
// out-of-sample errors are often lighter or heavier tailed and skewed
// (surges), so a q0.9 band may cover 99% of the actuals and buy capacity for
// nothing, or 80% and miss surges.
//
// Method (normalised conformal prediction on the backtest's errors, Vovk
// et al. 2005, Lei et al. 2018): each lead step h has a size s[h], the mean
// absolute error of the nearest steps holding at least `pool` errors; for
// each h, the errors (actual - forecast) divided by their own step's size
// are pooled with the nearest lead steps' until they hold at least `pool`
// errors (and at least 4 beyond the tail: 160 for q0.975), and each tail's
// bound is s[h] times a finite-sample quantile of the pool, the
// ceil((n+1) q)-th of n:
//   upper[h] = s[h] Q_q(e/s) / z_p        lower[h] = -s[h] Q_(1-q)(e/s) / z_p
// as sigmas, so that mean + z_p * upper[h] is that quantile (bias
// included). Sizes follow the busy and quiet hours of the window (origins a
// season apart start at the same hour) where a far tail's pool spans most of
// a day. The level q starts at p and rises (towards the largest error, then
// x1.25, x1.5, x2 past it) until the bound, computed without one origin's
// errors (sizes included), holds that origin's errors p of the time, every
// origin held out in turn: errors
// within one backtest window are alike and windows differ (a calm week, a
// stormy one), so the spread of one window understates the next's. The
// errors are the backtest's own, not divided by the model's sigma: a
// model's sigma can be far off the real spread (a median of several
// models, a fit across a regime change), and then its ratios are too. A
// sigma is never below `min_scale` of the model's own: a calm backtest
// must not make the band collapse; nor above `max_scale` times it: a few
// dozen errors from a window that held a burst (a refit in the middle of
// one) would otherwise keep the band, and the replicas bought with it,
// at the burst's size until the next refit. Past the calibrated steps the band
// grows as the model's does.
//
// A combination (combination.hpp) says how far apart its members forecast
// each value (BacktestError::spread, Forecast::spread), and that is known
// at forecast time: where the members disagree (after a break in the
// history, one extrapolates a new level, another repeats last week) the
// next values are harder to forecast than the backtest's average, and
// where they agree, easier. Each error is first divided by
//   g = (a + spread / typical spread at its step) / (a + 1),   a = 3
// (1 at the typical spread, 0.75 when the members agree, 2 at five times
// it), the band calibrated on those, and each forecast step's band
// multiplied by g of its own spread: the normalised conformal method again,
// with a size per origin as well as per step. With fewer than `min_errors` errors the
// model's sigma is kept. select_and_fit calibrates from the errors on the
// history with one-off incidents replaced (as the model is fitted): with a
// few dozen errors, one outage in the backtest window would otherwise set
// the upper tail.
//
// Calendar event rows (a payroll morning: event_effects.hpp) are calibrated
// apart, from the backtest's errors on past event rows (the event origins'),
// relative to the forecast mean: an event scales the load, and the errors
// of ordinary hours (often half the model's sigma) say nothing about how
// far a payroll peak can be off. The tail's relative error, at the level
// that holds each held-out occurrence's errors p of the time, gives
//   event sigma = mean * Q_q(e / forecast) / z_p
// never below the ordinary hours' calibrated sigma. With fewer than
// `min_event_errors` of them, event rows keep the model's own sigma (the
// events model widens it by the spread of its errors on past occurrences)
// or the ordinary calibration's, whichever is wider. Either way, never
// below the spread of past occurrences (the event history's too) around
// what the other occurrences foretell, as a share of the mean
// (event_floor): the model serving a payroll morning is often scored on one
// past occurrence, whose errors (a few, or a few dozen) are one draw of the
// event's size and put the tail within 1 % of the mean, while the
// occurrences themselves say how far a morning strays from the last ones
// (seen once: a third of its effect, the events model's own guess).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

struct CalibrationOptions {
  double quantile = 0.9;        ///< p: the upper tail matched at Q_p, the lower at Q_(1-p)
  std::size_t min_errors = 30;  ///< fewer usable errors: keep the model's sigma
  std::size_t pool = 40;        ///< errors pooled per lead step (nearest steps first), at least
  double min_scale = 0.5;       ///< floor of each tail's sigma, as a share of the model's
  double max_scale = 2.0;       ///< ceiling of each tail's sigma, as a multiple of the model's
  /// Fewer errors on past event rows: event rows keep the wider of the
  /// model's sigma and the ordinary calibration.
  std::size_t min_event_errors = 8;
};

/// Per lead step scales on a model's sigma. Value type. Empty = not
/// calibrated (then `why` says why the model's sigma is kept).
struct IntervalCalibration {
  /// The upper tail's sigma per lead step (mean + z_p * sigma is the
  /// errors' p-quantile); past the last step it grows as the model's does.
  std::vector<double> upper;
  std::vector<double> lower;  ///< same for the lower tail
  double min_scale = 0.5;     ///< floor: this share of the model's own sigma
  double max_scale = 2.0;     ///< ceiling: this multiple of the model's own sigma
  std::size_t errors = 0;     ///< usable backtest errors
  /// Event rows: each tail's sigma as a share of the forecast mean (NaN:
  /// not calibrated apart; event rows then keep the wider of the model's
  /// sigma and the ordinary calibration).
  double event_upper = std::numeric_limits<double>::quiet_NaN();
  double event_lower = std::numeric_limits<double>::quiet_NaN();
  std::size_t event_errors = 0;  ///< usable errors on past event rows
  /// Event rows: their sigma at least this share of the forecast mean, the
  /// spread of past occurrences around what the others foretell
  /// (event_effects.hpp: event_occurrence_spread); NaN: none.
  double event_floor = std::numeric_limits<double>::quiet_NaN();
  /// Combinations: each lead step's typical spread of the members'
  /// forecasts in the backtest, which a forecast's own spread is measured
  /// against (the top of this file); empty: the band ignores the spread.
  std::vector<double> spread_scale;
  std::string why;  ///< for a person: what was done, from how many errors

  [[nodiscard]] bool calibrated() const { return !upper.empty(); }
  /// Replaces forecast.sigma (upper tail) and sets forecast.sigma_lower.
  /// event_row[h] != 0 marks step h as a calendar event row (empty: none).
  void apply(Forecast& forecast, std::span<const std::uint8_t> event_row = {}) const;
};

/// Whether a row (index of the series, history or horizon) is in a calendar
/// event window; empty: no event rows.
using EventRowTest = std::function<bool(std::size_t)>;

/// Calibrates from one model's backtest errors (all origins, lead steps
/// 0 .. horizon-1); with their spreads when a combination's errors carry
/// them. Errors with a non-finite value are not usable. Pure function.
[[nodiscard]] IntervalCalibration calibrate_intervals(std::span<const BacktestError> errors,
                                                      std::size_t horizon,
                                                      const CalibrationOptions& options = {});

/// Calibrates the event rows of `calibration` (the top of this file) from
/// the backtest's errors before past events: those on rows `is_event`
/// holds, relative to the forecast mean y[index] - error; y is the series
/// the backtest scored. `occurrence_spread` (a share of the mean, NaN:
/// none) is the event rows' least sigma. Appends to calibration.why. Pure
/// function.
void calibrate_event_rows(IntervalCalibration& calibration,
                          std::span<const BacktestError> event_errors, std::span<const double> y,
                          const EventRowTest& is_event, const CalibrationOptions& options = {},
                          double occurrence_spread = std::numeric_limits<double>::quiet_NaN());

/// `model` with every forecast rescaled by `calibration`, event rows
/// (`is_event`, read at each forecast: a streaming caller appends calendar
/// rows after the fit) by its event calibration; name, parameters,
/// update() and residual_variance() are the model's own. Returns `model`
/// itself when the calibration is empty.
[[nodiscard]] std::unique_ptr<FittedModel> with_calibrated_intervals(
    std::unique_ptr<FittedModel> model, IntervalCalibration calibration,
    EventRowTest is_event = {});

}  // namespace prescale::forecast
