// `prescale explain`'s core on a recorded decisions file (tests/data/decisions/,
// written by the replay below, tagged [.generate] so it runs only on demand).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "prescale/autoscaler/explain.hpp"
#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/common/time.hpp"
#include "prescale/simulate/replay.hpp"
#include "test_support.hpp"

using namespace prescale;
using namespace prescale::autoscaler;
using namespace prescale::simulate;

namespace {

std::filesystem::path recorded_file() {
  return test::source_dir() / "tests" / "data" / "decisions" / "payroll-2026-02-27.jsonl";
}

// 2026-02-27 is February's last business day: payroll-end, 06:00-11:00 New York (11:00-16:00Z).
config::TargetConfig recorded_target() {
  config::TargetConfig t;
  t.metric = "payments-rps-forecast";
  t.query = "payments";
  t.step_seconds = 300;
  t.history_seconds = 14 * 86400;
  t.timezone = "America/New_York";
  t.seasonality_seconds = {86400, 7 * 86400};
  t.calendars = {"payroll"};
  t.model = "auto";
  t.lead_time_seconds = 900;
  t.refit_interval_seconds = 6 * 3600;
  t.backtest_origins = 2;
  t.capacity_per_replica = 120;
  t.min_replicas = 2;
  t.max_replicas = 200;
  return t;
}

}  // namespace

TEST_CASE("regenerate the recorded decisions file", "[.generate]") {
  TraceOptions options;
  options.days = 26;
  options.step_seconds = 300;
  options.random_spikes = false;
  auto trace = generate_trace(options);
  REQUIRE(trace.has_value());
  auto calendars = payments_calendars();
  REQUIRE(calendars.has_value());
  ReplayOptions replay_options;
  replay_options.start_unix =
      calendar::days_from_civil({2026, 2, 27}) * 86400 + 8 * 3600;  // 03:00 New York
  replay_options.end_unix =
      calendar::days_from_civil({2026, 2, 27}) * 86400 + 17 * 3600;  // 12:00 New York
  replay_options.calendars = &*calendars;
  auto result = replay(*trace, recorded_target(), replay_options);
  REQUIRE(result.has_value());
  std::filesystem::create_directories(recorded_file().parent_path());
  std::ofstream out(recorded_file(), std::ios::binary | std::ios::trunc);
  for (const auto& r : result->decisions) out << to_json(r) << "\n";
  REQUIRE(out.good());
}

TEST_CASE("the decision in force is the latest record at or before the time", "[explain]") {
  auto records = read_decision_files(recorded_file());
  REQUIRE(records.has_value());
  REQUIRE(records->size() >= 3);
  const auto& first = records->front();
  const auto second = std::find_if(records->begin(), records->end(), [&](const DecisionRecord& r) {
    return r.time_unix > first.time_unix;
  });
  REQUIRE(second != records->end());
  const auto at_tick =
      std::count_if(records->begin(), second, [](const DecisionRecord&) { return true; });
  auto at_first = decision_in_force(*records, first.target, first.time_unix);
  REQUIRE(at_first.has_value());
  // Records of one tick keep their order: the last one made is in force, the one before is
  // previous.
  CHECK(to_json(at_first->record) == to_json(*(second - 1)));
  CHECK(at_first->previous.has_value() == (at_tick > 1));
  auto between = decision_in_force(*records, first.target, second->time_unix - 1);
  REQUIRE(between.has_value());
  CHECK(to_json(between->record) == to_json(*(second - 1)));
  auto later = decision_in_force(*records, first.target, records->back().time_unix + 86400);
  REQUIRE(later.has_value());
  CHECK(to_json(later->record) == to_json(records->back()));
  REQUIRE(later->previous.has_value());

  auto before = decision_in_force(*records, first.target, first.time_unix - 1);
  REQUIRE_FALSE(before.has_value());
  CHECK(before.error().message.find("first record is at " + format_rfc3339(first.time_unix)) !=
        std::string::npos);
  auto unknown = decision_in_force(*records, "checkout-rps", first.time_unix);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().message ==
        "no decision records for target 'checkout-rps' (targets with records: "
        "payments-rps-forecast)");
}

TEST_CASE("explain names the payroll event behind the pre-scale and what changed", "[explain]") {
  auto records = read_decision_files(recorded_file());
  REQUIRE(records.has_value());
  // The pre-scale before 06:00 New York (11:00Z) on payroll day.
  const DecisionRecord* prescale = nullptr;
  for (const auto& r : *records)
    if (r.cause == "calendar-event" &&
        r.time_unix < calendar::days_from_civil({2026, 2, 27}) * 86400 + 11 * 3600)
      prescale = &r;
  REQUIRE(prescale != nullptr);
  auto decision = decision_in_force(*records, prescale->target, prescale->time_unix + 60);
  REQUIRE(decision.has_value());
  REQUIRE(decision->previous.has_value());
  const auto text = explain_text(*decision, prescale->time_unix + 60);
  INFO(text);
  CHECK(text.rfind("Decision in force for payments-rps-forecast at " +
                       format_rfc3339(prescale->time_unix + 60),
                   0) == 0);
  CHECK(text.find("America/New_York)") != std::string::npos);
  CHECK(text.find("why          pre-scaling for calendar event payroll.payroll-end (06:00-11:00 "
                  "America/New_York)") != std::string::npos);
  CHECK(text.find("calendar     payroll.payroll-end") != std::string::npos);
  CHECK(text.find("the forecast set the value") != std::string::npos);
  CHECK(text.find("model        " + prescale->model + " (backtest MASE") != std::string::npos);
  CHECK(text.find("digests      parameters " + prescale->parameters_digest) != std::string::npos);
  CHECK(text.find("Since the previous decision") != std::string::npos);
  CHECK(text.find("  - served ") != std::string::npos);
  CHECK(text.find("replicas") != std::string::npos);
}

TEST_CASE("explain shows an SLO's tuning in force and when it changed", "[explain][slo]") {
  DecisionRecord before;
  before.time_unix = 1772200800;
  before.target = "payments";
  before.kind = DecisionKind::refit;
  before.reason = "refit (scheduled)";
  before.observed = 900;
  before.forecast = 1000;
  before.served = 1000;
  before.quantile = 0.9;
  before.slo = "SLO 0.1% of minutes short: tuning waits for a day of decisions";
  DecisionRecord after = before;
  after.time_unix += 3600;
  after.quantile = 0.75;
  after.headroom = 1.25;
  after.served = 1200;
  after.slo = "SLO 0.1% of minutes short (margin 50%): quantile 0.75, headroom x1.25";
  const std::vector<DecisionRecord> records = {before, after};
  auto decision = decision_in_force(records, "payments", after.time_unix);
  REQUIRE(decision.has_value());
  const auto text = explain_text(*decision, after.time_unix);
  INFO(text);
  CHECK(text.find("headroom     x1.25: served = max(observed, forecast) x 1.25, as an HPA target "
                  "of 80% of capacity would scale") != std::string::npos);
  CHECK(text.find("slo          " + after.slo) != std::string::npos);
  CHECK(text.find("  - quantile 0.9 -> 0.75") != std::string::npos);
  CHECK(text.find("  - headroom x1 -> x1.25") != std::string::npos);
  CHECK(text.find("risk ") == std::string::npos);  // no risk raised this decision's forecast
  // A decision in an hour whose forecast its tuned risk raised.
  DecisionRecord risky = after;
  risky.time_unix += 3600;
  risky.risk = 1.43;
  const std::vector<DecisionRecord> three = {before, after, risky};
  auto raised = decision_in_force(three, "payments", risky.time_unix);
  REQUIRE(raised.has_value());
  const auto raised_text = explain_text(*raised, risky.time_unix);
  INFO(raised_text);
  CHECK(raised_text.find("risk         x1.43: this hour's forecast raised by its tuned risk") !=
        std::string::npos);
  CHECK(raised_text.find("  - risk x1 -> x1.43") != std::string::npos);
}
