#include "prescale/forecast/outliers.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "prescale/forecast/calendar_effects.hpp"

namespace prescale::forecast {
namespace {

constexpr double kMadToSigma = 1.4826;

// Median of the finite values (the vector is reordered); NaN when empty.
double median_of(std::span<double> values) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  return *middle;
}

// Robust sigma of the residuals: 1.4826 * MAD, or, when more than half of
// them are equal (count data), the mean absolute deviation scaled to sigma.
double robust_sigma(std::vector<double> residuals) {
  if (residuals.empty()) return 0.0;
  const double centre = median_of(residuals);
  for (double& r : residuals) r = std::abs(r - centre);
  double mean_absolute = 0;
  for (double r : residuals) mean_absolute += r;
  mean_absolute /= static_cast<double>(residuals.size());
  const double mad = median_of(residuals);
  return mad > 0 ? kMadToSigma * mad : 1.2533 * mean_absolute;
}

struct Pass {
  std::vector<double> baseline;
  std::vector<std::uint8_t> flagged;
  std::size_t exempt = 0;
};

// Indicator columns on in more than half of the history (business days):
// at most this many split the slots into groups instead of being regressors,
// because their effect depends on the time of day (a holiday night is an
// ordinary night, its morning is not).
constexpr std::size_t kMaxGroupingColumns = 3;

// How a pass sums up a slot. The first pass takes the median: with a few
// cycles (four weeks = four samples per weekly slot) one incident ten times
// the load drags the slot's mean so far that the ordinary cycles look like
// outliers the other way, and the incident would be "replaced" by a value
// still carrying a quarter of it. The second pass, with the incidents set
// aside, takes the mean of the rest.
enum class SlotCentre { median, mean };

/// The slot of each sample (the season's slot, split by the grouping
/// columns), the calendar events' estimated effect, and the rows an event
/// explains (unusual: exempt from flagging) or touches (eventful).
struct Slotting {
  std::vector<std::uint32_t> group;
  std::size_t group_count = 0;
  std::vector<double> effect;
  std::vector<std::uint8_t> unusual;
  std::vector<std::uint8_t> eventful;
};

// The calendar's indicator columns: on most of the history they group the
// slots (kMaxGroupingColumns at most), else they are events.
void split_indicator_columns(const Eigen::MatrixXd& x, std::size_t n,
                             std::vector<Eigen::Index>& grouping,
                             std::vector<Eigen::Index>& events) {
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    bool indicator = true;
    double on = 0;
    for (std::size_t t = 0; t < n && indicator; ++t) {
      const double v = x(static_cast<Eigen::Index>(t), j);
      indicator = v == 0.0 || v == 1.0;
      on += v;
    }
    if (!indicator) continue;
    if (on > 0.5 * static_cast<double>(n) && grouping.size() < kMaxGroupingColumns) {
      grouping.push_back(j);
    } else {
      events.push_back(j);
    }
  }
}

// The event columns' effects within the slots, the rows they explain, and
// the rows they touch.
void add_event_effects(const FitInput& input, const std::vector<Eigen::Index>& events,
                       std::span<const std::uint8_t> ignore, Slotting& slotting) {
  const std::size_t n = input.y.size();
  const Eigen::MatrixXd& x = *input.regressors;
  Eigen::MatrixXd event_columns(static_cast<Eigen::Index>(n),
                                static_cast<Eigen::Index>(events.size()));
  for (std::size_t k = 0; k < events.size(); ++k)
    event_columns.col(static_cast<Eigen::Index>(k)) =
        x.col(events[k]).head(static_cast<Eigen::Index>(n));
  auto effects = estimate_calendar_effects_in_groups(input.y, slotting.group, slotting.group_count,
                                                     event_columns, {}, ignore);
  if (!effects) return;
  std::copy_n(effects->effect.begin(), n, slotting.effect.begin());
  slotting.unusual = std::move(effects->unusual);
  // Rare columns (< 5% of the rows: an event, or the first part of a
  // session) mark an onset whose size varies from one occurrence to the
  // next: the calendar's doing, never an incident.
  std::vector<std::uint8_t> rare(events.size(), 0);
  for (std::size_t k = 0; k < events.size(); ++k)
    rare[k] = event_columns.col(static_cast<Eigen::Index>(k)).sum() < 0.05 * static_cast<double>(n)
                  ? 1
                  : 0;
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t k = 0; k < events.size(); ++k) {
      // Regardless of the coefficient: a column constant within the
      // groups (every business day's 09:30) has its effect in the baseline.
      if (event_columns(static_cast<Eigen::Index>(t), static_cast<Eigen::Index>(k)) == 0.0)
        continue;
      slotting.eventful[t] = 1;
      if (rare[k] != 0) slotting.unusual[t] = 1;
    }
  }
}

Slotting slotting_of(const FitInput& input, std::size_t period,
                     std::span<const std::uint8_t> ignore) {
  const std::size_t n = input.y.size();
  const SeasonLayout& layout = *input.layout;
  Slotting slotting;
  slotting.effect.assign(n, 0.0);
  slotting.unusual.assign(n, 0);
  slotting.eventful.assign(n, 0);
  slotting.group.assign(layout.positions[period].begin(),
                        layout.positions[period].begin() + static_cast<std::ptrdiff_t>(n));
  slotting.group_count = layout.slots[period];
  if (input.regressors == nullptr || input.regressors->cols() == 0 ||
      static_cast<std::size_t>(input.regressors->rows()) < n)
    return slotting;
  const Eigen::MatrixXd& x = *input.regressors;
  std::vector<Eigen::Index> grouping, events;
  split_indicator_columns(x, n, grouping, events);
  for (std::size_t t = 0; t < n; ++t) {
    std::uint32_t bits = 0;
    for (std::size_t k = 0; k < grouping.size(); ++k)
      if (x(static_cast<Eigen::Index>(t), grouping[k]) != 0.0) bits |= 1U << k;
    slotting.group[t] = slotting.group[t] * (1U << grouping.size()) + bits;
  }
  slotting.group_count <<= grouping.size();
  if (!events.empty()) add_event_effects(input, events, ignore, slotting);
  return slotting;
}

/// Each slot's centre and how many rows it rests on.
struct SlotCentres {
  std::vector<double> centre;
  std::vector<double> count;
};

// The mean of each slot's ordinary rows (event effects taken out); with
// SlotCentre::median, the median where a slot has two rows or more.
SlotCentres slot_centres(std::span<const double> y, const Slotting& slotting,
                         std::span<const std::uint8_t> ignore, SlotCentre centre) {
  const std::size_t n = y.size();
  const std::size_t groups = slotting.group_count;
  const std::vector<std::uint32_t>& slot = slotting.group;
  std::vector<double> slot_sum(groups, 0.0), slot_count(groups, 0.0);
  std::vector<double> all_sum(groups, 0.0), all_count(groups, 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    // Event rows leave the ordinary rows' mean alone (an event's shape is
    // only approximately what its columns say).
    if (!std::isfinite(y[t]) || slotting.unusual[t] != 0) continue;
    all_sum[slot[t]] += y[t] - slotting.effect[t];
    all_count[slot[t]] += 1;
    if (ignore[t] != 0) continue;
    slot_sum[slot[t]] += y[t] - slotting.effect[t];
    slot_count[slot[t]] += 1;
  }
  // A slot the first pass flagged almost entirely is judged with all its rows.
  for (std::size_t g = 0; g < groups; ++g) {
    if (slot_count[g] < 2) {
      slot_sum[g] = all_sum[g];
      slot_count[g] = all_count[g];
    }
  }
  SlotCentres centres{std::vector<double>(groups, std::numeric_limits<double>::quiet_NaN()),
                      slot_count};
  for (std::size_t g = 0; g < groups; ++g)
    if (slot_count[g] > 0) centres.centre[g] = slot_sum[g] / slot_count[g];
  if (centre == SlotCentre::mean) return centres;
  // Every slot's members in one array, slot after slot (thousands of
  // small vectors cost more in allocations than the medians themselves).
  auto member = [&](std::size_t t) {
    return std::isfinite(y[t]) && slotting.unusual[t] == 0 && ignore[t] == 0;
  };
  std::vector<std::size_t> first(groups + 1, 0);
  for (std::size_t t = 0; t < n; ++t)
    if (member(t)) ++first[slot[t] + 1];
  for (std::size_t g = 0; g < groups; ++g) first[g + 1] += first[g];
  std::vector<double> members(first[groups]);
  std::vector<std::size_t> next(first.begin(), first.end() - 1);
  for (std::size_t t = 0; t < n; ++t)
    if (member(t)) members[next[slot[t]]++] = y[t] - slotting.effect[t];
  for (std::size_t g = 0; g < groups; ++g) {
    if (first[g + 1] - first[g] >= 2)
      centres.centre[g] =
          median_of(std::span<double>(members).subspan(first[g], first[g + 1] - first[g]));
  }
  return centres;
}

// Residuals over robust sigmas, per band of the shortest season (busy
// hours are noisier) and apart inside calendar events (whose size varies
// from one occurrence to the next). Empty when the residuals have no spread.
std::vector<double> z_scores(const SeasonLayout& layout, const std::vector<double>& residual,
                             const Slotting& slotting, std::span<const std::uint8_t> ignore,
                             const OutlierOptions& options) {
  const std::size_t n = residual.size();
  const std::uint32_t short_slots = layout.slots[0];
  const std::size_t hours = short_slots >= options.bands && options.bands > 0 ? options.bands : 1;
  const std::size_t bands = hours * 2;
  auto band_of = [&](std::size_t t) {
    const std::size_t hour =
        hours == 1 ? std::size_t{0}
                   : static_cast<std::size_t>(layout.positions[0][t]) * hours / short_slots;
    return hour * 2 + slotting.eventful[t];
  };
  std::vector<std::vector<double>> by_band(bands);
  std::vector<double> all;
  for (std::size_t t = 0; t < n; ++t) {
    if (std::isnan(residual[t]) || ignore[t] != 0) continue;
    by_band[band_of(t)].push_back(residual[t]);
    all.push_back(residual[t]);
  }
  const double global_sigma = robust_sigma(all);
  if (!(global_sigma > 0)) return {};
  std::vector<double> sigma(bands, global_sigma);
  for (std::size_t b = 0; b < bands; ++b) {
    // A band needs enough samples for its own MAD; a floor keeps a quiet
    // band (night) from flagging ordinary wiggles.
    if (by_band[b].size() >= 30) sigma[b] = std::max(robust_sigma(by_band[b]), 0.25 * global_sigma);
  }
  std::vector<double> z(n, 0.0);
  for (std::size_t t = 0; t < n; ++t)
    if (!std::isnan(residual[t])) z[t] = residual[t] / sigma[band_of(t)];
  return z;
}

// Samples beyond the threshold, and runs of min_run samples beyond the run
// threshold on the same side.
std::vector<std::uint8_t> beyond_thresholds(const std::vector<double>& z,
                                            const OutlierOptions& options) {
  const std::size_t n = z.size();
  std::vector<std::uint8_t> candidate(n, 0);
  for (std::size_t t = 0; t < n; ++t) candidate[t] = std::abs(z[t]) >= options.threshold ? 1 : 0;
  for (std::size_t t = 0; t < n;) {
    if (std::abs(z[t]) < options.run_threshold) {
      ++t;
      continue;
    }
    std::size_t end = t;
    while (end < n && std::abs(z[end]) >= options.run_threshold && (z[end] > 0) == (z[t] > 0))
      ++end;
    if (end - t >= options.min_run)
      std::fill(candidate.begin() + static_cast<std::ptrdiff_t>(t),
                candidate.begin() + static_cast<std::ptrdiff_t>(end), 1);
    t = end;
  }
  return candidate;
}

// One pass: slot baselines (event effects added back), residuals scored
// against them, candidates flagged unless a calendar event explains them.
Pass run_pass(const FitInput& input, std::size_t period, const OutlierOptions& options,
              std::span<const std::uint8_t> ignore, SlotCentre centre) {
  const std::span<const double> y = input.y;
  const std::size_t n = y.size();
  Pass pass;
  pass.flagged.assign(n, 0);
  const Slotting slotting = slotting_of(input, period, ignore);
  const SlotCentres centres = slot_centres(y, slotting, ignore, centre);
  pass.baseline.assign(n, std::numeric_limits<double>::quiet_NaN());
  std::vector<double> residual(n, std::numeric_limits<double>::quiet_NaN());
  for (std::size_t t = 0; t < n; ++t) {
    const std::uint32_t slot = slotting.group[t];
    if (centres.count[slot] == 0) continue;
    pass.baseline[t] = centres.centre[slot] + slotting.effect[t];
    // A slot seen once is its own baseline: no evidence either way.
    if (std::isfinite(y[t]) && centres.count[slot] >= 2) residual[t] = y[t] - pass.baseline[t];
  }
  const std::vector<double> z = z_scores(*input.layout, residual, slotting, ignore, options);
  if (z.empty()) return pass;
  const std::vector<std::uint8_t> candidate = beyond_thresholds(z, options);
  for (std::size_t t = 0; t < n; ++t) {
    if (candidate[t] == 0) continue;
    if (slotting.unusual[t] != 0) {
      ++pass.exempt;
    } else {
      pass.flagged[t] = 1;
    }
  }
  return pass;
}

}  // namespace

OutlierReport replace_outliers(const FitInput& input, const OutlierOptions& options) {
  OutlierReport report;
  const std::size_t n = input.y.size();
  report.cleaned.assign(input.y.begin(), input.y.end());
  report.flagged.assign(n, 0);
  const SeasonLayout* layout = input.layout;
  if (layout == nullptr || layout->periods() == 0 || layout->size() < n) {
    report.summary = "outliers: not checked (no seasonal baseline without seasons)";
    return report;
  }
  std::size_t period = longest_period_with_cycles(layout, n, 3);
  if (period == layout->periods()) period = longest_period_with_cycles(layout, n, 2);
  if (period == layout->periods()) {
    report.summary = "outliers: not checked (history shorter than two seasons)";
    return report;
  }
  const std::vector<std::uint8_t> none(n, 0);
  const Pass first = run_pass(input, period, options, none, SlotCentre::median);
  const Pass second = run_pass(input, period, options, first.flagged, SlotCentre::mean);
  report.exempt_calendar = second.exempt;
  std::vector<std::uint8_t> flags = second.flagged;
  // The newest cycle of the shortest season is never touched, and an episode
  // longer than one cycle is kept: either may be a new level (a deployment,
  // a migrated customer), and the newest samples drive every forecast.
  const std::size_t cycle = layout->slots[0];
  for (std::size_t t = n > cycle ? n - cycle : 0; t < n; ++t) flags[t] = 0;
  for (std::size_t t = 0; t < n;) {
    if (flags[t] == 0) {
      ++t;
      continue;
    }
    std::size_t end = t;
    while (end < n && flags[end] != 0) ++end;
    if (end - t > cycle)
      std::fill(flags.begin() + static_cast<std::ptrdiff_t>(t),
                flags.begin() + static_cast<std::ptrdiff_t>(end), 0);
    t = end;
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (flags[t] == 0 || std::isnan(second.baseline[t])) continue;
    report.flagged[t] = 1;
    report.cleaned[t] = second.baseline[t];
    ++report.points;
    if (t == 0 || report.flagged[t - 1] == 0) ++report.episodes;
  }
  report.summary = "outliers: " + std::to_string(report.points) + " sample" +
                   (report.points == 1 ? "" : "s") + " in " + std::to_string(report.episodes) +
                   " episode" + (report.episodes == 1 ? "" : "s") +
                   " replaced by the seasonal baseline";
  if (report.exempt_calendar > 0) {
    report.summary +=
        "; " + std::to_string(report.exempt_calendar) + " unusual samples kept (calendar events)";
  }
  return report;
}

}  // namespace prescale::forecast
