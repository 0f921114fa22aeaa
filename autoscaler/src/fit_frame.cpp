#include "prescale/autoscaler/fit_frame.hpp"

#include "prescale/config/duration.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

namespace prescale::autoscaler {

namespace {

// A season needs one whole cycle of history: with less, some of its slots
// were never seen and no model can forecast them from it. Between one and
// two cycles each model applies its own rule (Holt-Winters and the
// decompositions leave the season out, seasonal naive repeats the one
// cycle, ARIMA's Fourier terms need their min_cycles, the backtest places
// its origins by the shortest season). Two cycles here instead would take
// the weekly seasonal naive from every fit on a week of history: the
// predictive run's violation minutes at equal replica-hours rose 25 % on
// the generated payments trace and on NAB's elb trace (simulate --frontier).
constexpr std::int64_t kMinSeasonCycles = 1;

std::string cycles_text() {
  return kMinSeasonCycles == 1 ? std::string("one cycle")
                               : fmt::format("{} cycles", kMinSeasonCycles);
}

}  // namespace

Expected<PreparedHistory> prepare_history(const config::TargetConfig& target,
                                          const forecast::Series& series) {
  const auto& values = series.values;
  std::size_t first = 0;
  while (first < values.size() && std::isnan(values[first])) ++first;
  if (first == values.size()) return make_error("no sample with a value in the history");
  PreparedHistory out;
  out.target = target;
  out.start_unix = series.time_at(first);
  out.values = std::span<const double>(values.data() + first, values.size() - first);
  const auto history = static_cast<std::int64_t>(out.values.size()) * series.step_seconds;
  std::vector<std::int64_t> kept;
  for (const std::int64_t period : target.seasonality_seconds) {
    if (history >= kMinSeasonCycles * period) {
      kept.push_back(period);
      continue;
    }
    out.dropped_seasons.push_back(period);
    out.notes.push_back(fmt::format("season {} dropped: the history ({}) is shorter than {}",
                                    config::format_duration(period),
                                    config::format_duration(history), cycles_text()));
  }
  std::sort(out.dropped_seasons.begin(), out.dropped_seasons.end());
  out.target.seasonality_seconds = std::move(kept);
  return out;
}

FitFrame::FitFrame(const config::TargetConfig& target, calendar::TimeZone zone,
                   std::shared_ptr<const calendar::CalendarSet> calendars, std::int64_t start_unix,
                   std::size_t rows)
    : zone_(std::move(zone)),
      calendars_(std::move(calendars)),
      start_unix_(start_unix),
      step_(target.step_seconds),
      periods_(target.seasonality_seconds) {
  std::sort(periods_.begin(), periods_.end());
  for (const auto period : periods_) {
    layout_.slots.push_back(static_cast<std::uint32_t>(period / step_));
    layout_.positions.emplace_back();
  }
  // Regressors of the calendars the target names only: one it borrows
  // business days from (nyse for payroll) gives none, as for `prescale
  // forecast --calendar-use payroll`.
  regressor_options_.calendars = target.calendars;
  if (calendars_ && !calendars_->empty() && !target.calendars.empty()) {
    const auto probe =
        calendar::calendar_regressors(*calendars_, start_unix_, step_, 1, regressor_options_);
    if (probe.cols() > 0) {
      names_ = probe.names;
      regressors_ = std::make_unique<Eigen::MatrixXd>(0, static_cast<Eigen::Index>(probe.cols()));
    }
  }
  extend_to(rows);
}

void FitFrame::extend_to(std::size_t rows) {
  if (rows <= rows_) return;
  const std::size_t add = rows - rows_;
  const std::int64_t from = start_unix_ + static_cast<std::int64_t>(rows_) * step_;
  for (std::size_t k = 0; k < periods_.size(); ++k) {
    auto more = calendar::seasonal_positions(zone_, from, step_, add, periods_[k]);
    layout_.positions[k].insert(layout_.positions[k].end(), more.begin(), more.end());
  }
  if (regressors_) {
    const auto part =
        calendar::calendar_regressors(*calendars_, from, step_, add, regressor_options_);
    auto& matrix = *regressors_;
    const auto old_rows = matrix.rows();
    matrix.conservativeResize(old_rows + static_cast<Eigen::Index>(add), matrix.cols());
    const std::size_t cols =
        std::min<std::size_t>(part.cols(), static_cast<std::size_t>(matrix.cols()));
    for (std::size_t r = 0; r < add; ++r)
      for (std::size_t c = 0; c < cols; ++c)
        matrix(old_rows + static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) =
            part.at(r, c);
  }
  rows_ = rows;
}

forecast::FitInput FitFrame::fit_input(std::span<const double> y) const {
  forecast::FitInput input;
  input.y = y;
  input.layout = &layout_;
  input.regressors = regressors_.get();
  input.regressor_names = names_;
  return input;
}

forecast::SelectionOptions selection_options(const config::TargetConfig& target,
                                             std::size_t horizon) {
  forecast::SelectionOptions options;
  options.model = target.model;
  options.horizon = horizon;
  options.origins = static_cast<std::size_t>(target.backtest_origins);
  options.quantile = target.quantile;
  options.replace_outliers = !target.keep_outliers;
  return options;
}

std::size_t lead_window_steps(const config::TargetConfig& target) {
  return static_cast<std::size_t>(target.lead_steps()) + 1;
}

}  // namespace prescale::autoscaler
