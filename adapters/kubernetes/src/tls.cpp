#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <system_error>

namespace prescale::kubernetes::detail {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no PEM data";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

Expected<std::unique_ptr<BIO, BioDeleter>> open_file(const std::string& what,
                                                     const std::string& path) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) {
    ERR_clear_error();
    return make_error(what + " " + path + ": cannot open (" +
                      std::generic_category().message(errno) + ")");
  }
  return bio;
}

using Certificates = std::vector<std::unique_ptr<X509, X509Deleter>>;

Expected<Certificates> read_certificates_from(BIO* bio, const std::string& where) {
  Certificates certificates;
  while (X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr))
    certificates.emplace_back(certificate);
  ERR_clear_error();  // the loop ends on "no start line"
  if (certificates.empty()) return make_error(where + ": no PEM certificate found");
  return certificates;
}

// Every certificate in a PEM file, in order.
Expected<Certificates> read_certificates(const std::string& what, const std::string& path) {
  auto bio = open_file(what, path);
  if (!bio) return bio.error();
  return read_certificates_from(bio->get(), what + " " + path);
}

// A CA bundle from a file, or else from PEM text (the cluster's ConfigMap).
Expected<std::unique_ptr<X509_STORE, StoreDeleter>> load_ca(const std::string& what,
                                                            const std::string& path,
                                                            const std::string& pem,
                                                            STACK_OF(X509_NAME) * issuers) {
  Expected<Certificates> certificates = make_error("");
  if (!path.empty()) {
    certificates = read_certificates(what, path);
  } else {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    certificates = read_certificates_from(
        bio.get(), what + " from kube-system/extension-apiserver-authentication");
  }
  if (!certificates) return certificates.error();
  std::unique_ptr<X509_STORE, StoreDeleter> store(X509_STORE_new());
  for (const auto& certificate : *certificates) {
    if (X509_STORE_add_cert(store.get(), certificate.get()) != 1)
      ERR_clear_error();  // duplicates are harmless
    if (X509_NAME* name = X509_NAME_dup(X509_get_subject_name(certificate.get())))
      sk_X509_NAME_push(issuers, name);
  }
  return store;
}

}  // namespace

std::vector<std::filesystem::file_time_type> tls_file_mtimes(const TlsFiles& files) {
  std::vector<std::filesystem::file_time_type> out;
  for (const auto* path : {&files.cert_file, &files.key_file, &files.requestheader_client_ca_file,
                           &files.client_ca_file}) {
    std::error_code error;
    out.push_back(path->empty() ? std::filesystem::file_time_type{}
                                : std::filesystem::last_write_time(*path, error));
  }
  return out;
}

namespace {

bool verifies(X509_STORE* store, X509* leaf, STACK_OF(X509) * chain) {
  if (!store || !leaf) return false;
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  if (!context) return false;
  bool ok = false;
  if (X509_STORE_CTX_init(context, store, leaf, chain) == 1) {
    // The certificate must be usable for client authentication (extended
    // key usage clientAuth when present), as Go's x509 Verify checks.
    X509_STORE_CTX_set_purpose(context, X509_PURPOSE_SSL_CLIENT);
    ok = X509_verify_cert(context) == 1;
  }
  X509_STORE_CTX_free(context);
  ERR_clear_error();
  return ok;
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string percent_decode(std::string_view text) {
  return url_decode(text, false);
}

// Which CAs verified this connection's peer chain, under which material.
struct VerifiedChain {
  std::uint64_t generation = 0;
  bool by_requestheader_ca = false;
  bool by_client_ca = false;
};

void free_verified_chain(void*, void* pointer, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<VerifiedChain*>(pointer);
}

int verified_chain_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_verified_chain);
  return index;
}

std::atomic<std::uint64_t> next_generation{1};

std::optional<Identity> from_request_headers(const RequestHeaderOptions& options,
                                             const HeaderList& headers) {
  Identity identity;
  for (const auto& name : options.username_headers) {
    for (const auto& [header, value] : headers) {
      if (equals_ignore_case(header, name)) {
        identity.user = value;
        break;  // the first value of a header counts, as http.Header.Get
      }
    }
    if (!identity.user.empty()) break;
  }
  if (identity.user.empty()) return std::nullopt;
  for (const auto& name : options.group_headers) {
    for (const auto& [header, value] : headers) {
      if (equals_ignore_case(header, name) && !value.empty()) identity.groups.push_back(value);
    }
  }
  for (const auto& prefix : options.extra_prefixes) {
    for (const auto& [header, value] : headers) {
      if (header.size() <= prefix.size() ||
          !equals_ignore_case(std::string_view(header).substr(0, prefix.size()), prefix)) {
        continue;
      }
      // Extra keys are lower-cased and may be percent-encoded (k8s requestheader).
      identity.extra[lower(percent_decode(std::string_view(header).substr(prefix.size())))]
          .push_back(value);
    }
  }
  return identity;
}

}  // namespace

std::string common_name(X509* certificate) {
  X509_NAME* subject = X509_get_subject_name(certificate);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return {};
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

std::vector<std::string> organizations(X509* certificate) {
  std::vector<std::string> out;
  X509_NAME* subject = X509_get_subject_name(certificate);
  for (int index = X509_NAME_get_index_by_NID(subject, NID_organizationName, -1); index >= 0;
       index = X509_NAME_get_index_by_NID(subject, NID_organizationName, index)) {
    unsigned char* utf8 = nullptr;
    const int length =
        ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
    if (length < 0) continue;
    out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
    OPENSSL_free(utf8);
  }
  return out;
}

Expected<std::shared_ptr<const TlsMaterial>> load_tls_material(
    const TlsFiles& files, const RequestHeaderOptions& configured,
    const ClusterAuthentication& cluster) {
  auto material = std::make_shared<TlsMaterial>();
  const bool requestheader_from_cluster =
      files.requestheader_client_ca_file.empty() && !cluster.requestheader_ca_pem.empty();
  material->request_headers = requestheader_from_cluster ? cluster.request_headers : configured;
  material->mtimes = tls_file_mtimes(files);
  material->generation = next_generation++;
  auto certificates = read_certificates("serving certificate (cert_file)", files.cert_file);
  if (!certificates) return certificates.error();
  material->certificate = std::move(certificates->front());
  material->chain.reset(sk_X509_new_null());
  for (std::size_t i = 1; i < certificates->size(); ++i)
    sk_X509_push(material->chain.get(), (*certificates)[i].release());

  auto key_bio = open_file("private key (key_file)", files.key_file);
  if (!key_bio) return key_bio.error();
  material->key.reset(PEM_read_bio_PrivateKey(key_bio->get(), nullptr, nullptr, nullptr));
  if (!material->key)
    return make_error("private key (key_file) " + files.key_file + ": " + openssl_error());
  if (X509_check_private_key(material->certificate.get(), material->key.get()) != 1) {
    ERR_clear_error();
    return make_error("private key (key_file) " + files.key_file +
                      " does not match the certificate in " + files.cert_file);
  }

  material->acceptable_issuers.reset(sk_X509_NAME_new_null());
  if (!files.requestheader_client_ca_file.empty() || requestheader_from_cluster) {
    auto store = load_ca("request-header CA (requestheader_client_ca_file)",
                         files.requestheader_client_ca_file, cluster.requestheader_ca_pem,
                         material->acceptable_issuers.get());
    if (!store) return store.error();
    material->requestheader_store = std::move(*store);
  }
  if (!files.client_ca_file.empty() || !cluster.client_ca_pem.empty()) {
    auto store = load_ca("client CA (client_ca_file)", files.client_ca_file, cluster.client_ca_pem,
                         material->acceptable_issuers.get());
    if (!store) return store.error();
    material->client_store = std::move(*store);
  }
  return std::shared_ptr<const TlsMaterial>(std::move(material));
}

bool tls_files_changed(const TlsFiles& files, const TlsMaterial& material) {
  return tls_file_mtimes(files) != material.mtimes;
}

namespace {

// Which CAs verified the peer's chain under `material`. Verifying a chain
// costs a signature check per certificate; do it once per connection and
// material generation, re-checking only expiry. Null without a certificate.
const VerifiedChain* verified_chain(const SSL* ssl, const TlsMaterial& material) {
  if (!ssl) return nullptr;
  // Borrowed pointers: the SSL owns both (get0 semantics for the leaf).
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (!leaf) return nullptr;
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  auto* cached = static_cast<VerifiedChain*>(SSL_get_ex_data(ssl, verified_chain_index()));
  const bool expired = X509_cmp_current_time(X509_get0_notAfter(leaf)) < 0;
  if (!cached || cached->generation != material.generation || expired) {
    auto fresh = std::make_unique<VerifiedChain>();
    fresh->generation = material.generation;
    fresh->by_requestheader_ca =
        !expired && verifies(material.requestheader_store.get(), leaf, chain);
    fresh->by_client_ca = !expired && verifies(material.client_store.get(), leaf, chain);
    delete cached;
    cached = fresh.release();
    // ex_data is per connection and one thread at a time serves it.
    SSL_set_ex_data(const_cast<SSL*>(ssl), verified_chain_index(), cached);
  }
  return cached;
}

}  // namespace

bool peer_certificate_verified(const SSL* ssl, const TlsMaterial& material) {
  const VerifiedChain* verified = verified_chain(ssl, material);
  return verified && (verified->by_requestheader_ca || verified->by_client_ca);
}

std::optional<Identity> authenticate(const SSL* ssl, const TlsMaterial& material,
                                     const HeaderList& headers) {
  const RequestHeaderOptions& options = material.request_headers;
  const VerifiedChain* cached = verified_chain(ssl, material);
  if (!cached) return std::nullopt;
  X509* leaf = SSL_get0_peer_certificate(ssl);

  std::optional<Identity> identity;
  if (cached->by_requestheader_ca) {
    const std::string name = common_name(leaf);
    const bool allowed = options.allowed_names.empty() ||
                         std::find(options.allowed_names.begin(), options.allowed_names.end(),
                                   name) != options.allowed_names.end();
    if (allowed) identity = from_request_headers(options, headers);
  }
  if (!identity && cached->by_client_ca) {
    Identity from_certificate;
    from_certificate.user = common_name(leaf);
    from_certificate.groups = organizations(leaf);
    if (!from_certificate.user.empty()) identity = std::move(from_certificate);
  }
  if (identity && std::find(identity->groups.begin(), identity->groups.end(),
                            "system:authenticated") == identity->groups.end()) {
    identity->groups.emplace_back(
        "system:authenticated");  // as kube-apiserver's authenticated group adder
  }
  return identity;
}

}  // namespace prescale::kubernetes::detail

namespace prescale::kubernetes::detail {

Expected<ClusterAuthentication> parse_authentication_configmap(const std::string& json_text) {
  const std::string where = "ConfigMap kube-system/extension-apiserver-authentication";
  const auto configmap = nlohmann::json::parse(json_text, nullptr, false);
  if (configmap.is_discarded() || !configmap.is_object())
    return make_error(where + ": reply is not JSON");
  const auto data = configmap.value("data", nlohmann::json::object());
  if (!data.is_object()) return make_error(where + ": data is not an object");
  ClusterAuthentication out;
  out.client_ca_pem = data.value("client-ca-file", "");
  out.requestheader_ca_pem = data.value("requestheader-client-ca-file", "");
  // The lists are JSON arrays written as strings, e.g. "[\"front-proxy-client\"]".
  const auto list = [&](const char* key,
                        std::vector<std::string> fallback) -> Expected<std::vector<std::string>> {
    if (!data.contains(key)) return fallback;
    const auto parsed = nlohmann::json::parse(data.value(key, ""), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_array())
      return make_error(where + ": data." + key + " is not a JSON list");
    std::vector<std::string> values;
    for (const auto& item : parsed) {
      if (!item.is_string()) return make_error(where + ": data." + key + " holds a non-string");
      values.push_back(item.get<std::string>());
    }
    return values;
  };
  auto allowed = list("requestheader-allowed-names", {});
  auto users = list("requestheader-username-headers", {"X-Remote-User"});
  auto groups = list("requestheader-group-headers", {"X-Remote-Group"});
  auto extras = list("requestheader-extra-headers-prefix", {"X-Remote-Extra-"});
  for (const auto* result : {&allowed, &users, &groups, &extras}) {
    if (!*result) return result->error();
  }
  out.request_headers = RequestHeaderOptions{*allowed, *users, *groups, *extras};
  if (out.requestheader_ca_pem.empty() && out.client_ca_pem.empty()) {
    return make_error(where + ": neither requestheader-client-ca-file nor client-ca-file is set");
  }
  return out;
}

}  // namespace prescale::kubernetes::detail
