// Every available SSE kernel against the scalar reference: random candidates,
// NaN gaps, 0-3 periods, additive and multiplicative, damped and not.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "prescale/forecast/decomposition.hpp"
#include "prescale/forecast/kernels.hpp"

using namespace prescale::forecast;

namespace {

struct Fixture {
  std::vector<double> y;
  SeasonLayout layout;
  InitialState initial;
  HwProblem problem;
};

Fixture make_fixture(std::size_t periods, bool multiplicative, bool trend, std::uint32_t seed) {
  Fixture f;
  const std::vector<std::uint32_t> all_slots{12, 36, 84};
  std::vector<std::uint32_t> slots(all_slots.begin(),
                                   all_slots.begin() + static_cast<long>(periods));
  const std::size_t n = 600;
  f.layout = SeasonLayout::modular(slots, n);
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  f.y.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double t = static_cast<double>(i);
    double seasonal = 1.0;
    if (periods > 0) seasonal += 0.3 * std::sin(2 * M_PI * t / 12);
    if (periods > 1) seasonal += 0.2 * std::cos(2 * M_PI * t / 36);
    if (periods > 2) seasonal += 0.1 * std::sin(2 * M_PI * t / 84);
    f.y[i] = (50 + (trend ? 0.05 * t : 0.0)) * seasonal + noise(rng);
  }
  // Gaps: scattered samples and one run.
  for (std::size_t i = 7; i < n; i += 41) f.y[i] = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 300; i < 320; ++i) f.y[i] = std::numeric_limits<double>::quiet_NaN();
  auto initial = decompose_initial_state(f.y, &f.layout, periods, trend, multiplicative);
  REQUIRE(initial.has_value());
  f.initial = *initial;
  f.problem.y = f.y;
  f.problem.periods = periods;
  for (std::size_t k = 0; k < periods; ++k) {
    f.problem.slots[k] = f.layout.slots[k];
    f.problem.positions[k] = f.layout.positions[k].data();
    f.problem.initial_seasonal[k] = f.initial.seasonal[k].data();
  }
  f.problem.initial_level = f.initial.level;
  f.problem.initial_trend = f.initial.trend;
  f.problem.multiplicative = multiplicative;
  return f;
}

std::vector<SmoothingParameters> random_candidates(std::size_t count, bool damped, bool trend,
                                                   std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<SmoothingParameters> out(count);
  for (auto& c : out) {
    c.alpha = 0.01 + 0.98 * unit(rng);
    c.beta = trend ? c.alpha * unit(rng) * 0.5 : 0.0;
    c.phi = damped ? 0.8 + 0.18 * unit(rng) : (trend ? 1.0 : 0.0);
    for (double& g : c.gamma) g = (1 - c.alpha) * unit(rng) * 0.5;
  }
  return out;
}

}  // namespace

TEST_CASE("kernel registry lists scalar first and honours overrides", "[forecast][kernel]") {
  const auto available = kernels::available_kernels();
  REQUIRE(!available.empty());
  CHECK(available.front()->name == "scalar");
  CHECK(kernels::find_kernel("scalar") == available.front());
  CHECK(kernels::find_kernel("no-such-kernel") == nullptr);
  CHECK(kernels::choose_kernel("").kernel == available.back());
  CHECK(kernels::choose_kernel("scalar").kernel == available.front());
  const auto bogus = kernels::choose_kernel("sse9");
  CHECK(bogus.kernel == available.back());
  CHECK(bogus.note.find("sse9") != std::string::npos);
  CHECK(bogus.note.find("not a kernel") != std::string::npos);
  for (const auto* kernel : available) {
    CHECK(kernel->block % kernel->lanes == 0);
    CHECK(kernel->sse_batch != nullptr);
  }
  CHECK(kernels::default_kernel_choice().kernel != nullptr);
}

TEST_CASE("every available kernel reproduces the scalar SSE", "[forecast][kernel]") {
  const kernels::Kernel* scalar = kernels::find_kernel("scalar");
  REQUIRE(scalar);
  std::uint32_t seed = 1;
  for (std::size_t periods = 0; periods <= 3; ++periods) {
    for (bool multiplicative : {false, true}) {
      if (periods == 0 && multiplicative) continue;
      for (int trend_kind = 0; trend_kind < 3; ++trend_kind) {
        const bool trend = trend_kind > 0, damped = trend_kind == 2;
        Fixture f = make_fixture(periods, multiplicative, trend, ++seed);
        // 37: not a multiple of any block, so padding is exercised.
        auto candidates = random_candidates(37, damped, trend, ++seed);
        candidates[5].alpha = 1e6;  // diverges: every kernel must say +inf
        std::vector<double> reference(candidates.size());
        sse_batch(f.problem, candidates, reference, scalar);
        CHECK(std::isinf(reference[5]));
        for (const kernels::Kernel* kernel : kernels::available_kernels()) {
          INFO("kernel " << kernel->name << ", periods " << periods << ", multiplicative "
                         << multiplicative << ", trend " << trend_kind);
          std::vector<double> sse(candidates.size(), -1.0);
          kernel->sse_batch(f.problem, candidates, sse);
          for (std::size_t i = 0; i < candidates.size(); ++i) {
            INFO("candidate " << i);
            if (std::isinf(reference[i])) {
              CHECK(std::isinf(sse[i]));
              continue;
            }
            REQUIRE(std::isfinite(sse[i]));
            CHECK(std::abs(sse[i] - reference[i]) <= 1e-9 * std::abs(reference[i]));
          }
          // Small batches take the narrower interleaves (and padding) of each kernel.
          for (std::size_t count : {1, 3, 13}) {
            std::vector<double> part(count);
            kernel->sse_batch(f.problem,
                              std::span<const SmoothingParameters>(candidates.data(), count), part);
            for (std::size_t i = 0; i < count; ++i) {
              if (std::isinf(reference[i])) {
                CHECK(std::isinf(part[i]));
              } else {
                CHECK(std::abs(part[i] - reference[i]) <= 1e-9 * std::abs(reference[i]));
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("scalar SSE matches a hand-written recursion", "[forecast][kernel]") {
  // One period of 3 slots, additive damped: the documented recursion by hand.
  std::vector<double> y{10, 12, std::numeric_limits<double>::quiet_NaN(), 11, 13, 9, 10.5};
  SeasonLayout layout = SeasonLayout::modular({3}, y.size());
  std::vector<double> season{-1, 1, 0};
  HwProblem problem;
  problem.y = y;
  problem.periods = 1;
  problem.slots[0] = 3;
  problem.positions[0] = layout.positions[0].data();
  problem.initial_seasonal[0] = season.data();
  problem.initial_level = 10;
  problem.initial_trend = 0.5;
  SmoothingParameters p;
  p.alpha = 0.4, p.beta = 0.1, p.phi = 0.9, p.gamma = {0.2, 0, 0};
  double level = 10, trend = 0.5, sse = 0;
  std::vector<double> s = season;
  for (std::size_t t = 0; t < y.size(); ++t) {
    const double lb = level + p.phi * trend;
    if (std::isnan(y[t])) {
      trend = p.phi * trend;
      level = lb;
      continue;
    }
    const double e = y[t] - (lb + s[t % 3]);
    level = lb + p.alpha * e;
    trend = p.phi * trend + p.beta * e;
    s[t % 3] += p.gamma[0] * e;
    sse += e * e;
  }
  for (const kernels::Kernel* kernel : kernels::available_kernels()) {
    std::vector<double> out(1);
    kernel->sse_batch(problem, std::span<const SmoothingParameters>(&p, 1), out);
    CHECK(out[0] == Approx(sse).epsilon(1e-12));
  }
}

TEST_CASE("out-of-range positions give NaN instead of reading past the state",
          "[forecast][kernel]") {
  std::vector<double> y{1, 2, 3, 4};
  std::vector<std::uint32_t> positions{0, 1, 5, 0};
  std::vector<double> season{0, 0};
  HwProblem problem;
  problem.y = y;
  problem.periods = 1;
  problem.slots[0] = 2;
  problem.positions[0] = positions.data();
  problem.initial_seasonal[0] = season.data();
  SmoothingParameters p;
  std::vector<double> out(1);
  sse_batch(problem, std::span<const SmoothingParameters>(&p, 1), out);
  CHECK(std::isnan(out[0]));
}
