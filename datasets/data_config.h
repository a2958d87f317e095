#pragma once
// Which nuScenes data a run reads: the dataset location, version, splits, sweeps and label kinds.

#include <cstdint>
#include <string>

#include "core/config.h"

namespace ptqat::datasets {

struct DataConfig {
  std::string dataroot = "data/nuscenes";
  std::string version = "v1.0-mini";
  std::string train_split = "mini_train";
  std::string eval_split = "mini_val";
  /// The held-out split `select = "best"` picks checkpoints on; never eval_split, the reported
  /// one. Empty: none (every stage keeps its last epoch).
  std::string select_split;
  int64_t nsweeps = 10;
  bool lidarseg = false;
  bool occupancy = false;
  std::string occupancy_dir = "gts";
  /// Frame of points and boxes: "lidar" (the keyframe's LIDAR_TOP frame) or "ego" (the
  /// keyframe's ego frame, where Occ3D grids live).
  std::string frame = "lidar";
  /// Resample the training split class-balanced (datasets/class_balanced_sampling.h); the
  /// evaluation split is never resampled.
  bool cbgs = false;

  void visit(core::ConfigVisitor& v);
  /// `occupancy_dir` resolved against the dataroot unless absolute.
  std::string occupancy_root() const;
};

}  // namespace ptqat::datasets
