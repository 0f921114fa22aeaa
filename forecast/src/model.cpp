#include "prescale/forecast/model.hpp"

#include <cmath>
#include <limits>
#include <string>

namespace prescale::forecast {

std::string_view to_string(FitStatus status) {
  switch (status) {
    case FitStatus::ok:
      return "ok";
    case FitStatus::too_short:
      return "too_short";
    case FitStatus::no_convergence:
      return "no_convergence";
    case FitStatus::invalid_input:
      return "invalid_input";
    case FitStatus::cancelled:
      return "cancelled";
  }
  return "unknown";
}

namespace {

Status validate_layout(const SeasonLayout& layout, std::size_t n) {
  if (layout.positions.size() != layout.slots.size())
    return make_error("season layout has " + std::to_string(layout.slots.size()) +
                      " periods but positions for " + std::to_string(layout.positions.size()));
  for (std::size_t k = 0; k < layout.periods(); ++k) {
    const std::string period = "seasonal period " + std::to_string(k + 1);
    if (layout.slots[k] == 0) return make_error(period + " has 0 slots");
    const std::vector<std::uint32_t>& positions = layout.positions[k];
    if (positions.size() < n)
      return make_error("season layout covers " + std::to_string(positions.size()) +
                        " samples of " + period + ", the history has " + std::to_string(n));
    for (std::size_t i = 0; i < positions.size(); ++i)
      if (positions[i] >= layout.slots[k])
        return make_error("seasonal position " + std::to_string(positions[i]) + " of sample " +
                          std::to_string(i) + " is outside " + period + " (" +
                          std::to_string(layout.slots[k]) + " slots)");
  }
  return Status::ok();
}

Status validate_regressors(const FitInput& input) {
  const Eigen::MatrixXd& regressors = *input.regressors;
  const std::size_t n = input.y.size();
  if (static_cast<std::size_t>(regressors.rows()) < n)
    return make_error("regressors have " + std::to_string(regressors.rows()) +
                      " rows, the history has " + std::to_string(n));
  for (Eigen::Index c = 0; c < regressors.cols(); ++c) {
    const std::size_t column = static_cast<std::size_t>(c);
    for (std::size_t i = 0; i < n; ++i) {
      if (std::isfinite(regressors(static_cast<Eigen::Index>(i), c))) continue;
      const std::string name = column < input.regressor_names.size()
                                   ? input.regressor_names[column]
                                   : "xreg" + std::to_string(c + 1);
      return make_error("regressor '" + name + "' is not finite at sample " + std::to_string(i));
    }
  }
  return Status::ok();
}

}  // namespace

Expected<InputFacts> validate(const FitInput& input) {
  InputFacts facts;
  const std::span<const double> y = input.y;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i])) continue;
    if (!std::isfinite(y[i])) return make_error("sample " + std::to_string(i) + " is infinite");
    if (facts.observed == 0) facts.first = y[i];
    facts.constant = facts.constant && y[i] == facts.first;
    if (y[i] < facts.smallest) {
      facts.smallest = y[i];
      facts.smallest_at = i;
    }
    ++facts.observed;
  }
  if (input.layout != nullptr) {
    if (Status layout = validate_layout(*input.layout, y.size()); !layout) return layout.error();
  }
  if (input.regressors != nullptr && input.regressors->cols() > 0) {
    if (Status regressors = validate_regressors(input); !regressors) return regressors.error();
  }
  return facts;
}

FitResult invalid_fit_input(const Error& error) {
  FitResult result;
  result.status = FitStatus::invalid_input;
  result.message = error.message;
  return result;
}

SeasonLayout SeasonLayout::modular(std::vector<std::uint32_t> slots, std::size_t count) {
  SeasonLayout layout;
  layout.slots = std::move(slots);
  for (std::uint32_t period : layout.slots) {
    std::vector<std::uint32_t> positions(count);
    for (std::size_t i = 0; i < count; ++i) positions[i] = static_cast<std::uint32_t>(i % period);
    layout.positions.push_back(std::move(positions));
  }
  return layout;
}

double normal_quantile(double p) {
  if (!(p > 0.0 && p < 1.0)) return std::numeric_limits<double>::quiet_NaN();
  // Acklam's algorithm.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  const double low = 0.02425;
  double x;
  if (p < low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // One Newton step on the normal CDF sharpens to full double precision.
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double Forecast::quantile(std::size_t h, double p) const {
  const double spread = p < 0.5 && h < sigma_lower.size() ? sigma_lower[h] : sigma[h];
  // Callers walk a forecast at one or two levels: the last z is remembered.
  thread_local double last_p = -1, last_z = 0;
  if (p != last_p) {
    last_z = normal_quantile(p);
    last_p = p;
  }
  return mean[h] + last_z * spread;
}

Forecast Forecast::tail(std::size_t from) const {
  Forecast out;
  auto rest = [from](const std::vector<double>& v) {
    return from < v.size()
               ? std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(from), v.end())
               : std::vector<double>{};
  };
  out.mean = rest(mean);
  out.sigma = rest(sigma);
  out.sigma_lower = rest(sigma_lower);
  out.spread = rest(spread);
  return out;
}

}  // namespace prescale::forecast
