#include "prescale/forecast/arima.hpp"

#include "arma_estimation.hpp"

#include "prescale/forecast/fourier.hpp"
#include "prescale/forecast/kalman.hpp"
#include "prescale/forecast/regression.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>
#include <utility>

namespace prescale::forecast {
namespace {

using arma::ArmaFit;
using arma::OrderBounds;
using arma::Scoring;
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- Design matrix: intercept (d = 0), Fourier terms, caller's columns.

struct Design {
  bool intercept = false;
  FourierBasis fourier;
  std::size_t xreg_columns = 0;
  std::vector<std::size_t> active;  // kept columns of the full row, in order
  std::vector<std::string> full_names;

  [[nodiscard]] std::size_t full_width() const {
    return (intercept ? 1 : 0) + fourier.columns() + xreg_columns;
  }
  [[nodiscard]] std::size_t columns() const { return active.size(); }

  void fill(const SeasonLayout* layout, const Eigen::MatrixXd* regressors, std::size_t index,
            double* full, double* out) const {
    std::size_t c = 0;
    if (intercept) full[c++] = 1.0;
    if (fourier.columns() > 0) fourier.fill_row(*layout, index, full + c);
    c += fourier.columns();
    for (std::size_t j = 0; j < xreg_columns; ++j)
      full[c + j] = (*regressors)(static_cast<Eigen::Index>(index), static_cast<Eigen::Index>(j));
    for (std::size_t a = 0; a < active.size(); ++a) out[a] = full[active[a]];
  }

  [[nodiscard]] Eigen::MatrixXd matrix(const SeasonLayout* layout,
                                       const Eigen::MatrixXd* regressors, std::size_t rows) const {
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> x(rows, columns());
    if (columns() == 0) return x;
    std::vector<double> full(full_width());
    for (std::size_t i = 0; i < rows; ++i)
      fill(layout, regressors, i, full.data(), x.row(i).data());
    return x;
  }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (std::size_t a : active) out.push_back(full_names[a]);
    return out;
  }
};

std::string arima_name(int p, int d, int q, const Design& design, std::int64_t step_seconds,
                       const std::vector<std::uint32_t>& slots) {
  std::string name =
      "arima(" + std::to_string(p) + "," + std::to_string(d) + "," + std::to_string(q) + ")";
  std::string seasons;
  for (std::size_t k = 0; k < design.fourier.harmonics().size(); ++k) {
    const int harmonics = design.fourier.harmonics()[k];
    if (harmonics == 0) continue;
    if (!seasons.empty()) seasons += ",";
    seasons += season_label(slots[k], step_seconds) + ":K=" + std::to_string(harmonics);
  }
  if (!seasons.empty()) name += "+fourier(" + seasons + ")";
  std::size_t xreg = 0;
  for (std::size_t a : design.active)
    xreg += a >= (design.intercept ? 1 : 0) + design.fourier.columns() ? 1 : 0;
  if (xreg > 0) name += "+xreg(" + std::to_string(xreg) + ")";
  return name;
}

// ---- The fitted state.

/// Not thread-safe (FittedModel's contract); clone() to share.
class FittedArima final : public FittedModel {
 public:
  FittedArima(std::string name, std::map<std::string, double> parameters,
              const SeasonLayout* layout, const Eigen::MatrixXd* regressors, Design design,
              Eigen::VectorXd coefficients, StateSpaceFilter filter, double sigma2)
      : name_(std::move(name)),
        parameters_(std::move(parameters)),
        layout_(layout),
        regressors_(regressors),
        design_(std::move(design)),
        coefficients_(std::move(coefficients)),
        filter_(std::move(filter)),
        sigma2_(sigma2),
        full_(design_.full_width()),
        row_(design_.columns()) {}

  [[nodiscard]] std::string name() const override { return name_; }
  [[nodiscard]] std::map<std::string, double> parameters() const override { return parameters_; }
  [[nodiscard]] std::size_t next_index() const override { return next_; }
  [[nodiscard]] double residual_variance() const override { return sigma2_; }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<FittedArima>(*this);
  }

  void update(double y) override {
    const double level =
        next_ < coverage() ? regression_at(next_) : std::numeric_limits<double>::quiet_NaN();
    filter_.step(std::isfinite(y) ? y - level : std::numeric_limits<double>::quiet_NaN());
    ++next_;
  }

  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    const std::size_t available = coverage() > next_ ? coverage() - next_ : 0;
    horizon = std::min(horizon, available);
    Forecast out;
    out.mean.resize(horizon);
    out.sigma.resize(horizon);
    filter_.forecast(horizon, out.mean.data(), out.sigma.data());
    for (std::size_t h = 0; h < horizon; ++h) {
      out.mean[h] += regression_at(next_ + h);
      out.sigma[h] = std::sqrt(out.sigma[h] * sigma2_);
    }
    return out;
  }

  // Called by fit() to run the filter over the history.
  void absorb(std::span<const double> y) {
    for (double v : y) update(v);
  }

 private:
  [[nodiscard]] std::size_t coverage() const {
    std::size_t limit = std::numeric_limits<std::size_t>::max();
    if (design_.fourier.columns() > 0) limit = std::min(limit, layout_->size());
    if (design_.xreg_columns > 0)
      limit = std::min(limit, static_cast<std::size_t>(regressors_->rows()));
    return limit;
  }
  [[nodiscard]] double regression_at(std::size_t index) const {
    if (design_.columns() == 0) return 0.0;
    design_.fill(layout_, regressors_, index, full_.data(), row_.data());
    double level = 0.0;
    for (std::size_t c = 0; c < row_.size(); ++c)
      level += row_[c] * coefficients_(static_cast<Eigen::Index>(c));
    return level;
  }

  std::string name_;
  std::map<std::string, double> parameters_;
  const SeasonLayout* layout_;
  const Eigen::MatrixXd* regressors_;
  Design design_;
  Eigen::VectorXd coefficients_;
  StateSpaceFilter filter_;
  double sigma2_;
  std::size_t next_ = 0;
  mutable std::vector<double> full_, row_;  // scratch: no allocation per sample
};

// Series and regressors differenced once per (K, d), with OLS residuals.
struct Prepared {
  Design design;
  Eigen::MatrixXd differenced_regressors;
  std::vector<double> differenced_y;
  LinearFit ols;
  std::vector<std::string> dropped_names;
};

struct Problem {
  std::span<const double> y;
  const SeasonLayout* layout;
  const Eigen::MatrixXd* regressors;
  std::vector<std::string> xreg_names;
};

Prepared prepare(const Problem& problem, const std::vector<int>& harmonics, int d) {
  Prepared out;
  Design& design = out.design;
  design.intercept = d == 0;
  if (problem.layout != nullptr) design.fourier = FourierBasis(problem.layout->slots, harmonics);
  design.xreg_columns =
      problem.regressors != nullptr ? static_cast<std::size_t>(problem.regressors->cols()) : 0;
  if (design.intercept) design.full_names.emplace_back("intercept");
  for (auto& name : design.fourier.names()) design.full_names.push_back(std::move(name));
  for (const auto& name : problem.xreg_names) design.full_names.push_back(name);
  for (std::size_t c = 0; c < design.full_width(); ++c) design.active.push_back(c);
  const std::size_t n = problem.y.size();
  const Eigen::MatrixXd x = design.matrix(problem.layout, problem.regressors, n);
  out.differenced_regressors = difference_rows(x, d);
  out.differenced_y = difference(problem.y, d);
  out.ols = least_squares(out.differenced_regressors, out.differenced_y);
  if (!out.ols.dropped.empty()) {
    // Collinear columns leave the design; the fit of the rest is unchanged.
    std::vector<std::size_t> dropped = out.ols.dropped;
    std::sort(dropped.begin(), dropped.end());
    std::vector<std::size_t> kept;
    for (std::size_t c = 0; c < design.active.size(); ++c)
      if (!std::binary_search(dropped.begin(), dropped.end(), c))
        kept.push_back(c);
      else
        out.dropped_names.push_back(design.full_names[design.active[c]]);
    Eigen::MatrixXd reduced(out.differenced_regressors.rows(),
                            static_cast<Eigen::Index>(kept.size()));
    Eigen::VectorXd coefficients(static_cast<Eigen::Index>(kept.size()));
    std::vector<std::size_t> active;
    for (std::size_t k = 0; k < kept.size(); ++k) {
      reduced.col(static_cast<Eigen::Index>(k)) =
          out.differenced_regressors.col(static_cast<Eigen::Index>(kept[k]));
      coefficients(static_cast<Eigen::Index>(k)) =
          out.ols.coefficients(static_cast<Eigen::Index>(kept[k]));
      active.push_back(design.active[kept[k]]);
    }
    out.differenced_regressors = std::move(reduced);
    out.ols.coefficients = std::move(coefficients);
    design.active = std::move(active);
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

// ---- The phases of ArimaModel::fit, in the order it runs them.

constexpr std::size_t kMinObserved = 10;

FitResult failed(FitStatus status, std::string message) {
  FitResult result;
  result.status = status;
  result.message = std::move(message);
  return result;
}

// A constant history: forecast it with zero spread.
FitResult fit_constant(const FitInput& input, double value) {
  Design design;
  design.intercept = true;
  design.full_names = {"intercept"};
  design.active = {0};
  Eigen::VectorXd coefficients(1);
  coefficients(0) = value;
  auto fitted = std::make_unique<FittedArima>(
      "arima(0,0,0)", std::map<std::string, double>{{"intercept", value}, {"sigma2", 0.0}},
      input.layout, nullptr, design, coefficients, arima_state_space(ArmaProcess{}, 0), 0.0);
  fitted->absorb(input.y);
  FitResult result;
  result.status = FitStatus::ok;
  result.message = "constant history (every sample is " + std::to_string(value) +
                   "): forecasting that value with zero spread";
  result.fitted = std::move(fitted);
  return result;
}

// The series and the caller's regressors (none when they have no column),
// named for the design.
Problem problem_of(const FitInput& input) {
  Problem problem{input.y, input.layout, input.regressors, {}};
  if (problem.regressors != nullptr && problem.regressors->cols() == 0)
    problem.regressors = nullptr;
  if (problem.regressors == nullptr) return problem;
  for (Eigen::Index c = 0; c < problem.regressors->cols(); ++c) {
    const std::size_t column = static_cast<std::size_t>(c);
    problem.xreg_names.push_back(column < input.regressor_names.size()
                                     ? input.regressor_names[column]
                                     : "xreg" + std::to_string(c + 1));
  }
  return problem;
}

/// Where the searches may go: the Fourier terms per season (K between
/// min_k and max_k, at most max_columns columns in all) and the orders.
struct SearchSpace {
  std::vector<std::uint32_t> slots;
  std::vector<int> harmonics;  ///< the starting K per season
  std::vector<int> min_k, max_k;
  int max_columns = 0;
  bool fixed_harmonics = false;
  OrderBounds bounds{};
};

int fourier_columns(const std::vector<int>& harmonics) {
  int total = 0;
  for (int k : harmonics) total += 2 * k;
  return total;
}

// "2", "12.5": a cycle count as a person writes it.
std::string format_cycles(double cycles) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", cycles);
  return buffer;
}

// Which seasons get Fourier terms and how many, and the order bounds: a
// season needs min_cycles of history; on short histories the parameter
// count stays about a tenth of the data.
SearchSpace search_space(const ArimaOptions& options, const SeasonLayout* layout, std::size_t n,
                         std::size_t observed, std::vector<std::string>& notes) {
  SearchSpace space;
  if (layout != nullptr) space.slots = layout->slots;
  const std::size_t periods = space.slots.size();
  space.min_k.assign(periods, 0);
  space.max_k.assign(periods, 0);
  for (std::size_t k = 0; k < periods; ++k) {
    const double needed = options.min_cycles * space.slots[k];
    if (static_cast<double>(n) < needed) {
      notes.push_back("season " + season_label(space.slots[k], options.step_seconds) +
                      " left out: history " + std::to_string(n) + " samples < " +
                      std::to_string(static_cast<std::size_t>(needed)) + " (" +
                      format_cycles(options.min_cycles) + " cycles)");
      continue;
    }
    space.max_k[k] = std::min(options.max_harmonics, max_harmonics(space.slots[k]));
    space.min_k[k] = std::clamp(options.min_harmonics, 0, space.max_k[k]);
  }
  const int budget = static_cast<int>(observed / 10);
  space.bounds = {std::min(options.max_p, 5), std::min(options.max_q, 5), options.max_order,
                  options.p, options.q};
  if (space.bounds.max_order > std::max(budget - 1, 0)) {
    space.bounds.max_order = std::max(budget - 1, 0);
    notes.push_back("short history: p + q limited to " + std::to_string(space.bounds.max_order));
  }
  space.max_columns = std::max(budget - space.bounds.max_order - 2, 0);
  space.fixed_harmonics = !options.harmonics.empty();
  space.harmonics.assign(periods, 0);
  for (std::size_t k = 0; k < periods; ++k) {
    space.harmonics[k] =
        space.fixed_harmonics
            ? (k < options.harmonics.size() ? std::min(options.harmonics[k], space.max_k[k]) : 0)
            : std::min(3, space.max_k[k]);
  }
  bool reduced = false;
  while (fourier_columns(space.harmonics) > space.max_columns) {
    --*std::max_element(space.harmonics.begin(), space.harmonics.end());
    reduced = true;
  }
  if (reduced) notes.emplace_back("short history: fewer Fourier terms");
  return space;
}

// d: KPSS on the residuals of the regression in levels (unless fixed); no
// differencing when the history is barely long enough for the model.
int differences(const ArimaOptions& options, const Problem& problem, const SearchSpace& space,
                std::size_t observed, std::vector<std::string>& notes) {
  int d = options.d;
  if (d < 0) {
    const Prepared levels = prepare(problem, space.harmonics, 0);
    d = choose_differences(levels.ols.residuals, options.max_d);
  }
  if (observed <= static_cast<std::size_t>(d) + kMinObserved) {
    d = 0;
    notes.emplace_back("short history: no differencing");
  }
  return d;
}

/// The model the searches settle on: orders, K per season and the
/// regression they were scored with.
struct Searched {
  ArmaFit best;
  Prepared prepared;
  std::vector<int> harmonics;
  Scoring scoring = Scoring::exact;
  std::vector<ArmaFit> tried;  ///< every order fitted at the final K
};

// K per season by AICc at the current orders: move to the best neighbour
// (one season's K up or down) while it lowers the AICc. True when K moved.
bool search_harmonics(const Problem& problem, const SearchSpace& space, int d, Searched& at) {
  std::set<std::vector<int>> visited{at.harmonics};
  bool changed = false;
  for (;;) {
    std::vector<int> best_k;
    ArmaFit best_neighbour;
    Prepared best_prepared;
    for (std::size_t k = 0; k < space.slots.size(); ++k)
      for (int delta : {1, -1}) {
        std::vector<int> candidate = at.harmonics;
        candidate[k] += delta;
        if (candidate[k] < space.min_k[k] || candidate[k] > space.max_k[k] ||
            fourier_columns(candidate) > space.max_columns || !visited.insert(candidate).second)
          continue;
        Prepared trial = prepare(problem, candidate, d);
        ArmaFit fit = arma::fit_arma(at.best.p, at.best.q, trial.ols.residuals,
                                     trial.design.columns(), &at.best.process, at.scoring);
        if (fit.aicc < best_neighbour.aicc) {
          best_neighbour = std::move(fit);
          best_k = candidate;
          best_prepared = std::move(trial);
        }
      }
    if (!(best_neighbour.aicc < at.best.aicc)) return changed;
    at.best = std::move(best_neighbour);
    at.harmonics = best_k;
    at.prepared = std::move(best_prepared);
    changed = true;
  }
}

// Orders, then K per season, then orders again at the chosen K. Long series
// are searched by CSS (R's rule for the approximation).
Searched search_model(const Problem& problem, const SearchSpace& space, int d,
                      std::size_t observed) {
  Searched at;
  at.harmonics = space.harmonics;
  at.prepared = prepare(problem, at.harmonics, d);
  at.scoring = observed > 150 ? Scoring::css : Scoring::exact;
  const std::vector<std::pair<int, int>> hk_seeds{{2, 2}, {0, 0}, {1, 0}, {0, 1}};
  at.best = arma::stepwise_orders(at.prepared.ols.residuals, at.prepared.design.columns(),
                                  space.bounds, hk_seeds, at.scoring, at.tried);
  if (space.fixed_harmonics || space.slots.empty()) return at;
  if (search_harmonics(problem, space, d, at)) {
    at.tried.clear();
    at.tried.push_back(at.best);
    ArmaFit again =
        arma::stepwise_orders(at.prepared.ols.residuals, at.prepared.design.columns(), space.bounds,
                              {{at.best.p, at.best.q}}, at.scoring, at.tried);
    if (again.aicc <= at.best.aicc) at.best = std::move(again);
  }
  return at;
}

// The CSS ranking can misorder close models (near-cancelling AR and MA
// roots): the best three by CSS are refitted exactly and ranked again.
ArmaFit rerank_exactly(std::vector<ArmaFit> tried, const Prepared& prepared) {
  std::sort(tried.begin(), tried.end(),
            [](const ArmaFit& a, const ArmaFit& b) { return a.aicc < b.aicc; });
  tried.erase(
      std::unique(tried.begin(), tried.end(),
                  [](const ArmaFit& a, const ArmaFit& b) { return a.p == b.p && a.q == b.q; }),
      tried.end());
  ArmaFit exact;
  for (std::size_t i = 0; i < tried.size() && i < 3; ++i) {
    if (!std::isfinite(tried[i].aicc)) break;
    ArmaFit fit = arma::fit_arma(tried[i].p, tried[i].q, prepared.ols.residuals,
                                 prepared.design.columns(), &tried[i].process, Scoring::exact);
    if (fit.aicc < exact.aicc) exact = std::move(fit);
  }
  return exact;
}

/// Regression coefficients and ARMA part estimated together.
struct JointEstimate {
  ArmaFit arma;
  Eigen::VectorXd beta;
  ArmaLikelihood likelihood;
  double aicc = kInf;
};

// Joint estimate: alternate GLS for beta and exact ML for the ARMA part.
JointEstimate joint_estimate(const Prepared& prepared, ArmaFit best) {
  const Eigen::MatrixXd& xd = prepared.differenced_regressors;
  const std::vector<double>& yd = prepared.differenced_y;
  JointEstimate out{std::move(best), prepared.ols.coefficients, {}, kInf};
  out.likelihood = out.arma.likelihood;
  const std::size_t m = prepared.design.columns();
  for (int round = 0; round < 3 && m > 0; ++round) {
    const ArmaGls gls = arma_gls(out.arma.process, yd, xd);
    if (!gls.likelihood.valid) break;
    out.beta = gls.coefficients;
    out.likelihood = gls.likelihood;
    if (round == 2) break;
    std::vector<double> w(yd.size());
    const Eigen::VectorXd fitted_values = xd * out.beta;
    for (std::size_t t = 0; t < yd.size(); ++t)
      w[t] = yd[t] - fitted_values(static_cast<Eigen::Index>(t));
    ArmaFit refit = arma::fit_arma(out.arma.p, out.arma.q, w, m, &out.arma.process, Scoring::exact);
    if (!(refit.likelihood.log_likelihood() >= out.likelihood.log_likelihood() - 1e-9)) break;
    out.arma = std::move(refit);
  }
  out.aicc = arma::aicc(out.likelihood.log_likelihood(),
                        static_cast<double>(out.arma.p + out.arma.q + m + 1),
                        static_cast<double>(out.likelihood.observations));
  return out;
}

// Named parameters for reports: AR and MA coefficients, regression
// coefficients by column name, sigma2 and the AICc.
std::map<std::string, double> named_parameters(const JointEstimate& estimate,
                                               const Design& design) {
  std::map<std::string, double> parameters;
  const ArmaProcess& process = estimate.arma.process;
  for (std::size_t i = 0; i < process.ar.size(); ++i)
    parameters["ar" + std::to_string(i + 1)] = process.ar[i];
  for (std::size_t j = 0; j < process.ma.size(); ++j)
    parameters["ma" + std::to_string(j + 1)] = process.ma[j];
  const std::vector<std::string> names = design.names();
  for (std::size_t c = 0; c < names.size(); ++c)
    parameters[names[c]] = estimate.beta(static_cast<Eigen::Index>(c));
  parameters["sigma2"] = estimate.likelihood.sigma2();
  parameters["aicc"] = estimate.aicc;
  return parameters;
}

}  // namespace

std::string season_label(std::uint32_t slots, std::int64_t step_seconds) {
  if (step_seconds <= 0) return std::to_string(slots);
  const std::int64_t seconds = static_cast<std::int64_t>(slots) * step_seconds;
  const std::pair<std::int64_t, const char*> units[] = {
      {604800, "w"}, {86400, "d"}, {3600, "h"}, {60, "m"}};
  for (const auto& [unit, suffix] : units)
    if (seconds % unit == 0) return std::to_string(seconds / unit) + suffix;
  return std::to_string(seconds) + "s";
}

ArimaModel::ArimaModel(ArimaOptions options) : options_(std::move(options)) {}

std::string ArimaModel::name() const {
  if (options_.p >= 0 && options_.d >= 0 && options_.q >= 0)
    return "arima(" + std::to_string(options_.p) + "," + std::to_string(options_.d) + "," +
           std::to_string(options_.q) + ")";
  return "arima(auto)";
}

FitResult ArimaModel::fit(const FitInput& input) const {
  const Expected<InputFacts> facts = validate(input);
  if (!facts) return invalid_fit_input(facts.error());
  const std::size_t observed = facts->observed;
  if (observed < kMinObserved)
    return failed(FitStatus::too_short, "history has " + std::to_string(observed) +
                                            " observed samples, ARIMA needs " +
                                            std::to_string(kMinObserved));
  if (facts->constant) return fit_constant(input, facts->first);

  std::vector<std::string> notes;
  const Problem problem = problem_of(input);
  const SearchSpace space = search_space(options_, input.layout, input.y.size(), observed, notes);
  const int d = differences(options_, problem, space, observed, notes);
  Searched searched = search_model(problem, space, d, observed);
  if (!std::isfinite(searched.best.aicc))
    return failed(FitStatus::no_convergence,
                  "no ARIMA order gave a finite likelihood (is the series degenerate?)");
  if (searched.scoring != Scoring::exact) {
    searched.best = rerank_exactly(std::move(searched.tried), searched.prepared);
    if (!std::isfinite(searched.best.aicc))
      return failed(FitStatus::no_convergence,
                    "exact likelihood of the chosen ARIMA is not finite");
  }
  const Prepared& prepared = searched.prepared;
  const JointEstimate estimate = joint_estimate(prepared, std::move(searched.best));

  // The fitted state: the ARIMA filter run over the history.
  if (!prepared.dropped_names.empty())
    notes.push_back("collinear regressors left out: " + join(prepared.dropped_names, ", "));
  auto fitted = std::make_unique<FittedArima>(
      arima_name(estimate.arma.p, d, estimate.arma.q, prepared.design, options_.step_seconds,
                 space.slots),
      named_parameters(estimate, prepared.design), problem.layout, problem.regressors,
      prepared.design, estimate.beta, arima_state_space(estimate.arma.process, d),
      estimate.likelihood.sigma2());
  fitted->absorb(input.y);
  std::string summary = fitted->name() + ", AICc " + std::to_string(estimate.aicc);
  if (options_.d < 0) summary += ", d=" + std::to_string(d) + " by KPSS";
  FitResult result;
  result.status = FitStatus::ok;
  result.message = notes.empty() ? summary : summary + "; " + join(notes, "; ");
  result.fitted = std::move(fitted);
  return result;
}

}  // namespace prescale::forecast
