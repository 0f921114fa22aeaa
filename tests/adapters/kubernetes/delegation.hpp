#pragma once
// The server set up as `serve` sets it when server.authorization.mode is
// webhook: requests authorized by SubjectAccessReviews (and bearer tokens
// checked by TokenReviews) through the kube-apiserver stand-in.
#include <httplib.h>

#include <chrono>
#include <string>

#include "apiserver_standin.hpp"
#include "prescale/kubernetes/server.hpp"
#include "server_fixture.hpp"

namespace prescale::kubernetes::test {

/// Writes fixture.dir/kubeconfig, reaching the stand-in at `apiserver_port`
/// (with `token_file` as its credential when given), and returns its path.
inline std::string write_kubeconfig(const Fixture& fixture, int apiserver_port,
                                    const std::string& token_file = "") {
  const auto path = fixture.dir / "kubeconfig";
  write_file(path, kubeconfig(fixture.pki->cert("serving"), apiserver_port, token_file));
  return path.string();
}

enum class Tokens { refused, reviewed };

/// The fixture's options with webhook authorization through `kubeconfig_file`;
/// Tokens::reviewed also accepts bearer tokens the apiserver's TokenReview names.
inline ServerOptions delegated(const Fixture& fixture, const std::string& kubeconfig_file,
                               Tokens tokens,
                               std::chrono::milliseconds timeout = ApiServerConnection{}.timeout) {
  auto options = fixture.options();
  options.authorization.mode = AuthorizationOptions::Mode::webhook;
  options.authorization.apiserver.kubeconfig_file = kubeconfig_file;
  options.authorization.apiserver.timeout = timeout;
  if (tokens == Tokens::reviewed) {
    options.token_review.enabled = true;
    options.token_review.apiserver = options.authorization.apiserver;
  }
  return options;
}

/// A loopback port nothing listens on: bound, then freed.
inline int closed_port() {
  httplib::Server probe;
  return probe.bind_to_any_port("127.0.0.1");
}

}  // namespace prescale::kubernetes::test
