#include "prescale/forecast/event_effects.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>

#include "prescale/forecast/calendar_effects.hpp"

namespace prescale::forecast {
namespace {

// The first event whose column is on at `row`; -1 for none or past the matrix.
int event_at_row(const Eigen::MatrixXd& regressors, const std::vector<Eigen::Index>& columns,
                 std::size_t row) {
  if (static_cast<Eigen::Index>(row) >= regressors.rows()) return -1;
  for (std::size_t e = 0; e < columns.size(); ++e)
    if (regressors(static_cast<Eigen::Index>(row), columns[e]) > 0.5) return static_cast<int>(e);
  return -1;
}

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Every column of the events ("<c>.<e>.on", "<c>.<e>.<elapsed bucket>", ...).
std::vector<Eigen::Index> event_columns(const EventWindows& windows,
                                        const std::vector<std::string>& names) {
  std::vector<Eigen::Index> columns;
  for (std::size_t c = 0; c < names.size(); ++c)
    for (const std::string& event : windows.names)
      if (names[c].size() > event.size() && names[c].compare(0, event.size(), event) == 0 &&
          names[c][event.size()] == '.') {
        columns.push_back(static_cast<Eigen::Index>(c));
        break;
      }
  return columns;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kBaselineNeighbours = 4;
constexpr double kPoolingPrior = 2.0;  // occurrences: w = n / (n + 2)
constexpr double kClipSpreads = 3.0;   // an occurrence's departure from the shared shape

enum class Variant { none, additive, multiplicative };

// Effect of one occurrence at step k in the variant's space (NaN when missing).
double effect_of(Variant v, double y, double baseline) {
  if (std::isnan(y) || std::isnan(baseline)) return kNaN;
  if (v == Variant::additive) return y - baseline;
  if (y <= 0 || baseline <= 0) return kNaN;
  return std::log(y / baseline);
}

double apply(Variant v, double baseline, double effect) {
  if (v == Variant::additive) return baseline + effect;
  if (v == Variant::multiplicative) return baseline * std::exp(effect);
  return baseline;
}

// One past occurrence, compared with its ordinary baseline.
struct Occurrence {
  std::size_t event = 0;
  std::vector<double> y, baseline;
};

// Per-step effects of every event of one sibling group, in one variant.
struct GroupEffects {
  std::map<std::size_t, std::vector<double>> effect;  // by event
  std::map<std::size_t, std::size_t> occurrences;     // own past occurrences, by event
};

double mean_of(const std::vector<double>& values) {
  double sum = 0;
  std::size_t n = 0;
  for (double v : values)
    if (!std::isnan(v)) sum += v, ++n;
  return n == 0 ? kNaN : sum / static_cast<double>(n);
}

double median_of(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t m = values.size();
  if (m == 0) return kNaN;
  return m % 2 == 1 ? values[m / 2] : 0.5 * (values[m / 2 - 1] + values[m / 2]);
}

// The effects of `events` learnt from `past` (skipping index `leave_out`):
// own per-step medians pooled with the group's shared shape (top of the header).
// Medians, not means: one unexplained spike inside one past occurrence
// (a short burst of +40 % in one step) would otherwise move that step's
// effect, and so the forecast peak, for every later occurrence.
GroupEffects estimate(const std::vector<Occurrence>& past, const std::vector<std::size_t>& events,
                      std::size_t length, Variant v, std::size_t leave_out) {
  GroupEffects out;
  struct Effects {
    std::size_t event;
    std::vector<double> d;
    double size;
  };
  std::vector<Effects> seen;
  std::map<std::size_t, double> size_sum;
  double total_size = 0;
  for (std::size_t j = 0; j < past.size(); ++j) {
    if (j == leave_out) continue;
    const Occurrence& o = past[j];
    std::vector<double> d(length, kNaN);
    for (std::size_t k = 0; k < length && k < o.y.size(); ++k)
      d[k] = effect_of(v, o.y[k], o.baseline[k]);
    const double size = mean_of(d);
    if (std::isnan(size)) continue;
    size_sum[o.event] += size;
    ++out.occurrences[o.event];
    total_size += size;
    seen.push_back({o.event, std::move(d), size});
  }
  if (seen.empty()) return out;
  const double mean_size = total_size / static_cast<double>(seen.size());
  // The shared shape per step: the median over occurrences of the effect
  // relative to the occurrence's own size (occurrences whose size is near
  // zero or of the other sign say nothing about the shape).
  std::vector<double> shape(length, 0);
  for (std::size_t k = 0; k < length; ++k) {
    std::vector<double> relative;
    for (const Effects& o : seen)
      if (!std::isnan(o.d[k]) && o.size * mean_size > 0 &&
          std::abs(o.size) >= 0.1 * std::abs(mean_size))
        relative.push_back(o.d[k] / o.size);
    if (!relative.empty()) shape[k] = median_of(std::move(relative));
  }
  // Each occurrence's own departure from the shared shape at its size,
  // clipped at kClipSpreads robust standard deviations of all departures:
  // with two occurrences a median cannot outvote a spike, a clip can.
  std::vector<double> departures;
  for (const Effects& o : seen)
    for (std::size_t k = 0; k < length; ++k)
      if (!std::isnan(o.d[k])) departures.push_back(std::abs(o.d[k] - o.size * shape[k]));
  const double clip = kClipSpreads * 1.4826 * median_of(std::move(departures));
  for (std::size_t e : events) {
    const std::size_t n = out.occurrences.count(e) ? out.occurrences[e] : 0;
    const double size = n > 0 ? size_sum[e] / static_cast<double>(n) : mean_size;
    const double w = static_cast<double>(n) / (static_cast<double>(n) + kPoolingPrior);
    std::vector<double> effect(length, 0);
    for (std::size_t k = 0; k < length; ++k) {
      // own = size * shape + the mean clipped departure of its occurrences
      double departure = 0;
      std::size_t count = 0;
      for (const Effects& o : seen)
        if (o.event == e && !std::isnan(o.d[k])) {
          departure += std::clamp(o.d[k] - o.size * shape[k], -clip, clip);
          ++count;
        }
      effect[k] = size * shape[k] + (count > 0 ? w * departure / static_cast<double>(count) : 0);
    }
    // Few occurrences: a light [1 2 1]/4 smoothing over the window.
    if (seen.size() < 3 && length >= 3) {
      std::vector<double> smooth = effect;
      for (std::size_t k = 1; k + 1 < length; ++k)
        smooth[k] = 0.25 * effect[k - 1] + 0.5 * effect[k] + 0.25 * effect[k + 1];
      effect = std::move(smooth);
    }
    out.effect[e] = std::move(effect);
  }
  return out;
}

// Leave-one-out skill of a variant on the group's past occurrences: the sum
// over occurrences of (mean |error| over the window + |peak error|), and the
// errors' spread in the variant's space (for the interval).
struct Skill {
  double loss = 0;
  double spread = kNaN;
  std::size_t scored = 0;
  double squares = 0;  ///< the residuals' sum of squares, behind `spread`
  std::size_t residuals = 0;
};

Skill leave_one_out(const std::vector<Occurrence>& past, const std::vector<std::size_t>& events,
                    std::size_t length, Variant v) {
  Skill skill;
  double squares = 0;
  std::size_t residuals = 0;
  for (std::size_t j = 0; j < past.size(); ++j) {
    GroupEffects others;
    if (v != Variant::none) {
      others = estimate(past, events, length, v, j);
      if (!others.effect.count(past[j].event)) continue;  // nothing to learn from
    } else if (past.size() < 2) {
      continue;
    }
    const Occurrence& o = past[j];
    double abs_sum = 0, peak_true = -std::numeric_limits<double>::infinity(),
           peak_forecast = peak_true;
    std::size_t n = 0;
    for (std::size_t k = 0; k < length && k < o.y.size(); ++k) {
      if (std::isnan(o.y[k]) || std::isnan(o.baseline[k])) continue;
      const double effect = v == Variant::none ? 0 : others.effect[o.event][k];
      const double predicted = apply(v, o.baseline[k], effect);
      abs_sum += std::abs(o.y[k] - predicted);
      peak_true = std::max(peak_true, o.y[k]);
      peak_forecast = std::max(peak_forecast, predicted);
      ++n;
      const double r = v == Variant::multiplicative
                           ? (o.y[k] > 0 && predicted > 0 ? std::log(o.y[k] / predicted) : kNaN)
                           : o.y[k] - predicted;
      if (!std::isnan(r)) squares += r * r, ++residuals;
    }
    if (n == 0) continue;
    skill.loss += abs_sum / static_cast<double>(n) + std::abs(peak_true - peak_forecast);
    ++skill.scored;
  }
  if (residuals > 1) skill.spread = std::sqrt(squares / static_cast<double>(residuals - 1));
  skill.squares = squares;
  skill.residuals = residuals;
  return skill;
}

// The ordinary baseline of history rows: the median of the nearest same-slot
// samples (longest season) that are neither missing nor in an event.
class Baseline {
 public:
  Baseline(std::span<const double> y, const SeasonLayout* layout, const std::vector<int>& event_at)
      : y_(y) {
    if (layout == nullptr || layout->periods() == 0) return;
    period_ = layout->periods() - 1;
    positions_ = &layout->positions[period_];
    rows_.resize(layout->slots[period_]);
    for (std::size_t i = 0; i < y.size(); ++i)
      if (!std::isnan(y[i]) && event_at[i] < 0) rows_[(*positions_)[i]].push_back(i);
  }
  [[nodiscard]] double at(std::size_t i) const {
    if (positions_ == nullptr || i >= positions_->size()) return kNaN;
    const auto& rows = rows_[(*positions_)[i]];
    if (rows.empty()) return kNaN;
    // The nearest ones on either side, closest first.
    auto right = std::lower_bound(rows.begin(), rows.end(), i);
    auto left = right;
    std::vector<double> values;
    while (values.size() < kBaselineNeighbours && (left != rows.begin() || right != rows.end())) {
      const bool take_left =
          left != rows.begin() && (right == rows.end() || i - *(left - 1) <= *right - i);
      if (take_left) {
        --left;
        values.push_back(y_[*left]);
      } else {
        values.push_back(y_[*right]);
        ++right;
      }
    }
    std::sort(values.begin(), values.end());
    const std::size_t m = values.size();
    return m % 2 == 1 ? values[m / 2] : 0.5 * (values[m / 2 - 1] + values[m / 2]);
  }

 private:
  std::span<const double> y_;
  std::size_t period_ = 0;
  const std::vector<std::uint32_t>* positions_ = nullptr;
  std::vector<std::vector<std::size_t>> rows_;
};

// A fitted group: its variant, effects per event and the interval's spread.
struct FittedGroup {
  Variant variant = Variant::none;
  std::size_t length = 0;
  std::map<std::size_t, std::vector<double>> effect;
  std::map<std::size_t, std::size_t> occurrences;
  std::map<std::size_t, std::size_t> older;  ///< of which from FitInput::past_events, by event
  double spread = 0;
  double loss_none = kNaN, loss_chosen = kNaN;
};

class EventProfileFitted final : public FittedModel {
 public:
  EventProfileFitted(std::unique_ptr<FittedModel> base, const Eigen::MatrixXd* regressors,
                     std::shared_ptr<const EventWindows> windows,
                     std::shared_ptr<const std::vector<FittedGroup>> groups,
                     std::shared_ptr<const std::vector<std::size_t>> group_of)
      : base_(std::move(base)),
        regressors_(regressors),
        windows_(std::move(windows)),
        groups_(std::move(groups)),
        group_of_(std::move(group_of)) {}

  [[nodiscard]] std::string name() const override { return "events+" + base_->name(); }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    auto parameters = base_->parameters();
    for (std::size_t e = 0; e < windows_->names.size(); ++e) {
      const FittedGroup& g = (*groups_)[(*group_of_)[e]];
      const std::string key = "events." + windows_->names[e];
      parameters[key + ".occurrences"] =
          static_cast<double>(g.occurrences.count(e) ? g.occurrences.at(e) : 0);
      // Of which older than the history (the daemon's event history).
      parameters[key + ".older_occurrences"] =
          static_cast<double>(g.older.count(e) ? g.older.at(e) : 0);
      parameters[key + ".multiplicative"] = g.variant == Variant::multiplicative ? 1 : 0;
      parameters[key + ".additive"] = g.variant == Variant::additive ? 1 : 0;
      if (g.effect.count(e)) {
        const auto& effect = g.effect.at(e);
        parameters[key + ".peak_effect"] = *std::max_element(effect.begin(), effect.end());
      }
    }
    return parameters;
  }
  [[nodiscard]] std::size_t next_index() const override { return base_->next_index(); }
  // Event rows reach the base as missing: it keeps learning ordinary days only.
  void update(double y) override { base_->update(event_at(base_->next_index()) >= 0 ? kNaN : y); }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    Forecast f = base_->forecast(horizon);
    const std::size_t next = base_->next_index();
    // Where each event run of the horizon started (a run may have begun before `next`).
    for (std::size_t h = 0; h < f.mean.size(); ++h) {
      const std::size_t row = next + h;
      const int at = event_at(row);
      if (at < 0) continue;
      const auto e = static_cast<std::size_t>(at);
      const FittedGroup& g = (*groups_)[(*group_of_)[e]];
      if (g.variant == Variant::none || !g.effect.count(e)) continue;
      std::size_t start = row;
      while (start > 0 && row - start < g.length && event_at(start - 1) == at) --start;
      const std::size_t k = row - start;
      const auto& effect = g.effect.at(e);
      if (k >= effect.size()) continue;
      const double base_mean = f.mean[h];
      f.mean[h] = apply(g.variant, base_mean, effect[k]);
      const double scale = g.variant == Variant::multiplicative ? std::exp(effect[k]) : 1.0;
      const double extra = g.variant == Variant::multiplicative ? f.mean[h] * g.spread : g.spread;
      f.sigma[h] = std::hypot(f.sigma[h] * scale, extra);
      if (!f.sigma_lower.empty()) f.sigma_lower[h] = std::hypot(f.sigma_lower[h] * scale, extra);
    }
    return f;
  }
  [[nodiscard]] double residual_variance() const override { return base_->residual_variance(); }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<EventProfileFitted>(base_->clone(), regressors_, windows_, groups_,
                                                group_of_);
  }

 private:
  // Read from the matrix itself: a streaming caller appends rows after the fit.
  [[nodiscard]] int event_at(std::size_t row) const {
    return event_at_row(*regressors_, windows_->columns, row);
  }

  std::unique_ptr<FittedModel> base_;
  const Eigen::MatrixXd* regressors_;
  std::shared_ptr<const EventWindows> windows_;
  std::shared_ptr<const std::vector<FittedGroup>> groups_;
  std::shared_ptr<const std::vector<std::size_t>> group_of_;  // group of each event
};

// The largest effect at any step of any event, in absolute value.
double largest_effect(const std::map<std::size_t, std::vector<double>>& effects) {
  double peak = 0;
  for (const auto& [e, effect] : effects)
    for (double x : effect) peak = std::max(peak, std::abs(x));
  return peak;
}

FittedGroup fit_group(const std::vector<Occurrence>& past, const std::vector<std::size_t>& events,
                      std::size_t length) {
  FittedGroup group;
  group.length = length;
  if (past.empty()) return group;
  const Skill none = leave_one_out(past, events, length, Variant::none);
  group.loss_none = none.scored > 0 ? none.loss : kNaN;
  Variant best = Variant::none;
  Skill best_skill;
  for (Variant v : {Variant::additive, Variant::multiplicative}) {
    const Skill s = leave_one_out(past, events, length, v);
    if (s.scored == 0) continue;
    if (best == Variant::none || s.loss < best_skill.loss) best = v, best_skill = s;
  }
  if (best == Variant::none) {
    // One occurrence in the group: nothing to score a variant on. An event
    // scaling the rhythm is the common case (a payroll batch); its size
    // known once, its spread taken as a third of it.
    best = Variant::multiplicative;
    best_skill.scored = 0;
  } else if (none.scored > 0 && !(best_skill.loss < none.loss)) {
    group.loss_chosen = best_skill.loss;
    return group;  // the baseline alone does better: no effect
  }
  group.variant = best;
  group.loss_chosen = best_skill.scored > 0 ? best_skill.loss : kNaN;
  GroupEffects all = estimate(past, events, length, best, past.size());
  group.effect = std::move(all.effect);
  group.occurrences = std::move(all.occurrences);
  if (!std::isnan(best_skill.spread)) {
    group.spread = best_skill.spread;
  } else {
    group.spread = largest_effect(group.effect) / 3;
  }
  return group;
}

// Whether a fetched occurrence has a sample with its baseline beside it.
bool holds_a_sample(const PastEvent& p) {
  for (std::size_t k = 0; k < p.y.size() && k < p.baseline.size(); ++k)
    if (!std::isnan(p.y[k]) && !std::isnan(p.baseline[k])) return true;
  return false;
}

// Occurrences older than the history (model.hpp, PastEvent), each with its
// baseline fetched beside it, join `past`; events the regressors do not
// name, windows of another length than the history's runs, and windows with
// nothing fetched are left out. The count added, by event.
std::map<std::size_t, std::size_t> add_past_events(
    std::span<const PastEvent> events, const EventWindows& windows,
    std::map<std::string, std::vector<Occurrence>>& past) {
  std::map<std::size_t, std::size_t> older;
  for (const PastEvent& p : events) {
    const auto it = std::find(windows.names.begin(), windows.names.end(), p.event);
    if (it == windows.names.end()) continue;
    const auto e = static_cast<std::size_t>(it - windows.names.begin());
    std::size_t length = 0;
    for (const EventRun& run : windows.runs)
      if (run.event == e) length = std::max(length, run.length);
    if (p.y.size() != length || p.baseline.size() != length || !holds_a_sample(p)) continue;
    past[windows.groups[e]].push_back(Occurrence{e, p.y, p.baseline});
    ++older[e];
  }
  return older;
}

// Past occurrences against their baselines, by sibling group: the runs of
// the history that are over, then the older ones (add_past_events, whose
// count by event it returns).
std::map<std::size_t, std::size_t> past_occurrences(
    const FitInput& input, const EventWindows& windows,
    std::map<std::string, std::vector<Occurrence>>& past) {
  const Baseline baseline(input.y, input.layout, windows.event_at);
  for (const EventRun& run : windows.runs) {
    if (run.start + run.length > input.y.size()) continue;  // not over yet: nothing to learn
    Occurrence o;
    o.event = run.event;
    for (std::size_t k = 0; k < run.length; ++k) {
      const std::size_t row = run.start + k;
      const bool own = windows.event_at[row] == static_cast<int>(run.event);
      o.y.push_back(own ? input.y[row] : kNaN);
      o.baseline.push_back(baseline.at(row));
    }
    past[windows.groups[run.event]].push_back(std::move(o));
  }
  return add_past_events(input.past_events, windows, past);
}

std::map<std::string, std::vector<std::size_t>> events_by_group(const EventWindows& windows) {
  std::map<std::string, std::vector<std::size_t>> group_events;
  for (std::size_t e = 0; e < windows.names.size(); ++e)
    group_events[windows.groups[e]].push_back(e);
  return group_events;
}

// A group's window length: its longest run.
std::size_t group_length(const EventWindows& windows, const std::string& group) {
  std::size_t length = 0;
  for (const EventRun& run : windows.runs)
    if (windows.groups[run.event] == group) length = std::max(length, run.length);
  return length;
}

// Sibling events share a calendar and a window length ("payroll/60":
// payroll-mid and payroll-end): the group of `event` ("calendar.event")
// whose windows are `length` rows long.
std::string sibling_group(const std::string& event, std::size_t length) {
  return event.substr(0, event.find('.')) + "/" + std::to_string(length);
}

}  // namespace

double event_occurrence_spread(const FitInput& input) {
  const EventWindows windows = event_windows(input);
  const std::set<std::string> ahead = groups_ahead(windows, input.y.size());
  if (ahead.empty()) return kNaN;
  std::map<std::string, std::vector<Occurrence>> past;
  past_occurrences(input, windows, past);
  std::map<std::string, std::vector<std::size_t>> group_events = events_by_group(windows);
  // A sibling with no run in the matrix (a monthly event outside a history
  // of ten days) is not among the windows; its older occurrences (the event
  // history) still say how a morning of the group strays: they join the
  // group of their calendar and length as an event of their own.
  std::map<std::string, std::size_t> unnamed;
  for (const PastEvent& p : input.past_events) {
    if (std::find(windows.names.begin(), windows.names.end(), p.event) != windows.names.end())
      continue;
    const std::string group = sibling_group(p.event, p.y.size());
    if (!ahead.count(group) || p.baseline.size() != p.y.size() || !holds_a_sample(p)) continue;
    auto [it, added] = unnamed.try_emplace(p.event, windows.names.size() + unnamed.size());
    if (added) group_events[group].push_back(it->second);
    past[group].push_back(Occurrence{it->second, p.y, p.baseline});
  }
  double squares = 0, once = kNaN;
  std::size_t residuals = 0, scored = 0;
  for (const auto& [group, events] : group_events) {
    if (!ahead.count(group)) continue;
    const std::size_t length = group_length(windows, group);
    const std::vector<Occurrence>& occurrences = past[group];
    const Skill skill = leave_one_out(occurrences, events, length, Variant::multiplicative);
    squares += skill.squares;
    residuals += skill.residuals;
    scored += skill.scored;
    if (occurrences.size() != 1) continue;
    // Seen once: nothing to predict it from. The events model's own guess
    // for a group seen once (fit_group): a third of its peak effect.
    const double peak =
        largest_effect(estimate(occurrences, events, length, Variant::multiplicative, 1).effect);
    if (peak > 0) once = std::isnan(once) ? peak / 3 : std::max(once, peak / 3);
  }
  if (scored < 2 || residuals < 2) return once;
  return std::sqrt(squares / static_cast<double>(residuals - 1));
}

PastOccurrenceSkill past_occurrence_skill(const FitInput& input) {
  PastOccurrenceSkill skill;
  const EventWindows windows = event_windows(input);
  const std::set<std::string> ahead = groups_ahead(windows, input.y.size());
  if (ahead.empty()) return skill;
  std::map<std::string, std::vector<Occurrence>> past;
  past_occurrences(input, windows, past);
  skill.fewest = std::numeric_limits<std::size_t>::max();
  skill.learnt = true;
  for (const auto& [group, events] : events_by_group(windows)) {
    if (!ahead.count(group)) continue;
    const std::size_t length = group_length(windows, group);
    const FittedGroup fitted = fit_group(past[group], events, length);
    skill.fewest = std::min(skill.fewest, past[group].size());
    skill.loss_effect += fitted.loss_chosen;
    skill.loss_none += fitted.loss_none;
    skill.learnt = skill.learnt && past[group].size() >= PastOccurrenceSkill::kLearntFrom &&
                   fitted.variant != Variant::none && fitted.loss_chosen < fitted.loss_none;
  }
  return skill;
}

std::set<std::string> groups_ahead(const EventWindows& windows, std::size_t history) {
  std::set<std::string> ahead;
  for (const EventRun& run : windows.runs)
    if (run.start + run.length > history) ahead.insert(windows.groups[run.event]);
  return ahead;
}

EventWindows event_windows(const FitInput& input) {
  if (input.regressors == nullptr || input.regressors->cols() == 0) return {};
  const std::size_t cycle =
      input.layout != nullptr && input.layout->periods() > 0 ? input.layout->slots[0] : 0;
  return find_event_windows(*input.regressors, input.regressor_names, input.y.size(), cycle);
}

EventWindows find_event_windows(const Eigen::MatrixXd& regressors,
                                const std::vector<std::string>& names, std::size_t history,
                                std::size_t cycle_rows) {
  EventWindows out;
  const auto rows = static_cast<std::size_t>(regressors.rows());
  out.event_at.assign(rows, -1);
  const std::size_t columns =
      std::min<std::size_t>(names.size(), static_cast<std::size_t>(regressors.cols()));
  std::vector<EventRun> runs;
  for (std::size_t c = 0; c < columns; ++c) {
    if (!ends_with(names[c], ".on")) continue;
    std::vector<EventRun> column_runs;
    std::size_t in_history = 0;
    for (std::size_t r = 0; r < rows;) {
      if (!(regressors(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) > 0.5)) {
        ++r;
        continue;
      }
      std::size_t end = r;
      while (end < rows &&
             regressors(static_cast<Eigen::Index>(end), static_cast<Eigen::Index>(c)) > 0.5)
        ++end;
      column_runs.push_back({0, r, end - r});
      if (r < history) ++in_history;
      r = end;
    }
    if (column_runs.empty()) continue;
    // Rarer than one run per two cycles of the shortest season: an event.
    if (cycle_rows > 0 && in_history * 2 * cycle_rows > history) continue;
    const std::size_t event = out.names.size();
    const std::string name = names[c].substr(0, names[c].size() - 3);
    out.names.push_back(name);
    out.columns.push_back(static_cast<Eigen::Index>(c));
    // Siblings: one calendar, runs of one length (the most common one).
    std::map<std::size_t, std::size_t> lengths;
    for (const EventRun& run : column_runs) ++lengths[run.length];
    const auto common = std::max_element(lengths.begin(), lengths.end(),
                                         [](auto& a, auto& b) { return a.second < b.second; });
    out.groups.push_back(sibling_group(name, common->first));
    for (EventRun run : column_runs) {
      run.event = event;
      runs.push_back(run);
    }
  }
  std::sort(runs.begin(), runs.end(),
            [](const EventRun& a, const EventRun& b) { return a.start < b.start; });
  for (std::size_t r = 0; r < rows; ++r) out.event_at[r] = event_at_row(regressors, out.columns, r);
  out.runs = std::move(runs);
  return out;
}

bool is_event_profile(const Model& model) {
  return dynamic_cast<const EventProfileModel*>(&model) != nullptr;
}

FitResult EventProfileModel::fit(const FitInput& input) const {
  auto facts = validate(input);
  if (!facts) return invalid_fit_input(facts.error());
  if (input.regressors == nullptr || input.regressors->cols() == 0)
    return {FitStatus::invalid_input, "event effects need calendar regressors", nullptr};
  const std::size_t n = input.y.size();
  auto windows = std::make_shared<EventWindows>(event_windows(input));
  if (windows->empty())
    return {FitStatus::invalid_input, "no calendar event among the regressors", nullptr};

  // The base learns ordinary days: event rows missing, the sessions (the
  // 09:30 open and its elapsed buckets) from their columns as a calendar
  // regression would, so a burst stays as sharp as its columns draw it; the
  // events' own columns are left out (their effects are drawn below).
  std::vector<double> ordinary(input.y.begin(), input.y.end());
  for (std::size_t i = 0; i < n; ++i)
    if (windows->event_at[i] >= 0) ordinary[i] = kNaN;
  FitInput base_input;
  base_input.y = ordinary;
  base_input.layout = input.layout;
  base_input.warm_start = input.warm_start;
  base_input.regressors = input.regressors;
  base_input.regressor_names = input.regressor_names;
  CalendarEffectsOptions sessions;
  sessions.left_out = event_columns(*windows, input.regressor_names);
  FitResult base = CalendarRegression(base_, sessions).fit(base_input);
  if (base.status != FitStatus::ok || !base.fitted) {
    // No session column varies within the seasons: the season alone draws them.
    base_input.regressors = nullptr;
    base_input.regressor_names = {};
    base = base_->fit(base_input);
  }
  if (base.status != FitStatus::ok || !base.fitted) return base;

  std::map<std::string, std::vector<Occurrence>> past;
  const auto older = past_occurrences(input, *windows, past);
  const auto group_events = events_by_group(*windows);
  auto groups = std::make_shared<std::vector<FittedGroup>>();
  auto group_of = std::make_shared<std::vector<std::size_t>>(windows->names.size(), 0);
  for (const auto& [group, events] : group_events) {
    const std::size_t length = group_length(*windows, group);
    for (std::size_t e : events) (*group_of)[e] = groups->size();
    groups->push_back(fit_group(past[group], events, length));
    for (std::size_t e : events)
      if (older.count(e) && groups->back().occurrences.count(e))
        groups->back().older[e] = older.at(e);
  }
  FitResult out;
  out.status = FitStatus::ok;
  out.message = base.message;
  out.fitted = std::make_unique<EventProfileFitted>(std::move(base.fitted), input.regressors,
                                                    std::move(windows), std::move(groups),
                                                    std::move(group_of));
  return out;
}

}  // namespace prescale::forecast
