#include "prescale/daemon/demo.hpp"

#include <fmt/core.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/calendar/time_zone.hpp"
#include "prescale/simulate/replay.hpp"

namespace prescale::daemon {

using namespace autoscaler;

namespace {

struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertDeleter {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

Key make_key() {
  return Key(EVP_EC_gen("P-256"));
}

bool add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (!ext) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// One certificate: self-signed when issuer is null.
Cert make_cert(EVP_PKEY* key, const std::string& cn, const std::string& org, long serial,
               X509* issuer, EVP_PKEY* issuer_key, bool ca, const char* san, const char* usage) {
  Cert cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!org.empty())
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = add_extension(cert.get(), signer, NID_basic_constraints,
                          ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  ok = ok && add_extension(
                 cert.get(), signer, NID_key_usage,
                 ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
  ok = ok && add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (usage) ok = ok && add_extension(cert.get(), signer, NID_ext_key_usage, usage);
  if (san) ok = ok && add_extension(cert.get(), signer, NID_subject_alt_name, san);
  if (!ok || X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0)
    return nullptr;
  return cert;
}

bool write_pem(const std::filesystem::path& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  const bool ok = cert ? PEM_write_X509(f, cert) == 1
                       : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  std::fclose(f);
  if (key)
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return ok;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// The target's `slo:` line for --slo: the HPA reads the served value alone
// (its observed-load metric at capacity, the default reactiveTargetPercent).
std::string slo_yaml(const std::optional<double>& percent) {
  if (!percent) return "";
  return fmt::format(
      "    slo: {{maxShortPercent: {}}}   # tuned on its own decisions: docs/targets.md\n",
      *percent);
}

}  // namespace

Expected<DemoCertificates> write_demo_certificates(const std::filesystem::path& dir,
                                                   const std::string& client_user,
                                                   const std::string& client_group) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  Key ca_key = make_key(), server_key = make_key(), client_key = make_key();
  if (!ca_key || !server_key || !client_key)
    return make_error("OpenSSL: cannot generate EC P-256 keys");
  Cert ca =
      make_cert(ca_key.get(), "prescale-demo-ca", "", 1, nullptr, nullptr, true, nullptr, nullptr);
  if (!ca) return make_error("OpenSSL: cannot make the demo CA certificate");
  Cert server = make_cert(server_key.get(), "localhost", "", 2, ca.get(), ca_key.get(), false,
                          "DNS:localhost,IP:127.0.0.1", "serverAuth");
  Cert client = make_cert(client_key.get(), client_user, client_group, 3, ca.get(), ca_key.get(),
                          false, nullptr, "clientAuth");
  if (!server || !client) return make_error("OpenSSL: cannot sign the demo certificates");
  DemoCertificates out{dir / "ca.crt", dir / "server.crt", dir / "server.key", dir / "client.crt",
                       dir / "client.key"};
  if (!write_pem(out.ca_cert, ca.get(), nullptr) ||
      !write_pem(out.server_cert, server.get(), nullptr) ||
      !write_pem(out.server_key, nullptr, server_key.get()) ||
      !write_pem(out.client_cert, client.get(), nullptr) ||
      !write_pem(out.client_key, nullptr, client_key.get()))
    return make_error(fmt::format("cannot write the certificates into {}", dir.string()));
  return out;
}

Demo::Demo(DemoOptions options) : options_(std::move(options)) {
  // Five weeks of history, then two days the accelerated clock reveals.
  TraceOptions trace;
  trace.days = options_.history_days + 2;
  trace.step_seconds = options_.step_seconds;
  auto generated = generate_trace(trace);
  if (!generated) throw std::runtime_error("demo trace: " + generated.error().message);
  trace_ = std::move(*generated);

  auto certs = write_demo_certificates(options_.work_dir);
  if (!certs) throw std::runtime_error("demo certificates: " + certs.error().message);
  certificates_ = *certs;

  // The replay starts on a Monday at 06:00 New York time (the trace starts
  // at midnight there), so the 09:30 market-open burst comes early on.
  // Local time: five weeks later the clocks may have changed (DST).
  const auto zone = calendar::TimeZone::find("America/New_York");
  if (!zone)
    throw std::runtime_error("demo: the tz database has no America/New_York (install tzdata)");
  const std::int64_t local_midnight = zone->to_local(trace_.start_unix) / 86400 * 86400;
  const std::int64_t start =
      zone->to_utc(local_midnight + options_.history_days * 86400 + 6 * 3600);
  clock_ = std::make_unique<AcceleratedClock>(static_cast<double>(start), options_.speed);

  config_path_ = options_.work_dir / "prescale-demo.yaml";
  write_file(config_path_,
             fmt::format(R"(# Written by `prescale demo`: the same schema as config/example.yaml.
# With --port 0 the demo listens on a free port (it prints which), not this one.
server:
  address: 127.0.0.1:{port}
  tlsCertFile: {cert}
  tlsKeyFile: {key}
  clientCAFile: {ca}
  authorization: {{mode: always-allow}}
targets:
  - metric: payments-rps-forecast
    namespace: payments
    labels: {{app: payments}}
    query: payments_requests_per_second   # answered by the bundled trace, not Prometheus
    step: {step}
    history: {history}d
    timezone: America/New_York
    seasonality: [1d, 1w]
    model: auto
    leadTime: 15m
    quantile: 0.9
    capacityPerReplica: 120
    minReplicas: 2
    maxReplicas: 200
    refitInterval: 6h
    calendars: [nyse, payroll, settlement]   # the trace's events, as config/calendars/payments.yaml
{slo}{calendars})",
                         fmt::arg("port", options_.port != 0 ? options_.port : 6443),
                         fmt::arg("cert", certificates_.server_cert.string()),
                         fmt::arg("key", certificates_.server_key.string()),
                         fmt::arg("ca", certificates_.ca_cert.string()),
                         fmt::arg("step", fmt::format("{}s", options_.step_seconds)),
                         fmt::arg("history", options_.history_days),
                         fmt::arg("slo", slo_yaml(options_.slo_percent)),
                         fmt::arg("calendars", payments_calendars_yaml())));

  DaemonOptions daemon;
  daemon.config_path = config_path_;
  daemon.listen_port = options_.port;
  daemon.log = options_.log;
  daemon.clock = clock_.get();
  const forecast::Series* series = &trace_;
  const Clock* clock = clock_.get();
  daemon.sources =
      [series, clock](const config::TargetConfig&) -> Expected<std::unique_ptr<source::Source>> {
    return std::unique_ptr<source::Source>(std::make_unique<simulate::RecordedSource>(
        *series, *clock, "bundled payments trace (prescale generate --kind payments)"));
  };
  daemon_ = std::make_unique<Daemon>(std::move(daemon));
}

Demo::~Demo() {
  stop();
}

Status Demo::start() {
  auto started = daemon_->start();
  if (!started) return started;
  kubeconfig_path_ = options_.work_dir / "kubeconfig";
  write_file(kubeconfig_path_, fmt::format(R"(apiVersion: v1
kind: Config
clusters:
  - name: prescale-demo
    cluster: {{server: "https://127.0.0.1:{port}", certificate-authority: "{ca}"}}
users:
  - name: prescale-demo
    user: {{client-certificate: "{cert}", client-key: "{key}"}}
contexts:
  - name: prescale-demo
    context: {{cluster: prescale-demo, user: prescale-demo}}
current-context: prescale-demo
)",
                                           fmt::arg("port", daemon_->port()),
                                           fmt::arg("ca", certificates_.ca_cert.string()),
                                           fmt::arg("cert", certificates_.client_cert.string()),
                                           fmt::arg("key", certificates_.client_key.string())));
  return Status::ok();
}

void Demo::stop() {
  if (daemon_) daemon_->stop();
}

DemoDeployment Demo::deployment() const {
  // As the config written above: capacityPerReplica 120, replicas 2-200,
  // leadTime 15m = pod start-up + the HPA's 15 s sync + one step.
  DemoDeployment out;
  out.step_seconds = options_.step_seconds;
  out.capacity_per_replica = 120;
  out.min_replicas = 2;
  out.max_replicas = 200;
  out.startup_seconds = 15 * 60 - 15 - options_.step_seconds;
  return out;
}

int Demo::port() const {
  return daemon_->port();
}
const Clock& Demo::clock() const {
  return *clock_;
}
const SnapshotStore& Demo::snapshots() const {
  return daemon_->snapshots();
}

std::string Demo::metric_path(bool replicas) const {
  return fmt::format(
      "/apis/external.metrics.k8s.io/v1beta1/namespaces/payments/payments-rps-forecast{}",
      replicas ? "-replicas" : "");
}

}  // namespace prescale::daemon
