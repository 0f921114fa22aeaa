#pragma once
// Bearer-token authentication as Kubernetes' delegated authenticator does
// it: the token from the Authorization header (bearertoken.go's rules),
// checked by the kube-apiserver with a TokenReview (authentication.k8s.io/v1),
// answers cached for a short while (keyed by a hash, never the token).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "prescale/common/expected.hpp"
#include "prescale/kubernetes/api.hpp"
#include "prescale/kubernetes/server.hpp"
#include "tls.hpp"

namespace prescale::kubernetes::detail {

/// The token of the first Authorization header, as
/// k8s.io/apiserver/pkg/authentication/request/bearertoken reads it: trimmed,
/// split on single spaces into at most three parts, scheme "bearer" in any
/// case, the second part non-empty ("Bearer token extra" gives "token").
/// nullopt when the request carries no bearer token (no header, "Basic ...",
/// "Bearer", "Bearer:", "Bearer  token" with the token after two spaces).
std::optional<std::string> bearer_token(const HeaderList& headers);

struct TokenResult {
  enum class Kind { authenticated, rejected, error };
  Kind kind = Kind::rejected;
  Identity identity;   ///< when authenticated
  std::string reason;  ///< the review's status.error, or what failed
};

/// Asks the apiserver who holds a token. Thread-safe.
class TokenAuthenticator {
 public:
  virtual ~TokenAuthenticator() = default;
  virtual TokenResult authenticate(const std::string& token) = 0;
};

/// Reads the kubeconfig or in-cluster files now; the error names the bad one.
Expected<std::unique_ptr<TokenAuthenticator>> make_token_authenticator(
    const TokenReviewOptions& options);

}  // namespace prescale::kubernetes::detail
