#pragma once
// CenterPoint's training targets (Yin et al. 2021, after CenterNet, Zhou et al. 2019): a
// Gaussian peak per box on its class's heatmap, and the box's regression values at its centre
// cell (mmdet3d CenterHead.get_targets_single).

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "tasks/detection/detection_model_config.h"

namespace ptqat::tasks::detection {

/// The targets of one task group for a batch of B samples (K = target.max_objects).
struct GroupTargets {
  /// [B, classes of the group, H, W] float32: max over the group's boxes of their Gaussians.
  torch::Tensor heatmap;
  /// [B, K, kBoxCodeSize] float32: dx, dy (centre minus its cell's corner, cells), z, log w,
  /// log l, log h, sin yaw, cos yaw, vx, vy (0 where the annotation has no velocity).
  torch::Tensor boxes;
  /// [B, K] int64: centre cell iy * W + ix.
  torch::Tensor indices;
  /// [B, K] bool: which of the K rows hold a box.
  torch::Tensor mask;
};

/// CenterNet's gaussian_radius as CenterPoint (and mmdet3d) compute it, for a box of
/// `height` x `width` head cells and overlap `min_overlap`: the smallest of the three quadratic
/// roots, each (b + sqrt(b^2 - 4ac)) / 2 (the published code's form, kept for parity).
double gaussian_radius(double height, double width, double min_overlap);

/// Draws the CenterNet Gaussian of `radius` cells (sigma = (2 radius + 1) / 6, values below
/// float epsilon times the peak set to 0) centred on cell (x, y) into `heatmap` ([H, W] float32,
/// CPU), keeping the larger value where it overlaps what is there. The centre cell becomes 1.
void draw_gaussian(torch::Tensor& heatmap, int64_t x, int64_t y, int64_t radius);

/// Targets for each task group from Batch.boxes ([B, M, 9]: x, y, z, w, l, h, yaw, vx, vy in
/// the LiDAR frame) and Batch.box_labels ([B, M], -1 for padding). A box counts for the group
/// of its class; boxes whose centre cell lies outside the head grid, with a non-positive w or l,
/// or past the first max_objects of its group in a sample are skipped (mmdet3d). Computed on
/// the CPU, returned on `boxes`' device.
std::vector<GroupTargets> build_targets(const torch::Tensor& boxes, const torch::Tensor& labels,
                                        const std::vector<std::vector<int>>& class_groups,
                                        const HeadGrid& grid,
                                        const CenterPointTargetConfig& config);

}  // namespace ptqat::tasks::detection
