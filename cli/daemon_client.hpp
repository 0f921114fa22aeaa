#pragma once
// The HTTPS client `status` and `explain` use to ask a running daemon:
// one attempt (a person is waiting), 10 s at most, TLS as given, and the
// caller's identity as a client certificate or a bearer token (managed
// clusters hand out tokens, not certificates), given as options or read
// from a kubeconfig as kubectl does.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <string>

#include "prescale/config/kubeconfig.hpp"
#include "prescale/prometheus/client.hpp"

namespace prescale::cli {

/// Where the daemon is and who is asking; the options `status` and
/// `explain --server` share.
struct DaemonConnection {
  std::string server;
  std::string ca_file, cert_file, key_file;
  std::string token, token_file;
  bool insecure = false;
  std::string kubeconfig, context;
  // Inline PEM from a kubeconfig's *-data fields.
  std::string ca_pem, cert_pem, key_pem;

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
    cmd.add_option("--kubeconfig", kubeconfig,
                   "Read the server, CA and credentials (token, tokenFile or client "
                   "certificate/key) from this kubeconfig's current context, as kubectl does; "
                   "--server, --cacert/--insecure and --cert/--token/--token-file given too "
                   "take precedence");
    cmd.add_option("--context", context, "With --kubeconfig: this context, not the current one");
  }

  /// Fills what the options left unset from --kubeconfig (a no-op without
  /// it). The error names the kubeconfig and the entry at fault.
  [[nodiscard]] Status apply_kubeconfig() {
    if (kubeconfig.empty()) {
      if (!context.empty()) return make_error("--context needs --kubeconfig");
      return Status::ok();
    }
    auto k = config::read_kubeconfig(kubeconfig, context);
    if (!k) return k.error();
    if (server.empty()) server = k->server;
    if (ca_file.empty() && !insecure) {
      ca_file = k->ca_file;
      ca_pem = k->ca_pem;
      insecure = k->insecure_skip_tls_verify;
    }
    // Credentials given as options replace the kubeconfig's user, as with kubectl.
    if (cert_file.empty() && token.empty() && token_file.empty()) {
      token = k->token;
      token_file = k->token_file;
      cert_file = k->client_certificate_file;
      key_file = k->client_key_file;
      cert_pem = k->client_certificate_pem;
      key_pem = k->client_key_pem;
      if (!token.empty() && !token_file.empty()) token.clear();  // the file is the newer
    }
    return Status::ok();
  }

  [[nodiscard]] prometheus::Client client() const {
    prometheus::ClientOptions options;
    options.url = server;
    options.ca_file = ca_file;
    options.client_cert_file = cert_file;
    options.client_key_file = key_file;
    options.ca_pem = ca_pem;
    options.client_cert_pem = cert_pem;
    options.client_key_pem = key_pem;
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
          "--key) or a bearer token (--token-file, --token), or a --kubeconfig with one: {}",
          server, path, response->body));
    }
    if (response->status != 200)
      return make_error(
          fmt::format("{}{}: HTTP {}: {}", server, path, response->status, response->body));
    return std::move(response->body);
  }
};

}  // namespace prescale::cli
