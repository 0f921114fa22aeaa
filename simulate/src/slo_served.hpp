#pragma once
// What a target's served values did (tune.cpp): the recorded decisions the
// daemon served itself, replayed through the HPA model the tuning judges
// settings with. Internal to the simulate library.
#include <optional>

#include "prescale/autoscaler/slo.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/simulate/frontier.hpp"
#include "prescale/simulate/simulation.hpp"

namespace prescale::simulate {

// The tuning's figures judge one setting on the days it was chosen from:
// in-sample, and the setting may be new. What the HPA actually read is the
// served values, each with the setting in force at its decision (or the
// observed load in fallback), and what they did is the check a user needs
// that the SLO held. Simulated from the first served decision to the end
// of `history` (the HPA model starts with the pods the first value asks for),
// with the HPA's own observed-load metric at `options.observed_target`,
// and counted on the served steps with a known load only.
struct ServedOutcome {
  double days = 0;  ///< served decisions x step (0: none)
  double allowed_minutes = 0;
  double short_minutes = 0;
  double replica_hours = 0;
  /// A reactive HPA retuned the same way over the same decisions
  /// (tuned_reactive_run on the recorded reactive targets); unset when none
  /// is recorded.
  std::optional<double> reactive_short_minutes, reactive_replica_hours;
};

[[nodiscard]] Expected<ServedOutcome> served_outcome(const SimulationConfig& config,
                                                     const autoscaler::SloHistory& history,
                                                     const FrontierOptions& options);

// Puts served_outcome's figures in `setting` (figures.served_*, and the end
// of its summary) when a recorded decision has a served value (this
// process's, or read back by slo.servedQuery); else leaves it.
void add_served_figures(autoscaler::SloSetting& setting, const SimulationConfig& config,
                        const autoscaler::SloHistory& history, const FrontierOptions& options);

}  // namespace prescale::simulate
