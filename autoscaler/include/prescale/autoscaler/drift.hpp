#pragma once
// Drift: the fitted parameters no longer describe the load, so the target
// refits before its schedule. Two signs of it: the model's one-step absolute
// error over the last quarter of a day grows well past what the fit expects
// (the load changed shape), or the anomaly tracker reports a persistent run
// outside the prediction interval (a new normal).
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

namespace prescale::autoscaler {

/// Not thread-safe: owned by one target worker. reset() when a new fit takes over.
class DriftDetector {
 public:
  /// The error window: a quarter of a day of samples, 30 to 720 of them.
  explicit DriftDetector(std::int64_t step_seconds);

  /// One more one-step absolute error of the model in use.
  void add_error(double absolute_error);
  /// A persistent shift asks for a refit; the first reason since the last reset is kept.
  void request_refit(std::string reason);
  /// After following new samples: a full window whose mean absolute error is
  /// more than 2.5x a normal error's (E|e| = 0.8 sigma) of the model's
  /// in-sample `residual_variance` is drift.
  void check(double residual_variance);
  /// A new fit took over: forget the errors and the request.
  void reset();

  [[nodiscard]] bool drifted() const { return drifted_; }
  /// Why a refit is due ("" when none): "one-step error drifted to 3.1x the fitted model's".
  [[nodiscard]] const std::string& reason() const { return reason_; }
  [[nodiscard]] std::size_t window() const { return window_; }

 private:
  std::size_t window_;
  std::deque<double> recent_errors_;
  double recent_error_sum_ = 0;
  bool drifted_ = false;
  std::string reason_;
};

}  // namespace prescale::autoscaler
