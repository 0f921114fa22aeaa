#include "prescale/source/window_history.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <limits>

#include "prescale/common/integer.hpp"

namespace prescale::source {

WindowHistory::WindowHistory(Source& source, std::int64_t step_seconds)
    : source_(source), step_(std::max<std::int64_t>(1, step_seconds)) {}

bool WindowHistory::holds(std::int64_t start_unix, std::int64_t end_unix) const {
  for (const auto& s : held_)
    if (s.start_unix <= start_unix && end_unix <= s.end_unix()) return true;
  return false;
}

std::vector<double> WindowHistory::values(std::int64_t start_unix, std::int64_t end_unix) const {
  const std::int64_t count = std::max<std::int64_t>(0, (end_unix - start_unix) / step_);
  std::vector<double> out(static_cast<std::size_t>(count), forecast::kMissing);
  for (const auto& s : held_) {
    const std::int64_t from = std::max(start_unix, s.start_unix);
    const std::int64_t to = std::min(end_unix, s.end_unix());
    for (std::int64_t t = from; t < to; t += step_)
      out[static_cast<std::size_t>((t - start_unix) / step_)] =
          s.values[static_cast<std::size_t>((t - s.start_unix) / step_)];
  }
  return out;
}

WindowFetchCost WindowHistory::fetch(std::span<const Window> wanted, const WindowLimits& limits,
                                     const std::atomic<bool>* cancel) {
  WindowFetchCost cost;
  // Aligned, sorted, and merged where they touch: one call each.
  std::vector<Window> merged;
  for (Window w : wanted) {
    w.start_unix = floor_to(w.start_unix, step_);
    w.end_unix = floor_to(w.end_unix + step_ - 1, step_);
    if (w.end_unix > w.start_unix) merged.push_back(w);
  }
  std::sort(merged.begin(), merged.end());
  std::vector<Window> calls;
  for (const Window& w : merged) {
    if (!calls.empty() && w.start_unix <= calls.back().end_unix)
      calls.back().end_unix = std::max(calls.back().end_unix, w.end_unix);
    else
      calls.push_back(w);
  }
  // Forget what is no longer wanted (the lookback moved past it).
  std::erase_if(held_, [&](const forecast::Series& s) {
    return std::none_of(calls.begin(), calls.end(), [&](const Window& w) {
      return w.start_unix < s.end_unix() && s.start_unix < w.end_unix;
    });
  });
  // Newest first: when the limits stop it, the nearest past is what a fit has.
  std::reverse(calls.begin(), calls.end());
  const auto started = std::chrono::steady_clock::now();
  for (const Window& w : calls) {
    if (holds(w.start_unix, w.end_unix)) {
      ++cost.cached;
      continue;
    }
    const auto points = static_cast<std::size_t>((w.end_unix - w.start_unix) / step_);
    const bool stopped = !cost.error.empty() || (cancel != nullptr && cancel->load()) ||
                         cost.calls >= limits.max_calls || cost.points + points > limits.max_points;
    if (stopped) {
      ++cost.deferred;
      continue;
    }
    ++cost.calls;
    cost.points += points;
    auto fetched = source_.fetch(w.start_unix, w.end_unix, step_);
    if (fetched && (fetched->start_unix != w.start_unix || fetched->step_seconds != step_ ||
                    fetched->size() != points)) {
      fetched = make_error(fmt::format("{} returned {} points from {}, asked for {} from {}",
                                       source_.describe(), fetched->size(), fetched->start_unix,
                                       points, w.start_unix));
    }
    if (!fetched) {
      cost.error = fetched.error().message;
      ++cost.deferred;
      continue;
    }
    // A window held in part is replaced by the larger one fetched.
    std::erase_if(held_, [&](const forecast::Series& s) {
      return w.start_unix <= s.start_unix && s.end_unix() <= w.end_unix;
    });
    held_.push_back(std::move(*fetched));
  }
  std::sort(held_.begin(), held_.end(), [](const forecast::Series& a, const forecast::Series& b) {
    return a.start_unix < b.start_unix;
  });
  cost.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return cost;
}

}  // namespace prescale::source
