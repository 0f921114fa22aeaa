#pragma once
// The seam between the engine and where load history comes from
// (Prometheus, a CSV file, a replayed trace).
#include <cstdint>
#include <string>

#include "prescale/common/expected.hpp"
#include "prescale/forecast/series.hpp"

namespace prescale::source {

/// Gives series on a regular grid. Implementations are used by one engine
/// worker at a time (not required to be thread-safe).
class Source {
 public:
  virtual ~Source() = default;
  /// For logs and errors, e.g. "prometheus http://127.0.0.1:9090 query 'sum(rate(x[1m]))'".
  [[nodiscard]] virtual std::string describe() const = 0;
  /// Samples for the grid start, start+step, ... < end (start and end
  /// aligned to step by the caller). Missing samples are NaN; the returned
  /// series has exactly (end-start)/step values and starts at `start`.
  [[nodiscard]] virtual Expected<forecast::Series> fetch(std::int64_t start_unix,
                                                         std::int64_t end_unix,
                                                         std::int64_t step_seconds) = 0;
  /// Thread-safe, unlike the rest: a fetch in flight ends soon with an error
  /// and every later one fails at once. The engine calls it for a target a
  /// reload removed and at shutdown, so neither waits on a hung server.
  /// Sources that never block have nothing to do.
  virtual void cancel() {}
};

}  // namespace prescale::source
