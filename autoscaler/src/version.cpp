#include "prescale/autoscaler/version.hpp"

namespace prescale::autoscaler {
std::string_view version() {
  return "0.2.0";
}
}  // namespace prescale::autoscaler
