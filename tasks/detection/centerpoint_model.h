#pragma once
// CenterPoint (Yin et al. 2021) on PointPillars, built only from quantizable layers: the BEV
// network of tasks/bev (pillar feature net -> scatter -> SECOND + SECOND-FPN, or a windowed
// Transformer -> shared conv3x3) -> CenterPoint head with one set of branches per task group
// (mmdet3d's centerpoint_02pillar_second_secfpn_nus with the CNN encoder).

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/batch.h"
#include "datasets/pillars.h"
#include "quant/qconv2d.h"
#include "quant/with_batch_norm.h"
#include "tasks/bev/bev_net.h"
#include "tasks/detection/detection_model_config.h"

namespace ptqat::tasks::detection {

/// The head maps of one task group; B samples, H x W head cells (HeadGrid). Cell (iy, ix) of a
/// map is the head cell whose lower corner is (x_min + ix * cell_x, y_min + iy * cell_y).
struct CenterPointHeadOutput {
  torch::Tensor heatmap;   ///< [B, classes of the group, H, W] logits
  torch::Tensor offset;    ///< [B, 2, H, W] centre offset x, y inside the cell (cells)
  torch::Tensor height;    ///< [B, 1, H, W] centre z (m)
  torch::Tensor size;      ///< [B, 3, H, W] log w, log l, log h (m)
  torch::Tensor rotation;  ///< [B, 2, H, W] sin yaw, cos yaw
  torch::Tensor velocity;  ///< [B, 2, H, W] vx, vy (m/s)

  /// The five regression maps concatenated in kBoxCodeSize order: [B, 10, H, W].
  torch::Tensor regression() const;
};

/// One output per task group, in config.task_groups order.
using CenterPointOutput = std::vector<CenterPointHeadOutput>;

/// A CenterPoint head branch: conv3x3 + BN + ReLU (QConvBn2d), then conv3x3 with bias (QConv2d).
/// Module names `hidden`, `out`.
class HeadBranchImpl : public torch::nn::Module {
 public:
  HeadBranchImpl(int64_t in_channels, int64_t hidden_channels, int64_t out_channels, double bn_eps,
                 double bn_momentum);
  torch::Tensor forward(const torch::Tensor& x);

  quant::QConvBn2d hidden{nullptr};
  quant::QConv2d out{nullptr};
};
TORCH_MODULE(HeadBranch);

/// The branches of one task group. Module names `heatmap`, `offset`, `height`, `size`,
/// `rotation`, `velocity`.
class TaskHeadImpl : public torch::nn::Module {
 public:
  TaskHeadImpl(int64_t in_channels, int64_t hidden_channels, int64_t classes, double bn_eps,
               double bn_momentum);
  CenterPointHeadOutput forward(const torch::Tensor& x);

  HeadBranch heatmap{nullptr}, offset{nullptr}, height{nullptr}, size{nullptr}, rotation{nullptr},
      velocity{nullptr};
};
TORCH_MODULE(TaskHead);

/// The detector: the BEV network (bev::BevNetImpl, whose layer names it keeps) with a
/// CenterPoint head. Head layers: `heads.{g}.{branch}.hidden` (QConvBn2d) and `.out` (QConv2d).
class CenterPointModelImpl : public bev::BevNetImpl {
 public:
  /// Validates the config (validate()); `point_features`: features per point of
  /// Batch.pillar_features.
  CenterPointModelImpl(const DetectionModelConfig& config, const datasets::PillarConfig& pillars,
                       int64_t point_features = bev::kPillarPointFeatures);

  /// Head maps of the batch's pillars (Batch.pillar_features, pillar_coords, pillar_num_points;
  /// Batch.size() samples).
  CenterPointOutput forward(const datasets::Batch& batch);
  /// The BEV pseudo-image -> head maps (what forward() runs after the pillar net and scatter).
  CenterPointOutput forward_bev(const torch::Tensor& bev);

  const DetectionModelConfig& config() const { return config_; }
  /// Detection classes of each task group (config().class_groups()).
  const std::vector<std::vector<int>>& class_groups() const { return class_groups_; }

 private:
  CenterPointOutput head(const torch::Tensor& shared);

  DetectionModelConfig config_;
  std::vector<std::vector<int>> class_groups_;
  std::vector<TaskHead> heads_;
};
TORCH_MODULE(CenterPointModel);

}  // namespace ptqat::tasks::detection
