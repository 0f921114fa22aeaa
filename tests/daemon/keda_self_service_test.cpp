// Self-service targets through KEDA trigger metadata, as KEDA's operator
// reaches them: a running daemon (its real KEDA gRPC service, mutual TLS),
// and a ScaledObject whose external trigger carries its own target (query,
// leadTime, quantile, seasonality). The first call creates it; GetMetrics
// serves the observed load until the first fit, then the forecast; a bad key
// comes back as INVALID_ARGUMENT naming the key; the per-namespace cap
// refuses with RESOURCE_EXHAUSTED; a trigger KEDA stops asking for is
// dropped after idleTimeout, freeing its place. The file's target keeps
// being served beside them. The load is a recorded trace on a clock running
// 20 times faster (idleTimeout 1m = 3 s).
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "externalscaler.grpc.pb.h"
#include "free_port.hpp"
#include "keda_client.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/daemon/daemon.hpp"
#include "prescale/daemon/demo.hpp"
#include "prescale/simulate/replay.hpp"
#include "test_support.hpp"

using namespace prescale;
using namespace std::chrono_literals;
using Metadata = std::map<std::string, std::string>;

namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// KEDA's client: the chart's CA as roots, its client certificate, and the
// server name checked (the demo certificate is for localhost).
std::unique_ptr<externalscaler::ExternalScaler::Stub> keda_client(
    int port, const daemon::DemoCertificates& certs) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = slurp(certs.ca_cert);
  ssl.pem_cert_chain = slurp(certs.client_cert);
  ssl.pem_private_key = slurp(certs.client_key);
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  return externalscaler::ExternalScaler::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl), args));
}

std::unique_ptr<grpc::ClientContext> deadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + 10s);
  return context;
}

externalscaler::ScaledObjectRef scaled_object(const std::string& namespace_name,
                                              const std::string& name, const Metadata& metadata) {
  auto ref = test::scaled_object(namespace_name, metadata);
  ref.set_name(name);
  return ref;
}

// The trigger of a ScaledObject "checkout" in namespace "shop".
Metadata checkout(Metadata changes = {}) {
  Metadata metadata = {{"scalerAddress", "prescale.prescale.svc:9443"},
                       {"metricName", "checkout-rps"},
                       {"targetValue", "100"},
                       {"query", "sum(rate(http_requests_total{app=\"checkout\"}[1m]))"},
                       {"seasonality", "1d"},
                       {"leadTime", "20m"},
                       {"quantile", "0.75"}};
  for (auto& [key, value] : changes) metadata[key] = value;
  return metadata;
}

grpc::Status get_metrics(externalscaler::ExternalScaler::Stub& keda,
                         const externalscaler::ScaledObjectRef& ref, double& value) {
  externalscaler::GetMetricsRequest request;
  *request.mutable_scaledobjectref() = ref;
  request.set_metricname("s1-" + ref.scalermetadata().at("metricName"));
  externalscaler::GetMetricsResponse response;
  auto status = keda.GetMetrics(deadline().get(), request, &response);
  if (status.ok()) value = response.metricvalues(0).metricvaluefloat();
  return status;
}

grpc::Status get_spec(externalscaler::ExternalScaler::Stub& keda,
                      const externalscaler::ScaledObjectRef& ref) {
  externalscaler::GetMetricSpecResponse spec;
  return keda.GetMetricSpec(deadline().get(), ref, &spec);
}

const TargetStatus* status_of(const Snapshot& snapshot, const std::string& target) {
  for (const auto& status : snapshot.targets)
    if (status.target == target) return &status;
  return nullptr;
}

}  // namespace

TEST_CASE("a ScaledObject carrying its own target gets forecasts after its first fit",
          "[keda][self-service]") {
  test::TempDir dir("prescale-self-service");
  auto certs = daemon::write_demo_certificates(dir.path);
  REQUIRE(certs.has_value());
  autoscaler::TraceOptions trace_options;
  trace_options.days = 16;
  trace_options.step_seconds = 600;
  const auto trace = autoscaler::generate_trace(trace_options);
  REQUIRE(trace.has_value());
  autoscaler::AcceleratedClock clock(static_cast<double>(trace->end_unix() - 6 * 3600), 20.0);

  daemon::DaemonOptions options;
  options.config_path = dir.path / "prescale.yaml";
  options.listen_port = 0;
  options.clock = &clock;
  options.watch_interval = 200ms;
  std::vector<std::string> queries;  // what the daemon asked its source for
  std::mutex queries_mutex;
  options.sources =
      [&](const config::TargetConfig& target) -> Expected<std::unique_ptr<source::Source>> {
    {
      std::lock_guard lock(queries_mutex);
      queries.push_back(target.query);
    }
    return std::unique_ptr<source::Source>(
        std::make_unique<simulate::RecordedSource>(*trace, clock));
  };
  const int keda_port = test::free_port();
  const std::string cert = certs->server_cert.string(), key = certs->server_key.string();
  std::ofstream(options.config_path)
      << "server:\n  address: 127.0.0.1:6443\n  tlsCertFile: " << cert << "\n  tlsKeyFile: " << key
      << "\n  keda:\n    enabled: true\n    address: \"127.0.0.1:" << keda_port
      << "\"\n    certFile: " << cert << "\n    keyFile: " << key
      << "\n    clientCAFile: " << certs->ca_cert.string()
      << "\n    selfService: {enabled: true, idleTimeout: 1m, maxPerNamespace: 1}\n"
         "defaults:\n  step: 10m\n  history: 14d\n"
         "targets:\n  - metric: payments-a\n    namespace: payments\n    query: a\n";
  daemon::Daemon daemon(options);
  REQUIRE(daemon.start().has_value());
  auto keda = keda_client(keda_port, *certs);

  // The file's target, through a trigger without a query, as before.
  const auto central =
      scaled_object("payments", "payments", {{"metricName", "payments-a"}, {"targetValue", "10"}});
  double value = -1;
  for (int i = 0; i < 600 && !get_metrics(*keda, central, value).ok(); ++i)
    std::this_thread::sleep_for(50ms);
  REQUIRE(get_metrics(*keda, central, value).ok());
  REQUIRE(daemon.snapshots().current()->ready);

  // KEDA builds the HPA: GetMetricSpec creates the target, and readiness
  // does not wait for its history.
  const auto ref = scaled_object("shop", "checkout", checkout());
  REQUIRE(get_spec(*keda, ref).ok());
  const std::string served = "shop.checkout.checkout-rps";
  CHECK(daemon.snapshots().current()->ready);
  {
    std::lock_guard lock(queries_mutex);
    CHECK(queries.back() == checkout().at("query"));
  }

  // Until the first sample: UNAVAILABLE, saying why; then the observed load
  // or the forecast; after the first fit, the forecast.
  grpc::Status status;
  for (int i = 0; i < 600; ++i) {
    status = get_metrics(*keda, ref, value);
    if (status.ok()) break;
    INFO(status.error_message());
    REQUIRE(status.error_code() == grpc::StatusCode::UNAVAILABLE);
    CHECK(status.error_message().find("is being created") != std::string::npos);
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(status.ok());
  bool forecasting = false;
  for (int i = 0; i < 600 && !forecasting; ++i) {
    REQUIRE(get_metrics(*keda, ref, value).ok());  // KEDA keeps asking
    const auto snapshot = daemon.snapshots().current();
    const auto* target = status_of(*snapshot, served);
    REQUIRE(target != nullptr);
    forecasting = target->has_forecast;
    if (!forecasting) std::this_thread::sleep_for(50ms);
  }
  REQUIRE(forecasting);
  // What KEDA gets is the target's served value, and the target is the trigger's.
  bool same = false;
  for (int i = 0; i < 20 && !same; ++i) {
    REQUIRE(get_metrics(*keda, ref, value).ok());
    const auto snapshot = daemon.snapshots().current();
    const auto* target = status_of(*snapshot, served);
    REQUIRE(target != nullptr);
    same = target->served == value;
    CHECK(target->quantile == 0.75);
    CHECK(target->step_seconds == 600);
    CHECK(target->has_forecast);
  }
  CHECK(same);
  CHECK(value > 0);
  externalscaler::IsActiveResponse active;
  REQUIRE(keda->IsActive(deadline().get(), ref, &active).ok());
  CHECK(active.result());
  // The step trail records it like a file's target (prescale status).
  // The file's target is still served.
  CHECK(get_metrics(*keda, central, value).ok());

  // A bad key: INVALID_ARGUMENT naming it, at GetMetricSpec already.
  status = get_spec(*keda, scaled_object("shop", "broken", checkout({{"leadTime", "5x"}})));
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind("trigger metadata 'leadTime': bad duration '5x'", 0) == 0);
  CHECK(status.error_message().find("(ScaledObject shop/broken)") != std::string::npos);
  status = get_spec(*keda, scaled_object("shop", "broken", checkout({{"leadtime", "5m"}})));
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("trigger metadata 'leadtime': unknown key; did you mean "
                                    "'leadTime'?") != std::string::npos);
  Metadata selected = checkout();
  selected["labelSelector"] = "app=checkout";
  status = get_spec(*keda, scaled_object("shop", "selected", selected));
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("trigger metadata 'labelSelector'") != std::string::npos);

  // maxPerNamespace 1: a second ScaledObject in "shop" waits for a place.
  const auto second = scaled_object("shop", "cart", checkout({{"metricName", "cart-rps"}}));
  status = get_spec(*keda, second);
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message().find("server.keda.selfService.maxPerNamespace") !=
        std::string::npos);
  CHECK(status_of(*daemon.snapshots().current(), "shop.cart.cart-rps") == nullptr);

  // KEDA stops asking for "checkout" (ScaledObject deleted): after 1m of
  // the daemon's clock (3 s here) its target goes, and "cart" gets its place.
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = status_of(*daemon.snapshots().current(), served) == nullptr;
    if (!gone) std::this_thread::sleep_for(50ms);
  }
  CHECK(gone);
  CHECK(get_spec(*keda, second).ok());
  daemon.stop();
}
