// Label selectors arrive from any client in ?labelSelector=: any text must
// parse or be refused with a message, and what parses must print to a
// canonical text that parses back to the same selector.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "prescale/kubernetes/label_selector.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = prescale::kubernetes::LabelSelector::parse(text);
  if (!parsed) {
    if (parsed.error().message.empty()) std::abort();
    return 0;
  }
  const std::string canonical = parsed->to_string();
  auto again = prescale::kubernetes::LabelSelector::parse(canonical);
  if (!again || again->to_string() != canonical) std::abort();
  (void)parsed->matches({{"app", "web"}, {"x", "1"}});
  return 0;
}
