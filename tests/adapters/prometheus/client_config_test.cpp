// prometheus::client_options: every setting of a `prometheus:` section reaches
// the client (serve and the commands both build their client with it).
#include <catch2/catch.hpp>

#include <fstream>

#include "prescale/config/config.hpp"
#include "prescale/prometheus/client_config.hpp"
#include "test_support.hpp"

using namespace prescale;
using namespace std::chrono_literals;

TEST_CASE("each prometheus: setting reaches the client", "[prometheus][config]") {
  test::TempDir dir("prescale-client-options");
  const auto password = dir.path / "password";
  std::ofstream(password) << " pass word \r\n";
  config::PrometheusConfig p;
  p.url = "https://mimir.example/prometheus";
  p.timeout_seconds = 3;
  p.bearer_token_file = "/var/run/token";
  p.basic_auth_username = "prescale";
  p.basic_auth_password_file = password.string();
  p.headers = {{"X-Scope-OrgID", "team-a"}, {"X-Other", "b"}};
  p.ca_file = "/etc/ca.pem";
  p.insecure_skip_verify = true;
  p.max_reply_bytes = 1 << 20;
  const auto client = prometheus::client_options(p);
  REQUIRE(client.has_value());
  CHECK(client->url == p.url);
  CHECK(client->total_timeout == 3s);
  CHECK(client->connect_timeout == 3s);  // never longer than the whole attempt
  CHECK(client->bearer_token_file == "/var/run/token");
  CHECK(client->basic_auth_user == "prescale");
  CHECK(client->basic_auth_password == " pass word ");  // the line end only is dropped
  CHECK(client->headers ==
        std::vector<prometheus::Header>{{"X-Other", "b"}, {"X-Scope-OrgID", "team-a"}});
  CHECK(client->ca_file == "/etc/ca.pem");
  CHECK(client->insecure_skip_verify);
  CHECK(client->max_reply_bytes == 1u << 20);
  // Retries are the caller's (the daemon's 2, a command's --retries + 1).
  CHECK(client->retry.max_attempts == prometheus::RetryPolicy{}.max_attempts);

  SECTION("defaults: a 5 s connect under the 30 s timeout, the config's 16 MiB reply limit") {
    const auto defaults = prometheus::client_options(config::PrometheusConfig{});
    REQUIRE(defaults.has_value());
    CHECK(defaults->url == "http://127.0.0.1:9090");
    CHECK(defaults->total_timeout == 30s);
    CHECK(defaults->connect_timeout == 5s);
    CHECK(defaults->max_reply_bytes == 16u * 1024 * 1024);
    CHECK(defaults->basic_auth_user.empty());
    CHECK(defaults->headers.empty());
    CHECK_FALSE(defaults->insecure_skip_verify);
  }
  SECTION("an unreadable password file is an error naming it") {
    p.basic_auth_password_file = (dir.path / "missing").string();
    const auto failed = prometheus::client_options(p);
    REQUIRE_FALSE(failed.has_value());
    CHECK_THAT(failed.error().message,
               Catch::StartsWith("cannot read " + (dir.path / "missing").string()));
  }
}
