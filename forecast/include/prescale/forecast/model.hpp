#pragma once
// The seam every forecasting model implements: construct -> fit -> forecast.
// A Model is a recipe (immutable, thread-safe); fit() returns a FittedModel
// that holds state, follows the stream in O(1) per sample with update(), and
// forecasts. No I/O, no clocks: time enters only as seasonal positions and
// regressor columns computed by the caller (prescale::calendar).
#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "prescale/common/expected.hpp"

namespace prescale::forecast {

/// Outcome of a fit; callers must look at it.
/// cancelled: the caller asked to stop (SelectionOptions::cancel) before the fit was done.
enum class FitStatus { ok, too_short, no_convergence, invalid_input, cancelled };
std::string_view to_string(FitStatus status);

/// Where each sample sits in each seasonal period, in local wall-clock time.
/// positions[k][i] is the slot (0 .. slots[k]-1) of sample i in period k.
/// It covers the history and then the forecast horizon, so one layout serves
/// fit(), update() and forecast(). Periods are ordered shortest first.
struct SeasonLayout {
  std::vector<std::uint32_t> slots;
  std::vector<std::vector<std::uint32_t>> positions;

  [[nodiscard]] std::size_t periods() const { return slots.size(); }
  /// Number of samples the layout covers (history + horizon).
  [[nodiscard]] std::size_t size() const { return positions.empty() ? 0 : positions[0].size(); }
  /// Plain modular layout (UTC, no DST): slot = (first_index + i) mod slots.
  static SeasonLayout modular(std::vector<std::uint32_t> slots, std::size_t count);
};

/// A past occurrence of a calendar event older than the history a fit
/// reads (the daemon fetches such windows sparsely, months back), with the
/// ordinary load at the same local times beside it. Models that learn event
/// effects (event_effects.hpp) add it to the occurrences the history holds;
/// the others ignore it. It lies before the history, so a backtest fit on a
/// prefix of the history may use it too.
struct PastEvent {
  std::string event;             ///< "<calendar>.<event>": its regressor columns' prefix
  std::int64_t start_unix = 0;   ///< first step of the window (for reports)
  std::vector<double> y;         ///< the window's samples, NaN where missing
  std::vector<double> baseline;  ///< ordinary load at the same steps (NaN: unknown)
};

/// Everything a fit may use. y[i] is NaN where the sample is missing.
/// regressors (optional) has one row per layout sample (history + horizon)
/// and one column per calendar/Fourier regressor.
struct FitInput {
  std::span<const double> y;
  const SeasonLayout* layout = nullptr;
  const Eigen::MatrixXd* regressors = nullptr;
  std::vector<std::string> regressor_names;
  /// Optional: parameters() of an earlier fit of the same recipe on a prefix
  /// of this history (the backtest's fit at its first origin). A model that
  /// searches its parameters starts there, which cuts the search several
  /// fold; one that does not, or whose names differ, ignores it. Never set it
  /// from data after the history's end (a backtest fit would see the future).
  const std::map<std::string, double>* warm_start = nullptr;
  /// Optional: occurrences of the calendar events older than `y` (see PastEvent).
  std::span<const PastEvent> past_events = {};
};

/// What validate() learnt about a valid FitInput, for a model's own checks.
struct InputFacts {
  std::size_t observed = 0;  ///< samples that are not missing
  bool constant = true;      ///< every observed sample has one value (true when none)
  double first = std::numeric_limits<double>::quiet_NaN();    ///< first observed sample
  double smallest = std::numeric_limits<double>::infinity();  ///< smallest observed sample
  std::size_t smallest_at = 0;                                ///< its index
};

/// The checks every model makes of its input, with one wording: each sample
/// is finite or NaN (missing); a layout has positions for every period,
/// covering at least the history, each period with slots and every position
/// (history and horizon) inside them; regressors (when they have columns)
/// have a row per history sample with finite values there. The error names
/// the sample, period or column; a fit reports it as FitStatus::invalid_input
/// (invalid_fit_input). Too short a history is each model's own judgement,
/// from InputFacts::observed. Pure function.
[[nodiscard]] Expected<InputFacts> validate(const FitInput& input);

/// A forecast for steps 1..h after the last sample the model has seen.
/// sigma[h] is the standard deviation of the h-step error (model-based, or
/// calibrated from backtest errors: interval_calibration.hpp). A calibrated
/// interval may be asymmetric (load surges above the mean further than it
/// drops below): then sigma is the upper tail's and sigma_lower the lower's.
struct Forecast {
  std::vector<double> mean;
  std::vector<double> sigma;
  std::vector<double> sigma_lower = {};  ///< empty: the lower tail uses sigma too (= {}:
                                         ///< Forecast{mean, sigma} stays warning-free)
  /// A combination's members' disagreement per step (the standard deviation
  /// of their means, combination.hpp); empty for one model. The interval
  /// calibration widens the band where the members disagree.
  std::vector<double> spread = {};

  [[nodiscard]] std::size_t size() const { return mean.size(); }
  /// The p-quantile of step h, assuming normal errors on each side:
  /// mean + z_p * sigma (sigma_lower for p < 0.5 when given).
  [[nodiscard]] double quantile(std::size_t h, double p) const;
  /// Steps [from, size()) as a forecast of their own (empty past the end).
  [[nodiscard]] Forecast tail(std::size_t from) const;
};

/// z such that P(N(0,1) <= z) = p, for 0 < p < 1 (Acklam's rational
/// approximation refined by one Newton step; |error| < 1e-12).
double normal_quantile(double p);

/// Fitted state. Not thread-safe: one owner updates it; clone() to share.
class FittedModel {
 public:
  virtual ~FittedModel() = default;
  /// Stable identifier, e.g. "holt-winters(A,Ad,A;288,2016)".
  [[nodiscard]] virtual std::string name() const = 0;
  /// Named parameters (alpha, beta, phi, gamma1, ...) for reports.
  [[nodiscard]] virtual std::map<std::string, double> parameters() const = 0;
  /// Index (into the layout) of the next sample the model expects.
  [[nodiscard]] virtual std::size_t next_index() const = 0;
  /// Absorbs the sample at next_index(); NaN advances time without learning.
  /// O(1) in the history length.
  virtual void update(double y) = 0;
  /// Forecast for the next `horizon` samples (the layout must cover them).
  [[nodiscard]] virtual Forecast forecast(std::size_t horizon) const = 0;
  /// In-sample one-step residual variance (the sigma^2 of step 1).
  [[nodiscard]] virtual double residual_variance() const = 0;
  [[nodiscard]] virtual std::unique_ptr<FittedModel> clone() const = 0;
};

struct FitResult {
  FitStatus status = FitStatus::invalid_input;
  std::string message;  ///< why, for a person (e.g. "history 1.2 days < 2 seasons of 1d")
  std::unique_ptr<FittedModel> fitted;
};

/// The failed fit for an input validate() refused: status invalid_input, its message.
[[nodiscard]] FitResult invalid_fit_input(const Error& error);

/// A model recipe. Immutable; fit() may be called from several threads.
/// The layout and regressors passed to fit() must outlive the FittedModel,
/// which reads them by index at update() and forecast() time: a streaming
/// caller appends positions (and regressor rows) for new samples and for the
/// horizon before calling update()/forecast(), never rewrites earlier ones.
class Model {
 public:
  virtual ~Model() = default;
  [[nodiscard]] virtual std::string name() const = 0;
  [[nodiscard]] virtual FitResult fit(const FitInput& input) const = 0;
};

}  // namespace prescale::forecast
