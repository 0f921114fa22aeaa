// NEON (AArch64 Advanced SIMD) kernel: 2 candidates per register, 4
// registers interleaved. Compiled with -ffp-contract=off; vaddq/vmulq are
// separate roundings (no vfmaq), matching the scalar reference bit for bit.
#include <arm_neon.h>

#include "hw_core.hpp"
#include "kernel_entries.hpp"

namespace prescale::forecast::kernels::detail {
namespace {

struct NeonOps {
  using vec = float64x2_t;
  static constexpr std::size_t lanes = 2;
  static vec set1(double x) { return vdupq_n_f64(x); }
  static vec load(const double* p) { return vld1q_f64(p); }
  static void store(double* p, vec v) { vst1q_f64(p, v); }
  static vec add(vec a, vec b) { return vaddq_f64(a, b); }
  static vec sub(vec a, vec b) { return vsubq_f64(a, b); }
  static vec mul(vec a, vec b) { return vmulq_f64(a, b); }
  static vec div(vec a, vec b) { return vdivq_f64(a, b); }
};

}  // namespace

void hw_sse_neon(const RawBatch& batch) {
  hw_sse_dispatch<NeonOps, 4>(batch);
}

}  // namespace prescale::forecast::kernels::detail
