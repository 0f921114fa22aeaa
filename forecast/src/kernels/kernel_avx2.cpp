// AVX2 kernel: 4 candidates per register, 4 registers interleaved. Compiled
// with -mavx2 -mfma -ffp-contract=off; deliberately no FMA instructions, so
// every lane rounds exactly as the scalar reference does.
#include <immintrin.h>

#include "hw_core.hpp"
#include "kernel_entries.hpp"

namespace prescale::forecast::kernels::detail {
namespace {

struct Avx2Ops {
  using vec = __m256d;
  static constexpr std::size_t lanes = 4;
  static vec set1(double x) { return _mm256_set1_pd(x); }
  static vec load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, vec v) { _mm256_storeu_pd(p, v); }
  static vec add(vec a, vec b) { return _mm256_add_pd(a, b); }
  static vec sub(vec a, vec b) { return _mm256_sub_pd(a, b); }
  static vec mul(vec a, vec b) { return _mm256_mul_pd(a, b); }
  static vec div(vec a, vec b) { return _mm256_div_pd(a, b); }
};

}  // namespace

void hw_sse_avx2(const RawBatch& batch) {
  hw_sse_dispatch<Avx2Ops, 4>(batch);
}

}  // namespace prescale::forecast::kernels::detail
