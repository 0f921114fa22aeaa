#pragma once
// The Clock seam: the daemon runs on the wall clock, the demo on an
// accelerated one, the simulator on a replay clock it sets itself.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace prescale::autoscaler {

/// Wakes sleepers early (shutdown, reload). Thread-safe.
class Interrupt {
 public:
  void trigger();
  void reset();
  [[nodiscard]] bool triggered() const;
  /// Waits until the steady deadline or a trigger; true if triggered.
  bool wait_until(std::chrono::steady_clock::time_point deadline) const;

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  bool triggered_ = false;
};

/// Thread-safe in every implementation.
class Clock {
 public:
  virtual ~Clock() = default;
  /// UTC seconds (fractional).
  [[nodiscard]] virtual double now() const = 0;
  /// Sleeps until now() >= unix_seconds or the interrupt fires; true if it fired.
  virtual bool sleep_until(double unix_seconds, const Interrupt& interrupt) const = 0;
};

/// The wall clock.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] double now() const override;
  bool sleep_until(double unix_seconds, const Interrupt& interrupt) const override;
};

/// Starts at `start_unix` and runs `speed` times faster than real time (the demo).
class AcceleratedClock final : public Clock {
 public:
  AcceleratedClock(double start_unix, double speed);
  [[nodiscard]] double now() const override;
  bool sleep_until(double unix_seconds, const Interrupt& interrupt) const override;
  [[nodiscard]] double speed() const { return speed_; }

 private:
  double start_unix_;
  double speed_;
  std::chrono::steady_clock::time_point started_;
};

/// Time only moves when set() is called (replay, tests). sleep_until returns
/// at once (true only if interrupted): the driver advances time itself.
class ReplayClock final : public Clock {
 public:
  explicit ReplayClock(double start_unix = 0) : now_(start_unix) {}
  void set(double unix_seconds);
  [[nodiscard]] double now() const override;
  bool sleep_until(double unix_seconds, const Interrupt& interrupt) const override;

 private:
  mutable std::mutex mutex_;
  double now_;
};

}  // namespace prescale::autoscaler
