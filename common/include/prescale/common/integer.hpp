#pragma once
// Integer division that rounds toward minus infinity, for time arithmetic
// on Unix seconds: C++'s `/` and `%` round toward zero, so an instant before
// 1970 (or before a grid's origin) would land in the wrong step or day.
#include <cstdint>

namespace prescale {

/// floor(a / b) for b > 0.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

/// a - floor(a / b) * b: in [0, b) for b > 0.
constexpr std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
  return a - floor_div(a, b) * b;
}

/// ceil(a / b) for b > 0.
constexpr std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return -floor_div(-a, b);
}

/// The largest multiple of `step` at or below `value` (step > 0).
constexpr std::int64_t floor_to(std::int64_t value, std::int64_t step) {
  return value - floor_mod(value, step);
}

/// The smallest multiple of `step` at or above `value` (step > 0).
constexpr std::int64_t ceil_to(std::int64_t value, std::int64_t step) {
  return ceil_div(value, step) * step;
}

}  // namespace prescale
