// `prescale tune`, run as a user would: a short generated payments trace
// (one fit a day over three simulated days), the choice and the frontier in
// JSON, the holdout check, and bad flags named.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prescale/config/config.hpp"
#include "test_support.hpp"

namespace test = prescale::test;

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Six days of the generated payments trace at 10-minute steps: small enough
/// for a tuning sweep in seconds, with the daily rhythm the tuning reads.
void generate_payments(const std::filesystem::path& bin, const std::filesystem::path& trace) {
  REQUIRE(std::system((bin.string() +
                       " generate --kind payments --start 2026-01-05 --days 6 --step 10m"
                       " --timezone America/New_York --seed 2 --output " +
                       trace.string() + " > /dev/null 2>&1")
                          .c_str()) == 0);
}

}  // namespace

TEST_CASE("prescale tune chooses settings for the SLO less its margin", "[cli][tune]") {
  const auto bin = test::prescale_bin();
  REQUIRE(std::filesystem::exists(bin));
  const test::TempDir dir("prescale-tune");
  const auto trace = dir.path / "payments.csv";
  generate_payments(bin, trace);
  const std::string common = bin.string() + " tune --input " + trace.string() +
                             " --timezone America/New_York --seasonality 1d"
                             " --capacity-per-replica 100 --startup 5m --history 3d"
                             " --refit-interval 1d --quantiles 0.5,0.9 --predictive-targets 100,80"
                             " --reactive-targets 100,80,60,50 --slo-percent 1";
  const auto out = dir.path / "out.json";
  const auto err = dir.path / "err.txt";
  // The swept targets only (the refinement between them is checked below).
  const std::string command = common +
                              " --refine-percent 0 --margin-percent 40 --holdout --format json > " +
                              out.string() + " 2> " + err.string();
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
  const auto json = nlohmann::json::parse(read_text(out));
  const double slo = json.at("slo_minutes").get<double>();
  CHECK(slo == Approx(0.01 * json.at("frontier").at("observed_minutes").get<double>()));
  CHECK(json.at("tuning_slo_minutes").get<double>() == Approx(0.6 * slo));
  // 4 reactive + 4 oracle + 2 x 2 x 2 predictive settings (observed-load
  // target x forecast target x quantile).
  CHECK(json.at("frontier").at("points").size() == 16);
  for (const char* run : {"reactive", "predictive"}) {
    INFO(run);
    const auto& choice = json.at(run);
    REQUIRE(choice.is_object());
    // Within the tightened SLO when it says it meets it; the safest otherwise.
    if (choice.at("meets_slo").get<bool>())
      CHECK(choice.at("violation_minutes").get<double>() <=
            json.at("tuning_slo_minutes").get<double>());
    CHECK(choice.at("average_value").get<double>() ==
          Approx(choice.at("target_percent").get<double>()));
  }
  CHECK(json.at("predictive").contains("quantile"));
  CHECK(json.at("predictive").at("observed_average_value").get<double>() ==
        Approx(json.at("predictive").at("observed_target_percent").get<double>()));
  const auto& holdout = json.at("frontier").at("holdout");
  REQUIRE(holdout.is_object());
  CHECK(holdout.at("tuning_slo_minutes").get<double>() ==
        Approx(0.6 * 0.01 * (json.at("frontier").at("observed_minutes").get<double>() / 2))
            .epsilon(0.02));
  CHECK(holdout.at("hindsight_reactive").is_object());

  // The table: the frontier, the SLO and margin in words, the YAML to apply.
  const auto table = dir.path / "out.txt";
  REQUIRE(std::system((common + " > " + table.string() + " 2>/dev/null").c_str()) == 0);
  const std::string text = read_text(table);
  CHECK_THAT(text, Catch::Contains("frontier"));
  CHECK_THAT(text, Catch::Contains("50 % of the SLO held back"));
  CHECK_THAT(text, Catch::Contains("quantile: "));
  CHECK_THAT(text, Catch::Contains("averageValue"));

  // The observed load at its own target: the YAML gives each metric its averageValue.
  const auto two = dir.path / "two.txt";
  REQUIRE(std::system(
              (common + " --observed-targets 80 > " + two.string() + " 2>/dev/null").c_str()) == 0);
  const std::string two_text = read_text(two);
  CHECK_THAT(two_text, Catch::Contains("the observed load at 80 %, the forecast at "));
  CHECK_THAT(two_text,
             Catch::Contains("the observed load and the forecast, each at its own target\n"
                             "    - type: External\n"
                             "      external:\n"
                             "        metric: {name: <observed load metric>}\n"
                             "        target: {type: AverageValue, averageValue: \"80\"}"));
  REQUIRE(std::system((common + " --refine-percent 0 --observed-targets 80 --format json > " +
                       out.string() + " 2>/dev/null")
                          .c_str()) == 0);
  const auto two_json = nlohmann::json::parse(read_text(out));
  CHECK(two_json.at("predictive").at("observed_target_percent").get<double>() == Approx(80));
  CHECK(two_json.at("predictive").at("observed_average_value").get<double>() == Approx(80));
  CHECK(two_json.at("frontier").at("points").size() == 12);  // 2 x 1 x 2 predictive

  // By default the reactive choice is refined in 1 % steps between the swept
  // target it met the tuning SLO at and the next cheaper one swept: never
  // dearer than the grid's, at a target an HPA takes as well as a swept one.
  REQUIRE(
      std::system((common + " --margin-percent 40 --format json > " + out.string() + " 2>/dev/null")
                      .c_str()) == 0);
  const auto fine = nlohmann::json::parse(read_text(out));
  const auto& coarse_choice = json.at("reactive");
  const auto& fine_choice = fine.at("reactive");
  CHECK(fine_choice.at("replica_hours").get<double>() <=
        coarse_choice.at("replica_hours").get<double>());
  const double from = coarse_choice.at("target_percent").get<double>();
  double next = 1e9;
  for (double swept : {100.0, 80.0, 60.0, 50.0})
    if (swept > from) next = std::min(next, swept);
  std::size_t refined = 0;
  for (const auto& p : fine.at("frontier").at("points")) {
    const double t = p.at("target_percent").get<double>();
    if (p.at("run") != "reactive" || t == 100 || t == 80 || t == 60 || t == 50) continue;
    ++refined;
    CHECK(t > from);
    CHECK(t < next);
    CHECK(std::abs(t - std::round(t)) < 1e-6);  // whole percents
  }
  if (next < 1e9) CHECK(refined > 0);
  CHECK(fine_choice.at("average_value").get<double>() ==
        Approx(fine_choice.at("target_percent").get<double>()));

  // Bad flags are named.
  REQUIRE(std::system((common + " --margin-percent 100 > /dev/null 2> " + err.string()).c_str()) !=
          0);
  CHECK_THAT(read_text(err),
             Catch::Contains("--margin-percent 100 is not a percentage of the SLO"));
  REQUIRE(std::system((common + " --quantiles 0.9,2 > /dev/null 2> " + err.string()).c_str()) != 0);
  CHECK_THAT(read_text(err), Catch::Contains("--quantiles: 2 is not in (0, 1)"));
  REQUIRE(std::system((common + " --refine-percent 0.01 > /dev/null 2> " + err.string()).c_str()) !=
          0);
  CHECK_THAT(read_text(err), Catch::Contains("--refine-percent: 0.01 is not 0 (off)"));
  REQUIRE(std::system((common + " --floor-percent 100 > /dev/null 2> " + err.string()).c_str()) !=
          0);
  CHECK_THAT(read_text(err), Catch::Contains("--floor-percent: 100 is not 0 (off)"));
}

TEST_CASE("No reactive target listed meets the SLO: the sweep goes on below them to the floor",
          "[cli][tune]") {
  // "Cannot meet the SLO" must be the load's answer, not the grid's: a
  // reactive HPA with no headroom misses the surges of a payments day, one
  // with enough meets an SLO of no minute short.
  const auto bin = test::prescale_bin();
  REQUIRE(std::filesystem::exists(bin));
  const test::TempDir dir("prescale-floor");
  const auto trace = dir.path / "payments.csv";
  generate_payments(bin, trace);
  const std::string common = bin.string() + " simulate --input " + trace.string() +
                             " --timezone America/New_York --capacity-per-replica 100"
                             " --startup 5m --frontier --recommend --frontier-targets 100"
                             " --frontier-refine-percent 0 --slo-percent 0.001";
  const auto out = dir.path / "out.txt";
  const auto json_out = dir.path / "out.json";
  // Listed targets only: nothing meets it, and the recommendation says how to look further.
  REQUIRE(std::system((common + " --frontier-floor-percent 0 > " + out.string() + " 2>/dev/null")
                          .c_str()) == 0);
  CHECK_THAT(read_text(out), Catch::Contains("reactive: no listed per-pod target meets it (add "
                                             "lower --frontier-targets)"));
  // Down to 95 %: swept at 95 % too, still short, and said with the floor.
  REQUIRE(std::system((common + " --frontier-floor-percent 95 > " + out.string() + " 2>/dev/null")
                          .c_str()) == 0);
  CHECK_THAT(read_text(out),
             Catch::Contains("reactive: no per-pod target meets it, down to 95 % of capacity"));
  // The default floor: the first target below 100 % that meets it, each 5 %
  // below the one before in whole percents.
  REQUIRE(std::system(
              (common + " --format json > " + json_out.string() + " 2>/dev/null").c_str()) == 0);
  const auto json = nlohmann::json::parse(read_text(json_out));
  const auto& frontier = json.at("frontier");
  REQUIRE(frontier.at("reactive_at_slo").is_object());
  const double met = frontier.at("reactive_at_slo").at("target_percent").get<double>();
  CHECK(met < 100);
  CHECK(met >= 10);
  std::vector<double> swept;
  for (const auto& p : frontier.at("points"))
    if (p.at("run") == "reactive") swept.push_back(p.at("target_percent").get<double>());
  std::sort(swept.begin(), swept.end(), std::greater<>());
  REQUIRE(swept.size() >= 2);
  for (std::size_t k = 1; k < swept.size(); ++k) {
    CHECK(swept[k] <= swept[k - 1] - 1);
    CHECK(swept[k] >= swept[k - 1] * 0.95 - 0.5);
    CHECK(std::abs(swept[k] - std::round(swept[k])) < 1e-9);
  }
  CHECK(swept.back() == Approx(met));
}

TEST_CASE("prescale simulate --slo-tuning scores the daemon's own tuning on the frontier",
          "[cli][simulate][slo]") {
  const auto bin = test::prescale_bin();
  REQUIRE(std::filesystem::exists(bin));
  const test::TempDir dir("prescale-slo-tuning");
  const auto trace = dir.path / "payments.csv";
  generate_payments(bin, trace);
  const std::string common = bin.string() + " simulate --input " + trace.string() +
                             " --timezone America/New_York --seasonality 1d"
                             " --capacity-per-replica 100 --startup 5m --history 3d"
                             " --refit-interval 1d --slo-percent 1";
  const auto out = dir.path / "out.json";
  const auto err = dir.path / "err.txt";
  const std::string command = common +
                              " --slo-tuning --slo-margin-percent 40 --frontier"
                              " --frontier-quantiles 0.5,0.9 --frontier-predictive-targets 90"
                              " --frontier-targets 100,80,60 --format json > " +
                              out.string() + " 2> " + err.string();
  INFO(command);
  REQUIRE(std::system(command.c_str()) == 0);
  const auto json = nlohmann::json::parse(read_text(out));
  // The predictive run is the daemon's: the replay says it tuned, and the
  // frontier's daemon point is that run at target = capacity.
  bool noted = false;
  for (const auto& note : json.at("notes"))
    noted = noted || note.get<std::string>().find(
                         "slo {maxShortPercent: 1, marginPercent: 40, "
                         "history: 5w} tuned") != std::string::npos;
  CHECK(noted);
  const auto& daemon = json.at("frontier").at("daemon");
  REQUIRE(daemon.is_object());
  CHECK(daemon.at("run") == "daemon");
  CHECK(daemon.at("target_percent").get<double>() == Approx(100));
  double predictive_rh = -1, predictive_minutes = -1;
  for (const auto& run : json.at("runs")) {
    if (run.at("name") != "predictive") continue;
    predictive_rh = run.at("replica_hours").get<double>();
    predictive_minutes = run.at("slo_violation_minutes").get<double>();
  }
  CHECK(daemon.at("replica_hours").get<double>() == Approx(predictive_rh));
  CHECK(daemon.at("violation_minutes").get<double>() == Approx(predictive_minutes));
  CHECK(daemon.at("meets_slo").get<bool>() ==
        (predictive_minutes <= json.at("frontier").at("slo_minutes").get<double>()));
  // Per-day figures for a bootstrap over days come with every point.
  for (const auto& p : json.at("frontier").at("points")) {
    REQUIRE(p.contains("daily_violation_minutes"));
    CHECK(p.at("daily_violation_minutes").size() == p.at("daily_replica_hours").size());
  }

  // Bad values are named; the tuning's own flags need it.
  REQUIRE(
      std::system((common + " --slo-tuning --slo-margin-percent 100 > /dev/null 2> " + err.string())
                      .c_str()) != 0);
  CHECK_THAT(read_text(err), Catch::Contains("--slo-margin-percent 100"));
  REQUIRE(std::system((common + " --slo-tuning --slo-history 12h > /dev/null 2> " + err.string())
                          .c_str()) != 0);
  CHECK_THAT(read_text(err), Catch::Contains("--slo-history 12h is not between 1d and 5w"));
  REQUIRE(std::system((common + " --slo-history 3d > /dev/null 2> " + err.string()).c_str()) != 0);
  CHECK_THAT(read_text(err), Catch::Contains("--slo-tuning"));
}

TEST_CASE("simulate's --slo-* flags and the config's slo: keys refuse the same values alike",
          "[cli][simulate][slo]") {
  // Each key's bounds, just inside and just outside: a flag must accept what
  // its key accepts and refuse what it refuses, in the same words but for
  // the name (config/slo_ranges.hpp holds the ranges for both).
  struct Pair {
    const char* key;
    const char* flag;
    std::vector<std::string> values;
  };
  const std::vector<Pair> pairs = {
      {"maxShortPercent", "--slo-percent", {"-0.001", "0", "99.999", "100"}},
      {"marginPercent", "--slo-margin-percent", {"-0.001", "0", "99.999", "100"}},
      {"history", "--slo-history", {"86399s", "1d", "35d", "3024001s"}},
      {"reactiveTargetPercent", "--slo-reactive-target-percent", {"9.999", "10", "100", "100.001"}},
  };
  const auto bin = test::prescale_bin();
  const test::TempDir dir("prescale-slo-flags");
  // Two days: the replay has too little history to fit, so an accepted
  // value costs a process start (the flags are checked before it gives up).
  const auto trace = dir.path / "short.csv";
  REQUIRE(std::system((bin.string() + " generate --kind payments --start 2026-01-05 --days 2" +
                       " --step 30m --seed 2 --output " + trace.string() + " > /dev/null 2>&1")
                          .c_str()) == 0);
  const auto err = dir.path / "err.txt";
  std::size_t refused = 0;
  for (const auto& pair : pairs) {
    for (const auto& value : pair.values) {
      CAPTURE(pair.key, value);
      std::string key_error;
      try {
        (void)prescale::config::parse_config(
            "targets:\n  - metric: a\n    query: up\n    capacityPerReplica: 10\n    slo: {" +
            std::string(pair.key) + ": " + value + "}\n");
      } catch (const prescale::config::ConfigError& e) {
        key_error = e.what();
      }
      const int status = std::system((bin.string() + " simulate --input " + trace.string() +
                                      " --capacity-per-replica 100 --slo-tuning " + pair.flag +
                                      "=" + value + " > /dev/null 2> " + err.string())
                                         .c_str());
      const std::string flag_error = read_text(err);
      INFO("key: " << key_error << "\nflag: " << flag_error);
      REQUIRE(key_error.empty() == (status == 0));
      if (key_error.empty()) continue;
      ++refused;
      // "targets[0].slo.<key>: <key> <value> <rule> (line 5)" beside "prescale: <flag> <value>
      // <rule>".
      const std::string prefix = std::string("targets[0].slo.") + pair.key + ": " + pair.key;
      REQUIRE(key_error.rfind(prefix, 0) == 0);
      const std::string rule =
          key_error.substr(prefix.size(), key_error.rfind(" (line ") - prefix.size());
      CHECK_THAT(rule, Catch::StartsWith(" " + value + " is not "));
      CHECK_THAT(flag_error, Catch::Contains(pair.flag + rule + "\n"));
    }
  }
  CHECK(refused == 8);
}
