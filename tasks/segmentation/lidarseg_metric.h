#pragma once
// The nuScenes lidarseg metric exactly as the devkit computes it (docs/nuscenes.md section 7,
// eval/lidarseg/evaluate.py): a 17 x 17 confusion of challenge classes summed over the split's
// keyframes, with the ignore class's row and column zeroed, then per-class IoU and their NaN-mean.

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "datasets/nuscenes/categories.h"
#include "datasets/nuscenes/nuscenes.h"

namespace ptqat::tasks::segmentation {

inline constexpr int kNumClasses = datasets::kNumLidarsegClasses;  ///< 0 ignore + 16

/// The devkit's ConfusionMatrix over challenge classes 0..16.
class LidarsegConfusion {
 public:
  /// Adds one frame: `ground_truth` and `prediction` are [N] integer labels in 0..16 (any integer
  /// dtype). As the devkit, the frame's row 0 (ignored ground truth) and column 0 are dropped.
  void add(const torch::Tensor& ground_truth, const torch::Tensor& prediction);

  /// counts[gt][pred].
  const std::array<std::array<int64_t, kNumClasses>, kNumClasses>& counts() const {
    return counts_;
  }
  /// diag / (row sum + column sum - diag) per class; NaN where that is 0 / 0 (always class 0).
  std::array<double, kNumClasses> iou() const;
  /// nanmean of iou(): the mean over the classes present in ground truth or predictions.
  double mean_iou() const;
  /// nansum over classes of (row sum / total) * IoU.
  double frequency_weighted_iou() const;

 private:
  std::array<std::array<int64_t, kNumClasses>, kNumClasses> counts_{};
};

/// The official result on one split.
struct LidarsegMetrics {
  std::array<double, kNumClasses> iou{};  ///< per class, [0] = ignore (NaN)
  double mean_iou = 0;
  double frequency_weighted_iou = 0;
  int64_t samples = 0;
};

/// A frame's predicted labels: [points] integer labels 1..16 of the sample's LIDAR_TOP keyframe.
using LidarsegPrediction = std::function<torch::Tensor(datasets::Row sample, int64_t points)>;

/// The metric over every keyframe of `split` (in the split's scene order, as the devkit walks
/// it): ground truth from the index's lidarseg files mapped to challenge classes, predictions from
/// `prediction`. DataError when a prediction has another point count or a label outside 1..16
/// (the devkit's assertions), naming the sample.
LidarsegMetrics evaluate_lidarseg(const datasets::NuScenes& nusc, const std::string& split,
                                  const LidarsegPrediction& prediction);

/// `<results>/lidarseg/<split>/<lidar_sd_token>_lidarseg.bin`: where the challenge puts a
/// frame's predictions.
std::string lidarseg_prediction_path(const std::string& results, const std::string& split,
                                     const std::string& lidar_sample_data_token);

/// evaluate_lidarseg() over a results folder in the challenge layout; IoError naming a missing
/// file.
LidarsegMetrics evaluate_lidarseg_folder(const datasets::NuScenes& nusc, const std::string& split,
                                         const std::string& results);

}  // namespace ptqat::tasks::segmentation
