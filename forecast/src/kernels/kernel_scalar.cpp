// Scalar reference kernel: one candidate at a time, plain IEEE double
// arithmetic in the order of hw_core.hpp (compiled with -ffp-contract=off).
#include "hw_core.hpp"
#include "kernel_entries.hpp"

namespace prescale::forecast::kernels::detail {

void hw_sse_scalar(const RawBatch& batch) {
  hw_sse_dispatch<ScalarOps<>, 1>(batch);
}

}  // namespace prescale::forecast::kernels::detail
