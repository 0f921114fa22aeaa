#pragma once
// Helpers shared by the suites: where the source tree, the binary and the
// real-trace data (../shared/data) are.
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

namespace prescale::test {

/// Exit status of a test executable that could not run (ctest SKIP_RETURN_CODE).
inline constexpr int kSkipped = 77;

inline std::filesystem::path source_dir() {
  return PRESCALE_SOURCE_DIR;
}
inline std::filesystem::path binary_dir() {
  return PRESCALE_BINARY_DIR;
}
/// The prescale executable under test.
inline std::filesystem::path prescale_bin() {
  if (const char* bin = std::getenv("PRESCALE_BIN")) return bin;
  return binary_dir() / "prescale";
}
/// ../shared/data beside the project, or empty when absent (a user's clone).
inline std::filesystem::path shared_data_dir() {
  if (const char* dir = std::getenv("PRESCALE_SHARED_DATA")) return dir;
  const auto dir = source_dir().parent_path() / "shared" / "data";
  return std::filesystem::exists(dir) ? dir : std::filesystem::path{};
}

/// A fresh directory under the system temp dir, removed with its contents.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "prescale-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed for " + pattern);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

/// Polls `condition` every 20 ms until it holds (true) or `timeout` passes (false).
inline bool wait_for(const std::function<bool()>& condition,
                     std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace prescale::test

// The ../shared/data folder, for a test tagged [shared-data]: such tests run
// only from their own ctest entry, which skips (exit 77) without the data,
// so reaching here without it is a failure, never a silent pass.
#define PRESCALE_REQUIRE_SHARED_DATA(dir_var)                                           \
  const auto dir_var = ::prescale::test::shared_data_dir();                             \
  if (dir_var.empty()) {                                                                \
    FAIL(                                                                               \
        "../shared/data is absent: run [shared-data] tests through ctest, which skips " \
        "them, or set PRESCALE_SHARED_DATA");                                           \
  }
