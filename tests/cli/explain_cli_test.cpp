// `prescale explain` run as a user would, on the recorded decisions file
// (tests/data/decisions/payroll-2026-02-27.jsonl, written by the replay in
// tests/autoscaler/explain_test.cpp).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "run_prescale.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

using prescale::test::Run;
using prescale::test::run_prescale;

Run explain(const std::string& args) {
  return run_prescale("explain " + args);
}

std::string recorded() {
  return (prescale::test::source_dir() / "tests" / "data" / "decisions" /
          "payroll-2026-02-27.jsonl")
      .string();
}

}  // namespace

TEST_CASE("prescale explain reads a decisions file and names the payroll event", "[cli][explain]") {
  // 10:55Z = 05:55 New York, five minutes before payroll-end's 06:00 window.
  const auto run = explain("--decisions " + recorded() +
                           " --target payments-rps-forecast --at 2026-02-27T10:55Z");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  INFO(run.out);
  CHECK(run.out.rfind("Decision in force for payments-rps-forecast at 2026-02-27T10:55:00Z (05:55 "
                      "America/New_York)",
                      0) == 0);
  CHECK(run.out.find(
            "pre-scaling for calendar event payroll.payroll-end (06:00-11:00 America/New_York)") !=
        std::string::npos);
  CHECK(run.out.find("Since the previous decision") != std::string::npos);
}

TEST_CASE("prescale explain --json prints the records behind the answer", "[cli][explain]") {
  const auto run = explain("--decisions " + recorded() +
                           " --target payments-rps-forecast --at 2026-02-27T16:00:00Z --json");
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("\"target\":\"payments-rps-forecast\"") != std::string::npos);
  CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 2);
}

TEST_CASE("prescale explain says what is wrong with its input", "[cli][explain]") {
  auto run = explain("--decisions " + recorded() + " --target checkout --at 2026-02-27T10:55Z");
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("no decision records for target 'checkout' (targets with records: "
                     "payments-rps-forecast)") != std::string::npos);
  run = explain("--decisions " + recorded() +
                " --target payments-rps-forecast --at 2026-02-01T00:00Z");
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("has no decision at or before 2026-02-01T00:00:00Z") != std::string::npos);
  run = explain("--decisions /nonexistent/decisions.jsonl --target a");
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("/nonexistent/decisions.jsonl: no such decisions file") != std::string::npos);
  run = explain("--decisions " + recorded() + " --target payments-rps-forecast --at yesterday");
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("--at 'yesterday'") != std::string::npos);
  run = explain("--target payments-rps-forecast");
  CHECK(run.exit_code == 1);
  CHECK(run.err.find("give --decisions FILE, --server URL or --kubeconfig FILE") !=
        std::string::npos);
}
