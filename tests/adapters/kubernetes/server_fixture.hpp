#pragma once
// The API server's test fixture: a PKI made with the openssl CLI (serving,
// front-proxy, client and stranger CAs), a snapshot with one metric, and
// curl / kubectl as clients.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "prescale/kubernetes/server.hpp"

namespace prescale::kubernetes::test {

namespace fs = std::filesystem;

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

/// What curl got: the HTTP status (0: no response) and the body.
struct HttpResult {
  int http_status = 0;
  std::string output;
};

inline CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// A CA and certificates signed by it, made with the openssl CLI (EC P-256
// keys: quick to generate).
class Pki {
 public:
  explicit Pki(fs::path dir) : dir_(std::move(dir)) {}

  void make_ca(const std::string& name) {
    openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=" +
            name + "-ca -keyout " + key(name) + " -out " + cert(name));
  }
  // subject like "/CN=alice/O=team-a"; usage "serverAuth" or "clientAuth".
  void make_cert(const std::string& name, const std::string& ca, const std::string& subject,
                 const std::string& usage, const std::string& san = "") {
    const auto ext = dir_ / (name + ".ext");
    write_file(ext, "extendedKeyUsage=" + usage + "\nkeyUsage=digitalSignature,keyEncipherment\n" +
                        (san.empty() ? "" : "subjectAltName=" + san + "\n"));
    openssl("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj " + subject +
            " -keyout " + key(name) + " -out " + (dir_ / (name + ".csr")).string());
    openssl("x509 -req -days 2 -in " + (dir_ / (name + ".csr")).string() + " -CA " + cert(ca) +
            " -CAkey " + key(ca) + " -CAcreateserial -out " + cert(name) + " -extfile " +
            ext.string());
  }
  std::string cert(const std::string& name) const { return (dir_ / (name + ".crt")).string(); }
  std::string key(const std::string& name) const { return (dir_ / (name + ".key")).string(); }

 private:
  void openssl(const std::string& args) const {
    const auto result = run("openssl " + args + " 2>&1");
    INFO(result.output);
    REQUIRE(result.exit_code == 0);
  }
  fs::path dir_;
};

struct Fixture {
  fs::path dir;
  std::unique_ptr<Pki> pki;
  SnapshotStore store;

  Fixture() {
    char pattern[] = "/tmp/prescale-server-test-XXXXXX";
    REQUIRE(::mkdtemp(pattern) != nullptr);
    dir = pattern;
    pki = std::make_unique<Pki>(dir);
    pki->make_ca("serving");
    pki->make_cert(
        "server", "serving", "/CN=prescale.prescale.svc", "serverAuth",
        "DNS:prescale.prescale.svc,DNS:prescale.prescale.svc.cluster.local,IP:127.0.0.1");
    pki->make_ca("front-proxy");
    pki->make_cert("front-proxy-client", "front-proxy", "/CN=front-proxy-client", "clientAuth");
    pki->make_cert("front-proxy-intruder", "front-proxy", "/CN=someone-else", "clientAuth");
    pki->make_ca("client");
    pki->make_cert("alice", "client", "/CN=alice/O=team-a", "clientAuth");
    pki->make_cert("carol", "client", "/CN=carol/O=team-c", "clientAuth");
    pki->make_cert("admin", "client", "/CN=admin/O=system:masters", "clientAuth");
    pki->make_ca("other");
    pki->make_cert("other-proxy", "other", "/CN=front-proxy-client", "clientAuth");

    auto snapshot = std::make_shared<Snapshot>();
    snapshot->ready = true;
    snapshot->generated_unix = 1767623400;
    snapshot->metrics.push_back(
        {"orders-rps", "shop", {{"target", "orders"}}, 1234.5678, 1767623400, 60, "orders"});
    snapshot->metrics.push_back(
        {"orders-rps-replicas", "shop", {{"target", "orders"}}, 2000, 1767623400, 60, "orders"});
    TargetStatus status;
    status.target = "orders";
    status.observed = 1000;
    status.forecast = 1234.5678;
    status.served = 1234.5678;
    status.fit_seconds = 0.25;
    snapshot->targets.push_back(status);
    store.publish(snapshot);
  }
  ~Fixture() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  ServerOptions options() const {
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.cert_file = pki->cert("server");
    o.key_file = pki->key("server");
    o.requestheader_client_ca_file = pki->cert("front-proxy");
    o.requestheader_allowed_names = {"front-proxy-client"};
    o.client_ca_file = pki->cert("client");
    o.authorization.mode = AuthorizationOptions::Mode::always_allow;
    o.certificate_reload_interval = std::chrono::milliseconds(100);
    return o;
  }

  // curl's HTTP status and body; `client` names a cert/key pair or is empty.
  HttpResult curl(int port, const std::string& path, const std::string& client,
                  const std::string& headers = "", const std::string& ca = "serving") const {
    std::string command = "curl -sS --max-time 10 -w '\\n%{http_code}' --cacert " + pki->cert(ca);
    if (!client.empty()) command += " --cert " + pki->cert(client) + " --key " + pki->key(client);
    command += " " + headers + " 'https://127.0.0.1:" + std::to_string(port) + path + "' 2>&1";
    auto result = run(command);
    const auto newline = result.output.rfind('\n');
    HttpResult out;
    out.http_status =
        newline == std::string::npos ? 0 : std::atoi(result.output.c_str() + newline + 1);
    out.output = newline == std::string::npos ? result.output : result.output.substr(0, newline);
    return out;
  }

  CommandResult kubectl(int port, const std::string& user, const std::string& path) const {
    return run("KUBECONFIG=" + (dir / "none").string() + " kubectl --server https://127.0.0.1:" +
               std::to_string(port) + " --certificate-authority " + pki->cert("serving") +
               " --client-certificate " + pki->cert(user) + " --client-key " + pki->key(user) +
               " get --raw '" + path + "' 2>&1");
  }
};

inline const std::string kBase = "/apis/external.metrics.k8s.io/v1beta1";
inline const std::string kMetric =
    kBase + "/namespaces/shop/orders-rps?labelSelector=target%3Dorders";

// A tuning's figures as Twitter GOOG's last refit had them (34.2 days of
// decisions; the reactive HPA tuned the same way misses the SLO).
inline SloFigures tuned_slo_figures() {
  SloFigures figures;
  figures.days = 34.2;
  figures.allowed_minutes = 49.25;
  figures.tuned_for_minutes = 24.5;
  figures.meets_slo = true;
  figures.short_minutes = 24;
  figures.replica_hours = 25466;
  figures.reactive_swept = true;
  figures.reactive_meets_slo = false;
  figures.reactive_short_minutes = 63;
  figures.reactive_replica_hours = 34775;
  // Served for the last 12.5 days (a restart before them), beside a
  // reactive HPA retuned at the same refits.
  figures.served_days = 12.5;
  figures.served_allowed_minutes = 18;
  figures.served_short_minutes = 31;
  figures.served_replica_hours = 9400;
  figures.served_reactive = true;
  figures.served_reactive_short_minutes = 40;
  figures.served_reactive_replica_hours = 12300;
  return figures;
}

}  // namespace prescale::kubernetes::test
