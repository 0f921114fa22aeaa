#pragma once
#include <string_view>

namespace prescale::autoscaler {
/// The release this binary was built from.
std::string_view version();
}  // namespace prescale::autoscaler
