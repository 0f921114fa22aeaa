// Prometheus replies are untrusted (a proxy, a misconfigured store, a
// hostile tenant): any bytes must parse or be refused with a message, and a
// parsed range reply must hold exactly the grid's count of values.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "prescale/prometheus/reply.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static prescale::prometheus::ReplyParser parser;
  const std::string json(reinterpret_cast<const char*>(data), size);
  const prescale::prometheus::Grid grid{1000, 60, 8};
  auto range = parser.parse_range(json, grid);
  if (range) {
    for (const auto& series : range->series) {
      if (series.values.size() != grid.count) std::abort();
    }
  } else if (range.error().message.empty()) {
    std::abort();
  }
  auto instant = parser.parse_instant(json);
  if (!instant && instant.error().message.empty()) std::abort();
  auto value = prescale::prometheus::parse_sample_value(std::string_view(json).substr(0, 40));
  if (!value && value.error().message.empty()) std::abort();
  return 0;
}
