#pragma once
// Rendering of forecast and backtest results as JSON, CSV or a table. Pure
// string building: the commands decide where it goes.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prescale/forecast/selection.hpp"

namespace prescale::cli {

struct ForecastPoint {
  std::int64_t unix_seconds;
  double mean, lower, upper;
};

/// What `prescale forecast` prints.
struct ForecastReport {
  const forecast::Selection* selection = nullptr;
  std::int64_t step_seconds = 0;
  double quantile = 0.9;
  std::vector<ForecastPoint> points;
  std::vector<std::string> notes;
};

/// What `prescale backtest` prints.
struct BacktestReport {
  const forecast::Selection* selection = nullptr;
  std::int64_t horizon_seconds = 0;
  double quantile = 0.9;
  std::vector<std::string> notes;
  /// backtest --lead-time: the served window each score's decision loss
  /// (shown beside MASE) was measured on; unset: no column.
  std::optional<forecast::ServedWindow> served;
};

/// format: json | csv | table (validated by the command line parser).
[[nodiscard]] std::string render_forecast(const ForecastReport& report, const std::string& format);
[[nodiscard]] std::string render_backtest(const BacktestReport& report, const std::string& format);

}  // namespace prescale::cli
