// The fit frame (seasons and calendar regressors by sample index), built
// from a config::TargetConfig the same way for every command that fits.
#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <string>

#include "config/one_target_yaml.hpp"
#include "prescale/autoscaler/fit_frame.hpp"
#include "prescale/autoscaler/target.hpp"
#include "prescale/config/config.hpp"

using namespace prescale;
using prescale::autoscaler::FitFrame;

namespace {

constexpr std::int64_t kStart = 1772323200;  // 2026-03-01T00:00:00Z, a week before US DST

std::unique_ptr<FitFrame> frame_of(const config::Config& config, std::size_t rows) {
  const auto& target = config.targets.at(0);
  auto calendars = autoscaler::calendars_for(target, config.calendars);
  REQUIRE(calendars.has_value());
  return std::make_unique<FitFrame>(target, *calendar::TimeZone::find(target.timezone), *calendars,
                                    kStart, rows);
}

config::Config parse_target(const std::string& lines) {
  return config::parse_config(test::one_target_yaml(lines));
}

bool same_frame(const FitFrame& a, const FitFrame& b) {
  if (a.rows() != b.rows() || a.step_seconds() != b.step_seconds()) return false;
  if (a.layout().slots != b.layout().slots || a.layout().positions != b.layout().positions)
    return false;
  if ((a.regressors() == nullptr) != (b.regressors() == nullptr)) return false;
  return a.regressors() == nullptr ||
         (a.regressor_names() == b.regressor_names() && *a.regressors() == *b.regressors());
}

}  // namespace

TEST_CASE("a frame extended step by step equals one built at once", "[fit-frame]") {
  // Without seasons too: the rows are counted by the frame, not read off
  // the layout (which then has no positions to count).
  for (const char* seasonality : {"seasonality: [1d, 1w]\n", "seasonality: []\n"}) {
    INFO(seasonality);
    const auto config = parse_target(std::string("    ") + seasonality +
                                     "    timezone: America/New_York\n    calendars: [nyse]\n");
    const auto whole = frame_of(config, 3000);
    auto grown = frame_of(config, 10);
    for (std::size_t rows : {11, 500, 499, 2048, 3000}) grown->extend_to(rows);
    REQUIRE(whole->regressors() != nullptr);
    CHECK(grown->rows() == 3000);
    CHECK(static_cast<std::size_t>(grown->regressors()->rows()) == 3000);
    CHECK(same_frame(*whole, *grown));
  }
}

TEST_CASE("every target key reaches the fit or is listed as serving only", "[fit-frame]") {
  // Keys that change neither the frame nor the selection: where the target
  // is served, what is fetched and how much (history: the window handed to
  // the fit; eventHistory: the older event windows handed beside it), replicas, refit schedule,
  // anomaly metric, the SLO (it tunes the policy after each fit, never the fit). A new key lands in
  // one group or the other.
  const std::set<std::string> serving = {"metric",
                                         "namespace",
                                         "labels",
                                         "query",
                                         "history",
                                         "eventHistory",
                                         "capacityPerReplica",
                                         "minReplicas",
                                         "maxReplicas",
                                         "refitInterval",
                                         "anomaly",
                                         "slo"};
  const auto plain_config = parse_target("");
  const auto& plain = plain_config.targets.at(0);
  const auto plain_frame = frame_of(plain_config, 3000);
  const auto plain_options = autoscaler::selection_options(plain, 12);
  for (const auto& key : config::target_keys()) {
    const std::string name(key.key);
    INFO("key " << name << ": " << key.example);
    if (serving.count(name) != 0) continue;
    const std::string line = name == "metric" || name == "query"
                                 ? ""
                                 : "    " + name + ": " + std::string(key.example) + "\n";
    const auto config = parse_target(line);
    const auto& target = config.targets.at(0);
    const auto frame = frame_of(config, 3000);
    const auto options =
        autoscaler::selection_options(target, static_cast<std::size_t>(target.lead_steps()) + 1);
    const auto reference =
        autoscaler::selection_options(plain, static_cast<std::size_t>(plain.lead_steps()) + 1);
    const bool frame_differs = !same_frame(*frame, *plain_frame);
    const bool selection_differs =
        options.model != reference.model || options.origins != reference.origins ||
        options.quantile != reference.quantile || options.horizon != reference.horizon ||
        options.replace_outliers != reference.replace_outliers;
    CHECK((frame_differs || selection_differs));
  }
  CHECK(plain_options.horizon == 12);
}

TEST_CASE("a history is prepared from its first sample with a value", "[fit-frame]") {
  const auto config = parse_target("    step: 10m\n");
  const auto& target = config.targets.at(0);
  const double gap = forecast::kMissing;
  const forecast::Series series{kStart, 600, {gap, gap, 5, gap, 7}};
  auto prepared = autoscaler::prepare_history(target, series);
  REQUIRE(prepared.has_value());
  CHECK(prepared->start_unix == kStart + 2 * 600);
  REQUIRE(prepared->values.size() == 3);
  CHECK(prepared->values[0] == 5);
  CHECK(std::isnan(prepared->values[1]));  // a gap inside the history stays a gap

  const forecast::Series empty{kStart, 600, {gap, gap}};
  auto none = autoscaler::prepare_history(target, empty);
  REQUIRE_FALSE(none.has_value());
  CHECK_THAT(none.error().message, Catch::Contains("no sample with a value"));
}
