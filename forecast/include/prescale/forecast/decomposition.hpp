#pragma once
// Initial Holt-Winters state from a classical decomposition of the first
// seasons: a linear trend through the means of the first two cycles of the
// longest period, then slot means of the detrended data, period by period
// (shortest first, each on what the previous ones left), NaN ignored.
#include <cstddef>
#include <span>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

/// State before the first sample. Value type.
struct InitialState {
  double level = 0.0;
  double trend = 0.0;
  /// seasonal[k][slot]: additive offsets (mean 0) or multiplicative factors (mean 1)
  std::vector<std::vector<double>> seasonal;
};

/// Decomposes y using the first `periods` periods of `layout` (which must
/// cover y). Needs two cycles of the longest period used (or, without
/// seasons, two valid samples); returns an Error naming what is missing.
/// with_trend=false gives a zero trend. Multiplicative needs y > 0.
Expected<InitialState> decompose_initial_state(std::span<const double> y,
                                               const SeasonLayout* layout, std::size_t periods,
                                               bool with_trend, bool multiplicative);

}  // namespace prescale::forecast
