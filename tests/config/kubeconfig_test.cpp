// Kubeconfig files as kubectl reads them (client-go's clientcmd): the
// current context or a named one, paths relative to the file, the *-data
// fields in base64, and what prescale refuses by name.
#include "prescale/config/kubeconfig.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "test_support.hpp"

using prescale::config::read_kubeconfig;

namespace {

const char* kConfig = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: pki/ca.crt
- name: prod
  cluster:
    server: https://prod.example:443
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    insecure-skip-tls-verify: false
users:
- name: dev
  user:
    client-certificate: /abs/dev.crt
    client-key: keys/dev.key
- name: prod
  user:
    token: abc.def
    client-certificate-data: YQ==
    client-key-data: YWI=
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: prod
  context: {cluster: prod, user: prod}
)";

std::string write(const prescale::test::TempDir& dir, const std::string& text) {
  const auto path = dir.path / "config";
  std::ofstream(path) << text;
  return path.string();
}

std::string error_of(const std::string& file, std::string_view context = {}) {
  auto read = read_kubeconfig(file, context);
  return read ? std::string("no error") : read.error().message;
}

}  // namespace

TEST_CASE("kubeconfig: the current context, paths relative to the file", "[config][kubeconfig]") {
  prescale::test::TempDir dir("prescale-kubeconfig");
  const auto file = write(dir, kConfig);
  auto dev = read_kubeconfig(file);
  REQUIRE(dev.has_value());
  CHECK(dev->context == "dev");
  CHECK(dev->server == "https://10.0.0.1:6443");  // trailing slash dropped
  CHECK(dev->ca_file == (dir.path / "pki/ca.crt").string());
  CHECK(dev->client_certificate_file == "/abs/dev.crt");
  CHECK(dev->client_key_file == (dir.path / "keys/dev.key").string());
  CHECK(dev->token.empty());
}

TEST_CASE("kubeconfig: a named context and the *-data fields", "[config][kubeconfig]") {
  prescale::test::TempDir dir("prescale-kubeconfig");
  auto prod = read_kubeconfig(write(dir, kConfig), "prod");
  REQUIRE(prod.has_value());
  CHECK(prod->server == "https://prod.example:443");
  CHECK(prod->ca_pem == "-----BEGIN CERTIFICATE-----\n");
  CHECK(prod->client_certificate_pem == "a");  // one padding character, then two
  CHECK(prod->client_key_pem == "ab");
  CHECK(prod->token == "abc.def");
  CHECK_FALSE(prod->insecure_skip_tls_verify);
}

TEST_CASE("kubeconfig: what is wrong is named", "[config][kubeconfig]") {
  prescale::test::TempDir dir("prescale-kubeconfig");
  const std::string config = kConfig;
  const auto with = [&](const std::string& from, const std::string& to) {
    std::string text = config;
    text.replace(text.find(from), from.size(), to);
    return write(dir, text);
  };
  CHECK_THAT(error_of(write(dir, kConfig), "staging"),
             Catch::Contains("no context named 'staging'"));
  CHECK_THAT(error_of(with("current-context: dev\n", "")),
             Catch::Contains("current-context is not set"));
  CHECK_THAT(error_of(with("client-key-data: YWI=", "client-key-data: Y*I="), "prod"),
             Catch::Contains("users[prod].client-key-data: not valid base64"));
  CHECK_THAT(error_of(with("client-key-data: YWI=", "client-key-data: YWI"), "prod"),
             Catch::Contains("users[prod].client-key-data"));
  CHECK_THAT(error_of(with("client-key-data: YWI=", "client-key-data: Y=WI"), "prod"),
             Catch::Contains("not valid base64"));
  CHECK_THAT(error_of(with("    client-key: keys/dev.key\n", "")),
             Catch::Contains("users[dev]") && Catch::Contains("needs its key"));
  CHECK_THAT(error_of(with("    certificate-authority: pki/ca.crt\n",
                           "    certificate-authority: pki/ca.crt\n    tls-server-name: api\n")),
             Catch::Contains("clusters[dev].tls-server-name is not supported"));
  CHECK_THAT(error_of(with("    client-certificate: /abs/dev.crt\n    client-key: keys/dev.key\n",
                           "    exec: {command: aws}\n")),
             Catch::Contains("users[dev].exec is not supported (credential plugins are not run)"));
  CHECK_THAT(error_of(with("    client-certificate: /abs/dev.crt\n    client-key: keys/dev.key\n",
                           "    username: admin\n    password: secret\n")),
             Catch::Contains("basic authentication"));
  CHECK_THAT(
      error_of(with("context: {cluster: dev, user: dev}", "context: {cluster: qa, user: dev}")),
      Catch::Contains("names cluster 'qa'"));
  CHECK_THAT(error_of(with("current-context: dev\n", "current-context: [dev\n")),
             Catch::Contains("not YAML"));
  CHECK_THAT(error_of((dir.path / "absent").string()), Catch::Contains("cannot read it"));
}
