#include "prescale/keda/external_scaler.hpp"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "externalscaler.grpc.pb.h"

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

// The served value of `metric` in `namespace_name`: an exact namespace
// match wins over a target served in every namespace ("*").
const MetricValue* find_metric(const Snapshot& snapshot, const std::string& metric,
                               const std::string& namespace_name) {
  const MetricValue* wildcard = nullptr;
  for (const MetricValue& value : snapshot.metrics) {
    if (value.metric != metric) continue;
    if (value.namespace_name == namespace_name) return &value;
    if (value.namespace_name == "*" && wildcard == nullptr) wildcard = &value;
  }
  return wildcard;
}

grpc::Status to_status(const Error& error, grpc::StatusCode code) {
  return grpc::Status(code, error.message);
}

}  // namespace

class ScalerService final : public externalscaler::ExternalScaler::Service {
 public:
  ScalerService(const SnapshotStore& store, const ScalerOptions& options,
                const std::atomic<bool>& stopping)
      : store_(store), options_(options), stopping_(stopping) {}

  grpc::Status IsActive(grpc::ServerContext*, const ScaledObjectRef* ref,
                        IsActiveResponse* response) override {
    auto active = is_active(*ref);
    if (!active) return to_status(active.error(), grpc::StatusCode::INVALID_ARGUMENT);
    response->set_result(*active);
    return grpc::Status::OK;
  }

  grpc::Status StreamIsActive(grpc::ServerContext* context, const ScaledObjectRef* ref,
                              grpc::ServerWriter<IsActiveResponse>* writer) override {
    std::optional<bool> last;
    while (!context->IsCancelled() && !stopping_.load()) {
      auto active = is_active(*ref);
      if (!active) return to_status(active.error(), grpc::StatusCode::INVALID_ARGUMENT);
      if (!last || *last != *active) {
        IsActiveResponse response;
        response.set_result(*active);
        if (!writer->Write(response)) return grpc::Status::OK;  // client went away
        last = *active;
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
    auto value = served_value(ref, *metric);
    if (!value) return to_status(value.error(), grpc::StatusCode::NOT_FOUND);
    auto* out = response->add_metricvalues();
    // KEDA names the metric it asks for (e.g. "s0-payments-rps-forecast"); answer in kind.
    out->set_metricname(request->metricname().empty() ? *metric : request->metricname());
    out->set_metricvaluefloat(*value);
    out->set_metricvalue(static_cast<std::int64_t>(std::ceil(*value)));
    return grpc::Status::OK;
  }

 private:
  Expected<double> served_value(const ScaledObjectRef& ref, const std::string& metric) const {
    const std::shared_ptr<const Snapshot> snapshot = store_.current();
    const MetricValue* value = find_metric(*snapshot, metric, ref.namespace_());
    if (value == nullptr)
      return make_error("prescale serves no metric '" + metric + "' in namespace '" +
                        ref.namespace_() + "'");
    return value->value;
  }

  Expected<bool> is_active(const ScaledObjectRef& ref) const {
    auto metric = required_metadata(ref, "metricName");
    if (!metric) return metric.error();
    auto threshold = number_metadata(ref, "activationValue", 0.0);
    if (!threshold) return threshold.error();
    auto value = served_value(ref, *metric);
    if (!value) return value.error();
    return *value > *threshold;
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
    auto cert = read_file(options.cert_file, "keda certFile");
    if (!cert) return cert.error();
    auto key = read_file(options.key_file, "keda keyFile");
    if (!key) return key.error();
    grpc::SslServerCredentialsOptions ssl(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    if (!options.client_ca_file.empty()) {
      auto ca = read_file(options.client_ca_file, "keda clientCAFile");
      if (!ca) return ca.error();
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    credentials = grpc::SslServerCredentials(ssl);
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

void ExternalScaler::stop(std::chrono::milliseconds grace) {
  if (!impl_ || !impl_->server) return;
  impl_->stopping = true;  // ends StreamIsActive loops at their next poll
  impl_->server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->server->Wait();
  impl_->server.reset();
}

}  // namespace prescale::keda
