// `prescale status` run as a user runs it against the real HTTPS server:
// --since summarises the decision records of the window (served by the
// server's /decisions from a DecisionRing, as the daemon wires it), and the
// caller authenticates with a bearer token from a file (--token-file),
// reviewed by a kube-apiserver stand-in, or with a client certificate. The
// shadow score comes from the step trail (GET /decisions?steps=1), fed with
// snapshots as the daemon's publisher feeds it. --kubeconfig is checked
// against kubectl reading the same files.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>

#include "../adapters/kubernetes/apiserver_standin.hpp"
#include "../adapters/kubernetes/delegation.hpp"
#include "../adapters/kubernetes/server_fixture.hpp"
#include "prescale/autoscaler/decisions.hpp"
#include "prescale/autoscaler/step_trail.hpp"
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
  // A target tuned for an SLO: its figures in one line, with what a
  // reactive HPA tuned the same way needed and the saving.
  {
    auto tuned = std::make_shared<Snapshot>(*fixture.store.current());
    auto& target = tuned->targets.at(0);
    target.slo = "SLO 0.1% of minutes short (margin 50%): quantile 0.99, headroom x2.94";
    target.slo_figures = tuned_slo_figures();
    fixture.store.publish(tuned);
    const auto slo = prescale_status(daemon + " --cert " + fixture.pki->cert("alice") + " --key " +
                                     fixture.pki->key("alice"));
    INFO(slo.out);
    CHECK(slo.exit_code == 0);
    CHECK_THAT(slo.out, Catch::Contains("slo            SLO 0.1% of minutes short"));
    CHECK_THAT(slo.out,
               Catch::Contains("slo cost       on 34.2 days of decisions: 25466 replica-hours, 24 "
                               "minutes short (49 allowed); a reactive HPA tuned the same way: "
                               "34775 replica-hours, 63 minutes short, missing the SLO (prescale "
                               "27 % fewer)"));
    // What the values served did, and that the SLO was missed as served.
    CHECK_THAT(slo.out, Catch::Contains("slo as served  on the 12.5 days served: 31 minutes short "
                                        "(18 allowed, SLO missed), 9400 replica-hours; a "
                                        "reactive HPA tuned the same way: 12300 replica-hours, "
                                        "40 minutes short, SLO missed (prescale 24 % fewer)"));
  }
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

namespace {

// An hour of one target at a 1-minute step with a 2-minute lead: load 100,
// a surge to 300 over steps 30-39 that the value served two steps earlier
// covers (320) but for step 39 (served 250 at step 37); the first two steps
// in fallback (first fit). Each surge sample lies above its one-step upper
// bound (250). By hand: 56 pairs scored (a forecast served 2 steps before a
// sample), 55 covered; MAE 45.18 on a mean load of 135.7; bias +32.0 %.
void add_trail(autoscaler::StepTrail& trail, std::int64_t now) {
  config::TargetConfig target;
  target.metric = "orders";
  target.step_seconds = 60;
  target.lead_time_seconds = 120;
  target.quantile = 0.9;
  target.capacity_per_replica = 100;
  target.min_replicas = 1;
  target.max_replicas = 20;
  const std::int64_t base = (now - 3600) / 60 * 60;
  for (int k = 0; k < 60; ++k) {
    Snapshot snapshot;
    snapshot.generated_unix = base + 60 * k + 30;
    TargetStatus status;
    status.target = "orders";
    status.observed = k >= 30 && k < 40 ? 300 : 100;
    status.data_age_seconds = 30;
    status.has_forecast = k >= 2;
    status.fallback_reason = k < 2 ? "fit pending: first fit in progress" : "";
    status.served = k < 2 ? 100 : (k >= 28 && k < 38 ? 320 : 150);
    if (k == 37) status.served = 250;
    status.interval_upper = k >= 30 && k < 40 ? 250 : 120;
    status.quantile = 0.9;
    snapshot.targets.push_back(status);
    trail.add(snapshot, {target});
  }
}

}  // namespace

TEST_CASE("prescale status --since scores the window: error, coverage, HPA replay",
          "[cli][status][integration]") {
  Fixture fixture;
  auto options = fixture.options();
  autoscaler::DecisionRing ring;
  autoscaler::StepTrail trail;
  const std::int64_t now = now_unix();
  add_history(ring, now);
  add_trail(trail, now);
  options.decisions = [&ring](std::string_view target, std::int64_t since) {
    return ring.query_json(target, since);
  };
  options.steps = [&trail](std::string_view target, std::int64_t since) {
    return trail.query_json(target, since);
  };
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const std::string daemon = "--server https://127.0.0.1:" + std::to_string(server.port()) +
                             " --cacert " + fixture.pki->cert("serving") + " --cert " +
                             fixture.pki->cert("alice") + " --key " + fixture.pki->key("alice");

  const auto text = prescale_status(daemon + " --since 2h");
  INFO(text.out);
  REQUIRE(text.exit_code == 0);
  CHECK_THAT(
      text.out,
      Catch::Contains("steps          60 recorded of 60 at 1m: 58 forecasting, 2 in fallback"));
  CHECK_THAT(text.out, Catch::Contains("vs actual      served 2m before each sample: MAE 45.18 "
                                       "(33.3 % of the mean load 135.7), bias +32.0 %"));
  CHECK_THAT(text.out, Catch::Contains("coverage       load at or under the value served: 98.2 % "
                                       "of 56 steps (quantile 0.9)"));
  CHECK_THAT(text.out, Catch::Contains("one-step       load at or under its one-step 0.9 "
                                       "quantile: 82.8 % of 58 samples"));
  CHECK_THAT(text.out, Catch::Contains("HPA replay     100 per pod, start-up 2m, replicas 1..20"));

  // The replay: the served value asks for the surge's pods before it comes.
  const auto json_run = prescale_status(daemon + " --since 2h --json --startup 3m");
  INFO(json_run.out);
  REQUIRE(json_run.exit_code == 0);
  const auto body = nlohmann::json::parse(json_run.out);
  const auto& score = body["scores"]["orders"];
  CHECK(score["scored_steps"] == 56);
  CHECK(score["coverage"].get<double>() == Approx(55.0 / 56));
  CHECK(score["hpa"]["startup_seconds"] == 180);
  const auto& reactive = score["hpa"]["observed_alone"];
  const auto& predictive = score["hpa"]["served_beside"];
  CHECK(reactive["short_minutes"].get<double>() > 0);
  CHECK(predictive["short_minutes"].get<double>() < reactive["short_minutes"].get<double>());
  CHECK(predictive["peak_replicas"].get<int>() >= 3);  // 300 at 100 a pod
  CHECK(predictive["replica_hours"].get<double>() > reactive["replica_hours"].get<double>());

  // --capacity-per-replica overrides the target's; --since narrows the trail.
  const auto override_run = prescale_status(daemon + " --since 2h --capacity-per-replica 50");
  CHECK_THAT(override_run.out, Catch::Contains("HPA replay     50 per pod"));
  const auto window = prescale_status(daemon + " --since 10m");
  INFO(window.out);
  CHECK_THAT(window.out, Catch::Contains(" recorded of "));
  CHECK_THAT(window.out, !Catch::Contains("60 recorded"));
  CHECK_THAT(prescale_status(daemon + " --since 2h --startup soon").out,
             Catch::Contains("--startup"));
}

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string base64(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += i + 1 < bytes.size() ? alphabet[n >> 6 & 63] : '=';
    out += i + 2 < bytes.size() ? alphabet[n & 63] : '=';
  }
  return out;
}

}  // namespace

TEST_CASE("prescale status --kubeconfig reads what kubectl reads", "[cli][status][integration]") {
  Fixture fixture;
  ReviewServer apiserver(fixture.pki->cert("server"), fixture.pki->key("server"));
  auto options = delegated(fixture, write_kubeconfig(fixture, apiserver.port), Tokens::reviewed);
  Server server(options, fixture.store);
  REQUIRE(server.start().has_value());
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());

  // Files, relative to the kubeconfig's directory (as kubectl resolves them),
  // a client certificate in one context and a token in another, and the
  // same material inline (*-data) in a third: the shapes kind, kubeadm and
  // the clouds write.
  const fs::path dir = fixture.dir / "home";
  fs::create_directories(dir / "certs");
  fs::copy_file(fixture.pki->cert("serving"), dir / "certs" / "ca.crt");
  fs::copy_file(fixture.pki->cert("alice"), dir / "certs" / "alice.crt");
  fs::copy_file(fixture.pki->key("alice"), dir / "certs" / "alice.key");
  write_file(dir / "alice.token", "alice-token\n");
  const std::string config =
      "apiVersion: v1\nkind: Config\ncurrent-context: alice-cert\n"
      "clusters:\n"
      "- name: prescale\n  cluster:\n    server: " +
      url +
      "/\n    certificate-authority: certs/ca.crt\n"
      "- name: prescale-inline\n  cluster:\n    server: " +
      url + "\n    certificate-authority-data: " + base64(read_all(fixture.pki->cert("serving"))) +
      "\nusers:\n"
      "- name: alice-cert\n  user:\n    client-certificate: certs/alice.crt\n"
      "    client-key: certs/alice.key\n"
      "- name: alice-token\n  user:\n    tokenFile: alice.token\n"
      "- name: alice-inline\n  user:\n    client-certificate-data: " +
      base64(read_all(fixture.pki->cert("alice"))) +
      "\n    client-key-data: " + base64(read_all(fixture.pki->key("alice"))) +
      "\n- name: eks\n  user:\n    exec:\n      apiVersion: "
      "client.authentication.k8s.io/v1beta1\n      command: aws\n"
      "contexts:\n"
      "- name: alice-cert\n  context: {cluster: prescale, user: alice-cert}\n"
      "- name: alice-token\n  context: {cluster: prescale, user: alice-token}\n"
      "- name: alice-inline\n  context: {cluster: prescale-inline, user: "
      "alice-inline}\n"
      "- name: eks\n  context: {cluster: prescale, user: eks}\n";
  write_file(dir / "config", config);
  const std::string file = (dir / "config").string();

  // kubectl itself reads the file the same way: each context reaches /status.
  for (const char* context : {"alice-cert", "alice-token", "alice-inline"}) {
    INFO(context);
    const auto kubectl =
        run("kubectl --kubeconfig " + file + " --context " + context + " get --raw /status 2>&1");
    INFO(kubectl.output);
    CHECK(kubectl.exit_code == 0);
    const auto ours = prescale_status("--kubeconfig " + file + " --context " + context);
    INFO(ours.out);
    CHECK(ours.exit_code == 0);
    CHECK_THAT(ours.out, Catch::Contains("orders  forecasting"));
  }
  // The current context by default (the certificate: no TokenReview made).
  const int reviews = apiserver.token_reviews.load();
  CHECK(prescale_status("--kubeconfig " + file).exit_code == 0);
  CHECK(apiserver.token_reviews.load() == reviews);
  CHECK(prescale_status("--kubeconfig " + file + " --context alice-token").exit_code == 0);
  {
    std::lock_guard lock(apiserver.mutex);
    CHECK(apiserver.last_token_review["spec"]["token"] == "alice-token");
  }
  // Options given beside it win: a token carol may not use /status with.
  CHECK_THAT(prescale_status("--kubeconfig " + file + " --token carol-token").out,
             Catch::Contains("HTTP 403"));
  // What prescale cannot use is named, never ignored.
  const auto exec = prescale_status("--kubeconfig " + file + " --context eks");
  CHECK(exec.exit_code != 0);
  CHECK_THAT(exec.out, Catch::Contains("users[eks].exec") && Catch::Contains("--token-file"));
  const auto missing = prescale_status("--kubeconfig " + file + " --context prod");
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.out, Catch::Contains("no context named 'prod'"));
  CHECK_THAT(prescale_status("--kubeconfig " + (dir / "absent").string()).out,
             Catch::Contains("absent: cannot read it"));
  CHECK_THAT(prescale_status("--context alice-cert").out,
             Catch::Contains("--context needs --kubeconfig"));
}
