#pragma once
// The one Holt-Winters recursion every kernel runs, generic over a vector
// type V (a double, or a SIMD register of V::lanes doubles). Internal to
// prescale::forecast: included by the per-instruction-set translation units
// and by holt_winters.cpp (the fitted model's O(1) update).
//
// The ISA units are compiled with -mavx2/-mavx512f, so nothing here may be a
// non-template inline function or touch the standard library: the linker
// could otherwise keep an AVX-512 copy of a shared inline function and run
// it on a CPU without AVX-512. Everything is a template on V, whose types
// live in each unit's anonymous namespace.
#include <cstddef>
#include <cstdint>

namespace prescale::forecast::kernels::detail {

/// Plain view of a batch, built by the dispatcher (baseline-compiled code):
/// candidates as structure-of-arrays, padded to a multiple of the kernel's
/// lanes by repeating the last candidate.
struct RawBatch {
  const double* y = nullptr;
  std::size_t samples = 0;
  std::size_t periods = 0;
  std::uint32_t slots[3] = {0, 0, 0};
  const std::uint32_t* positions[3] = {nullptr, nullptr, nullptr};
  const double* initial_seasonal[3] = {nullptr, nullptr, nullptr};
  double initial_level = 0;
  double initial_trend = 0;
  bool multiplicative = false;
  std::size_t count = 0;  ///< candidates, a multiple of the lanes
  const double* alpha = nullptr;
  const double* beta = nullptr;
  const double* phi = nullptr;
  const double* gamma[3] = {nullptr, nullptr, nullptr};
  double* out_sse = nullptr;  ///< count values
  double* scratch = nullptr;  ///< (slots[0]+slots[1]+slots[2]) * block doubles
};

/// Advances one vector of candidates by a missing sample: e = 0.
template <class V>
inline void hw_skip(typename V::vec& level, typename V::vec& trend, typename V::vec phi) {
  const typename V::vec lb = V::add(level, V::mul(phi, trend));
  trend = V::mul(phi, trend);
  level = lb;
}

/// Advances one vector of candidates by an observed sample y; returns the
/// one-step error e = y - yhat. season[k] points at this vector's state of
/// the sample's slot in period k (updated in place).
template <class V, std::size_t K, bool Multiplicative>
inline typename V::vec hw_step(typename V::vec& level, typename V::vec& trend,
                               double* const* season, typename V::vec alpha, typename V::vec beta,
                               typename V::vec phi, const typename V::vec* gamma, double y) {
  using vec = typename V::vec;
  const vec lb = V::add(level, V::mul(phi, trend));
  if constexpr (K == 0) {
    const vec e = V::sub(V::set1(y), lb);
    level = V::add(lb, V::mul(alpha, e));
    trend = V::add(V::mul(phi, trend), V::mul(beta, e));
    return e;
  } else {
    vec s[K];
    for (std::size_t k = 0; k < K; ++k) s[k] = V::load(season[k]);
    vec combined = s[0];
    for (std::size_t k = 1; k < K; ++k)
      combined = Multiplicative ? V::mul(combined, s[k]) : V::add(combined, s[k]);
    if constexpr (Multiplicative) {
      const vec e = V::sub(V::set1(y), V::mul(lb, combined));
      const vec q = V::div(e, combined);
      const vec r = V::div(q, lb);
      level = V::add(lb, V::mul(alpha, q));
      trend = V::add(V::mul(phi, trend), V::mul(beta, q));
      for (std::size_t k = 0; k < K; ++k)
        V::store(season[k], V::add(s[k], V::mul(gamma[k], V::mul(r, s[k]))));
      return e;
    } else {
      const vec e = V::sub(V::set1(y), V::add(lb, combined));
      level = V::add(lb, V::mul(alpha, e));
      trend = V::add(V::mul(phi, trend), V::mul(beta, e));
      for (std::size_t k = 0; k < K; ++k) V::store(season[k], V::add(s[k], V::mul(gamma[k], e)));
      return e;
    }
  }
}

/// SSE of batch.count candidates, Interleave vectors (independent dependency
/// chains, to hide latency) of V::lanes candidates per block.
template <class V, std::size_t Interleave, std::size_t K, bool Multiplicative>
void hw_sse_blocks(const RawBatch& batch) {
  using vec = typename V::vec;
  constexpr std::size_t lanes = V::lanes;
  constexpr std::size_t block = lanes * Interleave;
  std::size_t offset[K > 0 ? K : 1] = {0};
  for (std::size_t k = 1; k < K; ++k) offset[k] = offset[k - 1] + batch.slots[k - 1] * block;

  for (std::size_t first = 0; first < batch.count; first += block) {
    vec alpha[Interleave], beta[Interleave], phi[Interleave], gamma[Interleave][K > 0 ? K : 1];
    vec level[Interleave], trend[Interleave], sse[Interleave];
    for (std::size_t u = 0; u < Interleave; ++u) {
      const std::size_t at = first + u * lanes;
      alpha[u] = V::load(batch.alpha + at);
      beta[u] = V::load(batch.beta + at);
      phi[u] = V::load(batch.phi + at);
      for (std::size_t k = 0; k < K; ++k) gamma[u][k] = V::load(batch.gamma[k] + at);
      level[u] = V::set1(batch.initial_level);
      trend[u] = V::set1(batch.initial_trend);
      sse[u] = V::set1(0.0);
    }
    // Seasonal state, slot-major: scratch[offset[k] + slot*block + candidate].
    for (std::size_t k = 0; k < K; ++k) {
      double* state = batch.scratch + offset[k];
      for (std::uint32_t slot = 0; slot < batch.slots[k]; ++slot) {
        const vec initial = V::set1(batch.initial_seasonal[k][slot]);
        for (std::size_t u = 0; u < Interleave; ++u)
          V::store(state + slot * block + u * lanes, initial);
      }
    }
    for (std::size_t t = 0; t < batch.samples; ++t) {
      const double y = batch.y[t];
      if (__builtin_isnan(y)) {
        for (std::size_t u = 0; u < Interleave; ++u) hw_skip<V>(level[u], trend[u], phi[u]);
        continue;
      }
      double* base[K > 0 ? K : 1];
      for (std::size_t k = 0; k < K; ++k)
        base[k] = batch.scratch + offset[k] + std::size_t{batch.positions[k][t]} * block;
      for (std::size_t u = 0; u < Interleave; ++u) {
        double* season[K > 0 ? K : 1];
        for (std::size_t k = 0; k < K; ++k) season[k] = base[k] + u * lanes;
        const vec e = hw_step<V, K, Multiplicative>(level[u], trend[u], season, alpha[u], beta[u],
                                                    phi[u], gamma[u], y);
        sse[u] = V::add(sse[u], V::mul(e, e));
      }
    }
    for (std::size_t u = 0; u < Interleave; ++u) {
      double* out = batch.out_sse + first + u * lanes;
      V::store(out, sse[u]);
      for (std::size_t i = 0; i < lanes; ++i)
        if (!__builtin_isfinite(out[i])) out[i] = __builtin_inf();
    }
  }
}

/// One shape (periods x seasonality) at one interleave.
template <class V, std::size_t Interleave>
void hw_sse_shape(const RawBatch& batch) {
  const bool mult = batch.multiplicative;
  switch (batch.periods) {
    case 0:
      hw_sse_blocks<V, Interleave, 0, false>(batch);
      break;
    case 1:
      mult ? hw_sse_blocks<V, Interleave, 1, true>(batch)
           : hw_sse_blocks<V, Interleave, 1, false>(batch);
      break;
    case 2:
      mult ? hw_sse_blocks<V, Interleave, 2, true>(batch)
           : hw_sse_blocks<V, Interleave, 2, false>(batch);
      break;
    default:
      mult ? hw_sse_blocks<V, Interleave, 3, true>(batch)
           : hw_sse_blocks<V, Interleave, 3, false>(batch);
      break;
  }
}

/// Entry point of one instruction set. batch.count is a multiple of
/// V::lanes: whole blocks of Interleave registers first, then the rest with
/// half the interleave, and so on, so a small optimiser round does not pay
/// for padding lanes.
template <class V, std::size_t Interleave>
void hw_sse_dispatch(const RawBatch& batch) {
  constexpr std::size_t block = V::lanes * Interleave;
  const std::size_t whole = batch.count / block * block;
  if (whole > 0) {
    RawBatch part = batch;
    part.count = whole;
    hw_sse_shape<V, Interleave>(part);
  }
  if (whole == batch.count) return;
  if constexpr (Interleave > 1) {
    RawBatch rest = batch;
    rest.count = batch.count - whole;
    rest.alpha += whole;
    rest.beta += whole;
    rest.phi += whole;
    for (std::size_t k = 0; k < 3; ++k) rest.gamma[k] += whole;
    rest.out_sse += whole;
    hw_sse_dispatch<V, Interleave / 2>(rest);
  }
}

/// Scalar "vector": the reference arithmetic, one double.
template <int Tag = 0>
struct ScalarOps {
  using vec = double;
  static constexpr std::size_t lanes = 1;
  static vec set1(double x) { return x; }
  static vec load(const double* p) { return *p; }
  static void store(double* p, vec v) { *p = v; }
  static vec add(vec a, vec b) { return a + b; }
  static vec sub(vec a, vec b) { return a - b; }
  static vec mul(vec a, vec b) { return a * b; }
  static vec div(vec a, vec b) { return a / b; }
};

}  // namespace prescale::forecast::kernels::detail
