#pragma once
// Entry points of the per-instruction-set units (only those compiled for
// this architecture exist; dispatch.cpp references them under the
// PRESCALE_KERNEL_* macros set by CMake).
#include "hw_core.hpp"

namespace prescale::forecast::kernels::detail {

/// Interleave (registers advanced together) of each kernel; block = lanes x interleave.
inline constexpr std::size_t kScalarBlock = 1;
inline constexpr std::size_t kAvx2Block = 4 * 4;
inline constexpr std::size_t kAvx512Block = 8 * 4;
inline constexpr std::size_t kNeonBlock = 2 * 4;

void hw_sse_scalar(const RawBatch& batch);
void hw_sse_avx2(const RawBatch& batch);
void hw_sse_avx512(const RawBatch& batch);
void hw_sse_neon(const RawBatch& batch);

}  // namespace prescale::forecast::kernels::detail
