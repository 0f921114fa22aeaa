// Quantity canonicalisation must be idempotent: the canonical text of a
// canonical quantity is itself; doubles (the first 8 bytes) always format
// unless they are not finite.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "prescale/kubernetes/quantity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace prescale::kubernetes;
  if (size > 4096) return 0;  // a digit string this long only measures string copies
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto canonical = canonical_quantity(text)) {
    auto again = canonical_quantity(*canonical);
    if (canonical->empty() || !again || *again != *canonical) std::abort();
  } else if (canonical.error().message.empty()) {
    std::abort();
  }
  if (size >= sizeof(double)) {
    double value = 0;
    std::memcpy(&value, data, sizeof value);
    auto formatted = format_quantity(value);
    if (formatted.has_value() != std::isfinite(value)) std::abort();
  }
  return 0;
}
