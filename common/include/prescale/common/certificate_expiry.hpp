#pragma once
// When a certificate a server presents or trusts stops being valid, for the
// prescale_certificate_expiry_seconds gauge: each adapter reads its own
// files (OpenSSL stays out of common) and reports in this shape.
#include <cstdint>
#include <string>

namespace prescale {

struct CertificateExpiry {
  std::string certificate;          ///< role, e.g. "serving", "client-ca", "keda-serving"
  std::string source;               ///< the file (or object) it was read from
  std::int64_t not_after_unix = 0;  ///< notAfter; for a bundle, the earliest
};

}  // namespace prescale
