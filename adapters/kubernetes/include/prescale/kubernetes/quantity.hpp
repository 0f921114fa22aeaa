#pragma once
// Kubernetes resource quantities in canonical DecimalSI form, as
// k8s.io/apimachinery/pkg/api/resource prints them: exponent a multiple of 3,
// integer mantissa, the largest suffix that loses nothing (0.5 -> 500m,
// 1500 -> 1500, 2000 -> 2k, 1e9 -> 1G, 1e21 -> 1e21).
#include <string>
#include <string_view>

#include "prescale/common/expected.hpp"

namespace prescale::kubernetes {

/// Canonical quantity for `value`, rounded away from zero to a milli-unit
/// (Quantity.RoundUp semantics), so a served forecast is never below the
/// computed one. NaN and infinities are errors. Pure; thread-safe.
Expected<std::string> format_quantity(double value);

/// Canonical form of an exact decimal such as "1234.5678", "-10.035M",
/// "1.3E+6" or ".001" (DecimalSI suffixes n u m k M G T P E, or an e/E
/// exponent), rounded away from zero to a milli-unit. Binary suffixes (Ki,
/// Mi, ...) are rejected: external metrics are decimal. Pure; thread-safe.
Expected<std::string> canonical_quantity(std::string_view decimal);

}  // namespace prescale::kubernetes
