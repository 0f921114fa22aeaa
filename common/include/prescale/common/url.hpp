#pragma once
// URLs as messages may show them: without the user-info part, so a password
// written into a URL never reaches a log line, an error or an HTTP reply.
#include <string>
#include <string_view>

namespace prescale {

/// `http://user:pass@host:9090/x` -> `http://host:9090/x`; other URLs unchanged.
inline std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  const auto authority_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const auto authority_end = url.find_first_of("/?#", authority_start);
  const auto authority = url.substr(authority_start, authority_end == std::string_view::npos
                                                         ? std::string_view::npos
                                                         : authority_end - authority_start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, authority_start));
  out += authority.substr(at + 1);
  if (authority_end != std::string_view::npos) out += url.substr(authority_end);
  return out;
}

}  // namespace prescale
