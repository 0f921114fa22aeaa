// Kernel registry and run-time choice (CPU features, PRESCALE_KERNEL), and
// the adapter from the public HwProblem to the kernels' plain RawBatch.
// Compiled with baseline flags: only this unit touches the standard library.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "kernel_entries.hpp"
#include "prescale/forecast/kernels.hpp"

namespace prescale::forecast {
namespace kernels {
namespace {

struct Entry {
  Kernel kernel;
  void (*run)(const detail::RawBatch&);
  bool (*supported)();
};

bool always() {
  return true;
}
#if defined(PRESCALE_KERNEL_AVX2)
bool cpu_has_avx2() {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif
#if defined(PRESCALE_KERNEL_AVX512)
bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f");
}
#endif

void run_entry(const Entry& entry, const HwProblem& problem,
               std::span<const SmoothingParameters> candidates, std::span<double> out_sse);

template <void (*Run)(const detail::RawBatch&)>
void sse_batch_with(const HwProblem& problem, std::span<const SmoothingParameters> candidates,
                    std::span<double> out_sse);

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = [] {
    std::vector<Entry> list;
    list.push_back({{"scalar", 1, detail::kScalarBlock, &sse_batch_with<detail::hw_sse_scalar>},
                    detail::hw_sse_scalar,
                    always});
#if defined(PRESCALE_KERNEL_NEON)
    list.push_back({{"neon", 2, detail::kNeonBlock, &sse_batch_with<detail::hw_sse_neon>},
                    detail::hw_sse_neon,
                    always});
#endif
#if defined(PRESCALE_KERNEL_AVX2)
    list.push_back({{"avx2", 4, detail::kAvx2Block, &sse_batch_with<detail::hw_sse_avx2>},
                    detail::hw_sse_avx2,
                    cpu_has_avx2});
#endif
#if defined(PRESCALE_KERNEL_AVX512)
    list.push_back({{"avx512", 8, detail::kAvx512Block, &sse_batch_with<detail::hw_sse_avx512>},
                    detail::hw_sse_avx512,
                    cpu_has_avx512});
#endif
    return list;
  }();
  return entries;
}

const Entry* entry_of(void (*run)(const detail::RawBatch&)) {
  for (const Entry& entry : registry())
    if (entry.run == run) return &entry;
  return nullptr;
}

template <void (*Run)(const detail::RawBatch&)>
void sse_batch_with(const HwProblem& problem, std::span<const SmoothingParameters> candidates,
                    std::span<double> out_sse) {
  run_entry(*entry_of(Run), problem, candidates, out_sse);
}

bool problem_is_valid(const HwProblem& problem) {
  if (problem.periods > kMaxSeasonalPeriods) return false;
  for (std::size_t k = 0; k < problem.periods; ++k) {
    if (problem.slots[k] == 0 || !problem.positions[k] || !problem.initial_seasonal[k])
      return false;
    const std::uint32_t* positions = problem.positions[k];
    const std::uint32_t slots = problem.slots[k];
    if (std::any_of(positions, positions + problem.y.size(),
                    [&](std::uint32_t p) { return p >= slots; }))
      return false;
  }
  return true;
}

void run_entry(const Entry& entry, const HwProblem& problem,
               std::span<const SmoothingParameters> candidates, std::span<double> out_sse) {
  const std::size_t count = std::min(candidates.size(), out_sse.size());
  if (count == 0) return;
  if (!problem_is_valid(problem)) {
    std::fill(out_sse.begin(), out_sse.begin() + count, std::numeric_limits<double>::quiet_NaN());
    return;
  }
  const std::size_t lanes = entry.kernel.lanes;
  const std::size_t padded = (count + lanes - 1) / lanes * lanes;
  // Structure of arrays: alpha, beta, phi, gamma1..3, sse; padded with the last candidate.
  std::vector<double> columns(7 * padded);
  double* alpha = columns.data();
  double* beta = alpha + padded;
  double* phi = beta + padded;
  double* gamma[3] = {phi + padded, phi + 2 * padded, phi + 3 * padded};
  double* sse = phi + 4 * padded;
  for (std::size_t i = 0; i < padded; ++i) {
    const SmoothingParameters& c = candidates[std::min(i, count - 1)];
    alpha[i] = c.alpha;
    beta[i] = c.beta;
    phi[i] = c.phi;
    for (std::size_t k = 0; k < 3; ++k) gamma[k][i] = c.gamma[k];
  }
  std::size_t state_slots = 0;
  for (std::size_t k = 0; k < problem.periods; ++k) state_slots += problem.slots[k];
  // The seasonal state of one block of candidates (590 KB for 1d+1w at 5 min
  // on AVX-512) is reused across calls: a fresh allocation of that size is an
  // mmap whose pages fault in again at every optimiser round. The kernel
  // writes every slot before reading it, so the buffer needs no clearing.
  thread_local std::vector<double> scratch;
  const std::size_t scratch_size = std::max<std::size_t>(1, state_slots * entry.kernel.block);
  if (scratch.size() < scratch_size) scratch.resize(scratch_size);

  detail::RawBatch batch;
  batch.y = problem.y.data();
  batch.samples = problem.y.size();
  batch.periods = problem.periods;
  for (std::size_t k = 0; k < problem.periods; ++k) {
    batch.slots[k] = problem.slots[k];
    batch.positions[k] = problem.positions[k];
    batch.initial_seasonal[k] = problem.initial_seasonal[k];
  }
  batch.initial_level = problem.initial_level;
  batch.initial_trend = problem.initial_trend;
  batch.multiplicative = problem.multiplicative && problem.periods > 0;
  batch.count = padded;
  batch.alpha = alpha;
  batch.beta = beta;
  batch.phi = phi;
  for (std::size_t k = 0; k < 3; ++k) batch.gamma[k] = gamma[k];
  batch.out_sse = sse;
  batch.scratch = scratch.data();
  entry.run(batch);
  std::copy(sse, sse + count, out_sse.begin());
}

}  // namespace

std::vector<const Kernel*> compiled_kernels() {
  std::vector<const Kernel*> list;
  for (const Entry& entry : registry()) list.push_back(&entry.kernel);
  return list;
}

std::vector<const Kernel*> available_kernels() {
  std::vector<const Kernel*> list;
  for (const Entry& entry : registry())
    if (entry.supported()) list.push_back(&entry.kernel);
  return list;
}

const Kernel* find_kernel(std::string_view name) {
  for (const Kernel* kernel : available_kernels())
    if (kernel->name == name) return kernel;
  return nullptr;
}

KernelChoice choose_kernel(std::string_view override_name) {
  const std::vector<const Kernel*> available = available_kernels();
  KernelChoice choice{available.back(), {}};
  if (override_name.empty()) return choice;
  if (const Kernel* forced = find_kernel(override_name)) {
    choice.kernel = forced;
    choice.note = "PRESCALE_KERNEL=" + std::string(override_name) + " selected";
    return choice;
  }
  bool compiled = false;
  for (const Kernel* kernel : compiled_kernels())
    compiled = compiled || kernel->name == override_name;
  std::string names;
  for (const Kernel* kernel : available)
    names += (names.empty() ? "" : ", ") + std::string(kernel->name);
  choice.note = "PRESCALE_KERNEL=" + std::string(override_name) +
                (compiled ? " is not supported by this CPU" : " is not a kernel of this build") +
                " (available: " + names + "); using " + std::string(choice.kernel->name);
  return choice;
}

const KernelChoice& default_kernel_choice() {
  static const KernelChoice choice = [] {
    const char* name = std::getenv("PRESCALE_KERNEL");
    return choose_kernel(name ? std::string_view(name) : std::string_view());
  }();
  return choice;
}

}  // namespace kernels

void sse_batch(const HwProblem& problem, std::span<const SmoothingParameters> candidates,
               std::span<double> out_sse, const kernels::Kernel* kernel) {
  (kernel ? *kernel : kernels::default_kernel()).sse_batch(problem, candidates, out_sse);
}

}  // namespace prescale::forecast
