#pragma once
// A tiny CenterPoint for tests: the full preset's topology (three stages, neck factors 0.5, 1,
// 2, six task groups) with few channels, on a 25.6 m x 25.6 m grid of 0.4 m pillars (64 x 64
// pillars, 16 x 16 head cells of 1.6 m).

#include "datasets/pillars.h"
#include "tasks/detection/detection_model_config.h"

namespace ptqat::tasks::detection::testing {

inline datasets::PillarConfig tiny_pillars() {
  datasets::PillarConfig pillars;
  pillars.point_range = {-12.8, -12.8, -5.0, 12.8, 12.8, 3.0};
  pillars.pillar_size = {0.4, 0.4};
  pillars.max_points_per_pillar = 16;
  pillars.max_pillars = 4096;
  return pillars;
}

inline DetectionModelConfig tiny_config() {
  DetectionModelConfig config;
  config.bev.pfn_channels = {16};
  config.bev.backbone_layers = {1, 1, 1};
  config.bev.backbone_strides = {2, 2, 2};
  config.bev.backbone_channels = {16, 32, 64};
  config.bev.upsample_strides = {0.5, 1.0, 2.0};
  config.bev.upsample_channels = {16, 16, 16};
  config.bev.shared_channels = 16;
  config.head_channels = 16;
  config.target.max_objects = 16;
  config.decode.post_center_range = {-20.0, -20.0, -10.0, 20.0, 20.0, 10.0};
  return config;
}

/// 16 x 16 head cells of 1 m from (-8, -8).
inline HeadGrid unit_grid() {
  HeadGrid grid;
  grid.x_min = -8.0;
  grid.y_min = -8.0;
  grid.cell_x = 1.0;
  grid.cell_y = 1.0;
  grid.width = 16;
  grid.height = 16;
  return grid;
}

}  // namespace ptqat::tasks::detection::testing
