#pragma once
// A Source that replays a recorded series: what Prometheus would return for
// the same range, NaN outside the recording. Shared by the engine tests.
#include <cstdint>
#include <string>
#include <utility>

#include "prescale/forecast/series.hpp"
#include "prescale/source/source.hpp"

namespace prescale::testing {

class RecordedSource final : public source::Source {
 public:
  explicit RecordedSource(forecast::Series series) : series_(std::move(series)) {}
  std::string describe() const override { return "recorded"; }
  Expected<forecast::Series> fetch(std::int64_t start, std::int64_t end,
                                   std::int64_t step) override {
    forecast::Series out{start, step, {}};
    for (auto t = start; t < end; t += step) {
      const auto i = (t - series_.start_unix) / step;
      out.values.push_back(i >= 0 && i < static_cast<std::int64_t>(series_.size())
                               ? series_.values[static_cast<std::size_t>(i)]
                               : forecast::kMissing);
    }
    return out;
  }

 private:
  forecast::Series series_;
};

}  // namespace prescale::testing
