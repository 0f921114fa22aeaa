#pragma once
// Event-aware model choice: the model that serves a calendar event window is
// the one with skill on past occurrences of events (the backtest's event
// origins, backtest.hpp), not the one with the best average over ordinary
// days. select_and_fit (auto) keeps its choice for ordinary hours and, when
// another candidate forecast the past event windows better than both the
// choice and seasonal naive, serves the event rows from that candidate
// (EventSwitchModel). So seasonal naive, chosen because nothing beat it on
// ordinary days, never serves a payroll morning that an event model
// forecasts better.
#include <cstddef>
#include <string>
#include <vector>

#include "prescale/forecast/backtest.hpp"
#include "prescale/forecast/event_effects.hpp"
#include "prescale/forecast/interval_calibration.hpp"
#include "prescale/forecast/model.hpp"

namespace prescale::forecast {

/// Which backtested model should serve event windows. Value type.
struct EventWindowChoice {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t index = kNone;  ///< into report.models; kNone: keep the ordinary choice
  /// For a person and the decision records: the events, the model and the
  /// event-origin MASE figures behind it ("" when there are no event origins).
  std::string reason;
};

/// Rescores every model's event_mase on the event origins whose horizon
/// (report.horizon rows from the origin) holds a row where `ahead` is true,
/// from the models' event_errors (mean |error| / the origin's scale, the
/// mean over those origins). select_and_fit passes the rows of the events
/// in the windows to serve and of their siblings: the model for a payroll
/// morning is judged on past payroll mornings, not on a one-off date that
/// no event model could have learnt. Nothing changes when no origin holds
/// such a row; returns how many do.
std::size_t rescore_event_origins(BacktestReport& report, const EventRowTest& ahead);

/// The model with the lowest event-origin MASE when it beats both the
/// ordinary choice (`chosen`) and seasonal naive (`naive`) there; kNone when
/// the choice is already the best there or nothing beats seasonal naive.
/// `events` names the events in the regressors, for the reason.
/// `eligible` (empty: all) says which models may serve event windows.
[[nodiscard]] EventWindowChoice choose_event_model(const BacktestReport& report, std::size_t chosen,
                                                   std::size_t naive, const std::string& events,
                                                   const std::vector<bool>& eligible = {});

/// Whether an event in the windows ahead (regressor rows past the history)
/// has been seen fewer than twice: in the history, or among the older
/// occurrences the fit learns from (FitInput::past_events, e.g. a target's
/// `eventHistory`). The events model does not serve event windows then:
/// from one occurrence its effect is a guess (selection.cpp).
[[nodiscard]] bool events_ahead_seen_fewer_than_twice(const FitInput& input);

/// Whether a row is in one of those events' windows, read from
/// input.regressors at each call (rows appended after a fit count); empty
/// when the input has no events. input.regressors must outlive it.
[[nodiscard]] EventRowTest event_row_test(const FitInput& input);

/// A switch (choice.index set) confirmed on the events ahead: when only
/// some of the event origins hold rows where `ahead` is true (the events
/// of the windows to serve and their siblings), the candidate must also
/// beat the ordinary choice (`chosen`) on those (rescore_event_origins);
/// otherwise no switch, and the reason gives both figures. Winning on a
/// one-off date that no event model could have learnt says little about
/// the next payroll morning, and winning on one payroll origin alone is
/// noise: the switch needs both.
[[nodiscard]] EventWindowChoice confirm_on_events_ahead(EventWindowChoice choice,
                                                        const BacktestReport& report,
                                                        std::size_t chosen,
                                                        const EventRowTest& ahead);

/// The event names of a fit input ("payroll.payroll-mid, payroll.payroll-end"),
/// "" without event columns (event_effects.hpp: find_event_windows).
[[nodiscard]] std::string event_names(const FitInput& input);

/// Ordinary rows from one recipe, event rows (find_event_windows on the
/// regressors) from another. The recipes are borrowed: they must outlive
/// fit() (not the fitted model).
class EventSwitchModel final : public Model {
 public:
  EventSwitchModel(const Model& ordinary, const Model& events)
      : ordinary_(ordinary), events_(events) {}
  [[nodiscard]] std::string name() const override;
  [[nodiscard]] FitResult fit(const FitInput& input) const override;

 private:
  const Model& ordinary_;
  const Model& events_;
};

}  // namespace prescale::forecast
