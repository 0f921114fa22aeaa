// The demo's target carries the calendars its trace follows, as a config
// file written by hand would: the engine (and its decision records) see the
// payroll and market-open events.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>

#include "prescale/autoscaler/synthetic_trace.hpp"
#include "prescale/config/config.hpp"
#include "prescale/daemon/demo.hpp"

namespace fs = std::filesystem;

TEST_CASE("the demo's config names the payments calendars of its trace", "[demo][calendar]") {
  const fs::path dir =
      fs::temp_directory_path() / ("prescale_demo_calendars_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    prescale::daemon::DemoOptions options;
    options.work_dir = dir;
    const prescale::daemon::Demo demo(options);
    const auto config = prescale::config::load_config_file(demo.config_path());
    REQUIRE(config.targets.size() == 1);
    CHECK(config.targets[0].calendars == std::vector<std::string>{"nyse", "payroll", "settlement"});
    // The same calendars the generator used: the same payroll days and holidays.
    const auto built = prescale::autoscaler::payments_calendars();
    REQUIRE(built.has_value());
    const std::int64_t from = demo.trace().start_unix, to = demo.trace().end_unix();
    const auto expected = built->occurrences(from, to);
    const auto configured = config.calendars.occurrences(from, to);
    REQUIRE(configured.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      CHECK(configured[i].qualified_name() == expected[i].qualified_name());
      CHECK(configured[i].start_unix == expected[i].start_unix);
    }
  }
  fs::remove_all(dir);
}
