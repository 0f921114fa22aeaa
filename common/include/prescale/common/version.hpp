#pragma once
#include <string_view>

namespace prescale {
/// The release this binary was built from.
std::string_view version();
}  // namespace prescale
