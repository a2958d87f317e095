#pragma once
// The configuration of the detection model (config section "model"): CenterPoint (Yin et al.
// 2021) on PointPillars, with the sizes of mmdet3d's centerpoint_02pillar_second_secfpn_nus
// preset as defaults. Smaller models (tests, demos) are the same network with other values:
// every size is a field.

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "datasets/pillars.h"

namespace ptqat::tasks::detection {

/// Channels of CenterPoint's box regression, in this order: centre offset in the cell (x, y,
/// cells), centre z (m), log w, log l, log h (m), sin yaw, cos yaw, vx, vy (m/s); LiDAR frame.
inline constexpr int64_t kBoxCodeSize = 10;

/// Ground-truth encoding of the heatmap and regression targets (section "model.target").
struct CenterPointTargetConfig {
  /// CenterNet's min_overlap of the Gaussian radius.
  double gaussian_overlap = 0.1;
  /// Smallest Gaussian radius, in head cells.
  int64_t min_radius = 2;
  /// Boxes encoded per sample and task group; further boxes are ignored.
  int64_t max_objects = 500;

  void visit(core::ConfigVisitor& v);
};

/// Loss weights (section "model.loss").
struct CenterPointLossConfig {
  double heatmap_weight = 1.0;  ///< weight of the focal heatmap loss
  double bbox_weight = 0.25;    ///< weight of the L1 box regression loss
  /// Per regression channel (kBoxCodeSize, in its order): CenterPoint's nuScenes code weights.
  std::vector<double> code_weights = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.2, 0.2};

  void visit(core::ConfigVisitor& v);
};

/// From head outputs to boxes (section "model.decode"). These fields change evaluation only.
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

/// CenterPoint-PointPillars: a pillar feature net, a SECOND backbone, a SECOND-FPN neck and a
/// CenterPoint head with one branch group per task group.
struct DetectionModelConfig {
  /// Output channels of the pillar feature net's layers (QLinear + BatchNorm1d + ReLU each).
  std::vector<int64_t> pfn_channels = {64};
  /// Per backbone stage: conv3x3 layers after the stage's first (strided) conv3x3.
  std::vector<int64_t> backbone_layers = {3, 5, 5};
  /// Per backbone stage: stride of its first conv3x3.
  std::vector<int64_t> backbone_strides = {2, 2, 2};
  /// Per backbone stage: output channels.
  std::vector<int64_t> backbone_channels = {64, 128, 256};
  /// Per backbone stage: the neck's resampling factor to the common resolution: >= 1 a
  /// transposed conv with kernel = stride (an integer), < 1 a conv with kernel = stride =
  /// 1 / factor (an integer), as mmdet3d's SECONDFPN.
  std::vector<double> upsample_strides = {0.5, 1.0, 2.0};
  /// Per backbone stage: output channels of its neck branch; the branches are concatenated.
  std::vector<int64_t> upsample_channels = {128, 128, 128};
  /// Output channels of the head's shared conv3x3.
  int64_t shared_channels = 64;
  /// Hidden channels of every head branch.
  int64_t head_channels = 64;
  /// Task groups, each a comma-separated list of detection class names; one heatmap channel per
  /// class, one set of regression branches per group (CenterPoint's 6 nuScenes tasks).
  std::vector<std::string> task_groups = {
      "car",     "truck, construction_vehicle", "bus, trailer",
      "barrier", "motorcycle, bicycle",         "pedestrian, traffic_cone"};
  double bn_eps = 1e-3;       ///< epsilon of every BatchNorm
  double bn_momentum = 0.01;  ///< momentum of every BatchNorm's running statistics

  CenterPointTargetConfig target;
  CenterPointLossConfig loss;
  CenterPointDecodeConfig decode;

  void visit(core::ConfigVisitor& v);

  /// Pillar cells per head cell along x and y: backbone stride of a stage divided by its
  /// upsample stride (the same for every stage once validated); 4 for the defaults.
  int64_t out_size_factor() const;
  /// task_groups as detection class indices (datasets::kDetectionNames order); ConfigError for
  /// an unknown name, an empty group or a class listed twice.
  std::vector<std::vector<int>> class_groups() const;
};

/// Checks what the per-field ranges cannot, for a model on the `pillars` grid: list lengths,
/// integral resampling factors, one common neck resolution, a grid divisible by the backbone's
/// total stride, valid task groups. Throws ConfigError naming the key ("model.upsample_strides:
/// expected ..., got ..."). Also validates `pillars`.
void validate(const DetectionModelConfig& config, const datasets::PillarConfig& pillars);

/// The cells of the head's output maps in the LiDAR frame.
struct HeadGrid {
  double x_min = 0, y_min = 0;    ///< lower corner of the point range (m)
  double cell_x = 0, cell_y = 0;  ///< extent of one head cell (m): pillar size * out_size_factor
  int64_t width = 0, height = 0;  ///< head cells along x and y
};

/// The head grid of a validated config on `pillars`.
HeadGrid head_grid(const DetectionModelConfig& config, const datasets::PillarConfig& pillars);

}  // namespace ptqat::tasks::detection
