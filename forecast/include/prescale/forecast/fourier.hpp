#pragma once
// Fourier terms for long seasons, phased by local-time positions (slot /
// slots from a SeasonLayout), so a 23 h or 25 h DST day keeps 09:30 at the
// same phase instead of sliding by an hour.
#include "prescale/forecast/model.hpp"

#include <Eigen/Core>

#include <cstddef>
#include <string>
#include <vector>

namespace prescale::forecast {

/// Which sin/cos columns a set of harmonics per period produces. Harmonics
/// whose frequency repeats one already present (e.g. the 7th weekly harmonic
/// is the 1st daily one) and the all-zero sine at the Nyquist frequency are
/// left out, as in R's forecast::fourier. Value type; immutable once built.
class FourierBasis {
 public:
  FourierBasis() = default;
  /// harmonics[k] = K for layout period k (0 = no terms for that period).
  FourierBasis(const std::vector<std::uint32_t>& slots, const std::vector<int>& harmonics);

  [[nodiscard]] std::size_t columns() const { return period_.size(); }
  [[nodiscard]] const std::vector<int>& harmonics() const { return harmonics_; }
  /// R-style names: "S2-288" (sine, harmonic 2, 288 slots), "C2-288".
  [[nodiscard]] std::vector<std::string> names() const;
  /// Writes columns() values for layout sample `index` into out.
  void fill_row(const SeasonLayout& layout, std::size_t index, double* out) const;
  /// Rows first .. first+count-1 of the layout as a dense matrix.
  [[nodiscard]] Eigen::MatrixXd matrix(const SeasonLayout& layout, std::size_t first,
                                       std::size_t count) const;

 private:
  std::vector<std::uint32_t> slots_;
  std::vector<int> harmonics_;
  std::vector<std::size_t> period_;  // per column: layout period
  std::vector<int> harmonic_;        // per column: j in sin(2 pi j pos / slots)
  std::vector<bool> is_sine_;
};

/// Largest useful K for a period of `slots` samples (slots / 2).
[[nodiscard]] int max_harmonics(std::uint32_t slots);

}  // namespace prescale::forecast
