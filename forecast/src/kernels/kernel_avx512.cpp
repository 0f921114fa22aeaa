// AVX-512F kernel: 8 candidates per register, 4 registers interleaved.
// Compiled with -mavx512f -ffp-contract=off; no FMA, to match the scalar
// reference bit for bit.
#include <immintrin.h>

#include "hw_core.hpp"
#include "kernel_entries.hpp"

namespace prescale::forecast::kernels::detail {
namespace {

struct Avx512Ops {
  using vec = __m512d;
  static constexpr std::size_t lanes = 8;
  static vec set1(double x) { return _mm512_set1_pd(x); }
  static vec load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, vec v) { _mm512_storeu_pd(p, v); }
  static vec add(vec a, vec b) { return _mm512_add_pd(a, b); }
  static vec sub(vec a, vec b) { return _mm512_sub_pd(a, b); }
  static vec mul(vec a, vec b) { return _mm512_mul_pd(a, b); }
  static vec div(vec a, vec b) { return _mm512_div_pd(a, b); }
};

}  // namespace

void hw_sse_avx512(const RawBatch& batch) {
  hw_sse_dispatch<Avx512Ops, 4>(batch);
}

}  // namespace prescale::forecast::kernels::detail
