// Durations come from YAML and the command line: any text must parse or be
// refused with a message, and what parses must format back to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "prescale/config/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = prescale::config::parse_duration_seconds(text);
  if (!parsed) {
    if (parsed.error().message.empty()) std::abort();
    return 0;
  }
  if (*parsed < 0) std::abort();
  auto again = prescale::config::parse_duration_seconds(prescale::config::format_duration(*parsed));
  if (!again || *again != *parsed) std::abort();
  return 0;
}
