#include "prescale/forecast/theta.hpp"

#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace prescale::forecast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A seasonal profile over one period's slots: factors (multiplicative) or
/// offsets (additive). Empty: no season.
struct Profile {
  std::vector<double> index;
  bool multiplicative = true;
  const std::vector<std::uint32_t>* positions = nullptr;

  [[nodiscard]] std::uint32_t slot(std::size_t t) const {
    const std::size_t m = index.size();
    if (t < positions->size()) return (*positions)[t];
    if (positions->empty()) return static_cast<std::uint32_t>(t % m);
    return static_cast<std::uint32_t>((positions->back() + (t - positions->size() + 1)) % m);
  }
  [[nodiscard]] double adjust(double y, std::size_t t) const {
    if (index.empty()) return y;
    return multiplicative ? y / index[slot(t)] : y - index[slot(t)];
  }
  [[nodiscard]] double restore(double a, std::size_t t) const {
    if (index.empty()) return a;
    return multiplicative ? a * index[slot(t)] : a + index[slot(t)];
  }
};

// Centred moving average of one cycle of m samples (2 x m when m is even),
// NaN where the window is incomplete or holds a missing sample.
std::vector<double> centred_average(std::span<const double> y, std::size_t m) {
  std::vector<double> average(y.size(), kNaN);
  const std::size_t half = m / 2;
  for (std::size_t t = half; t + half < y.size(); ++t) {
    double sum = 0;
    bool complete = true;
    for (std::size_t j = t - half; j <= t + half && complete; ++j) {
      const double weight = (m % 2 == 0 && (j == t - half || j == t + half)) ? 0.5 : 1.0;
      complete = !std::isnan(y[j]);
      sum += weight * y[j];
    }
    if (complete) average[t] = sum / static_cast<double>(m);
  }
  return average;
}

// Classical decomposition of the shortest season; none without two cycles.
Profile seasonal_profile(std::span<const double> y, const SeasonLayout* layout, bool positive) {
  Profile profile;
  profile.multiplicative = positive;
  if (layout == nullptr || layout->periods() == 0) return profile;
  const std::size_t m = layout->slots[0];
  if (m < 2 || y.size() < 2 * m) return profile;
  const std::vector<double> average = centred_average(y, m);
  std::vector<double> sum(m, 0.0), count(m, 0.0);
  for (std::size_t t = 0; t < y.size(); ++t) {
    if (std::isnan(average[t]) || std::isnan(y[t]) || (positive && !(average[t] > 0))) continue;
    const std::uint32_t s = layout->positions[0][t];
    sum[s] += positive ? y[t] / average[t] : y[t] - average[t];
    count[s] += 1;
  }
  profile.index.assign(m, positive ? 1.0 : 0.0);
  double total = 0;
  std::size_t filled = 0;
  for (std::size_t s = 0; s < m; ++s) {
    if (count[s] == 0) continue;
    profile.index[s] = sum[s] / count[s];
    total += profile.index[s];
    ++filled;
  }
  if (filled == 0) return Profile{{}, positive, nullptr};
  const double mean = total / static_cast<double>(filled);
  for (std::size_t s = 0; s < m; ++s) {
    if (count[s] == 0) continue;
    profile.index[s] = positive ? profile.index[s] / mean : profile.index[s] - mean;
    if (positive && !(profile.index[s] > 0)) profile.index[s] = 1.0;
  }
  profile.positions = &layout->positions[0];
  return profile;
}

/// SES on the adjusted series: level, alpha, one-step SSE, samples seen.
struct Smoothing {
  double alpha = 0.5;
  double level = kNaN;
  double sse = 0;
  std::size_t observed = 0;

  void absorb(double a) {
    if (std::isnan(a)) return;
    if (std::isnan(level)) {
      level = a;
    } else {
      const double e = a - level;
      sse += e * e;
      level += alpha * e;
    }
    ++observed;
  }
};

Smoothing best_smoothing(const std::vector<double>& adjusted) {
  Smoothing best;
  double best_sse = std::numeric_limits<double>::infinity();
  for (int step = 1; step <= 19; ++step) {
    Smoothing trial;
    trial.alpha = 0.05 * step;
    for (double a : adjusted) trial.absorb(a);
    if (trial.sse < best_sse) {
      best_sse = trial.sse;
      best = trial;
    }
  }
  return best;
}

// Least-squares slope of the adjusted series over time (observed samples).
double linear_slope(const std::vector<double>& adjusted) {
  double n = 0, st = 0, sa = 0;
  for (std::size_t t = 0; t < adjusted.size(); ++t) {
    if (std::isnan(adjusted[t])) continue;
    n += 1;
    st += static_cast<double>(t);
    sa += adjusted[t];
  }
  if (n < 2) return 0;
  const double mt = st / n, ma = sa / n;
  double sxy = 0, sxx = 0;
  for (std::size_t t = 0; t < adjusted.size(); ++t) {
    if (std::isnan(adjusted[t])) continue;
    sxy += (static_cast<double>(t) - mt) * (adjusted[t] - ma);
    sxx += (static_cast<double>(t) - mt) * (static_cast<double>(t) - mt);
  }
  return sxx > 0 ? sxy / sxx : 0;
}

/// Not thread-safe (FittedModel's contract).
class ThetaFitted final : public FittedModel {
 public:
  ThetaFitted(Profile profile, Smoothing smoothing, double drift, std::size_t next)
      : profile_(std::move(profile)), smoothing_(smoothing), drift_(drift), next_(next) {}

  [[nodiscard]] std::string name() const override {
    return profile_.index.empty() ? "theta"
                                  : "theta(" + std::to_string(profile_.index.size()) + ")";
  }
  [[nodiscard]] std::map<std::string, double> parameters() const override {
    return {{"alpha", smoothing_.alpha}, {"drift", drift_}};
  }
  [[nodiscard]] std::size_t next_index() const override { return next_; }
  void update(double y) override {
    smoothing_.absorb(std::isnan(y) ? kNaN : profile_.adjust(y, next_));
    ++next_;
  }
  [[nodiscard]] Forecast forecast(std::size_t horizon) const override {
    Forecast out;
    const double alpha = smoothing_.alpha;
    const double n = static_cast<double>(smoothing_.observed);
    const double sigma1 = std::sqrt(adjusted_variance());
    for (std::size_t h = 1; h <= horizon; ++h) {
      // Hyndman & Billah (2003): SES plus half the trend, with its start-up term.
      const double steps = static_cast<double>(h - 1) + 1 / alpha - std::pow(1 - alpha, n) / alpha;
      const double adjusted = smoothing_.level + 0.5 * drift_ * steps;
      const std::size_t t = next_ + h - 1;
      out.mean.push_back(profile_.restore(adjusted, t));
      const double spread = sigma1 * std::sqrt(1 + static_cast<double>(h - 1) * alpha * alpha);
      const double scale = profile_.multiplicative && !profile_.index.empty()
                               ? profile_.index[profile_.slot(t)]
                               : 1.0;
      out.sigma.push_back(spread * scale);
    }
    return out;
  }
  [[nodiscard]] double residual_variance() const override { return adjusted_variance(); }
  [[nodiscard]] std::unique_ptr<FittedModel> clone() const override {
    return std::make_unique<ThetaFitted>(*this);
  }

 private:
  [[nodiscard]] double adjusted_variance() const {
    const double dof = static_cast<double>(smoothing_.observed) - 3;
    return dof > 0 ? smoothing_.sse / dof : kNaN;
  }

  Profile profile_;
  Smoothing smoothing_;
  double drift_;
  std::size_t next_;
};

}  // namespace

FitResult Theta::fit(const FitInput& input) const {
  const Expected<InputFacts> facts = validate(input);
  if (!facts) return invalid_fit_input(facts.error());
  FitResult result;
  if (facts->observed < 4) {
    result.status = FitStatus::too_short;
    result.message = "only " + std::to_string(facts->observed) + " valid samples; Theta needs 4";
    return result;
  }
  const Profile profile = seasonal_profile(input.y, input.layout, facts->smallest > 0);
  std::vector<double> adjusted(input.y.size());
  for (std::size_t t = 0; t < adjusted.size(); ++t)
    adjusted[t] = std::isnan(input.y[t]) ? kNaN : profile.adjust(input.y[t], t);
  const Smoothing smoothing = best_smoothing(adjusted);
  result.status = FitStatus::ok;
  if (profile.index.empty() && input.layout != nullptr && input.layout->periods() > 0)
    result.message = "theta: history shorter than two seasons, fitted without one";
  result.fitted =
      std::make_unique<ThetaFitted>(profile, smoothing, linear_slope(adjusted), input.y.size());
  return result;
}

}  // namespace prescale::forecast
