#include "tasks/occupancy/occ3d_metric.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "tasks/class_iou.h"

namespace ptqat::tasks::occupancy {

void Occ3dConfusion::add(const torch::Tensor& ground_truth, const torch::Tensor& prediction,
                         const torch::Tensor& mask) {
  PTQAT_ASSERT(ground_truth.sizes() == prediction.sizes() && mask.sizes() == ground_truth.sizes(),
               "Occ3D confusion: ground truth {}, prediction {}, mask {}",
               c10::str(ground_truth.sizes()), c10::str(prediction.sizes()),
               c10::str(mask.sizes()));
  const torch::Tensor keep = mask.to(torch::kCPU, torch::kBool);
  const torch::Tensor gt = ground_truth.to(torch::kCPU, torch::kInt64).index({keep});
  const torch::Tensor pred = prediction.to(torch::kCPU, torch::kInt64).index({keep});
  PTQAT_CHECK(pred.numel() == 0 || (pred.min().item<int64_t>() >= 0 &&
                                     pred.max().item<int64_t>() < kNumOccClasses),
              DataError, "Occ3D prediction: expected class ids 0..{}, got {}..{}",
              kNumOccClasses - 1, pred.min().item<int64_t>(), pred.max().item<int64_t>());
  // The challenge's hist_info keeps ground truth in [0, 18) only.
  const torch::Tensor valid = (gt >= 0) & (gt < kNumOccClasses);
  const torch::Tensor cells =
      torch::bincount(gt.index({valid}) * kNumOccClasses + pred.index({valid}), {},
                      kNumOccClasses * kNumOccClasses)
          .to(torch::kInt64);
  const auto count = cells.accessor<int64_t, 1>();
  for (int g = 0; g < kNumOccClasses; ++g) {
    for (int p = 0; p < kNumOccClasses; ++p) counts_[g][p] += count[g * kNumOccClasses + p];
  }
}

std::array<double, kNumOccClasses> Occ3dConfusion::iou() const { return class_iou(counts_); }

double Occ3dConfusion::mean_iou() const {
  const std::array<double, kNumOccClasses> per_class = iou();
  double sum = 0;
  int present = 0;
  for (int c = 0; c < kNumOccClasses - 1; ++c) {  // free (17) is not averaged
    if (std::isnan(per_class[c])) continue;
    sum += per_class[c];
    ++present;
  }
  return present == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / present;
}

}  // namespace ptqat::tasks::occupancy
