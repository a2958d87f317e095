#pragma once
// The occupancy head and loss (config section "occupancy"). The BEV network under the head is
// section "model" (tasks/bev/bev_net_config.h); its pillar range must be Occ3D's grid.

#include <cstdint>
#include <string>

#include "core/config.h"

namespace ptqat::tasks::occupancy {

struct OccupancyConfig {
  /// Hidden channels of the head's conv3x3 at the 200 x 200 occupancy resolution.
  int64_t hidden_channels = 32;
  /// Voxels the training loss counts: "camera" (Occ3D's mask_camera, what the benchmark scores),
  /// "lidar" (mask_lidar) or "none" (every voxel).
  std::string mask = "camera";
  /// Cross-entropy class weights: "inverse_log" (1 / ln(1.02 + f_c), f_c counted over the
  /// training voxels of up to 256 evenly spaced train samples) or "none".
  std::string class_weights = "inverse_log";

  /// The fields of the run config's section [occupancy] (a task options section,
  /// tasks/task_registry.h).
  void visit(core::ConfigVisitor& v);
};

}  // namespace ptqat::tasks::occupancy
