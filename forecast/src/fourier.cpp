#include "prescale/forecast/fourier.hpp"

#include <cmath>
#include <numeric>

namespace prescale::forecast {

int max_harmonics(std::uint32_t slots) {
  return static_cast<int>(slots / 2);
}

FourierBasis::FourierBasis(const std::vector<std::uint32_t>& slots,
                           const std::vector<int>& harmonics)
    : slots_(slots), harmonics_(harmonics) {
  harmonics_.resize(slots_.size(), 0);
  // A frequency j/slots is kept once, as the reduced fraction num/den.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> seen;
  for (std::size_t k = 0; k < slots_.size(); ++k) {
    const int limit = std::min(harmonics_[k], max_harmonics(slots_[k]));
    harmonics_[k] = std::max(limit, 0);
    for (int j = 1; j <= harmonics_[k]; ++j) {
      const std::uint64_t g = std::gcd<std::uint64_t, std::uint64_t>(j, slots_[k]);
      const std::pair<std::uint64_t, std::uint64_t> frequency{j / g, slots_[k] / g};
      bool duplicate = false;
      for (const auto& f : seen) duplicate = duplicate || f == frequency;
      if (duplicate) continue;
      seen.push_back(frequency);
      // sin(pi * pos) is identically zero at the Nyquist harmonic.
      if (2 * static_cast<std::uint64_t>(j) != slots_[k]) {
        period_.push_back(k);
        harmonic_.push_back(j);
        is_sine_.push_back(true);
      }
      period_.push_back(k);
      harmonic_.push_back(j);
      is_sine_.push_back(false);
    }
  }
}

std::vector<std::string> FourierBasis::names() const {
  std::vector<std::string> out;
  out.reserve(columns());
  for (std::size_t c = 0; c < columns(); ++c) {
    std::string name(1, is_sine_[c] ? 'S' : 'C');
    name += std::to_string(harmonic_[c]);
    name += '-';
    name += std::to_string(slots_[period_[c]]);
    out.push_back(std::move(name));
  }
  return out;
}

void FourierBasis::fill_row(const SeasonLayout& layout, std::size_t index, double* out) const {
  for (std::size_t c = 0; c < columns(); ++c) {
    const std::size_t k = period_[c];
    const double angle = 2.0 * M_PI * harmonic_[c] *
                         static_cast<double>(layout.positions[k][index]) /
                         static_cast<double>(slots_[k]);
    out[c] = is_sine_[c] ? std::sin(angle) : std::cos(angle);
  }
}

Eigen::MatrixXd FourierBasis::matrix(const SeasonLayout& layout, std::size_t first,
                                     std::size_t count) const {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> rows(count, columns());
  if (columns() == 0) return rows;
  for (std::size_t i = 0; i < count; ++i) fill_row(layout, first + i, rows.row(i).data());
  return rows;
}

}  // namespace prescale::forecast
