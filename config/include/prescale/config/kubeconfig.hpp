#pragma once
// A kubeconfig file as kubectl reads one: the named (or current) context,
// its cluster (server, CA, insecure-skip-tls-verify) and its user (token,
// tokenFile, client certificate and key, as files or inline *-data).
// Relative paths are relative to the kubeconfig's directory, as in
// client-go's ResolvePaths. Credentials prescale cannot use (exec and
// auth-provider plugins, basic auth) and settings it cannot honour
// (tls-server-name, proxy-url) are errors naming them, never ignored.
#include <filesystem>
#include <string>
#include <string_view>

#include "prescale/common/expected.hpp"

namespace prescale::config {

/// One context of a kubeconfig, resolved. Value type.
struct Kubeconfig {
  std::string context, cluster, user;  ///< the names, for messages
  std::string server;                  ///< https://host:port, no trailing slash
  std::string ca_file;                 ///< certificate-authority (absolute)
  std::string ca_pem;                  ///< certificate-authority-data, decoded
  bool insecure_skip_tls_verify = false;
  std::string token;
  std::string token_file;  ///< tokenFile (absolute)
  std::string client_certificate_file, client_key_file;
  std::string client_certificate_pem, client_key_pem;  ///< the *-data fields, decoded
};

/// Reads `file` and resolves `context` (empty: its current-context). The
/// error names the file and the entry at fault.
[[nodiscard]] Expected<Kubeconfig> read_kubeconfig(const std::filesystem::path& file,
                                                   std::string_view context = {});
/// The same on the file's text; `file` names it in errors and is what
/// relative paths are relative to.
[[nodiscard]] Expected<Kubeconfig> parse_kubeconfig(std::string_view text,
                                                    const std::filesystem::path& file,
                                                    std::string_view context = {});

}  // namespace prescale::config
