#pragma once
// TLS material (serving certificate, CA stores) loaded from files and
// swapped atomically when the files change, and client-certificate
// authentication as an aggregated API server does it.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prescale/common/expected.hpp"
#include "prescale/kubernetes/api.hpp"

namespace prescale::kubernetes::detail {

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct StoreDeleter {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};
struct NameStackDeleter {
  void operator()(STACK_OF(X509_NAME) * s) const { sk_X509_NAME_pop_free(s, X509_NAME_free); }
};
struct CertStackDeleter {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};

/// Which files the material comes from.
struct TlsFiles {
  std::string cert_file, key_file, requestheader_client_ca_file, client_ca_file;
};

/// Request-header (front proxy) settings.
struct RequestHeaderOptions {
  std::vector<std::string> allowed_names;
  std::vector<std::string> username_headers, group_headers, extra_prefixes;
  bool operator==(const RequestHeaderOptions&) const = default;
};

/// Authentication settings published by the cluster in
/// kube-system/extension-apiserver-authentication; empty PEM = not given.
struct ClusterAuthentication {
  std::string requestheader_ca_pem;
  std::string client_ca_pem;
  RequestHeaderOptions request_headers;
  bool operator==(const ClusterAuthentication&) const = default;
};
/// Parses the ConfigMap JSON; the error names the missing or bad key.
Expected<ClusterAuthentication> parse_authentication_configmap(const std::string& json_text);

/// One immutable generation of certificates and trust stores. Shared by
/// handshakes and requests through shared_ptr; never modified after load.
struct TlsMaterial {
  std::unique_ptr<X509, X509Deleter> certificate;
  std::unique_ptr<STACK_OF(X509), CertStackDeleter> chain;  // intermediates after the leaf
  std::unique_ptr<EVP_PKEY, KeyDeleter> key;
  std::unique_ptr<X509_STORE, StoreDeleter> requestheader_store;  // null when not configured
  std::unique_ptr<X509_STORE, StoreDeleter> client_store;         // null when not configured
  /// Subjects of both CAs, sent in the CertificateRequest so clients
  /// (kubectl, the aggregator) know which certificate to present.
  std::unique_ptr<STACK_OF(X509_NAME), NameStackDeleter> acceptable_issuers;
  /// The request-header settings in force (configured, or the cluster's).
  RequestHeaderOptions request_headers;
  /// Distinguishes generations, for per-connection verification caches.
  std::uint64_t generation = 0;
  /// mtimes of the files at load time, to notice rotation.
  std::vector<std::filesystem::file_time_type> mtimes;
};

/// Reads and checks every file; a CA file left empty is taken from
/// `cluster` when it carries one (and then its request-header settings).
/// The error names the file and the problem.
Expected<std::shared_ptr<const TlsMaterial>> load_tls_material(
    const TlsFiles& files, const RequestHeaderOptions& configured,
    const ClusterAuthentication& cluster);
/// Modification times of the files (empty paths give a default time).
std::vector<std::filesystem::file_time_type> tls_file_mtimes(const TlsFiles& files);
/// True when any file's mtime differs from the loaded generation.
bool tls_files_changed(const TlsFiles& files, const TlsMaterial& material);

/// All headers, for prefix matching of extras: name, value pairs.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// Authenticates from the peer certificate of `ssl` and the headers: a
/// front-proxy certificate with an allowed CN makes the X-Remote-* headers
/// trusted; a client-CA certificate authenticates its CN (groups = O).
/// nullopt: not authenticated. Chain verification results are cached on the
/// connection for the material's generation (the peer certificate cannot
/// change on a connection; expiry is re-checked every request). Call only
/// from the thread serving the connection; material is immutable.
std::optional<Identity> authenticate(const SSL* ssl, const TlsMaterial& material,
                                     const HeaderList& headers);

/// True when the peer presented a certificate that verifies against the
/// request-header CA or the client CA (whatever its CN): the connection
/// belongs to a known client, not to an anonymous one. Same cache and
/// threading rules as authenticate().
bool peer_certificate_verified(const SSL* ssl, const TlsMaterial& material);

/// The subject CN and O values of a certificate.
std::string common_name(X509* certificate);
std::vector<std::string> organizations(X509* certificate);

}  // namespace prescale::kubernetes::detail
