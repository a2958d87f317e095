#pragma once
// Occ3D-nuScenes mIoU exactly as the CVPR 2023 challenge computes it (docs/nuscenes.md section 8,
// occ_metrics.Metric_mIoU with use_image_mask=True, num_classes=18): an 18 x 18 confusion over
// the camera-visible voxels of every frame, per-class IoU, and the NaN-mean over the 17 classes
// 0..16 ("others" included, "free" excluded from the mean but part of the confusion).

#include <torch/torch.h>

#include <array>
#include <cstdint>

namespace ptqat::tasks::occupancy {

inline constexpr int kNumOccClasses = 18;  ///< 0 others, 1..16 lidarseg classes, 17 free

/// Names of the Occ3D classes, in id order.
inline constexpr std::array<const char*, kNumOccClasses> kOccClassNames = {
    "others",       "barrier", "bicycle",           "bus",        "car",      "construction_vehicle",
    "motorcycle",   "pedestrian", "traffic_cone",   "trailer",    "truck",    "driveable_surface",
    "other_flat",   "sidewalk", "terrain",          "manmade",    "vegetation", "free"};

class Occ3dConfusion {
 public:
  /// Adds one frame: `ground_truth` and `prediction` [200, 200, 16] class ids (any integer dtype;
  /// predictions in 0..17), `mask` the voxels that count (the camera mask for the official
  /// number), bool of the same shape.
  void add(const torch::Tensor& ground_truth, const torch::Tensor& prediction,
           const torch::Tensor& mask);

  /// counts[gt][pred].
  const std::array<std::array<int64_t, kNumOccClasses>, kNumOccClasses>& counts() const {
    return counts_;
  }
  /// diag / (row sum + column sum - diag) per class, NaN where 0 / 0.
  std::array<double, kNumOccClasses> iou() const;
  /// nanmean of iou() over classes 0..16. The challenge prints it x100, rounded to 2 decimals.
  double mean_iou() const;

 private:
  std::array<std::array<int64_t, kNumOccClasses>, kNumOccClasses> counts_{};
};

}  // namespace ptqat::tasks::occupancy
