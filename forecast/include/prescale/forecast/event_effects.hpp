#pragma once
// Calendar events (payroll days, month ends, one-off dates) as effects on an
// ordinary day, learnt per step of the event window from past occurrences.
//
// A regression with a few columns per event (calendar_effects.hpp) draws a
// smooth bump; a payroll morning can be a plateau, a ramp, a sharp spike, or
// a factor on the whole rhythm that multiplies the 09:30 open burst too. So
// EventProfileModel keeps one number per step of the window:
//
//   1. event rows are found from the regressor columns "<c>.<e>.on" whose
//      runs are rarer than weekly (sessions such as the market open recur
//      daily and belong to the seasons); each run is an occurrence;
//   2. the base model (a seasonal model) is fitted with the event rows
//      missing, so it learns ordinary days only, with a calendar regression
//      (calendar_effects.hpp) on the other columns: the sessions (the 09:30
//      open, its elapsed buckets) and holidays keep the sharpness their
//      columns give them, in local time after a DST change;
//   3. each past occurrence is compared with its ordinary baseline: the
//      median of the nearest (up to 4) same-slot, non-event samples of the
//      longest season (same weekday and local time for a weekly season);
//      occurrences older than the history (FitInput::past_events: the
//      daemon fetches them months back, each with its baseline beside it)
//      join those the history holds;
//   4. per step k of the window, an occurrence's effect is y - baseline
//      (additive) or log(y / baseline) (multiplicative: the event scales
//      the rhythm, bursts included); its size is the mean over the window;
//   5. sibling events (one calendar, windows of the same length: payroll-mid
//      and payroll-end) share a shape but keep their own size: the shape
//      per step is the median over the group's occurrences of effect / size,
//      and event e's effect is size_e * shape + w * (the mean departure of
//      its own occurrences from that, each clipped at 3 robust standard
//      deviations of all departures), w = n_e / (n_e + 2): an event seen
//      once leans on its siblings, one seen often on itself, and one
//      unexplained spike inside a past occurrence moves neither much;
//   6. additive or multiplicative is chosen per sibling group by its skill
//      on past occurrences (each predicted from the others: mean absolute
//      error over the window plus the peak's error); neither is used when
//      the baseline alone does better;
//   7. forecasts are the base model's, with the effect applied on event rows
//      of the horizon; the spread of those leave-one-out errors widens the
//      interval there.
//
// Fewer than one past occurrence in a group: no effect for it (said in
// parameters(): events.<c>.<e>.occurrences = 0; .older_occurrences says how
// many of them came from FitInput::past_events).
#include <cstddef>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

/// One occurrence of an event: rows [start, start + length) of the regressors.
struct EventRun {
  std::size_t event = 0;  ///< index into EventWindows::names
  std::size_t start = 0;
  std::size_t length = 0;
};

/// The event occurrences of a regressor matrix (history and horizon).
struct EventWindows {
  std::vector<std::string> names;     ///< "<c>.<e>", one per event column
  std::vector<std::string> groups;    ///< sibling group of each event ("<c>/<length>")
  std::vector<Eigen::Index> columns;  ///< the ".on" column of each event
  std::vector<EventRun> runs;         ///< by start row
  /// Event (index into names) active at each row, -1 where none; rows of the
  /// matrix. Where events overlap, the first column's.
  std::vector<int> event_at;
  [[nodiscard]] bool empty() const { return names.empty(); }
};

/// Event columns and their runs: ".on" columns with at least one run, of
/// which the first `history` rows hold fewer than one per two cycles of
/// `cycle_rows` (the shortest season: a daily session is no event, a
/// monthly payroll is); cycle_rows = 0 makes every ".on" column an event.
/// Sibling group: the calendar (<c>) and the run length. Pure function.
[[nodiscard]] EventWindows find_event_windows(const Eigen::MatrixXd& regressors,
                                              const std::vector<std::string>& names,
                                              std::size_t history, std::size_t cycle_rows);

/// The calendar events of a fit input (find_event_windows with the
/// layout's shortest season as the cycle); empty without regressors.
[[nodiscard]] EventWindows event_windows(const FitInput& input);

/// The sibling groups of the runs reaching past the first `history` rows
/// (the events ahead of a fit). Pure function.
[[nodiscard]] std::set<std::string> groups_ahead(const EventWindows& windows, std::size_t history);

/// The model described at the top of this file, around `base` (fitted
/// with the non-event columns as a CalendarRegression, or alone when none
/// of them varies within the seasons). Immutable; fit() is thread-safe when the base's is.
class EventProfileModel final : public Model {
 public:
  explicit EventProfileModel(std::shared_ptr<const Model> base) : base_(std::move(base)) {}
  [[nodiscard]] std::string name() const override { return "events+" + base_->name(); }
  [[nodiscard]] FitResult fit(const FitInput& input) const override;
  [[nodiscard]] const Model& base() const { return *base_; }

 private:
  std::shared_ptr<const Model> base_;
};

/// How far past occurrences of the events ahead (runs reaching past the
/// history, and their siblings) stray from what the other occurrences
/// foretell: each predicted from the others as the events model would
/// (multiplicative: the event scales the ordinary rhythm), the standard
/// deviation of log(y / predicted) over every row of every occurrence,
/// pooled over the sibling groups ahead; a share of the forecast at small
/// values. The older occurrences (FitInput::past_events) of a sibling with
/// no run in the matrix (a month-end outside a ten-day history) count in
/// its calendar's group of their length. With fewer than two occurrences
/// to score, a group ahead seen once gives a third of its peak effect (the
/// events model's own guess for one occurrence); NaN when none was seen
/// or no event is ahead. Pure function.
[[nodiscard]] double event_occurrence_spread(const FitInput& input);

/// The events model's leave-one-out skill on the past occurrences of the
/// sibling groups ahead (runs of the history that are over, and
/// FitInput::past_events), each occurrence predicted from the others as
/// EventProfileModel fits them: learnt when every group ahead was seen at
/// least kLearntFrom times and its effect beats the ordinary baseline alone
/// (what a model blind to the event serves) on them. Pure function.
struct PastOccurrenceSkill {
  static constexpr std::size_t kLearntFrom = 3;
  std::size_t fewest = 0;  ///< occurrences of the least-seen group ahead
  double loss_effect = 0;  ///< summed over the groups ahead
  double loss_none = 0;    ///< the baseline alone on the same occurrences
  bool learnt = false;
};
[[nodiscard]] PastOccurrenceSkill past_occurrence_skill(const FitInput& input);

/// True for an EventProfileModel recipe.
[[nodiscard]] bool is_event_profile(const Model& model);

}  // namespace prescale::forecast
