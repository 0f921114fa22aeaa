#pragma once
// Authorization: always-allow, or delegated to the kube-apiserver through
// SubjectAccessReviews (authorization.k8s.io/v1) with a short answer cache.
#include <memory>
#include <string>

#include "prescale/common/expected.hpp"
#include "prescale/kubernetes/api.hpp"
#include "prescale/kubernetes/server.hpp"

namespace prescale::kubernetes::detail {

struct Decision {
  enum class Kind { allow, deny, error };
  Kind kind = Kind::deny;
  std::string reason;  ///< the reviewer's reason, or what failed
};

/// Decides whether an identity may do what a request asks. Thread-safe.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Decision authorize(const Identity& identity, const RequestAttributes& attributes) = 0;
};

/// Builds the authorizer for the options; webhook mode reads the kubeconfig
/// or in-cluster files now and names the bad one in the error.
Expected<std::unique_ptr<Authorizer>> make_authorizer(const AuthorizationOptions& options);

}  // namespace prescale::kubernetes::detail
