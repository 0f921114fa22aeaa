// Bearer tokens as Kubernetes clients send them (kubectl --token, curl with
// the header), checked with TokenReviews by a kube-apiserver stand-in, then
// authorized as their user with SubjectAccessReviews. The header cases are
// those of k8s.io/apiserver/pkg/authentication/request/bearertoken
// (bearertoken_test.go: TestAuthenticateRequestBadValue,
// TestAuthenticateRequestIncludingValueAfterToken, TestBearerToken).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "apiserver_standin.hpp"
#include "delegation.hpp"
#include "prescale/kubernetes/server.hpp"
#include "server_fixture.hpp"

using namespace prescale;
using namespace prescale::kubernetes;
using namespace prescale::kubernetes::test;
using nlohmann::json;

namespace {

CommandResult kubectl_token(const Fixture& fixture, int port, const std::string& token,
                            const std::string& path) {
  return run("KUBECONFIG=" + (fixture.dir / "none").string() +
             " kubectl --server https://127.0.0.1:" + std::to_string(port) +
             " --certificate-authority " + fixture.pki->cert("serving") + " --token " + token +
             " get --raw '" + path + "' 2>&1");
}

std::string bearer(const std::string& value) {
  return "-H 'Authorization: " + value + "'";
}

}  // namespace

TEST_CASE("kubectl --token: a TokenReview names the user, a SubjectAccessReview authorizes it",
          "[server][integration][token]") {
  Fixture fixture;
  ReviewServer apiserver(fixture.pki->cert("server"), fixture.pki->key("server"));
  auto options = delegated(fixture, write_kubeconfig(fixture, apiserver.port), Tokens::reviewed);
  // The review counts below must not depend on how fast a loaded machine runs.
  options.token_review.success_ttl = std::chrono::hours(1);
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  const auto read = kubectl_token(fixture, port, "alice-token", kMetric);
  INFO(read.output);
  REQUIRE(read.exit_code == 0);
  CHECK(json::parse(read.output)["items"][0]["metricName"] == "orders-rps");
  {
    std::lock_guard lock(apiserver.mutex);
    // The TokenReview as Kubernetes' webhook token authenticator sends it.
    CHECK(apiserver.last_token_review ==
          json::parse(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",
                          "spec":{"token":"alice-token"}})"));
    // The reviewed identity is what the SubjectAccessReview asks about.
    const auto& spec = apiserver.last_review["spec"];
    CHECK(spec["user"] == "alice");
    CHECK(spec["uid"] == "alice-uid");
    CHECK(spec["groups"] == json::parse(R"(["team-a","system:authenticated"])"));
    CHECK(spec["extra"] ==
          json::parse(R"({"authentication.kubernetes.io/pod-name":["runner-7f9c"]})"));
  }

  // Answers are cached: the same token is not reviewed again.
  const int reviewed = apiserver.token_reviews.load();
  CHECK(fixture.curl(port, kMetric, "", bearer("Bearer alice-token")).http_status == 200);
  CHECK(apiserver.token_reviews.load() == reviewed);

  // A token the apiserver does not know: 401, with kubectl's own wording.
  const auto expired = kubectl_token(fixture, port, "expired-token", kMetric);
  CHECK(expired.exit_code != 0);
  CHECK_THAT(expired.output, Catch::Contains("Unauthorized"));
  const auto refused = fixture.curl(port, kMetric, "", bearer("Bearer expired-token"));
  CHECK(refused.http_status == 401);
  CHECK(json::parse(refused.output)["reason"] == "Unauthorized");

  // Authenticated but not allowed: 403 naming the token's user.
  const auto denied = fixture.curl(port, kMetric, "", bearer("Bearer carol-token"));
  CHECK(denied.http_status == 403);
  CHECK_THAT(json::parse(denied.output)["message"].get<std::string>(),
             Catch::StartsWith("orders-rps.external.metrics.k8s.io is forbidden: User \"carol\""));

  // /status and /decisions take the same tokens (prescale status --token).
  CHECK(fixture.curl(port, "/status", "", bearer("Bearer alice-token")).http_status == 200);
  CHECK(fixture.curl(port, "/status", "", bearer("Bearer carol-token")).http_status == 403);
}

TEST_CASE("Authorization headers are read as kube-apiserver reads them",
          "[server][integration][token]") {
  Fixture fixture;
  ReviewServer apiserver(fixture.pki->cert("server"), fixture.pki->key("server"));
  auto options = delegated(fixture, write_kubeconfig(fixture, apiserver.port), Tokens::reviewed);
  // The review counts below must not depend on how fast a loaded machine runs.
  options.token_review.success_ttl = std::chrono::hours(1);
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const int port = server.port();

  // TestAuthenticateRequestIncludingValueAfterToken: what follows the token is ignored.
  for (const std::string value :
       {"Bearer alice-token", "bearer alice-token", "Bearer alice-token a",
        "Bearer alice-token a b c", "Bearer alice-token   a"}) {
    INFO(value);
    CHECK(fixture.curl(port, kMetric, "", bearer(value)).http_status == 200);
  }
  CHECK(apiserver.token_reviews.load() == 1);  // one token, reviewed once

  // TestAuthenticateRequestBadValue and TestBearerToken: no token at all,
  // so no review is asked for and the request is anonymous (401).
  for (const std::string value : {"Bearer", "bear alice-token", "Bearer: alice-token", "Basic 123",
                                  "Bearer ", "Bearer  alice-token"}) {
    INFO(value);
    CHECK(fixture.curl(port, kMetric, "", bearer(value)).http_status == 401);
  }
  CHECK(fixture.curl(port, kMetric, "").http_status == 401);
  CHECK(apiserver.token_reviews.load() == 1);

  // A client certificate authenticates first; the token is then not looked at.
  CHECK(fixture.curl(port, kMetric, "alice", bearer("Bearer unknown-token")).http_status == 200);
  CHECK(apiserver.token_reviews.load() == 1);
}

TEST_CASE("tokens are refused when token review is off", "[server][integration][token]") {
  Fixture fixture;
  Server server(fixture.options(), fixture.store);  // always-allow, no token review
  REQUIRE(server.start().has_value());
  CHECK(fixture.curl(server.port(), kMetric, "", bearer("Bearer alice-token")).http_status == 401);
  CHECK(fixture.curl(server.port(), kMetric, "alice").http_status == 200);
}

TEST_CASE("an apiserver that cannot review a token is a 500 naming it, never an allow",
          "[server][integration][token]") {
  Fixture fixture;
  const int closed = closed_port();
  Server server(delegated(fixture, write_kubeconfig(fixture, closed), Tokens::reviewed),
                fixture.store);
  REQUIRE(server.start().has_value());
  const auto result = fixture.curl(server.port(), kMetric, "", bearer("Bearer alice-token"));
  CHECK(result.http_status == 500);
  const json status = json::parse(result.output);
  CHECK(status["reason"] == "InternalError");
  CHECK_THAT(status["message"].get<std::string>(),
             Catch::Contains("127.0.0.1:" + std::to_string(closed)));
}

TEST_CASE("the daemon's own token file is re-read: a rotated token is used at the next review",
          "[server][integration][token]") {
  Fixture fixture;
  ReviewServer apiserver(fixture.pki->cert("server"), fixture.pki->key("server"));
  const auto token_file = fixture.dir / "sa-token";
  write_file(token_file, "old-token\n");
  Server server(delegated(fixture, write_kubeconfig(fixture, apiserver.port, token_file.string()),
                          Tokens::reviewed),
                fixture.store);
  REQUIRE(server.start().has_value());

  // The apiserver refuses the old credential: the review fails (500, not cached).
  const auto stale = fixture.curl(server.port(), kMetric, "", bearer("Bearer alice-token"));
  CHECK(stale.http_status == 500);
  CHECK_THAT(json::parse(stale.output)["message"].get<std::string>(), Catch::Contains("HTTP 401"));
  // The kubelet rotates the projected token: the next request uses the new one.
  write_file(token_file, "test-token\n");
  CHECK(fixture.curl(server.port(), kMetric, "", bearer("Bearer alice-token")).http_status == 200);
}
