// Scalar forms the config shares with the daemon: listening addresses and
// byte sizes. Parsed without exceptions, every
// number range-checked before use (a 25-digit port is an error, not a throw).
#include <fmt/core.h>

#include <charconv>
#include <utility>

#include "prescale/config/config.hpp"

namespace prescale::config {

Expected<HostPort> parse_host_port(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return make_error(why.empty() ? fmt::format("'{}' is not host:port", text)
                                  : fmt::format("'{}' is not host:port: {}", text, why));
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("");
  const std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos)
    return bad("the port is not a number");
  if (host.find_first_of(" \t/") != std::string_view::npos)
    return bad("a space or '/' in the host");
  int value = 0;
  const auto [end, code] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (code != std::errc() || end != port.data() + port.size() || value > 65535)
    return bad(fmt::format("port {} is out of range (1 to 65535)", port));
  if (value == 0) return bad("port 0 is not an address clients can reach (1 to 65535)");
  return HostPort{std::string(host), value};
}

namespace {

struct SizeUnit {
  std::string_view suffix;
  std::int64_t bytes;
};

// Longest suffixes first, binary before decimal when writing.
constexpr SizeUnit kSizeUnits[] = {{"Ti", 1LL << 40},
                                   {"Gi", 1LL << 30},
                                   {"Mi", 1LL << 20},
                                   {"Ki", 1LL << 10},
                                   {"T", 1'000'000'000'000LL},
                                   {"G", 1'000'000'000LL},
                                   {"M", 1'000'000LL},
                                   {"k", 1000},
                                   {"K", 1000}};

}  // namespace

Expected<std::int64_t> parse_byte_size(std::string_view text, std::int64_t min, std::int64_t max) {
  const auto bounds = [&] {
    return fmt::format("between {} and {}", format_byte_size(min), format_byte_size(max));
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string_view suffix = text.substr(digits);
  std::int64_t unit = suffix.empty() ? 1 : 0;
  for (const auto& u : kSizeUnits)
    if (suffix == u.suffix) unit = u.bytes;
  if (digits == 0 || unit == 0)
    return make_error(
        fmt::format("bad size '{}' (bytes, or a number with Ki, Mi, Gi, k, M, G: "
                    "e.g. 64Mi)",
                    text));
  std::int64_t number = 0;
  const auto [end, code] = std::from_chars(text.data(), text.data() + digits, number);
  if (code != std::errc() || number > max / unit)
    return make_error(fmt::format("size '{}' is out of range ({})", text, bounds()));
  const std::int64_t bytes = number * unit;
  if (bytes < min || bytes > max)
    return make_error(fmt::format("size '{}' is out of range ({})", text, bounds()));
  return bytes;
}

std::string format_byte_size(std::int64_t bytes) {
  for (const auto& u : kSizeUnits) {
    if (u.suffix == "K") continue;  // written as k
    if (bytes >= u.bytes && bytes % u.bytes == 0)
      return fmt::format("{}{}", bytes / u.bytes, u.suffix);
  }
  return std::to_string(bytes);
}

}  // namespace prescale::config
