#pragma once
// The configuration of the detection model (config sections "model" for the shared BEV network,
// "detection" for the head): CenterPoint (Yin et al. 2021) on PointPillars, with the sizes of
// mmdet3d's centerpoint_02pillar_second_secfpn_nus preset as defaults. Smaller models (tests,
// demos) are the same network with other values: every size is a field.

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "datasets/pillars.h"
#include "tasks/bev/bev_net_config.h"

namespace ptqat::tasks::detection {

/// Channels of CenterPoint's box regression, in this order: centre offset in the cell (x, y,
/// cells), centre z (m), log w, log l, log h (m), sin yaw, cos yaw, vx, vy (m/s); LiDAR frame.
inline constexpr int64_t kBoxCodeSize = 10;

/// Ground-truth encoding of the heatmap and regression targets (section "detection.target").
struct CenterPointTargetConfig {
  /// CenterNet's min_overlap of the Gaussian radius.
  double gaussian_overlap = 0.1;
  /// Smallest Gaussian radius, in head cells.
  int64_t min_radius = 2;
  /// Boxes encoded per sample and task group; further boxes are ignored.
  int64_t max_objects = 500;

  void visit(core::ConfigVisitor& v);
};

/// Loss weights (section "detection.loss").
struct CenterPointLossConfig {
  double heatmap_weight = 1.0;  ///< weight of the focal heatmap loss
  double bbox_weight = 0.25;    ///< weight of the L1 box regression loss
  /// Per regression channel (kBoxCodeSize, in its order): CenterPoint's nuScenes code weights.
  std::vector<double> code_weights = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.2, 0.2};

  void visit(core::ConfigVisitor& v);
};

/// From head outputs to boxes (section "detection.decode"). These fields change evaluation only.
struct CenterPointDecodeConfig {
  /// Boxes with a heatmap score <= this are dropped.
  double score_threshold = 0.1;
  /// Highest heatmap peaks kept per sample and task group, over all its classes and cells.
  int64_t top_k = 500;
  /// Circle NMS per class, in datasets::kDetectionNames order: a box is dropped when its squared
  /// xy centre distance (m^2) to a kept box of the same class with a higher score is <= this.
  /// CenterPoint's nuScenes min_radius per task (its circle_nms compares the *squared* distance
  /// with min_radius). A value <= 0 keeps every box of the class.
  std::vector<double> circle_nms_threshold = {4.0,   12.0, 10.0, 10.0,  12.0,
                                              0.175, 0.85, 0.85, 0.175, 1.0};
  /// Most boxes per sample after NMS, highest scores first (the submission limit).
  int64_t max_boxes = 500;
  /// x_min, y_min, z_min, x_max, y_max, z_max (m, LiDAR frame): boxes whose centre lies outside
  /// (bounds inclusive) are dropped.
  std::vector<double> post_center_range = {-61.2, -61.2, -10.0, 61.2, 61.2, 10.0};

  void visit(core::ConfigVisitor& v);
};

/// CenterPoint-PointPillars: the shared BEV network (tasks/bev: pillar feature net, SECOND
/// backbone + SECOND-FPN neck or a windowed Transformer, shared conv) and a CenterPoint head with
/// one branch group per task group. The head: the run config's section [detection].
struct DetectionHeadConfig {
  int64_t head_channels = 64;
  std::vector<std::string> task_groups = {
      "car",     "truck, construction_vehicle", "bus, trailer",
      "barrier", "motorcycle, bicycle",         "pedestrian, traffic_cone"};

  CenterPointTargetConfig target;
  CenterPointLossConfig loss;
  CenterPointDecodeConfig decode;

  /// The fields of the run config's section [detection] (a task options section,
  /// tasks/task_registry.h).
  void visit(core::ConfigVisitor& v);

  /// task_groups as detection class indices (datasets::kDetectionNames order); ConfigError for
  /// an unknown name, an empty group or a class listed twice.
  std::vector<std::vector<int>> class_groups() const;
};

/// The detection model: the BEV network every task shares (section [model]) under the head
/// (section [detection]).
struct DetectionModelConfig : DetectionHeadConfig {
  bev::BevNetConfig bev;

  /// Both sections, as a run config holds them.
  void visit(core::ConfigVisitor& v);
};

/// Checks the BEV network (bev::validate, which names the key), the task groups and the lengths
/// of the per-class and per-channel lists; ConfigError naming the key. Also validates `pillars`.
void validate(const DetectionModelConfig& config, const datasets::PillarConfig& pillars);

/// The cells of the head's output maps: the BEV network's feature cells.
using HeadGrid = bev::BevGrid;

/// The head grid of a validated config on `pillars`.
inline HeadGrid head_grid(const DetectionModelConfig& config,
                          const datasets::PillarConfig& pillars) {
  return bev::bev_grid(config.bev, pillars);
}

}  // namespace ptqat::tasks::detection
