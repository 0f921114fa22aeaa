#include "prescale/autoscaler/drift.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace prescale::autoscaler {

DriftDetector::DriftDetector(std::int64_t step_seconds)
    : window_(static_cast<std::size_t>(std::clamp<std::int64_t>(
          86400 / std::max<std::int64_t>(step_seconds, 1) / 4, 30, 720))) {}

void DriftDetector::add_error(double absolute_error) {
  recent_errors_.push_back(absolute_error);
  recent_error_sum_ += absolute_error;
  if (recent_errors_.size() > window_) {
    recent_error_sum_ -= recent_errors_.front();
    recent_errors_.pop_front();
  }
}

void DriftDetector::request_refit(std::string reason) {
  if (drifted_) return;
  drifted_ = true;
  reason_ = std::move(reason);
}

void DriftDetector::check(double residual_variance) {
  // E|e| of a normal error is 0.8 sigma; 2.5x that over a quarter day is drift, not noise.
  const double expected = 0.8 * std::sqrt(std::max(0.0, residual_variance));
  if (drifted_ || recent_errors_.size() < window_ || !(expected > 0)) return;
  const double ratio = recent_error_sum_ / static_cast<double>(recent_errors_.size()) / expected;
  if (ratio > 2.5)
    request_refit(fmt::format("one-step error drifted to {:.1f}x the fitted model's", ratio));
}

void DriftDetector::reset() {
  recent_errors_.clear();
  recent_error_sum_ = 0;
  drifted_ = false;
  reason_.clear();
}

}  // namespace prescale::autoscaler
