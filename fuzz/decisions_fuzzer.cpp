// Decision files and GET /decisions bodies come back from disk and the network
// (`prescale explain`), and so do step lists (GET /decisions?steps=1, read
// by `prescale status --since`): any bytes must parse or be refused with a
// message, and what parsed must survive to_json -> parse unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/explain.hpp"
#include "prescale/autoscaler/step_trail.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace prescale::autoscaler;
  if (auto list = parse_decision_list(text); !list && list.error().message.empty()) std::abort();
  if (auto trails = parse_step_list(text); !trails) {
    if (trails.error().message.empty()) std::abort();
  } else {
    const auto body = to_json(*trails);
    auto again = parse_step_list(body);
    if (!again || to_json(*again) != body) std::abort();
  }
  auto records = parse_decisions(text);
  if (!records) {
    if (records.error().message.empty()) std::abort();
    return 0;
  }
  for (const auto& r : *records) {
    const auto line = to_json(r);
    auto again = parse_decision(line);
    if (!again || to_json(*again) != line) std::abort();
  }
  if (!records->empty()) {
    const auto& first = records->front();
    auto in_force = decision_in_force(*records, first.target, first.time_unix);
    if (!in_force) std::abort();
    (void)explain_text(*in_force, first.time_unix);
  }
  return 0;
}
