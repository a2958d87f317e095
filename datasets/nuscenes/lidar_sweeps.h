#pragma once
// Multi-sweep LiDAR aggregation into the keyframe's LIDAR_TOP frame, as the devkit's
// LidarPointCloud.from_file_multisweep does, with one deliberate difference: points within
// 1 m of the sensor are removed from the older sweeps only, so the keyframe's points keep their
// file order and stay aligned with the lidarseg labels.

#include <torch/torch.h>

#include "datasets/nuscenes/nuscenes.h"

namespace ptqat::datasets {

/// Points of the LIDAR_TOP keyframe of `sample` and of up to `nsweeps - 1` previous sweeps
/// (fewer when the sensor's sample_data list starts earlier).
struct AggregatedSweeps {
  /// [N, 5] float32: x, y, z in the keyframe LiDAR frame, intensity, time lag in seconds
  /// (keyframe time minus sweep time, 0 for the keyframe). Keyframe points first.
  torch::Tensor points;
  int64_t keyframe_points = 0;
  int64_t sweeps = 0;  ///< sweeps read, keyframe included
};

/// `min_distance`: the devkit's remove_close radius (a square: |x| < r and |y| < r), applied
/// in each older sweep's own sensor frame.
AggregatedSweeps aggregate_sweeps(const NuScenes& nusc, Row sample, int64_t nsweeps,
                                  double min_distance = 1.0);

}  // namespace ptqat::datasets
