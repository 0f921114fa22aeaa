// `prescale status` run as a user runs it against the real HTTPS server:
// --since summarises the decision records of the window (served by the
// server's /decisions from a DecisionRing, as the daemon wires it), and the
// caller authenticates with a bearer token from a file (--token-file),
// reviewed by a kube-apiserver stand-in, or with a client certificate.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <string>

#include "../adapters/kubernetes/apiserver_standin.hpp"
#include "../adapters/kubernetes/delegation.hpp"
#include "../adapters/kubernetes/server_fixture.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/kubernetes/server.hpp"
#include "test_support.hpp"

using namespace prescale;
using namespace prescale::kubernetes;
using namespace prescale::kubernetes::test;

namespace {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

autoscaler::DecisionRecord record(std::int64_t time, autoscaler::DecisionKind kind,
                                  const std::string& reason, double served) {
  autoscaler::DecisionRecord r;
  r.time_unix = time;
  r.target = "orders";
  r.kind = kind;
  r.reason = reason;
  r.served = served;
  r.observed = served;
  r.forecast = served;
  return r;
}

// The decisions of the last days of one target, oldest first.
void add_history(autoscaler::DecisionRing& ring, std::int64_t now) {
  using K = autoscaler::DecisionKind;
  auto first = record(now - 3 * 86400, K::refit, "first fit", 900);
  first.model = "seasonal-naive";
  auto refit = record(now - 3 * 3600, K::refit, "refit (scheduled)", 1000);
  refit.model = "holt-winters(A,N,A;1440)";
  refit.backtest_mase = 0.7;
  auto fallback =
      record(now - 90 * 60, K::fallback, "fallback: data stale: newest sample is 900s old", 1100);
  fallback.fallback_reason = "data stale: newest sample is 900s old";
  auto drift = record(now - 30 * 60, K::refit, "refit (drift)", 1200);
  drift.model = "arima(1,0,1)+fourier";
  drift.backtest_mase = 0.55;
  ring.add({first, refit, record(now - 2 * 3600, K::change, "seasonal peak at 10:00", 1500),
            fallback, record(now - 60 * 60, K::recovered, "forecasting again", 1000), drift,
            record(now - 20 * 60, K::anomaly, "observed above the interval for 3 steps", 1250)});
}

struct Run {
  int exit_code;
  std::string out;
};

Run prescale_status(const std::string& args) {
  const auto result = run(prescale::test::prescale_bin().string() + " status " + args + " 2>&1");
  return {result.exit_code, result.output};
}

}  // namespace

TEST_CASE("prescale status --since summarises what changed; --token-file authenticates",
          "[cli][status][integration]") {
  Fixture fixture;
  ReviewServer apiserver(fixture.pki->cert("server"), fixture.pki->key("server"));
  auto options = delegated(fixture, write_kubeconfig(fixture, apiserver.port), Tokens::reviewed);
  autoscaler::DecisionRing ring;
  const std::int64_t now = now_unix();
  add_history(ring, now);
  options.decisions = [&ring](std::string_view target, std::int64_t since) {
    return ring.query_json(target, since);
  };
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  write_file(fixture.dir / "token", "alice-token\n");
  const std::string daemon = "--server https://127.0.0.1:" + std::to_string(server.port()) +
                             " --cacert " + fixture.pki->cert("serving");

  const auto day =
      prescale_status(daemon + " --token-file " + (fixture.dir / "token").string() + " --since 1d");
  INFO(day.out);
  REQUIRE(day.exit_code == 0);
  CHECK_THAT(day.out, Catch::Contains("1 targets; changes since "));
  CHECK_THAT(day.out, Catch::Contains("(1d)"));
  // The record three days old is outside the window.
  CHECK_THAT(day.out,
             Catch::Contains("decisions      6 (1 anomaly, 1 change, 1 fallback, 1 recovered, "
                             "2 refit)"));
  CHECK_THAT(day.out, Catch::Contains("refits         2: holt-winters(A,N,A;1440) -> "
                                      "arima(1,0,1)+fourier (MASE 0.700 -> 0.550)"));
  CHECK_THAT(day.out, Catch::Contains("fallback       1 time(s), 30m in all: data stale x1"));
  CHECK_THAT(day.out, Catch::Contains("anomalies      1 (0 taken as a new normal)"));
  CHECK_THAT(day.out, Catch::Contains("served range   1000 .. 1500"));
  CHECK_THAT(day.out, Catch::Contains("refit       refit (drift)"));

  const auto week = prescale_status(daemon + " --token alice-token --since 7d --json");
  INFO(week.out);
  REQUIRE(week.exit_code == 0);
  const auto body = nlohmann::json::parse(week.out);
  CHECK(body["decisions"].size() == 7);
  CHECK(body["status"]["targets"][0]["target"] == "orders");

  // A client certificate works as before; no credentials say how to give them.
  const auto with_cert = prescale_status(daemon + " --cert " + fixture.pki->cert("alice") +
                                         " --key " + fixture.pki->key("alice"));
  CHECK(with_cert.exit_code == 0);
  CHECK_THAT(with_cert.out, Catch::Contains("orders  forecasting"));
  const auto anonymous = prescale_status(daemon);
  CHECK(anonymous.exit_code != 0);
  CHECK_THAT(anonymous.out, Catch::Contains("HTTP 401 Unauthorized"));
  CHECK_THAT(anonymous.out, Catch::Contains("--token-file"));
  // A token the apiserver rejects, and a user it does not allow.
  CHECK_THAT(prescale_status(daemon + " --token stolen").out, Catch::Contains("HTTP 401"));
  CHECK_THAT(prescale_status(daemon + " --token carol-token").out, Catch::Contains("HTTP 403"));
  // Bad usage is named.
  const auto both = prescale_status(daemon + " --token a --token-file b");
  CHECK(both.exit_code != 0);
  CHECK_THAT(both.out, Catch::Contains("--token"));
  const auto bad_window = prescale_status(daemon + " --token alice-token --since yesterday");
  CHECK(bad_window.exit_code != 0);
  CHECK_THAT(bad_window.out, Catch::Contains("--since"));
}
