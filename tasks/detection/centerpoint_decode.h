#pragma once
// From CenterPoint head maps to nuScenes detection boxes (mmdet3d CenterPointBBoxCoder.decode
// and CenterHead.get_bboxes with CenterPoint's circle NMS), and from the LiDAR frame to the
// global frame the metric evaluates in (the nuScenes baseline's lidar_nusc_box_to_global).

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "datasets/batch.h"
#include "datasets/geometry.h"
#include "datasets/nuscenes/nuscenes.h"
#include "tasks/detection/centerpoint_model.h"
#include "tasks/detection/detection_box.h"
#include "tasks/detection/detection_model_config.h"

namespace ptqat::tasks::detection {

/// The boxes decoded for one sample, best score first, on the CPU.
struct DecodedBoxes {
  /// [N, 9] float32: x, y, z (centre), w, l, h, yaw, vx, vy in the LiDAR frame (the columns of
  /// Batch.boxes).
  torch::Tensor boxes;
  torch::Tensor scores;  ///< [N] float32, sigmoid of the heatmap peak
  torch::Tensor labels;  ///< [N] int64 detection class (datasets::kDetectionNames order)

  int64_t size() const { return scores.defined() ? scores.size(0) : 0; }
};

/// CenterPoint's circle_nms: visits the boxes by decreasing score (ties: lower index first) and
/// keeps a box unless its squared xy distance to an already kept box is <= `threshold` (m^2).
/// `centers` [N, >= 2] (x, y first), `scores` [N]; returns the kept indices in visiting order.
std::vector<int64_t> circle_nms(const torch::Tensor& centers, const torch::Tensor& scores,
                                double threshold);

/// Boxes of every sample of `output`: per task group the top_k heatmap peaks (sigmoid) over all
/// its classes and cells, score > score_threshold, centre inside post_center_range; then per
/// class circle NMS with that class's threshold; then the best max_boxes of the sample.
/// Positions: x = x_min + (ix + dx) * cell_x, y likewise; size = exp of the log-size maps; yaw =
/// atan2(sin, cos). `class_groups` as DetectionModelConfig::class_groups().
std::vector<DecodedBoxes> decode(const CenterPointOutput& output,
                                 const std::vector<std::vector<int>>& class_groups,
                                 const HeadGrid& grid, const CenterPointDecodeConfig& config);

/// LIDAR_TOP sensor -> global of a sample's keyframe: ego_to_global * sensor_to_ego of its
/// LIDAR_TOP sample_data.
datasets::RigidTransform lidar_to_global(const datasets::NuScenes& index, datasets::Row sample);

/// The attribute a detector without an attribute head reports for `detection_class` at `speed`
/// (m/s, xy norm of the global velocity), as CenterPoint's nuScenes export: above 0.2 m/s
/// car, truck, bus, trailer, construction_vehicle are vehicle.moving, bicycle and motorcycle
/// cycle.with_rider; at most 0.2 m/s pedestrian is pedestrian.standing and bus vehicle.stopped;
/// otherwise the class's most frequent nuScenes attribute (car, truck, trailer,
/// construction_vehicle: vehicle.parked; pedestrian: pedestrian.moving; bicycle, motorcycle:
/// cycle.without_rider). Barrier and traffic_cone have none (-1). Index in kAttributeNames.
int default_attribute(int detection_class, double speed);

/// `boxes` of one sample moved to the global frame: centre by `lidar_to_global`, rotation =
/// transform rotation * rotation of yaw about z, velocity (vx, vy, 0) rotated by the transform
/// rotation (x, y kept), as the devkit's Box.rotate / Box.translate. Attributes from
/// default_attribute(); num_pts -1 and ego_dist NaN (the metric sets it).
std::vector<DetectionBox> to_global(const DecodedBoxes& boxes,
                                    const datasets::RigidTransform& lidar_to_global,
                                    const Token& sample);

/// Adds the decoded boxes of every sample of `batch` that is not padding to `results` (in batch
/// order), in the global frame of the sample's LIDAR_TOP keyframe. DataError naming the token
/// when a sample is not in `index` (or is already in `results`).
void add_predictions(const datasets::NuScenes& index, const datasets::Batch& batch,
                     const std::vector<DecodedBoxes>& decoded, DetectionResults& results);

}  // namespace ptqat::tasks::detection
