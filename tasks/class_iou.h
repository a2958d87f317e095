#pragma once
// Per-class IoU from a confusion matrix, as the nuScenes lidarseg devkit and the Occ3D benchmark
// both compute it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace ptqat::tasks {

/// counts[gt][pred] -> IoU per class: diag / (row sum + column sum - diag), NaN where that is
/// 0 / 0 (a class neither in ground truth nor predicted).
template <size_t N>
std::array<double, N> class_iou(const std::array<std::array<int64_t, N>, N>& counts) {
  std::array<double, N> result{};
  for (size_t c = 0; c < N; ++c) {
    int64_t row = 0, column = 0;
    for (size_t k = 0; k < N; ++k) {
      row += counts[c][k];
      column += counts[k][c];
    }
    const int64_t union_size = row + column - counts[c][c];
    result[c] = union_size == 0 ? std::numeric_limits<double>::quiet_NaN()
                                : static_cast<double>(counts[c][c]) / static_cast<double>(union_size);
  }
  return result;
}

}  // namespace ptqat::tasks
