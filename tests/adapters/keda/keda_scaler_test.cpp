// The KEDA external scaler against a real gRPC client on loopback: the
// contract KEDA's operator relies on (externalscaler.ExternalScaler).
#include <catch2/catch.hpp>

#include <map>
#include <mutex>

#include "keda_client.hpp"
#include "prescale/keda/external_scaler.hpp"

using namespace std::chrono_literals;
using prescale::test::scaled_object;
using prescale::test::snapshot_with;

namespace {
struct Fixture {
  prescale::SnapshotStore store;
  std::unique_ptr<prescale::keda::ExternalScaler> scaler;
  std::unique_ptr<externalscaler::ExternalScaler::Stub> client;

  Fixture() {
    store.publish(snapshot_with("payments-rps-forecast", "payments", 250.5));
    prescale::keda::ScalerOptions options;
    options.address = "127.0.0.1:0";
    options.stream_poll = 20ms;
    scaler = std::make_unique<prescale::keda::ExternalScaler>(options, store);
    auto started = scaler->start();
    REQUIRE(started.has_value());
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(scaler->port()),
                                       grpc::InsecureChannelCredentials());
    client = externalscaler::ExternalScaler::NewStub(channel);
  }
};

std::unique_ptr<grpc::ClientContext> context_with_deadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + 5s);
  return context;
}
}  // namespace

TEST_CASE("GetMetricSpec gives KEDA the metric and its per-replica target", "[keda]") {
  Fixture f;
  externalscaler::GetMetricSpecResponse response;
  auto ref = scaled_object("payments",
                           {{"metricName", "payments-rps-forecast"}, {"targetValue", "120.5"}});
  auto status = f.client->GetMetricSpec(context_with_deadline().get(), ref, &response);
  REQUIRE(status.ok());
  REQUIRE(response.metricspecs_size() == 1);
  CHECK(response.metricspecs(0).metricname() == "payments-rps-forecast");
  CHECK(response.metricspecs(0).targetsizefloat() == 120.5);
  CHECK(response.metricspecs(0).targetsize() == 121);  // deprecated integer field, rounded up
}

TEST_CASE("GetMetrics serves the snapshot's value", "[keda]") {
  Fixture f;
  externalscaler::GetMetricsRequest request;
  *request.mutable_scaledobjectref() =
      scaled_object("payments", {{"metricName", "payments-rps-forecast"}});
  request.set_metricname("s0-payments-rps-forecast");
  externalscaler::GetMetricsResponse response;
  auto status = f.client->GetMetrics(context_with_deadline().get(), request, &response);
  REQUIRE(status.ok());
  REQUIRE(response.metricvalues_size() == 1);
  CHECK(response.metricvalues(0).metricname() == "s0-payments-rps-forecast");
  CHECK(response.metricvalues(0).metricvaluefloat() == 250.5);
  CHECK(response.metricvalues(0).metricvalue() == 251);  // never under-served

  SECTION("a new snapshot is served at once") {
    f.store.publish(snapshot_with("payments-rps-forecast", "payments", 900));
    auto again = f.client->GetMetrics(context_with_deadline().get(), request, &response);
    REQUIRE(again.ok());
    CHECK(response.metricvalues(0).metricvaluefloat() == 900);
  }
}

TEST_CASE("a target served in every namespace answers any ScaledObject", "[keda]") {
  Fixture f;
  f.store.publish(snapshot_with("batch-forecast", "*", 42));
  externalscaler::GetMetricsRequest request;
  *request.mutable_scaledobjectref() =
      scaled_object("reporting", {{"metricName", "batch-forecast"}});
  externalscaler::GetMetricsResponse response;
  REQUIRE(f.client->GetMetrics(context_with_deadline().get(), request, &response).ok());
  CHECK(response.metricvalues(0).metricvaluefloat() == 42);
}

TEST_CASE("bad triggers get errors that name the problem", "[keda]") {
  Fixture f;
  externalscaler::GetMetricsResponse metrics;
  externalscaler::GetMetricsRequest request;

  *request.mutable_scaledobjectref() = scaled_object("payments", {{"metricName", "nope"}});
  auto unknown = f.client->GetMetrics(context_with_deadline().get(), request, &metrics);
  CHECK(unknown.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(unknown.error_message(), Catch::Contains("'nope'") && Catch::Contains("'payments'"));

  *request.mutable_scaledobjectref() =
      scaled_object("other-ns", {{"metricName", "payments-rps-forecast"}});
  auto wrong_namespace = f.client->GetMetrics(context_with_deadline().get(), request, &metrics);
  CHECK(wrong_namespace.error_code() == grpc::StatusCode::NOT_FOUND);

  *request.mutable_scaledobjectref() = scaled_object("payments", {});
  auto missing = f.client->GetMetrics(context_with_deadline().get(), request, &metrics);
  CHECK(missing.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(missing.error_message(), Catch::Contains("metricName"));

  externalscaler::GetMetricSpecResponse spec;
  auto no_target = f.client->GetMetricSpec(
      context_with_deadline().get(),
      scaled_object("payments", {{"metricName", "payments-rps-forecast"}}), &spec);
  CHECK(no_target.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(no_target.error_message(), Catch::Contains("targetValue"));

  auto bad_target = f.client->GetMetricSpec(
      context_with_deadline().get(),
      scaled_object("payments", {{"metricName", "payments-rps-forecast"}, {"targetValue", "lots"}}),
      &spec);
  CHECK(bad_target.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(bad_target.error_message(), Catch::Contains("'lots'"));
}

TEST_CASE("IsActive compares the served value with activationValue", "[keda]") {
  Fixture f;
  externalscaler::IsActiveResponse response;
  REQUIRE(f.client
              ->IsActive(context_with_deadline().get(),
                         scaled_object("payments", {{"metricName", "payments-rps-forecast"}}),
                         &response)
              .ok());
  CHECK(response.result());
  REQUIRE(f.client
              ->IsActive(context_with_deadline().get(),
                         scaled_object("payments", {{"metricName", "payments-rps-forecast"},
                                                    {"activationValue", "300"}}),
                         &response)
              .ok());
  CHECK_FALSE(response.result());
}

TEST_CASE("StreamIsActive sends the state at once and then each change", "[keda]") {
  Fixture f;
  auto context = context_with_deadline();
  auto reader = f.client->StreamIsActive(
      context.get(), scaled_object("payments", {{"metricName", "payments-rps-forecast"},
                                                {"activationValue", "100"}}));
  externalscaler::IsActiveResponse response;
  REQUIRE(reader->Read(&response));
  CHECK(response.result());
  f.store.publish(snapshot_with("payments-rps-forecast", "payments", 10));  // quiet night
  REQUIRE(reader->Read(&response));
  CHECK_FALSE(response.result());
  f.store.publish(snapshot_with("payments-rps-forecast", "payments", 500));  // market open
  REQUIRE(reader->Read(&response));
  CHECK(response.result());
  context->TryCancel();
}

TEST_CASE("StreamMetricSpec is declined so KEDA falls back to GetMetricSpec", "[keda]") {
  Fixture f;
  auto context = context_with_deadline();
  auto reader = f.client->StreamMetricSpec(
      context.get(), scaled_object("payments", {{"metricName", "payments-rps-forecast"}}));
  externalscaler::GetMetricSpecResponse response;
  CHECK_FALSE(reader->Read(&response));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::UNIMPLEMENTED);
}

TEST_CASE("stop() ends open streams", "[keda]") {
  Fixture f;
  // Neither the client's deadline nor the grace period ends the stream: both
  // outlast ctest's timeout, so only stop() ending it lets the test finish
  // (a hang is the failure; no clock is read).
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 24h);
  auto reader = f.client->StreamIsActive(
      &context, scaled_object("payments", {{"metricName", "payments-rps-forecast"}}));
  externalscaler::IsActiveResponse response;
  REQUIRE(reader->Read(&response));
  f.scaler->stop(24h);
  CHECK_FALSE(reader->Read(&response));
}

TEST_CASE("a port in use is an error that names the address", "[keda]") {
  Fixture f;
  prescale::keda::ScalerOptions options;
  options.address = "127.0.0.1:" + std::to_string(f.scaler->port());
  prescale::keda::ExternalScaler second(options, f.store);
  auto started = second.start();
  REQUIRE_FALSE(started.has_value());
  CHECK_THAT(started.error().message, Catch::Contains(options.address));
}

// The opt-in <metric>-anomaly metric is one more entry of the snapshot the
// engine publishes, so a KEDA trigger names it like any other metric.
TEST_CASE("a trigger on <metric>-anomaly gets the anomaly score and activates above its threshold",
          "[keda][anomaly]") {
  Fixture f;
  auto snapshot = std::make_shared<prescale::Snapshot>(
      *snapshot_with("payments-rps-forecast", "payments", 250.5));
  prescale::MetricValue anomaly = snapshot->metrics[0];
  anomaly.metric = "payments-rps-forecast-anomaly";
  anomaly.value = 2.345;  // |z| of the newest sample
  snapshot->metrics.push_back(anomaly);
  f.store.publish(snapshot);
  externalscaler::GetMetricsRequest request;
  *request.mutable_scaledobjectref() = scaled_object(
      "payments", {{"metricName", "payments-rps-forecast-anomaly"}, {"activationValue", "3"}});
  externalscaler::GetMetricsResponse response;
  REQUIRE(f.client->GetMetrics(context_with_deadline().get(), request, &response).ok());
  REQUIRE(response.metricvalues_size() == 1);
  CHECK(response.metricvalues(0).metricname() == "payments-rps-forecast-anomaly");
  CHECK(response.metricvalues(0).metricvaluefloat() == 2.345);
  CHECK(response.metricvalues(0).metricvalue() == 3);
  externalscaler::IsActiveResponse active;
  REQUIRE(
      f.client->IsActive(context_with_deadline().get(), request.scaledobjectref(), &active).ok());
  CHECK_FALSE(active.result());  // 2.345 sigma is below the 3-sigma activation
  snapshot = std::make_shared<prescale::Snapshot>(*snapshot);
  snapshot->metrics[1].value = 6.1;
  f.store.publish(snapshot);
  REQUIRE(
      f.client->IsActive(context_with_deadline().get(), request.scaledobjectref(), &active).ok());
  CHECK(active.result());
}

TEST_CASE("a trigger carrying 'query' is its own target, or refused when self-service is off",
          "[keda][self-service]") {
  externalscaler::GetMetricsRequest request;
  externalscaler::GetMetricsResponse metrics;
  *request.mutable_scaledobjectref() = scaled_object(
      "payments", {{"metricName", "payments-rps-forecast"}, {"query", "sum(rate(x[1m]))"}});

  // Off: never silently the file's target of the same metricName.
  Fixture off;
  auto refused = off.client->GetMetrics(context_with_deadline().get(), request, &metrics);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(refused.error_message(), Catch::Contains("server.keda.selfService.enabled"));

  // On: the hook names the served metric, or why not, as a gRPC status.
  prescale::SnapshotStore store;
  store.publish(snapshot_with("payments.payments.payments-rps-forecast", "payments", 42.5));
  prescale::keda::TriggerTarget answer{prescale::keda::TriggerTarget::Code::ok,
                                       "payments.payments.payments-rps-forecast", ""};
  std::mutex mutex;
  std::map<std::string, std::string> seen;
  prescale::keda::ScalerOptions options;
  options.address = "127.0.0.1:0";
  options.self_service = [&](const std::string& namespace_name, const std::string& scaled_object,
                             const std::map<std::string, std::string>& metadata) {
    std::lock_guard lock(mutex);
    CHECK(namespace_name == "payments");
    CHECK(scaled_object == "payments");
    seen = metadata;
    return answer;
  };
  prescale::keda::ExternalScaler scaler(options, store);
  REQUIRE(scaler.start().has_value());
  auto client = externalscaler::ExternalScaler::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(scaler.port()), grpc::InsecureChannelCredentials()));
  auto served = client->GetMetrics(context_with_deadline().get(), request, &metrics);
  REQUIRE(served.ok());
  CHECK(metrics.metricvalues(0).metricvaluefloat() == 42.5);
  CHECK(seen.at("query") == "sum(rate(x[1m]))");

  using Code = prescale::keda::TriggerTarget::Code;
  for (const auto& [code, grpc_code] :
       {std::pair{Code::invalid, grpc::StatusCode::INVALID_ARGUMENT},
        std::pair{Code::exhausted, grpc::StatusCode::RESOURCE_EXHAUSTED},
        std::pair{Code::denied, grpc::StatusCode::PERMISSION_DENIED},
        std::pair{Code::unavailable, grpc::StatusCode::UNAVAILABLE}}) {
    {
      std::lock_guard lock(mutex);
      answer = {code, "", "trigger metadata 'leadTime': bad duration '5x'"};
    }
    auto status = client->GetMetrics(context_with_deadline().get(), request, &metrics);
    CHECK(status.error_code() == grpc_code);
    CHECK(status.error_message() ==
          "trigger metadata 'leadTime': bad duration '5x' (ScaledObject payments/payments)");
  }
  // Before its first sample the target is not in the snapshot yet.
  {
    std::lock_guard lock(mutex);
    answer = {Code::ok, "payments.payments.other", ""};
  }
  auto pending = client->GetMetrics(context_with_deadline().get(), request, &metrics);
  CHECK(pending.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(pending.error_message(), Catch::Contains("is being created"));
}
