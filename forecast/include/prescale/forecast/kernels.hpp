#pragma once
// Batched Holt-Winters SSE kernels: the one-step recursion of many candidate
// parameter vectors run together, one candidate per SIMD lane (the recursion
// is sequential in time, parallel across candidates). One generic core
// (src/kernels/hw_core.hpp) is compiled once per instruction set, each in its
// own translation unit with its own flags, and chosen at run time from the
// CPU's features; PRESCALE_KERNEL=scalar|avx2|avx512|neon overrides it.
//
// Every kernel performs the same IEEE operations in the same order as the
// scalar reference (no FMA, -ffp-contract=off), so their SSEs agree bit for
// bit; tests hold them to a relative difference of 1e-9.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace prescale::forecast {

/// Smoothing parameters of one Holt-Winters candidate. Value type.
/// Trend none is phi = 0 and beta = 0 (with a zero initial trend);
/// additive trend is phi = 1.
struct SmoothingParameters {
  double alpha = 0.1;                    ///< level
  double beta = 0.0;                     ///< trend
  double phi = 1.0;                      ///< damping
  std::array<double, 3> gamma{0, 0, 0};  ///< one per seasonal period
};

/// The fixed part of an SSE evaluation: data, seasonal positions and the
/// initial state shared by every candidate. A view: it owns nothing, and the
/// arrays must outlive the call. Read-only, so one problem may be evaluated
/// from several threads.
///
/// Recursion, per sample t (lb = level + phi*trend; s_k = seasonal[k][pos_k(t)]):
///   additive:       yhat = lb + (s_1 + s_2 + s_3);  e = y - yhat
///                   level = lb + alpha*e;  trend = phi*trend + beta*e;
///                   s_k += gamma_k * e
///   multiplicative: S = s_1*s_2*s_3; yhat = lb*S; e = y - yhat; q = e/S
///                   level = lb + alpha*q;  trend = phi*trend + beta*q;
///                   s_k += gamma_k * ((q/lb) * s_k)       (= gamma_k e / (lb * prod_{j!=k} s_j))
/// A NaN y advances the state with e = 0 and adds nothing to the SSE.
/// A candidate whose SSE is not finite (divergence) gets +infinity.
struct HwProblem {
  std::span<const double> y;
  std::size_t periods = 0;                      ///< 0..3 seasonal periods
  std::array<std::uint32_t, 3> slots{0, 0, 0};  ///< slots of each period
  /// positions[k][t] < slots[k], for t < y.size()
  std::array<const std::uint32_t*, 3> positions{nullptr, nullptr, nullptr};
  /// initial seasonal state of each period, slots[k] values each
  std::array<const double*, 3> initial_seasonal{nullptr, nullptr, nullptr};
  double initial_level = 0.0;  ///< state before y[0]
  double initial_trend = 0.0;
  bool multiplicative = false;
};

/// Largest number of seasonal periods a problem may carry.
inline constexpr std::size_t kMaxSeasonalPeriods = 3;

namespace kernels {

/// out_sse[i] = one-step SSE of candidates[i]; out_sse.size() == candidates.size().
using SseBatchFunction = void (*)(const HwProblem& problem,
                                  std::span<const SmoothingParameters> candidates,
                                  std::span<double> out_sse);

/// One compiled kernel. Immutable; its function is thread-safe.
struct Kernel {
  std::string_view name;  ///< "scalar", "avx2", "avx512", "neon"
  std::size_t lanes = 1;  ///< doubles per vector register
  std::size_t block =
      1;  ///< most candidates advanced together (lanes x interleave); smaller batches use less
  SseBatchFunction sse_batch = nullptr;
};

/// Kernels compiled into this binary for this architecture, scalar first,
/// whether or not this CPU can run them.
std::vector<const Kernel*> compiled_kernels();
/// Compiled kernels this CPU supports, scalar first, fastest last.
std::vector<const Kernel*> available_kernels();
/// The available kernel with that name, or nullptr (unknown or unsupported).
const Kernel* find_kernel(std::string_view name);

/// Which kernel runs by default, and why.
struct KernelChoice {
  const Kernel* kernel = nullptr;
  std::string note;  ///< e.g. "PRESCALE_KERNEL=avx512 is not supported by this CPU; using avx2"
};
/// Picks the fastest available kernel, or `override_name` when it names an
/// available one (empty = no override). Pure: reads nothing global.
KernelChoice choose_kernel(std::string_view override_name);
/// choose_kernel(getenv("PRESCALE_KERNEL")), computed once per process
/// (thread-safe); what fits use unless told otherwise.
const KernelChoice& default_kernel_choice();
inline const Kernel& default_kernel() {
  return *default_kernel_choice().kernel;
}

}  // namespace kernels

/// Evaluates candidates with `kernel` (default: kernels::default_kernel()).
void sse_batch(const HwProblem& problem, std::span<const SmoothingParameters> candidates,
               std::span<double> out_sse, const kernels::Kernel* kernel = nullptr);

}  // namespace prescale::forecast
