#pragma once
// One-off incidents in a training window (an outage that halves traffic for
// an hour, a short unexplained spike) found and replaced before fitting, so
// no model learns them as a seasonal pattern. A preprocessing step for every
// model: select_and_fit applies it unless SelectionOptions says not to.
//
// Baseline: the mean per slot of the longest season with at least three
// cycles in the history (else two; no season: nothing is flagged), plus the
// calendar effects when regressors are given (calendar_effects.hpp), so a
// payroll surge or a holiday that the calendar explains is part of the
// baseline, not a residual. Two passes: the first centres each slot on its
// median (robust with few cycles), the second on the mean without what the
// first flagged, so an incident does not drag its slot's mean towards itself.
//
// Scale: residuals are compared with 1.4826 * MAD (a robust sigma), taken
// per hour-like band of the shortest season (24 bands of a day) because
// load is noisier at busy hours. A sample is flagged when |z| >= threshold,
// or when it belongs to a run of at least min_run consecutive samples with
// |z| >= run_threshold on the same side. Calendar rows are never flagged:
// rows unusual for their slot (an event or holiday; CalendarEffects::unusual)
// and rows where a rare column with an effect is on (an event, or the first
// two hours of a 6.5-hour session: the market-open burst, whose size varies from day
// to day). Inside events the scale is that of the same events. Indicator
// columns on in more than half of the rows (business days) split the slots
// into groups instead. Flagged samples are replaced by the baseline, except
// in the newest cycle of the shortest season and in episodes longer than one
// cycle: those may be a new level, which the forecast must follow.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

struct OutlierOptions {
  double threshold = 6.0;      ///< |z| that flags a sample alone
  double run_threshold = 4.0;  ///< |z| that flags a run of min_run samples
  std::size_t min_run = 3;
  std::size_t bands = 24;  ///< scale bands of the shortest season
};

/// What was found. Value type.
struct OutlierReport {
  std::vector<double> cleaned;        ///< y with flagged samples replaced
  std::vector<std::uint8_t> flagged;  ///< 1 where a sample was replaced
  std::size_t points = 0;             ///< samples replaced
  std::size_t episodes = 0;           ///< runs of consecutive flagged samples
  std::size_t exempt_calendar = 0;    ///< samples over threshold but explained by the calendar
  /// For a person, e.g. "outliers: 61 samples in 1 episode replaced by the
  /// seasonal baseline"; "" when nothing was checked.
  std::string summary;
};

/// Detects and replaces outliers in input.y (layout and regressors as for
/// fit()). Never fails: a history too short for a baseline is returned as is
/// (summary says why).
[[nodiscard]] OutlierReport replace_outliers(const FitInput& input,
                                             const OutlierOptions& options = {});

}  // namespace prescale::forecast
