// `prescale generate`, run as a user would.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_support.hpp"

namespace test = prescale::test;

TEST_CASE("prescale generate writes a timestamp,value CSV", "[cli][generate]") {
  const auto bin = test::prescale_bin();
  REQUIRE(std::filesystem::exists(bin));
  const test::TempDir dir("prescale-generate");
  const auto out = dir.path / "payments.csv";
  const std::string command = bin.string() +
                              " generate --kind payments --start 2026-02-02 --days 2 --step 5m"
                              " --timezone America/New_York --seed 1 --output " +
                              out.string() + " 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream in(out);
  std::string header, first;
  std::getline(in, header);
  std::getline(in, first);
  CHECK(header == "timestamp,value");
  CHECK(first.rfind("2026-02-02T05:00:00Z,", 0) == 0);
  int rows = 1;
  for (std::string line; std::getline(in, line);) ++rows;
  CHECK(rows == 2 * 288);
  CHECK(std::system((bin.string() + " generate --kind sine 2>/dev/null").c_str()) != 0);
}
