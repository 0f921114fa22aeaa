// The Catch2 (v2) main of every suite. Catch2 v2 has no SKIP, and a test
// that returns early passes: so tests that need ../shared/data are tagged
// [shared-data] and run by their own ctest entry (prescale_add_test
// SHARED_DATA), which exits 77 -- ctest's SKIP_RETURN_CODE -- when the data
// is absent, and fails if such a test runs without it.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <string_view>

#include "prescale/common/memory.hpp"
#include "test_support.hpp"

int main(int argc, char* argv[]) {
  // The libraries under test allocate as they do in prescale (cli/main.cpp).
  prescale::keep_freed_memory_for_reuse();
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "[shared-data]" && prescale::test::shared_data_dir().empty()) {
      std::printf(
          "skipped: ../shared/data (real traces) is absent beside this clone; "
          "PRESCALE_SHARED_DATA=/path points elsewhere\n");
      return prescale::test::kSkipped;
    }
  }
  return Catch::Session().run(argc, argv);
}
