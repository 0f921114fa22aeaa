#include "prescale/keda/external_scaler.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <cmath>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "externalscaler.grpc.pb.h"
#include "prescale/kubernetes/label_selector.hpp"

namespace prescale::keda {
namespace {

using externalscaler::GetMetricSpecResponse;
using externalscaler::GetMetricsRequest;
using externalscaler::GetMetricsResponse;
using externalscaler::IsActiveResponse;
using externalscaler::ScaledObjectRef;

Expected<std::string> read_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(std::string(what) + " '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Certificates = std::vector<std::unique_ptr<X509, X509Deleter>>;

// Every certificate in PEM text, in order; the error names `what`.
Expected<Certificates> parse_certificates(const std::string& pem, const std::string& what) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Certificates out;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
    out.emplace_back(certificate);
  ERR_clear_error();  // the loop ends on "no start line"
  if (out.empty()) return make_error(what + ": no PEM certificate found");
  return out;
}

std::int64_t not_after_unix(const X509* certificate) {
  std::tm when{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &when) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&when));
}

// The earliest notAfter among the certificates of a PEM file.
Expected<std::int64_t> earliest_expiry(const std::string& path, const std::string& what) {
  auto text = read_file(path, what);
  if (!text) return text.error();
  auto certificates = parse_certificates(*text, what + " '" + path + "'");
  if (!certificates) return certificates.error();
  std::int64_t earliest = not_after_unix(certificates->front().get());
  for (const auto& certificate : *certificates)
    earliest = std::min(earliest, not_after_unix(certificate.get()));
  return earliest;
}

// The files must hold a certificate, its own key, and (when given) a CA:
// checked at start so a wrong mount fails with a message, not at the first
// handshake.
Status check_tls_files(const ScalerOptions& options) {
  auto cert = read_file(options.cert_file, "keda certFile");
  if (!cert) return cert.error();
  auto key = read_file(options.key_file, "keda keyFile");
  if (!key) return key.error();
  auto certificates = parse_certificates(*cert, "keda certFile '" + options.cert_file + "'");
  if (!certificates) return certificates.error();
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(key->data(), static_cast<int>(key->size())));
  std::unique_ptr<EVP_PKEY, KeyDeleter> private_key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!private_key)
    return make_error("keda keyFile '" + options.key_file + "': no PEM private key found");
  if (X509_check_private_key(certificates->front().get(), private_key.get()) != 1) {
    ERR_clear_error();
    return make_error("keda keyFile '" + options.key_file + "' is not the key of certFile '" +
                      options.cert_file + "'");
  }
  if (!options.client_ca_file.empty()) {
    auto ca = read_file(options.client_ca_file, "keda clientCAFile");
    if (!ca) return ca.error();
    auto cas = parse_certificates(*ca, "keda clientCAFile '" + options.client_ca_file + "'");
    if (!cas) return cas.error();
  }
  return Status::ok();
}

// A metadata value that must be present; the error names the key.
Expected<std::string> required_metadata(const ScaledObjectRef& ref, const std::string& key) {
  const auto& metadata = ref.scalermetadata();
  auto it = metadata.find(key);
  if (it == metadata.end() || it->second.empty())
    return make_error("trigger metadata '" + key + "' is required (ScaledObject " +
                      ref.namespace_() + "/" + ref.name() + ")");
  return it->second;
}

Expected<double> number_metadata(const ScaledObjectRef& ref, const std::string& key,
                                 std::optional<double> fallback) {
  const auto& metadata = ref.scalermetadata();
  auto it = metadata.find(key);
  if (it == metadata.end() || it->second.empty()) {
    if (fallback) return *fallback;
    return make_error("trigger metadata '" + key + "' is required (ScaledObject " +
                      ref.namespace_() + "/" + ref.name() + ")");
  }
  char* end = nullptr;
  const double value = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0' || !std::isfinite(value) || value < 0)
    return make_error("trigger metadata '" + key + "': '" + it->second +
                      "' is not a non-negative number");
  return value;
}

// The served value of `metric` in `namespace_name` whose labels match the
// selector: an exact namespace match wins over a target served in every
// namespace ("*"); among several matches the largest, which never
// under-provisions (as the External Metrics API answers the HPA).
const MetricValue* find_metric(const Snapshot& snapshot, const std::string& metric,
                               const std::string& namespace_name,
                               const kubernetes::LabelSelector& selector) {
  const MetricValue* exact = nullptr;
  const MetricValue* wildcard = nullptr;
  for (const MetricValue& value : snapshot.metrics) {
    if (value.metric != metric || !selector.matches(value.labels)) continue;
    const MetricValue** slot = value.namespace_name == namespace_name ? &exact
                               : value.namespace_name == "*"          ? &wildcard
                                                                      : nullptr;
    if (slot != nullptr && (*slot == nullptr || value.value > (*slot)->value)) *slot = &value;
  }
  return exact != nullptr ? exact : wildcard;
}

// The trigger's optional labelSelector, in the HPA's selector grammar.
Expected<kubernetes::LabelSelector> selector_metadata(const ScaledObjectRef& ref) {
  const auto& metadata = ref.scalermetadata();
  auto it = metadata.find("labelSelector");
  auto selector = kubernetes::LabelSelector::parse(it == metadata.end() ? "" : it->second);
  if (!selector)
    return make_error("trigger metadata 'labelSelector': '" + it->second +
                      "': " + selector.error().message);
  return selector;
}

grpc::Status to_status(const Error& error, grpc::StatusCode code) {
  return grpc::Status(code, error.message);
}

}  // namespace

// Which served metric a trigger reads: one the config file serves (by
// metricName and labelSelector), or the target the trigger carries itself.
struct Lookup {
  std::string metric;
  bool self_service = false;
  kubernetes::LabelSelector selector;
};

grpc::Status trigger_status(const TriggerTarget& answer, const ScaledObjectRef& ref) {
  using Code = TriggerTarget::Code;
  const std::string message =
      answer.message + " (ScaledObject " + ref.namespace_() + "/" + ref.name() + ")";
  switch (answer.code) {
    case Code::ok:
      return grpc::Status::OK;
    case Code::invalid:
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
    case Code::exhausted:
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, message);
    case Code::denied:
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, message);
    case Code::unavailable:
      break;
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, message);
}

class ScalerService final : public externalscaler::ExternalScaler::Service {
 public:
  ScalerService(const SnapshotStore& store, const ScalerOptions& options,
                const std::atomic<bool>& stopping)
      : store_(store), options_(options), stopping_(stopping) {}

  grpc::Status IsActive(grpc::ServerContext*, const ScaledObjectRef* ref,
                        IsActiveResponse* response) override {
    bool active = false;
    if (auto status = is_active(*ref, active); !status.ok()) return status;
    response->set_result(active);
    return grpc::Status::OK;
  }

  grpc::Status StreamIsActive(grpc::ServerContext* context, const ScaledObjectRef* ref,
                              grpc::ServerWriter<IsActiveResponse>* writer) override {
    std::optional<bool> last;
    while (!context->IsCancelled() && !stopping_.load()) {
      bool active = false;
      if (auto status = is_active(*ref, active); !status.ok()) return status;
      if (!last || *last != active) {
        IsActiveResponse response;
        response.set_result(active);
        if (!writer->Write(response)) return grpc::Status::OK;  // client went away
        last = active;
      }
      std::this_thread::sleep_for(options_.stream_poll);
    }
    return grpc::Status::OK;
  }

  grpc::Status GetMetricSpec(grpc::ServerContext*, const ScaledObjectRef* ref,
                             GetMetricSpecResponse* response) override {
    auto metric = required_metadata(*ref, "metricName");
    if (!metric) return to_status(metric.error(), grpc::StatusCode::INVALID_ARGUMENT);
    auto target = number_metadata(*ref, "targetValue", std::nullopt);
    if (!target) return to_status(target.error(), grpc::StatusCode::INVALID_ARGUMENT);
    if (*target <= 0)
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "trigger metadata 'targetValue' must be above 0");
    // A trigger carrying its own target gets it now, when KEDA builds the
    // HPA: its history is fetched while the HPA starts.
    Lookup lookup;
    if (auto status = resolve(*ref, lookup); !status.ok()) return status;
    auto* spec = response->add_metricspecs();
    spec->set_metricname(*metric);
    spec->set_targetsizefloat(*target);
    spec->set_targetsize(static_cast<std::int64_t>(std::ceil(*target)));
    return grpc::Status::OK;
  }

  grpc::Status GetMetrics(grpc::ServerContext*, const GetMetricsRequest* request,
                          GetMetricsResponse* response) override {
    const ScaledObjectRef& ref = request->scaledobjectref();
    auto metric = required_metadata(ref, "metricName");
    if (!metric) return to_status(metric.error(), grpc::StatusCode::INVALID_ARGUMENT);
    double value = 0;
    if (auto status = served_value(ref, value); !status.ok()) return status;
    auto* out = response->add_metricvalues();
    // KEDA names the metric it asks for (e.g. "s0-payments-rps-forecast"); answer in kind.
    out->set_metricname(request->metricname().empty() ? *metric : request->metricname());
    out->set_metricvaluefloat(value);
    out->set_metricvalue(static_cast<std::int64_t>(std::ceil(value)));
    return grpc::Status::OK;
  }

 private:
  grpc::Status resolve(const ScaledObjectRef& ref, Lookup& out) const {
    const auto& metadata = ref.scalermetadata();
    if (metadata.find("query") == metadata.end()) {
      auto metric = required_metadata(ref, "metricName");
      if (!metric) return to_status(metric.error(), grpc::StatusCode::INVALID_ARGUMENT);
      auto selector = selector_metadata(ref);
      if (!selector) return to_status(selector.error(), grpc::StatusCode::INVALID_ARGUMENT);
      out = Lookup{*metric, false, std::move(*selector)};
      return grpc::Status::OK;
    }
    const std::string where = " (ScaledObject " + ref.namespace_() + "/" + ref.name() + ")";
    if (!options_.self_service)
      return grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          "trigger metadata 'query': this prescale creates no targets from triggers "
          "(server.keda.selfService.enabled is false); drop 'query' to read a target of its "
          "config, or ask its operators to enable self-service" +
              where);
    if (metadata.find("labelSelector") != metadata.end())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "trigger metadata 'labelSelector': a trigger carrying 'query' is its "
                          "own target; labelSelector selects among the config's targets" +
                              where);
    std::map<std::string, std::string> copy;
    for (const auto& entry : metadata) copy.emplace(entry.first, entry.second);
    TriggerTarget answer = options_.self_service(ref.namespace_(), ref.name(), copy);
    if (answer.code != TriggerTarget::Code::ok) return trigger_status(answer, ref);
    out = Lookup{answer.metric, true, {}};
    return grpc::Status::OK;
  }

  grpc::Status served_value(const ScaledObjectRef& ref, double& out) const {
    Lookup lookup;
    if (auto status = resolve(ref, lookup); !status.ok()) return status;
    const std::shared_ptr<const Snapshot> snapshot = store_.current();
    if (lookup.self_service) {
      // Its own target, in its own namespace only. Until the first fit it
      // serves the observed load; before the first sample there is nothing.
      for (const MetricValue& value : snapshot->metrics) {
        if (value.metric == lookup.metric && value.namespace_name == ref.namespace_()) {
          out = value.value;
          return grpc::Status::OK;
        }
      }
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "target '" + lookup.metric +
                              "' for this trigger is being created: prescale is fetching its "
                              "history (ScaledObject " +
                              ref.namespace_() + "/" + ref.name() + ")");
    }
    const MetricValue* value =
        find_metric(*snapshot, lookup.metric, ref.namespace_(), lookup.selector);
    if (value == nullptr) {
      std::string message = "prescale serves no metric '" + lookup.metric + "' in namespace '" +
                            ref.namespace_() + "'";
      if (!lookup.selector.empty())
        message += " matching labelSelector '" + lookup.selector.to_string() + "'";
      return grpc::Status(grpc::StatusCode::NOT_FOUND, message);
    }
    out = value->value;
    return grpc::Status::OK;
  }

  grpc::Status is_active(const ScaledObjectRef& ref, bool& out) const {
    auto metric = required_metadata(ref, "metricName");
    if (!metric) return to_status(metric.error(), grpc::StatusCode::INVALID_ARGUMENT);
    auto threshold = number_metadata(ref, "activationValue", 0.0);
    if (!threshold) return to_status(threshold.error(), grpc::StatusCode::INVALID_ARGUMENT);
    double value = 0;
    if (auto status = served_value(ref, value); !status.ok()) return status;
    out = value > *threshold;
    return grpc::Status::OK;
  }

  const SnapshotStore& store_;
  const ScalerOptions& options_;
  const std::atomic<bool>& stopping_;
};

struct ExternalScaler::Impl {
  ScalerOptions options;
  const SnapshotStore& store;
  std::atomic<bool> stopping{false};
  ScalerService service{store, options, stopping};
  // Re-reads the certificate, key and client CA every reload interval; must
  // outlive the server.
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> certificates;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  Impl(ScalerOptions o, const SnapshotStore& s) : options(std::move(o)), store(s) {}

  void log(std::string_view level, const std::string& message) const {
    if (options.log) options.log(level, message);
  }
};

ExternalScaler::ExternalScaler(ScalerOptions options, const SnapshotStore& store)
    : impl_(std::make_unique<Impl>(std::move(options), store)) {}

ExternalScaler::~ExternalScaler() {
  stop(std::chrono::milliseconds(0));
}

Status ExternalScaler::start() {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  const ScalerOptions& options = impl_->options;
  if (options.cert_file.empty() != options.key_file.empty())
    return make_error("keda: set both certFile and keyFile for TLS, or neither");
  if (!options.cert_file.empty()) {
    if (auto checked = check_tls_files(options); !checked) return checked;
    // gRPC's file watcher re-reads the files on its own thread and hands
    // new connections the new pair: rotation without a restart, as the
    // HTTPS server does it.
    const auto interval = static_cast<unsigned>(
        std::max<std::int64_t>(1, options.certificate_reload_interval.count()));
    using grpc::experimental::FileWatcherCertificateProvider;
    impl_->certificates =
        options.client_ca_file.empty()
            ? std::make_shared<FileWatcherCertificateProvider>(options.key_file, options.cert_file,
                                                               interval)
            : std::make_shared<FileWatcherCertificateProvider>(options.key_file, options.cert_file,
                                                               options.client_ca_file, interval);
    grpc::experimental::TlsServerCredentialsOptions tls(impl_->certificates);
    tls.watch_identity_key_cert_pairs();
    if (options.client_ca_file.empty()) {
      tls.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    } else {
      tls.watch_root_certs();
      tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    }
    credentials = grpc::experimental::TlsServerCredentials(tls);
  } else {
    credentials = grpc::InsecureServerCredentials();
  }

  grpc::ServerBuilder builder;
  // gRPC shares ports by default (SO_REUSEPORT): a second daemon on the same
  // port would silently split KEDA's calls. Refuse instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.address, credentials, &impl_->port);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0)
    return make_error("keda: cannot listen on '" + options.address +
                      "' (address in use, or not host:port?)");
  impl_->log("info", "keda external scaler listening on port " + std::to_string(impl_->port) +
                         (options.cert_file.empty() ? " (plaintext)" : " (TLS)"));
  return Status::ok();
}

int ExternalScaler::port() const {
  return impl_->port;
}

std::vector<CertificateExpiry> ExternalScaler::certificate_expiry() const {
  std::vector<CertificateExpiry> out;
  const ScalerOptions& options = impl_->options;
  if (options.cert_file.empty()) return out;
  if (auto serving = earliest_expiry(options.cert_file, "keda certFile"))
    out.push_back({"keda-serving", options.cert_file, *serving});
  if (!options.client_ca_file.empty()) {
    if (auto ca = earliest_expiry(options.client_ca_file, "keda clientCAFile"))
      out.push_back({"keda-client-ca", options.client_ca_file, *ca});
  }
  return out;
}

void ExternalScaler::stop(std::chrono::milliseconds grace) {
  if (!impl_ || !impl_->server) return;
  impl_->stopping = true;  // ends StreamIsActive loops at their next poll
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace prescale::keda
