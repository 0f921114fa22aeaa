#include "prescale/autoscaler/clock.hpp"

namespace prescale::autoscaler {

void Interrupt::trigger() {
  {
    std::lock_guard lock(mutex_);
    triggered_ = true;
  }
  cv_.notify_all();
}

void Interrupt::reset() {
  std::lock_guard lock(mutex_);
  triggered_ = false;
}

bool Interrupt::triggered() const {
  std::lock_guard lock(mutex_);
  return triggered_;
}

bool Interrupt::wait_until(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_until(lock, deadline, [this] { return triggered_; });
}

double SystemClock::now() const {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool SystemClock::sleep_until(double unix_seconds, const Interrupt& interrupt) const {
  const double wait = unix_seconds - now();
  if (wait <= 0) return interrupt.triggered();
  return interrupt.wait_until(std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(wait)));
}

AcceleratedClock::AcceleratedClock(double start_unix, double speed)
    : start_unix_(start_unix),
      speed_(speed > 0 ? speed : 1),
      started_(std::chrono::steady_clock::now()) {}

double AcceleratedClock::now() const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return start_unix_ + elapsed * speed_;
}

bool AcceleratedClock::sleep_until(double unix_seconds, const Interrupt& interrupt) const {
  const double real_wait = (unix_seconds - now()) / speed_;
  if (real_wait <= 0) return interrupt.triggered();
  return interrupt.wait_until(std::chrono::steady_clock::now() +
                              std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                  std::chrono::duration<double>(real_wait)));
}

void ReplayClock::set(double unix_seconds) {
  std::lock_guard lock(mutex_);
  now_ = unix_seconds;
}

double ReplayClock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

bool ReplayClock::sleep_until(double, const Interrupt& interrupt) const {
  return interrupt.triggered();
}

}  // namespace prescale::autoscaler
