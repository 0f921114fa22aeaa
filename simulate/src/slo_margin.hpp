#pragma once
// The margin a declared SLO's tuning holds back (tune.cpp), learnt from the
// target's own recorded days. Internal to the simulate library.
#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "prescale/simulate/frontier.hpp"

namespace prescale::simulate {

// The margin learnt from the target's own history: how much of the SLO a
// setting chosen on past days needs to hold back to stay within it on the
// next day. A constant margin is the same caution for a target whose
// forecast errs alike every week and for one whose past flatters the
// setting chosen on it; the recorded history itself tells the two apart.
/// The grid of margins the check tries, from the configured one down (and
/// the step a frontier's crossings are refined at for them).
inline constexpr double kMarginStep = 0.05;

struct LearntMargin {
  double margin = 0;                ///< share of the SLO to hold back
  std::size_t held_out_days = 0;    ///< 0: too few days, the configured margin
  double held_out_minutes = 0;      ///< short on the held-out days at that margin
  double held_out_slo_minutes = 0;  ///< what the check allowed on them
};

// A rolling origin: for each day k from the second week on, the setting
// (pair, from 13 days on) the tuning would have chosen on days [0, k) at a
// margin is judged on day k, read from the swept points' per-day minutes
// (no extra replay), and summed over the held-out days. The margin is the
// smallest on a grid of 5 % steps from the configured one down whose
// held-out days, and those of every larger margin on the grid, stayed
// within the SLO less kCheckKeeps of the configured margin: never more
// caution than configured, less only where the target's own days show it
// held. The check keeps part of the margin itself because it is chosen
// too (the smallest margin that passed is the luckiest on the held-out
// days) and it reads one to four weeks: on the payments bench, a check
// allowing the whole SLO let a target without calendars miss (33 minutes
// for 29), half the margin kept it within. With fewer than a week of
// held-out days, the configured margin. It reads `run`'s swept points: the
// predictive settings (pairs from `split_from_day` on), or the reactive
// targets, alone, for the HPA the records compare with.
//
// With `cheaper_step`, each held-out day serves what the tuning would have
// moved to from the setting it served the day before, as move_from (tune.cpp)
// moves the daemon: at once to the cheapest within the limit when the one in
// force missed it, else at most a notch cheaper (`cheaper_step` of its
// replica-hours among pairs, the next cheaper setting before them). Without,
// the cheapest within the limit each day: the reactive HPA's retuning
// chooses so.
[[nodiscard]] LearntMargin learn_margin(std::span<const FrontierPoint> points,
                                        std::span<const double> day_minutes, double slo_fraction,
                                        double configured, std::size_t split_from_day,
                                        const std::string& run, std::optional<double> cheaper_step);

}  // namespace prescale::simulate
