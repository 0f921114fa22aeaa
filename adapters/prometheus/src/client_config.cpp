#include "prescale/prometheus/client_config.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace prescale::prometheus {

Expected<ClientOptions> client_options(const config::PrometheusConfig& p) {
  ClientOptions client;
  client.url = p.url;
  client.total_timeout = std::chrono::seconds(p.timeout_seconds);
  client.connect_timeout =
      std::chrono::milliseconds(std::min<std::int64_t>(5000, p.timeout_seconds * 1000));
  client.bearer_token_file = p.bearer_token_file;
  if (!p.basic_auth_username.empty()) {
    client.basic_auth_user = p.basic_auth_username;
    if (!p.basic_auth_password_file.empty()) {
      std::ifstream in(p.basic_auth_password_file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        return make_error(
            fmt::format("cannot read {}: {}", p.basic_auth_password_file, std::strerror(errno)));
      }
      // A file written by `echo` or a Secret from a text editor ends in a
      // newline that is not part of the password; other white space is.
      std::string password = text.str();
      while (!password.empty() && (password.back() == '\n' || password.back() == '\r'))
        password.pop_back();
      client.basic_auth_password = std::move(password);
    }
  }
  for (const auto& [name, value] : p.headers) client.headers.emplace_back(name, value);
  client.ca_file = p.ca_file;
  client.insecure_skip_verify = p.insecure_skip_verify;
  client.max_reply_bytes = static_cast<std::size_t>(p.max_reply_bytes);
  return client;
}

}  // namespace prescale::prometheus
