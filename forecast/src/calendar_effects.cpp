#include "prescale/forecast/calendar_effects.hpp"

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

namespace prescale::forecast {
namespace {

using Index = Eigen::Index;

class CalendarFitted final : public FittedModel {
 public:
  CalendarFitted(std::unique_ptr<FittedModel> base, const Eigen::MatrixXd* regressors,
                 Eigen::VectorXd beta, std::vector<std::string> names, std::size_t active)
      : base_(std::move(base)),
        regressors_(regressors),
        beta_(std::move(beta)),
        names_(std::move(names)),
        active_(active) {}

  [[nodiscard]] std::string name() const override {
    return base_->name() + "+calendar(" + std::to_string(active_) + ")";
  }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    auto parameters = base_->parameters();
    for (Index j = 0; j < beta_.size(); ++j) {
      if (beta_(j) == 0.0) continue;
      const auto column = static_cast<std::size_t>(j);
      std::string key = "calendar.";
      if (column < names_.size()) {
        key += names_[column];
      } else {
        key += 'x';
        key += std::to_string(j);
      }
      parameters[key] = beta_(j);
    }
    return parameters;
  }
  [[nodiscard]] std::size_t next_index() const override { return base_->next_index(); }
  void update(double y) override { base_->update(y - effect_at(base_->next_index())); }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    Forecast forecast = base_->forecast(horizon);
    const std::size_t next = base_->next_index();
    for (std::size_t h = 0; h < forecast.mean.size(); ++h) forecast.mean[h] += effect_at(next + h);
    return forecast;
  }
  [[nodiscard]] double residual_variance() const override { return base_->residual_variance(); }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<CalendarFitted>(base_->clone(), regressors_, beta_, names_, active_);
  }

 private:
  // Rows past the matrix carry no calendar information: no effect.
  [[nodiscard]] double effect_at(std::size_t t) const {
    if (static_cast<Index>(t) >= regressors_->rows()) return 0.0;
    return regressors_->row(static_cast<Index>(t)).dot(beta_);
  }

  std::unique_ptr<FittedModel> base_;
  const Eigen::MatrixXd* regressors_;
  Eigen::VectorXd beta_;
  std::vector<std::string> names_;
  std::size_t active_;
};

// ---- The steps of estimate_calendar_effects_in_groups.

/// The history's samples and the slot (group) of each.
struct Slots {
  std::span<const double> y;
  std::span<const std::uint32_t> groups;  ///< empty: one slot
  std::size_t count = 1;
  std::span<const std::uint8_t> ignore;

  [[nodiscard]] std::uint32_t of(std::size_t t) const { return groups.empty() ? 0 : groups[t]; }
  [[nodiscard]] bool used(std::size_t t) const {
    return !std::isnan(y[t]) && std::isfinite(y[t]) && (ignore.empty() || ignore[t] == 0);
  }
};

/// Slot means of y and X over the used rows (Frisch-Waugh-Lovell).
struct SlotMeans {
  std::vector<double> y;
  Eigen::MatrixXd x;  ///< column s: slot s's mean regressor row
  std::size_t rows_used = 0;
};

SlotMeans slot_means(const Slots& slots, const Eigen::MatrixXd& regressors) {
  SlotMeans means;
  means.y.assign(slots.count, 0.0);
  std::vector<double> count(slots.count, 0.0);
  means.x = Eigen::MatrixXd::Zero(regressors.cols(), static_cast<Index>(slots.count));
  for (std::size_t t = 0; t < slots.y.size(); ++t) {
    if (!slots.used(t)) continue;
    const std::uint32_t s = slots.of(t);
    means.y[s] += slots.y[t];
    count[s] += 1;
    means.x.col(s) += regressors.row(static_cast<Index>(t)).transpose();
    ++means.rows_used;
  }
  for (std::size_t s = 0; s < slots.count; ++s) {
    if (count[s] > 0) {
      means.y[s] /= count[s];
      means.x.col(static_cast<Index>(s)) /= count[s];
    }
  }
  return means;
}

// Columns holding only 0 and 1 (events), as opposed to counts.
std::vector<bool> indicator_columns(const Eigen::MatrixXd& regressors) {
  std::vector<bool> indicator(static_cast<std::size_t>(regressors.cols()), true);
  for (Index j = 0; j < regressors.cols(); ++j) {
    for (Index r = 0; r < regressors.rows() && indicator[static_cast<std::size_t>(j)]; ++r) {
      const double v = regressors(r, j);
      indicator[static_cast<std::size_t>(j)] = v == 0.0 || v == 1.0;
    }
  }
  return indicator;
}

// Rows whose events differ from their slot's usual ones; slots never
// observed compare against zero (every column off). Count columns change
// every day and say nothing about a single row.
std::vector<std::uint8_t> unusual_rows(const Slots& slots, const Eigen::MatrixXd& regressors,
                                       const SlotMeans& means, const std::vector<bool>& indicator) {
  std::vector<std::uint8_t> unusual(slots.y.size(), 0);
  for (std::size_t t = 0; t < slots.y.size(); ++t) {
    const std::uint32_t s = slots.of(t);
    for (Index j = 0; j < regressors.cols(); ++j) {
      if (indicator[static_cast<std::size_t>(j)] &&
          std::abs(regressors(static_cast<Index>(t), j) - means.x(j, s)) >= 0.5) {
        unusual[t] = 1;
        break;
      }
    }
  }
  return unusual;
}

/// The used rows with their slot's means taken out, and each column's
/// support (rows where it differs from its slot's mean).
struct WithinSlots {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
  std::vector<std::size_t> support;
};

WithinSlots within_slots(const Slots& slots, const Eigen::MatrixXd& regressors,
                         const SlotMeans& means) {
  const Index p = regressors.cols();
  WithinSlots within{Eigen::MatrixXd(static_cast<Index>(means.rows_used), p),
                     Eigen::VectorXd(static_cast<Index>(means.rows_used)),
                     std::vector<std::size_t>(static_cast<std::size_t>(p), 0)};
  Index row = 0;
  for (std::size_t t = 0; t < slots.y.size(); ++t) {
    if (!slots.used(t)) continue;
    const std::uint32_t s = slots.of(t);
    within.x.row(row) = regressors.row(static_cast<Index>(t)) - means.x.col(s).transpose();
    within.y(row) = slots.y[t] - means.y[s];
    for (Index j = 0; j < p; ++j)
      within.support[static_cast<std::size_t>(j)] += std::abs(within.x(row, j)) > 1e-9 ? 1 : 0;
    ++row;
  }
  return within;
}

// Columns with an effect to estimate: enough support, not on most of the
// history (that is a level, not an event), indicators only when asked.
std::vector<Index> estimable_columns(const Eigen::MatrixXd& regressors, std::size_t n,
                                     const WithinSlots& within, const std::vector<bool>& indicator,
                                     const CalendarEffectsOptions& options) {
  std::vector<Index> active;
  for (Index j = 0; j < regressors.cols(); ++j) {
    if (options.indicators_only && !indicator[static_cast<std::size_t>(j)]) continue;
    if (std::find(options.left_out.begin(), options.left_out.end(), j) != options.left_out.end())
      continue;
    if (regressors.col(j).head(static_cast<Index>(n)).sum() >
        options.max_share * static_cast<double>(n))
      continue;
    if (within.support[static_cast<std::size_t>(j)] >=
        std::max<std::size_t>(1, options.min_support))
      active.push_back(j);
  }
  return active;
}

// Ridge least squares of the within-slot rows on the active columns.
Expected<Eigen::VectorXd> ridge_solution(const WithinSlots& within,
                                         const std::vector<Index>& active,
                                         const CalendarEffectsOptions& options) {
  const Index a = static_cast<Index>(active.size());
  Eigen::MatrixXd x_active(within.x.rows(), a);
  for (Index k = 0; k < a; ++k) x_active.col(k) = within.x.col(active[static_cast<std::size_t>(k)]);
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(a, a);
  gram.selfadjointView<Eigen::Lower>().rankUpdate(x_active.transpose());
  gram = gram.selfadjointView<Eigen::Lower>();
  const Eigen::VectorXd rhs = x_active.transpose() * within.y;
  const double scale = gram.diagonal().mean();
  for (Index k = 0; k < a; ++k) {
    const auto column = static_cast<std::size_t>(active[static_cast<std::size_t>(k)]);
    const double ridge =
        column < options.column_ridge.size() ? options.column_ridge[column] : options.ridge;
    gram(k, k) += ridge * gram(k, k) + 1e-9 * scale + 1e-12;
  }
  const Eigen::LDLT<Eigen::MatrixXd> solver(gram);
  if (solver.info() != Eigen::Success) return make_error("calendar regression is ill-conditioned");
  Eigen::VectorXd solution = solver.solve(rhs);
  if (!solution.allFinite()) return make_error("calendar regression gave non-finite coefficients");
  return solution;
}

}  // namespace

std::size_t longest_period_with_cycles(const SeasonLayout* layout, std::size_t n,
                                       std::size_t min_cycles) {
  if (layout == nullptr) return 0;
  for (std::size_t k = layout->periods(); k-- > 0;) {
    if (layout->slots[k] > 1 && n >= min_cycles * layout->slots[k] && layout->size() >= n) return k;
  }
  return layout->periods();
}

Expected<CalendarEffects> estimate_calendar_effects(std::span<const double> y,
                                                    const SeasonLayout* layout,
                                                    const Eigen::MatrixXd& regressors,
                                                    const CalendarEffectsOptions& options,
                                                    std::span<const std::uint8_t> ignore) {
  const std::size_t period = longest_period_with_cycles(layout, y.size(), 2);
  if (layout == nullptr || period >= layout->periods()) {
    return estimate_calendar_effects_in_groups(y, {}, 1, regressors, options, ignore);
  }
  return estimate_calendar_effects_in_groups(y, layout->positions[period], layout->slots[period],
                                             regressors, options, ignore);
}

Expected<CalendarEffects> estimate_calendar_effects_in_groups(
    std::span<const double> y, std::span<const std::uint32_t> groups, std::size_t group_count,
    const Eigen::MatrixXd& regressors, const CalendarEffectsOptions& options,
    std::span<const std::uint8_t> ignore) {
  const std::size_t n = y.size();
  if (!groups.empty() && groups.size() < n)
    return make_error("calendar groups do not cover the history");
  if (static_cast<std::size_t>(regressors.rows()) < n) {
    return make_error("calendar regressors have " + std::to_string(regressors.rows()) +
                      " rows for " + std::to_string(n) + " samples");
  }
  if (!regressors.allFinite()) return make_error("calendar regressors hold NaN or infinite values");
  const Index p = regressors.cols();
  const Slots slots{y, groups, groups.empty() ? 1 : std::max<std::size_t>(1, group_count), ignore};
  CalendarEffects effects;
  effects.beta = Eigen::VectorXd::Zero(p);
  effects.slot_period = groups.empty() ? 0 : slots.count;
  const SlotMeans means = slot_means(slots, regressors);
  const std::vector<bool> indicator = indicator_columns(regressors);
  effects.unusual = unusual_rows(slots, regressors, means, indicator);
  if (p == 0 || means.rows_used == 0) {
    effects.effect.assign(static_cast<std::size_t>(regressors.rows()), 0.0);
    return effects;
  }
  const WithinSlots within = within_slots(slots, regressors, means);
  const std::vector<Index> active = estimable_columns(regressors, n, within, indicator, options);
  if (!active.empty()) {
    Expected<Eigen::VectorXd> solution = ridge_solution(within, active, options);
    if (!solution) return solution.error();
    for (std::size_t k = 0; k < active.size(); ++k)
      effects.beta(active[k]) = (*solution)(static_cast<Index>(k));
  }
  for (Index j = 0; j < p; ++j) effects.active_columns += effects.beta(j) != 0.0 ? 1 : 0;
  const Eigen::VectorXd effect = regressors * effects.beta;
  effects.effect.assign(effect.data(), effect.data() + effect.size());
  return effects;
}

PooledRegressors pool_sibling_events(const Eigen::MatrixXd& regressors,
                                     const std::vector<std::string>& names, std::size_t history) {
  PooledRegressors result;
  const Index p = regressors.cols();
  const Index n = std::min<Index>(static_cast<Index>(history), regressors.rows());
  // "<c>.<e>.<suffix>" -> (<c>, <suffix>). A group needs an event seen in
  // the history; its members not seen yet take the shared profile (the first
  // payroll-mid after a payroll-end is forecast as a payroll day).
  std::map<std::pair<std::string, std::string>, std::pair<std::vector<Index>, bool>> groups;
  for (Index j = 0; j < p && static_cast<std::size_t>(j) < names.size(); ++j) {
    const std::string& name = names[static_cast<std::size_t>(j)];
    const auto first = name.find('.');
    const auto second = first == std::string::npos ? std::string::npos : name.find('.', first + 1);
    if (second == std::string::npos) continue;
    auto& group = groups[{name.substr(0, first), name.substr(second + 1)}];
    group.first.push_back(j);
    group.second = group.second || regressors.col(j).head(n).cwiseAbs().sum() != 0.0;
  }
  for (auto& [key, group] : groups) {
    if (group.first.size() >= 2 && group.second) result.pooled.push_back(group.first);
  }
  result.matrix.resize(regressors.rows(), p + static_cast<Index>(result.pooled.size()));
  result.matrix.leftCols(p) = regressors;
  for (std::size_t k = 0; k < result.pooled.size(); ++k) {
    Eigen::VectorXd shared = Eigen::VectorXd::Zero(regressors.rows());
    for (Index j : result.pooled[k]) shared += regressors.col(j);
    result.matrix.col(p + static_cast<Index>(k)) = shared;
  }
  return result;
}

CalendarRegression::CalendarRegression(std::shared_ptr<const Model> base,
                                       CalendarEffectsOptions options)
    : base_(std::move(base)), options_(options) {}

std::string CalendarRegression::name() const {
  return base_->name() + "+calendar";
}

FitResult CalendarRegression::fit(const FitInput& input) const {
  if (const Expected<InputFacts> facts = validate(input); !facts)
    return invalid_fit_input(facts.error());
  FitResult result;
  result.status = FitStatus::invalid_input;
  if (input.regressors == nullptr || input.regressors->cols() == 0) {
    result.message = "no calendar regressors";
    return result;
  }
  const Eigen::MatrixXd& x = *input.regressors;
  const Index p = x.cols();
  PooledRegressors pooled;
  CalendarEffectsOptions options = options_;
  if (options_.sibling_ridge > 0) {
    pooled = pool_sibling_events(x, input.regressor_names, input.y.size());
    if (!pooled.pooled.empty()) {
      options.column_ridge.assign(static_cast<std::size_t>(pooled.matrix.cols()), options_.ridge);
      for (const auto& columns : pooled.pooled) {
        for (Index j : columns)
          options.column_ridge[static_cast<std::size_t>(j)] = options_.sibling_ridge;
      }
    }
  }
  auto effects = estimate_calendar_effects(input.y, input.layout,
                                           pooled.pooled.empty() ? x : pooled.matrix, options);
  if (!effects) {
    result.message = effects.error().message;
    return result;
  }
  if (!pooled.pooled.empty()) {
    // Fold the shared profiles into their members: x.beta over the original columns.
    Eigen::VectorXd beta = effects->beta.head(p);
    for (std::size_t k = 0; k < pooled.pooled.size(); ++k) {
      for (Index j : pooled.pooled[k]) beta(j) += effects->beta(p + static_cast<Index>(k));
    }
    effects->beta = beta;
    const Eigen::VectorXd effect = x * beta;
    effects->effect.assign(effect.data(), effect.data() + effect.size());
    effects->active_columns = 0;
    for (Index j = 0; j < p; ++j) effects->active_columns += beta(j) != 0.0 ? 1 : 0;
  }
  if (effects->active_columns == 0) {
    result.message =
        "no calendar column varies within the history's seasons (the season alone models them)";
    return result;
  }
  std::vector<double> adjusted(input.y.begin(), input.y.end());
  for (std::size_t t = 0; t < adjusted.size(); ++t) adjusted[t] -= effects->effect[t];
  FitInput base_input;
  base_input.y = adjusted;
  base_input.layout = input.layout;
  result = base_->fit(base_input);
  if (result.fitted) {
    result.fitted = std::make_unique<CalendarFitted>(
        std::move(result.fitted), input.regressors, std::move(effects->beta), input.regressor_names,
        effects->active_columns);
  }
  return result;
}

}  // namespace prescale::forecast
