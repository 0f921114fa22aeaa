// deploy/examples/keda-scaledobject.yaml, as KEDA's operator would run it
// against prescale: the external trigger's metadata (read from the example,
// so the two cannot drift) in every call of KEDA's protocol
// (externalscaler.proto: GetMetricSpec, GetMetrics, IsActive,
// StreamIsActive), over mutual TLS with the server name taken from
// scalerAddress, as KEDA's client verifies it. Then the certificates rotate
// under the running scaler, as a renewed Secret does.
#include <grpcpp/grpcpp.h>
#include <yaml-cpp/yaml.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "keda_client.hpp"
#include "prescale/keda/external_scaler.hpp"
#include "test_pki.hpp"
#include "test_support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using prescale::test::slurp;

namespace {

// What KEDA builds from the example: the ScaledObject's name and namespace,
// the external trigger's metadata (KEDA forwards all of it, scalerAddress
// included) and its authenticationRef.
struct ExampleTrigger {
  std::string name, namespace_name, scaler_host;
  std::map<std::string, std::string> metadata;
  std::string authentication_kind, authentication_name;
};

ExampleTrigger read_example() {
  const auto path = prescale::test::source_dir() / "deploy/examples/keda-scaledobject.yaml";
  ExampleTrigger out;
  for (const YAML::Node& doc : YAML::LoadAllFromFile(path.string())) {
    if (doc["kind"].as<std::string>() != "ScaledObject") continue;
    out.name = doc["metadata"]["name"].as<std::string>();
    out.namespace_name = doc["metadata"]["namespace"].as<std::string>();
    for (const YAML::Node& trigger : doc["spec"]["triggers"]) {
      if (trigger["type"].as<std::string>() != "external") continue;
      for (const auto& entry : trigger["metadata"])
        out.metadata[entry.first.as<std::string>()] = entry.second.as<std::string>();
      if (const YAML::Node auth = trigger["authenticationRef"]) {
        out.authentication_name = auth["name"].as<std::string>();
        out.authentication_kind = auth["kind"] ? auth["kind"].as<std::string>() : "";
      }
    }
  }
  const std::string address = out.metadata["scalerAddress"];
  out.scaler_host = address.substr(0, address.rfind(':'));
  return out;
}

externalscaler::ScaledObjectRef reference(const ExampleTrigger& example) {
  externalscaler::ScaledObjectRef ref;
  ref.set_name(example.name);
  ref.set_namespace_(example.namespace_name);
  for (const auto& [key, value] : example.metadata) (*ref.mutable_scalermetadata())[key] = value;
  return ref;
}

// KEDA's client: caCert as the roots, tlsClientCert/Key, and the server's
// name checked against scalerAddress' host (the test dials 127.0.0.1).
std::unique_ptr<externalscaler::ExternalScaler::Stub> keda_client(
    int port, const std::string& server_name, const std::string& ca_pem,
    const std::string& client_cert_pem, const std::string& client_key_pem) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ca_pem;
  ssl.pem_cert_chain = client_cert_pem;
  ssl.pem_private_key = client_key_pem;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(server_name);
  // A connection of its own (no subchannel shared with earlier channels),
  // so each client sees the certificate the server presents now.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return externalscaler::ExternalScaler::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl), args));
}

std::unique_ptr<grpc::ClientContext> deadline(std::chrono::seconds after = 5s) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + after);
  return context;
}

// Two targets serve the example's metric in its namespace; only one has the
// labels the trigger selects.
std::shared_ptr<const prescale::Snapshot> two_targets(const std::string& metric,
                                                      const std::string& namespace_name,
                                                      double selected, double other) {
  auto snapshot = std::make_shared<prescale::Snapshot>();
  snapshot->ready = true;
  for (const auto& [app, value] : {std::pair{"payments", selected}, std::pair{"ledger", other}}) {
    prescale::MetricValue metric_value;
    metric_value.metric = metric;
    metric_value.namespace_name = namespace_name;
    metric_value.labels = {{"app", app}};
    metric_value.value = value;
    metric_value.target = metric + "-" + app;
    snapshot->metrics.push_back(metric_value);
  }
  return snapshot;
}

// Puts a certificate and key in place the way the kubelet updates a Secret
// volume: a new directory, then one atomic rename of the `..data` symlink.
void publish(const fs::path& volume, const std::string& generation, const std::string& cert,
             const std::string& key, const std::string& ca) {
  const fs::path data = volume / generation;
  fs::create_directories(data);
  fs::copy_file(cert, data / "tls.crt");
  fs::copy_file(key, data / "tls.key");
  fs::copy_file(ca, data / "ca.crt");
  fs::create_directory_symlink(generation, volume / "..data_tmp");
  fs::rename(volume / "..data_tmp", volume / "..data");
  for (const char* file : {"tls.crt", "tls.key", "ca.crt"})
    if (!fs::exists(fs::symlink_status(volume / file)))
      fs::create_symlink(fs::path("..data") / file, volume / file);
}

}  // namespace

TEST_CASE("the example ScaledObject's trigger works over mutual TLS", "[keda][tls][example]") {
  const ExampleTrigger example = read_example();
  REQUIRE(example.metadata.count("scalerAddress") == 1);
  REQUIRE(example.metadata.count("metricName") == 1);
  // Without an authenticationRef KEDA connects in plaintext, which prescale refuses.
  REQUIRE(example.authentication_kind == "ClusterTriggerAuthentication");
  REQUIRE_FALSE(example.authentication_name.empty());
  const std::string metric = example.metadata.at("metricName");
  const double target_value = std::stod(example.metadata.at("targetValue"));

  prescale::test::TestPki pki("prescale-keda-example");
  pki.make_ca("ca");
  pki.make_server("serving", "ca", "DNS:" + example.scaler_host);
  pki.make_client("keda-operator", "ca");
  pki.make_ca("other-ca");
  pki.make_client("stranger", "other-ca");
  const fs::path volume = pki.dir() / "tls";
  publish(volume, "..2026_01_01", pki.crt("serving"), pki.key("serving"), pki.crt("ca"));

  prescale::SnapshotStore store;
  store.publish(two_targets(metric, example.namespace_name, 250.5, 9000));
  prescale::keda::ScalerOptions options;
  options.address = "127.0.0.1:0";
  options.cert_file = (volume / "tls.crt").string();
  options.key_file = (volume / "tls.key").string();
  options.client_ca_file = (volume / "ca.crt").string();
  options.stream_poll = 20ms;
  options.certificate_reload_interval = 1s;
  prescale::keda::ExternalScaler scaler(options, store);
  REQUIRE(scaler.start().has_value());

  auto keda = keda_client(scaler.port(), example.scaler_host, slurp(pki.crt("ca")),
                          slurp(pki.crt("keda-operator")), slurp(pki.key("keda-operator")));
  const auto ref = reference(example);

  // KEDA asks for the spec when it builds the HPA...
  externalscaler::GetMetricSpecResponse spec;
  auto status = keda->GetMetricSpec(deadline().get(), ref, &spec);
  REQUIRE(status.ok());
  REQUIRE(spec.metricspecs_size() == 1);
  CHECK(spec.metricspecs(0).metricname() == metric);
  CHECK(spec.metricspecs(0).targetsizefloat() == target_value);

  // ...then, for the HPA, the value under the name the spec gave (KEDA
  // strips its "sN-" prefix before asking): the target the labels select.
  externalscaler::GetMetricsRequest request;
  *request.mutable_scaledobjectref() = ref;
  request.set_metricname(spec.metricspecs(0).metricname());
  externalscaler::GetMetricsResponse values;
  status = keda->GetMetrics(deadline().get(), request, &values);
  REQUIRE(status.ok());
  REQUIRE(values.metricvalues_size() == 1);
  CHECK(values.metricvalues(0).metricname() == metric);
  CHECK(values.metricvalues(0).metricvaluefloat() == 250.5);

  externalscaler::IsActiveResponse active;
  REQUIRE(keda->IsActive(deadline().get(), ref, &active).ok());
  CHECK(active.result());

  // StreamIsActive: the state at once, then each change.
  {
    auto context = deadline(10s);
    auto stream = keda->StreamIsActive(context.get(), ref);
    externalscaler::IsActiveResponse message;
    REQUIRE(stream->Read(&message));
    CHECK(message.result());
    store.publish(two_targets(metric, example.namespace_name, 0, 9000));
    REQUIRE(stream->Read(&message));
    CHECK_FALSE(message.result());  // 0 is not above activationValue
    context->TryCancel();
  }

  SECTION("only KEDA's client certificate, and only for the scalerAddress name") {
    auto stranger = keda_client(scaler.port(), example.scaler_host, slurp(pki.crt("ca")),
                                slurp(pki.crt("stranger")), slurp(pki.key("stranger")));
    CHECK_FALSE(stranger->IsActive(deadline().get(), ref, &active).ok());
    auto wrong_name = keda_client(scaler.port(), "prescale.elsewhere.svc", slurp(pki.crt("ca")),
                                  slurp(pki.crt("keda-operator")), slurp(pki.key("keda-operator")));
    CHECK_FALSE(wrong_name->IsActive(deadline().get(), ref, &active).ok());
  }

  SECTION("a rotated Secret is served without a restart") {
    const auto before = scaler.certificate_expiry();
    REQUIRE(before.size() == 2);
    CHECK(before[0].certificate == "keda-serving");
    CHECK(before[1].certificate == "keda-client-ca");

    // A new CA signs new serving and client certificates, valid longer.
    pki.make_ca("new-ca", 30);
    pki.make_server("new-serving", "new-ca", "DNS:" + example.scaler_host, 20);
    pki.make_client("new-keda-operator", "new-ca");
    publish(volume, "..2026_02_01", pki.crt("new-serving"), pki.key("new-serving"),
            pki.crt("new-ca"));

    auto renewed =
        keda_client(scaler.port(), example.scaler_host, slurp(pki.crt("new-ca")),
                    slurp(pki.crt("new-keda-operator")), slurp(pki.key("new-keda-operator")));
    CHECK(prescale::test::wait_for(
        [&] { return renewed->IsActive(deadline(2s).get(), ref, &active).ok(); }, 20s));
    // The old CA's client and trust are gone for new connections.
    auto old = keda_client(scaler.port(), example.scaler_host, slurp(pki.crt("ca")),
                           slurp(pki.crt("keda-operator")), slurp(pki.key("keda-operator")));
    CHECK_FALSE(old->IsActive(deadline().get(), ref, &active).ok());

    const auto after = scaler.certificate_expiry();
    REQUIRE(after.size() == 2);
    CHECK(after[0].not_after_unix > before[0].not_after_unix + 10 * 86400);
    CHECK(after[1].not_after_unix > before[1].not_after_unix + 20 * 86400);
  }
}

TEST_CASE("a bad labelSelector in the trigger is a clear error", "[keda][example]") {
  prescale::SnapshotStore store;
  store.publish(two_targets("payments-rps-forecast", "payments", 1, 2));
  prescale::keda::ScalerOptions options;
  options.address = "127.0.0.1:0";
  prescale::keda::ExternalScaler scaler(options, store);
  REQUIRE(scaler.start().has_value());
  auto client = externalscaler::ExternalScaler::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(scaler.port()), grpc::InsecureChannelCredentials()));
  externalscaler::GetMetricsRequest request;
  *request.mutable_scaledobjectref() = prescale::test::scaled_object(
      "payments", {{"metricName", "payments-rps-forecast"}, {"labelSelector", "app in (a"}});
  externalscaler::GetMetricsResponse response;
  auto status = client->GetMetrics(deadline().get(), request, &response);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("labelSelector"));

  SECTION("a selector no target matches names it") {
    (*request.mutable_scaledobjectref()->mutable_scalermetadata())["labelSelector"] = "app=none";
    status = client->GetMetrics(deadline().get(), request, &response);
    CHECK(status.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK_THAT(status.error_message(), Catch::Contains("app=none"));
  }
  SECTION("without a selector the largest of the targets is served") {
    request.mutable_scaledobjectref()->mutable_scalermetadata()->erase("labelSelector");
    REQUIRE(client->GetMetrics(deadline().get(), request, &response).ok());
    CHECK(response.metricvalues(0).metricvaluefloat() == 2);
  }
}
