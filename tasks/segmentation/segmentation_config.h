#pragma once
// The LiDAR segmentation head and loss (config section "segmentation"). The BEV network under
// the head is section "model" (tasks/bev/bev_net_config.h).

#include <cstdint>
#include <string>

#include "core/config.h"

namespace ptqat::tasks::segmentation {

struct SegmentationConfig {
  /// Width of the per-point encoder of the point's own features.
  int64_t point_channels = 32;
  /// Hidden width of the per-point classifier (point features + its cell's BEV features).
  int64_t hidden_channels = 64;
  /// Cross-entropy class weights: "inverse_log" (ENet's 1 / ln(1.02 + f_c), f_c the class's
  /// share of the train split's labelled points) or "none".
  std::string class_weights = "inverse_log";

  /// The fields of the run config's section [segmentation] (a task options section,
  /// tasks/task_registry.h).
  void visit(core::ConfigVisitor& v);
};

}  // namespace ptqat::tasks::segmentation
