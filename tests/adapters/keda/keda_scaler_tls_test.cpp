// The KEDA external scaler over TLS with client certificates (KEDA's
// `caCert`/`tlsClientCert`/`tlsClientKey` trigger auth), certificates made
// by the real openssl CLI.
#include <catch2/catch.hpp>

#include <filesystem>

#include "keda_client.hpp"
#include "prescale/keda/external_scaler.hpp"
#include "test_pki.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
using prescale::test::slurp;

// A CA, a serving certificate for 127.0.0.1 and a client certificate, and a
// second CA whose client certificate must be refused.
struct Certificates {
  prescale::test::TestPki pki{"prescale-keda-tls"};
  fs::path dir = pki.dir();
  Certificates() {
    pki.make_ca("ca");
    pki.make_ca("other-ca");
    pki.make_server("server", "ca", "IP:127.0.0.1,DNS:localhost");
    pki.make_client("client-of-ca", "ca");
    pki.make_client("client-of-other-ca", "other-ca");
  }
};

std::unique_ptr<externalscaler::ExternalScaler::Stub> client(const Certificates& certs, int port,
                                                             const std::string& client_name) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = slurp(certs.dir / "ca.crt");
  if (!client_name.empty()) {
    ssl.pem_private_key = slurp(certs.dir / (client_name + ".key"));
    ssl.pem_cert_chain = slurp(certs.dir / (client_name + ".crt"));
  }
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl));
  return externalscaler::ExternalScaler::NewStub(channel);
}

grpc::Status get_metrics(externalscaler::ExternalScaler::Stub& stub, double* value) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  externalscaler::GetMetricsRequest request;
  *request.mutable_scaledobjectref() =
      prescale::test::scaled_object("payments", {{"metricName", "payments-rps-forecast"}});
  externalscaler::GetMetricsResponse response;
  auto status = stub.GetMetrics(&context, request, &response);
  if (status.ok()) *value = response.metricvalues(0).metricvaluefloat();
  return status;
}
}  // namespace

TEST_CASE("over mutual TLS only clients of the configured CA are served", "[keda][tls]") {
  Certificates certs;
  prescale::SnapshotStore store;
  store.publish(prescale::test::snapshot_with("payments-rps-forecast", "payments", 77));
  prescale::keda::ScalerOptions options;
  options.address = "127.0.0.1:0";
  options.cert_file = (certs.dir / "server.crt").string();
  options.key_file = (certs.dir / "server.key").string();
  options.client_ca_file = (certs.dir / "ca.crt").string();
  prescale::keda::ExternalScaler scaler(options, store);
  REQUIRE(scaler.start().has_value());

  double value = 0;
  auto trusted = client(certs, scaler.port(), "client-of-ca");
  REQUIRE(get_metrics(*trusted, &value).ok());
  CHECK(value == 77);

  auto stranger = client(certs, scaler.port(), "client-of-other-ca");
  CHECK_FALSE(get_metrics(*stranger, &value).ok());
  auto anonymous = client(certs, scaler.port(), "");
  CHECK_FALSE(get_metrics(*anonymous, &value).ok());
}

TEST_CASE("missing TLS files are errors that name the file", "[keda][tls]") {
  prescale::SnapshotStore store;
  prescale::keda::ScalerOptions options;
  options.address = "127.0.0.1:0";
  options.cert_file = "/nonexistent/tls.crt";
  options.key_file = "/nonexistent/tls.key";
  prescale::keda::ExternalScaler scaler(options, store);
  auto started = scaler.start();
  REQUIRE_FALSE(started.has_value());
  CHECK_THAT(started.error().message, Catch::Contains("/nonexistent/tls.crt"));

  options.key_file.clear();
  prescale::keda::ExternalScaler half(options, store);
  auto half_started = half.start();
  REQUIRE_FALSE(half_started.has_value());
  CHECK_THAT(half_started.error().message, Catch::Contains("keyFile"));
}

TEST_CASE("a key that is not the certificate's is refused, naming both files", "[keda][tls]") {
  Certificates certs;
  prescale::SnapshotStore store;
  prescale::keda::ScalerOptions options;
  options.address = "127.0.0.1:0";
  options.cert_file = (certs.dir / "server.crt").string();
  options.key_file = (certs.dir / "client-of-ca.key").string();
  prescale::keda::ExternalScaler scaler(options, store);
  auto started = scaler.start();
  REQUIRE_FALSE(started.has_value());
  CHECK_THAT(started.error().message,
             Catch::Contains("client-of-ca.key") && Catch::Contains("is not the key of certFile"));
}
