#pragma once
// What `prescale simulate` and `prescale tune` share: the trace, the HPA and
// the predictive target described by flags, and the stretch they are
// simulated over (the engine replayed over the trace as `serve` would have
// run it, each decision seeing only samples before it).
#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "input_options.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/config/config.hpp"
#include "prescale/config/duration.hpp"
#include "prescale/forecast/series.hpp"
#include "prescale/simulate/predictive.hpp"
#include "prescale/simulate/simulation.hpp"
#include "simulate_frontier.hpp"

namespace prescale::cli {

struct SimulateArgs {
  InputOptions input;
  double capacity_per_replica = 0;
  double target_per_replica = 0;  // 0 = the capacity
  std::string startup = "3m";
  int min_replicas = 1;
  int max_replicas = 100;
  int initial_replicas = 0;
  std::string hpa_behavior;
  std::size_t observation_lag = 0;
  std::string timeline;
  std::string plot;
  std::string decisions;  // "" = none: the engine's decision records as JSON lines
  std::string report;
  std::string format = "table";
  bool no_predictive = false;
  std::string history = "28d";
  std::string refit_interval = "6h";
  std::string lead_time;  // "" = start-up + 15 s sync + one step
  std::string model = "auto";
  double quantile = 0.9;
  std::int64_t origins = config::TargetConfig{}.backtest_origins;
  bool keep_outliers = false;
  /// simulate --slo-tuning: replay the target with `slo:` (maxShortPercent =
  /// --slo-percent), so the predictive run is the daemon's own at-refit tuning.
  bool slo_tuning = false;
  double slo_margin_percent = config::SloConfig{}.margin_percent;
  std::string slo_history = config::format_duration(config::SloConfig{}.history_seconds);
  double slo_reactive_target_percent = config::SloConfig{}.reactive_target_percent;
  FrontierArgs frontier;
};

/// Adds the options that describe the trace, the HPA (capacity, start-up,
/// replicas, behavior, observation lag) and the predictive target (history,
/// refit interval, lead time, model, quantile, backtest origins, keeping outliers). Returns
/// --no-predictive's flag when `with_no_predictive`, else null.
CLI::Option* add_trace_and_hpa_options(CLI::App& command, SimulateArgs& args,
                                       bool with_no_predictive);

/// The simulated stretch, ready for the runs.
struct PreparedSimulation {
  forecast::Series series;  ///< the whole trace, on the engine's grid
  calendar::TimeZone zone = calendar::TimeZone::utc();
  simulate::SimulationConfig config;  ///< starts at the first decision
  std::vector<double> demand;         ///< from the first decision
  bool predictive_available = false;
  simulate::PredictiveSeries predictive;  ///< the replay, when available
  std::vector<std::string> notes;         ///< what the reader should know (shortened history, ...)
  std::int64_t lead_seconds = 0;          ///< the predictive target's lead time
};

/// Loads the trace and replays the engine over it; throws Failure naming a bad flag.
[[nodiscard]] PreparedSimulation prepare_simulation(const SimulateArgs& args);

}  // namespace prescale::cli
