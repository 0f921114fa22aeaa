#pragma once
// The decision audit trail. Each time a target's served value moves by more
// than a set fraction, enters or leaves fallback, changes model, refits, or
// its load turns anomalous, the engine emits one DecisionRecord: the inputs
// (observed, forecast, quantile, model, its parameters' digest, the data
// window, the config digest) and a reason a person can read, naming the
// cause ("pre-scaling for calendar event payroll.payroll-end (06:00-11:00
// America/New_York)", "seasonal peak at 09:35 America/New_York", "fallback:
// data stale ...", "refit (scheduled): backtest MASE 0.62 -> 0.58").
//
// Records travel as JSON lines: to stdout with the logs, to a size-bounded
// rotating file (DecisionLog), to an in-memory ring the server answers
// `GET /decisions` from (DecisionRing), and from `prescale simulate`.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/autoscaler/anomaly.hpp"
#include "prescale/calendar/calendar.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/common/expected.hpp"
#include "prescale/config/config.hpp"

namespace prescale::autoscaler {

/// What one record is about.
enum class DecisionKind {
  change,       ///< the served value moved by more than the threshold
  fallback,     ///< entered fallback (serving the observed value alone)
  recovered,    ///< left fallback: forecasting again
  refit,        ///< a new fit took over (first fit, schedule, drift, shift)
  anomaly,      ///< the load left what the model expects (anomaly.hpp's rule)
  anomaly_end,  ///< the anomaly is over
  shift,        ///< an anomaly lasting M steps: a new normal, refit requested
};
std::string_view to_string(DecisionKind kind);
Expected<DecisionKind> parse_decision_kind(std::string_view text);

/// One decision. Value type. NaN numbers are written as JSON null.
struct DecisionRecord {
  std::int64_t time_unix = 0;  ///< decision time
  std::string target;          ///< the target's metric name
  DecisionKind kind = DecisionKind::change;
  std::string reason;  ///< human-readable, names the cause
  std::string
      cause;  ///< machine-readable: calendar-event, calendar-session, seasonal-peak, observed,
              ///< forecast-easing, fallback, recovered, refit, anomaly, anomaly-end, shift
  std::string event;      ///< the calendar occurrence named (qualified), if any
  double observed = 0;    ///< last observed value (NaN: none)
  double forecast = 0;    ///< max quantile over the lead window (NaN: none)
  double quantile = 0.9;  ///< the quantile the forecast is taken at
  double headroom = 1;    ///< served = max(observed, forecast x risk) x headroom
  double risk = 1;        ///< the tuned risk of the decision's hour (slo:), applied to the forecast
  /// The SLO tuning in force (`slo:`): its setting and why, or why none yet; empty without `slo:`.
  std::string slo;
  double served = 0;               ///< the value served from this decision on
  double previous_served = 0;      ///< the value served by the previous record (NaN: first)
  std::optional<double> replicas;  ///< the -replicas metric, when configured
  std::int64_t lead_seconds = 0;
  std::string timezone;        ///< the target's time zone (local times in words)
  std::int64_t peak_unix = 0;  ///< when the forecast peaks in the lead window (0: no forecast)
  std::string model;           ///< model in use ("" without one)
  std::map<std::string, double> parameters;
  std::string parameters_digest;  ///< FNV-1a of the model name and its parameters (16 hex)
  std::optional<double> backtest_mase;
  std::int64_t fitted_at_unix = 0;
  std::int64_t data_start_unix = 0;  ///< data window the model was fitted on [start, end)
  std::int64_t data_end_unix = 0;
  std::string config_digest;    ///< FNV-1a of the target's forecasting config (16 hex)
  std::string fallback_reason;  ///< empty unless serving the observed value alone
  double anomaly_score = 0;  ///< anomaly evidence, signed: |x| > 1 during an anomaly (anomaly.hpp)
  bool anomaly = false;      ///< an anomaly is in progress
  double residual_z = 0;     ///< the newest sample's standardised residual
  bool outside_interval = false;  ///< that sample is outside the prediction interval (per sample)
  std::int64_t outside_steps = 0;
};

/// One JSON object, no newline. Keys are snake_case.
[[nodiscard]] std::string to_json(const DecisionRecord& record);
/// Parses one line of to_json's output; the error names what is wrong.
[[nodiscard]] Expected<DecisionRecord> parse_decision(std::string_view line);
/// Parses a JSON-lines text; an error names the line number. Blank lines are skipped.
[[nodiscard]] Expected<std::vector<DecisionRecord>> parse_decisions(std::string_view text);
/// Parses GET /decisions' body ({"kind":"DecisionList","items":[...]}).
[[nodiscard]] Expected<std::vector<DecisionRecord>> parse_decision_list(std::string_view body);
/// Reads `path` and its rotations (path.N .. path.1, oldest first, then path):
/// every record still on disk, in the order written. A missing file is an error.
[[nodiscard]] Expected<std::vector<DecisionRecord>> read_decision_files(
    const std::filesystem::path& path);

/// 16 hex digits of FNV-1a 64 over TargetConfig::settings_text(): every
/// setting of the target (what makes its decisions what they are).
[[nodiscard]] std::string config_digest(const config::TargetConfig& target);
[[nodiscard]] std::string parameters_digest(const std::string& model,
                                            const std::map<std::string, double>& parameters);

/// What one tick knows, as the decision tracker needs it. Pointers are
/// borrowed for the call only.
struct DecisionInputs {
  std::int64_t now_unix = 0;
  const config::TargetConfig* config = nullptr;
  const calendar::CalendarSet* calendars = nullptr;  ///< the target's own; may be null
  const calendar::TimeZone* zone = nullptr;          ///< the target's time zone; may be null (UTC)
  double observed = 0;                               ///< NaN: none
  double forecast = 0;                               ///< NaN: none
  double served = 0;
  bool servable = false;
  std::optional<double> replicas;
  std::string fallback_reason;
  /// The quantile and headroom in force (an SLO's tuning); unset quantile: the config's.
  std::optional<double> quantile;
  double headroom = 1;
  /// The forecast's factor for this hour (SloSetting::risk): served =
  /// max(observed, forecast x risk) x headroom.
  double risk = 1;
  std::string slo;  ///< the SLO tuning in force, in words (empty without `slo:`)
  /// The forecast quantile at each step of the lead window (steps 0..), from now_unix.
  std::vector<double> window_quantiles;
  std::int64_t step_seconds = 60;
  // The model in use (model empty = none).
  std::string model;
  std::map<std::string, double> parameters;
  std::optional<double> backtest_mase;
  std::int64_t fitted_at_unix = 0;
  std::int64_t data_start_unix = 0;
  std::int64_t data_end_unix = 0;
  const void* fit_identity = nullptr;  ///< changes when a new fit takes over
  std::string fit_why;                 ///< why that fit ran ("first fit", "scheduled", ...)
  /// Which model serves calendar event windows and its skill on past
  /// occurrences (forecast::Selection::event_choice); may be empty.
  std::string event_choice;
  /// The model's decision loss on the served lead window, in words
  /// (forecast/decision_loss.hpp; "" when not measured).
  std::string decision_loss;
  AnomalyState anomaly;
  /// "hold" or "rise" when a calendar event's ramp set the served value
  /// (policy.hpp EventRamp): the event, its rise, and what the forecast alone serves.
  std::string event_floor;
  std::string event;              ///< qualified name
  std::string event_description;  ///< Occurrence::describe()
  double event_rise = std::numeric_limits<double>::quiet_NaN();
  double unramped = std::numeric_limits<double>::quiet_NaN();
};

/// The occurrences overlapping [from_unix, to_unix) of the calendars the
/// target names; one it only borrows business days from (nyse for payroll) is
/// no cause of its own.
[[nodiscard]] std::vector<calendar::Occurrence> named_occurrences(
    const calendar::CalendarSet& calendars, const config::TargetConfig& target,
    std::int64_t from_unix, std::int64_t to_unix);

/// Settings of the tracker (config: a target's `decisions:` map).
struct DecisionSettings {
  double change_threshold = 0.1;  ///< fraction of the value in force
};

/// Turns ticks into records. Not thread-safe: owned by one target worker.
class DecisionTracker {
 public:
  explicit DecisionTracker(DecisionSettings settings = {}) : settings_(settings) {}
  [[nodiscard]] const DecisionSettings& settings() const { return settings_; }
  /// The records this tick makes (often none).
  std::vector<DecisionRecord> decide(const DecisionInputs& inputs);

 private:
  void decide_anomaly(const DecisionInputs& in, const DecisionRecord& base,
                      std::vector<DecisionRecord>& out);
  void decide_refit(const DecisionInputs& in, const DecisionRecord& base,
                    std::vector<DecisionRecord>& out);
  void decide_served(const DecisionInputs& in, const DecisionRecord& base,
                     std::vector<DecisionRecord>& out) const;

  DecisionSettings settings_;
  bool started_ = false;
  double served_in_force_ = 0;  ///< served value of the latest record
  std::string fallback_;        ///< fallback reason at the previous tick
  const void* fit_identity_ = nullptr;
  std::string model_;
  std::optional<double> mase_;
  bool shift_reported_ = false;
  std::int64_t anomaly_episode_ = 0;
  bool holding_ = false;  ///< the previous tick served an event's hold
};

/// Appends records as JSON lines to `path`, rotating to path.1 .. path.N
/// (N = max_files) before a write would take the file past max_bytes, so the
/// files together never exceed (N + 1) x max_bytes. Opening appends to what
/// is there (a restart loses nothing). Thread-safe.
class DecisionLog {
 public:
  struct Options {
    std::filesystem::path path;
    std::uint64_t max_bytes = 10 * 1024 * 1024;
    std::size_t max_files = 5;  ///< rotations kept besides the live file
  };
  /// An error names the file (cannot create its directory or open it).
  static Expected<std::unique_ptr<DecisionLog>> open(Options options);
  /// Writes one line per record (rotating as needed); the error names the file.
  Status append(const std::vector<DecisionRecord>& records);
  [[nodiscard]] const Options& options() const { return options_; }

 private:
  explicit DecisionLog(Options options) : options_(std::move(options)) {}
  Status rotate();
  Options options_;
  std::mutex mutex_;
  std::uint64_t size_ = 0;
};

/// The most recent records in memory, for `GET /decisions`. Thread-safe.
class DecisionRing {
 public:
  explicit DecisionRing(std::size_t capacity = 2000) : capacity_(capacity) {}
  void add(const std::vector<DecisionRecord>& records);
  /// Records of `target` (empty = all) with time >= since_unix, oldest first.
  [[nodiscard]] std::vector<DecisionRecord> query(std::string_view target,
                                                  std::int64_t since_unix) const;
  /// {"kind":"DecisionList","items":[...]} for the server.
  [[nodiscard]] std::string query_json(std::string_view target, std::int64_t since_unix) const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<DecisionRecord> records_;
};

/// Where the engine hands each tick's records. Called from engine threads,
/// one call at a time.
using DecisionSink = std::function<void(const std::vector<DecisionRecord>&)>;

}  // namespace prescale::autoscaler
