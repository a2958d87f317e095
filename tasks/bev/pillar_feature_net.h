#pragma once
// PointPillars' pillar feature net (Lang et al. 2019, section 2.1) and the scatter of pillar
// features to the bird's-eye-view pseudo-image.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "quant/with_batch_norm.h"

namespace ptqat::tasks::bev {

/// Features per point of datasets::Pillars with the loader's 5 point columns (x, y, z,
/// intensity, time lag) plus the 5 pillar decorations.
inline constexpr int64_t kPillarPointFeatures = 10;

/// Layers of QLinearBn1d (no bias) + ReLU over the points of each pillar, then a max
/// over the pillar's points. A layer before the last concatenates each point's output with its
/// pillar's max, so the next layer sees 2 * channels inputs (the PointPillars PFNLayer).
///
/// Only the kept points (slot < num_points) enter the layers, the BatchNorm statistics and the
/// max: padding slots are not points. (mmdet3d runs the padding zeros through the layers as well,
/// where BatchNorm turns them into non-zero features that can win the max.) Module names:
/// `linear{i}` (its BatchNorm `linear{i}.bn`).
class PillarFeatureNetImpl : public torch::nn::Module {
 public:
  PillarFeatureNetImpl(int64_t in_features, const std::vector<int64_t>& channels, double bn_eps,
                       double bn_momentum);

  /// `features` [P, T, in_features] float32, `num_points` [P] int64 in [1, T] -> [P, channels
  /// of the last layer].
  torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& num_points);

  int64_t out_channels() const { return out_channels_; }

 private:
  std::vector<quant::QLinearBn1d> linears_;
  int64_t out_channels_ = 0;
};
TORCH_MODULE(PillarFeatureNet);

/// The pseudo-image [batch_size, C, grid_y, grid_x]: each pillar's features ([P, C]) at its
/// cell, zeros elsewhere. `coords` [P, 3] int64: sample in batch, iy, ix (Batch.pillar_coords).
/// Differentiable with respect to `pillar_features`.
torch::Tensor scatter_to_bev(const torch::Tensor& pillar_features, const torch::Tensor& coords,
                             int64_t batch_size, int64_t grid_y, int64_t grid_x);

}  // namespace ptqat::tasks::bev
