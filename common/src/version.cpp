#include "prescale/common/version.hpp"

namespace prescale {
// PRESCALE_VERSION comes from project(VERSION) in the top CMakeLists.txt.
std::string_view version() {
  return PRESCALE_VERSION;
}
}  // namespace prescale
