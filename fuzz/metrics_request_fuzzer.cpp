// Any request target (path and query, as a client sends it) must route to a
// response whose body is JSON with a matching Status code on errors.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "prescale/kubernetes/api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace prescale;
  static const Snapshot snapshot = [] {
    Snapshot s;
    s.ready = true;
    s.metrics.push_back(
        {"orders-rps", "shop", {{"target", "orders"}}, 1234.5678, 1767623400, 60, "orders"});
    s.metrics.push_back({"jobs", "*", {{"target", "jobs"}}, 0.5, 1767623400, 60, "jobs"});
    return s;
  }();
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  const auto response = kubernetes::serve_api(snapshot, "GET", kubernetes::parse_target(target));
  const auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded()) std::abort();
  if (response.status != 200 &&
      (body.value("kind", "") != "Status" || body.value("code", 0) != response.status)) {
    std::abort();
  }
  return 0;
}
