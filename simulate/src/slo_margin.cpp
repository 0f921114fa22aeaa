#include "slo_margin.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace prescale::simulate {

namespace {

constexpr std::size_t kFirstHeldOutDay = 7;
constexpr std::size_t kMinHeldOutDays = 7;
constexpr double kCheckKeeps = 0.5;

// A candidate of the rolling origin on day k: its minutes and replica-hours
// on days [0, k) and its minutes on day k.
struct Candidate {
  double minutes = 0, replica_hours = 0, next_day_minutes = 0;
  std::size_t busy = 0, quiet = 0;  ///< which swept points (the same one without a split)
};

// Per swept point, its minutes and replica-hours on the days before the
// held-out one, and the same over the quiet steps.
struct Before {
  std::vector<double> minutes, hours, quiet_minutes, quiet_hours;
};

// The candidates on held-out day k (every pair of `predictive` points when
// `split`, else every point alone) with what they did before it and on it,
// cheapest first.
std::vector<Candidate> candidates_on(const std::vector<const FrontierPoint*>& predictive,
                                     const Before& before, std::size_t k, bool split) {
  std::vector<Candidate> out;
  const std::size_t n = predictive.size();
  for (std::size_t b = 0; b < n; ++b)
    for (std::size_t q = 0; q < n; ++q) {
      if (!split && b != q) continue;
      const auto& busy = *predictive[b];
      const auto& quiet = *predictive[q];
      out.push_back({before.minutes[b] - before.quiet_minutes[b] + before.quiet_minutes[q],
                     before.hours[b] - before.quiet_hours[b] + before.quiet_hours[q],
                     busy.daily_violation_minutes[k] - busy.daily_quiet_violation_minutes[k] +
                         quiet.daily_quiet_violation_minutes[k],
                     b, q});
    }
  std::sort(out.begin(), out.end(), [](const Candidate& a, const Candidate& c) {
    return a.replica_hours < c.replica_hours;
  });
  return out;
}

// The candidate the tuning serves on a held-out day, at a limit, moving
// from `in_force` (the one it served the day before; none on the first) as
// move_from does: at once to the cheapest within the limit (the safest when
// none is) when the one in force missed it, else a notch cheaper. Without
// `moves`, the cheapest within the limit whatever was in force (the
// reactive HPA's tuning chooses so). `candidates` cheapest first.
const Candidate& served_on(const std::vector<Candidate>& candidates, const Candidate& safest,
                           const Candidate* in_force, double limit, double cheaper_step,
                           bool moves) {
  const auto cheapest_within = [&]() -> const Candidate& {
    const auto it = std::find_if(candidates.begin(), candidates.end(),
                                 [&](const Candidate& c) { return c.minutes <= limit; });
    return it == candidates.end() ? safest : *it;
  };
  if (!moves || in_force == nullptr || in_force->minutes > limit) return cheapest_within();
  const double floor = in_force->replica_hours * (1 - cheaper_step);
  const Candidate* within = nullptr;  // the cheapest a notch away
  const Candidate* beyond = nullptr;  // else the nearest cheaper one
  for (const auto& c : candidates) {
    if (c.minutes > limit || !(c.replica_hours < in_force->replica_hours - 1e-9)) continue;
    if (c.replica_hours >= floor) {
      if (within == nullptr) within = &c;
    } else {
      beyond = &c;  // ascending: the last one below the floor is the nearest
    }
  }
  return within ? *within : beyond ? *beyond : *in_force;
}

}  // namespace

LearntMargin learn_margin(std::span<const FrontierPoint> points,
                          std::span<const double> day_minutes, double slo_fraction,
                          double configured, std::size_t split_from_day, const std::string& run,
                          std::optional<double> cheaper_step) {
  LearntMargin out;
  out.margin = configured;
  const std::size_t days = day_minutes.size();
  if (days < kFirstHeldOutDay + kMinHeldOutDays) return out;
  std::vector<const FrontierPoint*> swept;
  for (const auto& p : points)
    if (p.run == run && p.daily_violation_minutes.size() == days &&
        p.daily_quiet_violation_minutes.size() == days)
      swept.push_back(&p);
  if (swept.empty()) return out;
  std::vector<double> margins;
  for (int i = 0;; ++i) {
    const double m = configured - i * kMarginStep;
    margins.push_back(m < 1e-9 ? 0.0 : m);
    if (m < 1e-9) break;
  }
  std::vector<double> held_out(margins.size(), 0.0);
  const std::size_t n = swept.size();
  Before before{std::vector<double>(n, 0.0), std::vector<double>(n, 0.0),
                std::vector<double>(n, 0.0), std::vector<double>(n, 0.0)};
  double past_minutes = 0, held_out_slo = 0;
  // Per margin, what it served on the day before (busy, quiet): none yet.
  std::vector<std::optional<std::pair<std::size_t, std::size_t>>> in_force(margins.size());
  for (std::size_t k = 0; k < days; ++k) {
    if (k >= kFirstHeldOutDay) {
      const bool split = k >= split_from_day;
      const auto candidates = candidates_on(swept, before, k, split);
      // None within a margin's SLO: the safest (fewest minutes, cheaper on a tie).
      const auto safest = std::min_element(
          candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
            return a.minutes != b.minutes ? a.minutes < b.minutes
                                          : a.replica_hours < b.replica_hours;
          });
      for (std::size_t m = 0; m < margins.size(); ++m) {
        const double limit = slo_fraction * past_minutes * (1 - margins[m]);
        const Candidate* was = nullptr;
        if (in_force[m])
          for (const auto& c : candidates)
            if (c.busy == in_force[m]->first && c.quiet == in_force[m]->second) was = &c;
        const Candidate& chosen =
            served_on(candidates, *safest, was, limit, split ? cheaper_step.value_or(0) : 0.0,
                      cheaper_step.has_value());
        held_out[m] += chosen.next_day_minutes;
        in_force[m] = std::make_pair(chosen.busy, chosen.quiet);
      }
      held_out_slo += slo_fraction * day_minutes[k];
    }
    past_minutes += day_minutes[k];
    for (std::size_t i = 0; i < n; ++i) {
      before.minutes[i] += swept[i]->daily_violation_minutes[k];
      before.hours[i] += swept[i]->daily_replica_hours[k];
      before.quiet_minutes[i] += swept[i]->daily_quiet_violation_minutes[k];
      before.quiet_hours[i] += swept[i]->daily_quiet_replica_hours[k];
    }
  }
  out.held_out_days = days - kFirstHeldOutDay;
  out.held_out_slo_minutes = held_out_slo * (1 - kCheckKeeps * configured);
  out.held_out_minutes = held_out[0];
  for (std::size_t m = 0; m < margins.size() && held_out[m] <= out.held_out_slo_minutes; ++m) {
    out.margin = margins[m];
    out.held_out_minutes = held_out[m];
  }
  return out;
}

}  // namespace prescale::simulate
