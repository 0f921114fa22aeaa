// Kubeconfig files come from anywhere on a laptop (`prescale status
// --kubeconfig`) and from the daemon's own secret: any text must resolve or
// be refused with a message naming the file, and never throw.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "prescale/config/kubeconfig.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::string_view context : {std::string_view(), std::string_view("prod")}) {
    auto read = prescale::config::parse_kubeconfig(text, "/fuzz/config", context);
    if (!read && read.error().message.find("kubeconfig /fuzz/config") == std::string_view::npos)
      std::abort();
    if (read && read->server.empty()) std::abort();
  }
  return 0;
}
