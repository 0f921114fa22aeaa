#pragma once
// The HTTPS client `status` and `explain` use to ask a running daemon:
// one attempt (a person is waiting), 10 s at most, TLS as given, and the
// caller's identity as a client certificate or a bearer token (managed
// clusters hand out tokens, not certificates).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <string>

#include "prescale/prometheus/client.hpp"

namespace prescale::cli {

/// Where the daemon is and who is asking; the options `status` and
/// `explain --server` share.
struct DaemonConnection {
  std::string server;
  std::string ca_file, cert_file, key_file;
  std::string token, token_file;
  bool insecure = false;

  /// Adds --cacert, --cert, --key, --token, --token-file and --insecure
  /// (the command adds --server itself: its default and wording differ).
  void add_options(CLI::App& cmd) {
    cmd.add_option("--cacert", ca_file, "CA that signed the daemon's serving certificate");
    auto* cert = cmd.add_option("--cert", cert_file, "Client certificate (PEM)");
    auto* key = cmd.add_option("--key", key_file, "Client key (PEM)");
    cert->needs(key);
    key->needs(cert);
    auto* bearer = cmd.add_option(
        "--token", token,
        "Bearer token (e.g. `kubectl create token NAME`); the daemon checks it with a "
        "TokenReview. Visible in the process list: prefer --token-file");
    auto* bearer_file =
        cmd.add_option("--token-file", token_file,
                       "File holding the bearer token (e.g. a projected service-account token)");
    bearer->excludes(bearer_file);
    cmd.add_flag("-k,--insecure", insecure, "Do not verify the daemon's certificate");
  }

  [[nodiscard]] prometheus::Client client() const {
    prometheus::ClientOptions options;
    options.url = server;
    options.ca_file = ca_file;
    options.client_cert_file = cert_file;
    options.client_key_file = key_file;
    options.bearer_token = token;
    options.bearer_token_file = token_file;
    options.insecure_skip_verify = insecure;
    options.retry.max_attempts = 1;
    options.total_timeout = std::chrono::seconds(10);
    return prometheus::Client(options);
  }

  /// GET path?params; the body of a 200, else an error naming the URL and
  /// what the daemon said (a 401 also says how to authenticate).
  [[nodiscard]] Expected<std::string> get(const std::string& path,
                                          const std::vector<prometheus::Header>& params) const {
    auto http = client();
    auto response = http.get(path, params);
    if (!response)
      return make_error(fmt::format("{}{}: {}", server, path, response.error().message));
    if (response->status == 401) {
      return make_error(fmt::format(
          "{}{}: HTTP 401 Unauthorized: give a client certificate the daemon trusts (--cert, "
          "--key) or a bearer token (--token-file, --token): {}",
          server, path, response->body));
    }
    if (response->status != 200)
      return make_error(
          fmt::format("{}{}: HTTP {}: {}", server, path, response->status, response->body));
    return std::move(response->body);
  }
};

}  // namespace prescale::cli
