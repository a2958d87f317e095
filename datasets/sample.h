#pragma once
// One loaded nuScenes sample, as the reader hands it to augmentation and encoding.

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace ptqat::datasets {

/// Detection boxes of one sample in the keyframe's LIDAR_TOP frame, one row per box. Only
/// annotations whose category maps to one of the 10 detection classes are kept.
struct SampleBoxes {
  /// [M, 9] float32: x, y, z (box centre, m), w, l, h (m), yaw (rad, devkit quaternion_yaw of
  /// the box in the LiDAR frame), vx, vy (m/s, LiDAR frame; NaN when the devkit's rule gives none).
  torch::Tensor boxes;
  /// [M] int64: detection class index in DETECTION_NAMES order (car=0 ... barrier=9).
  torch::Tensor labels;
  /// [M] int64: attribute index in kAttributeNames order, -1 for none.
  torch::Tensor attributes;
  /// [M] int64: num_lidar_pts of the annotation.
  torch::Tensor num_lidar_pts;

  int64_t size() const { return boxes.defined() ? boxes.size(0) : 0; }
  static SampleBoxes empty();
};

/// A keyframe with its LiDAR sweeps and whatever labels the dataset has.
struct Sample {
  std::string token;       ///< sample token (32 hex)
  std::string scene_name;  ///< e.g. "scene-0103"
  int64_t timestamp_us = 0;
  /// [N, 5] float32: x, y, z (keyframe LIDAR_TOP frame, m), intensity, time lag (s, >= 0).
  /// The keyframe's points come first, in file order, then the older sweeps.
  torch::Tensor points;
  /// How many leading rows of `points` are the keyframe's own points.
  int64_t keyframe_points = 0;
  SampleBoxes boxes;
  /// [keyframe_points] int64 lidarseg labels mapped to the 16 challenge classes (0 = ignore);
  /// undefined when the dataset has no lidarseg.
  torch::Tensor point_labels;
  /// Occ3D labels in the keyframe's ego frame; undefined when absent.
  torch::Tensor occ_semantics;    ///< [200, 200, 16] uint8, classes 0..17 (17 = free)
  torch::Tensor occ_mask_lidar;   ///< [200, 200, 16] bool
  torch::Tensor occ_mask_camera;  ///< [200, 200, 16] bool
};

}  // namespace ptqat::datasets
