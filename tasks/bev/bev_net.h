#pragma once
// The bird's-eye-view network every task builds on: pillar feature net -> scatter to the BEV
// pseudo-image -> encoder (SECOND + SECOND-FPN, or a windowed Transformer) -> shared conv3x3.
// A task's model derives from it and adds its head, so every model's quantizable layers share
// the names below.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "datasets/batch.h"
#include "datasets/pillars.h"
#include "quant/with_batch_norm.h"
#include "tasks/bev/bev_layers.h"
#include "tasks/bev/bev_net_config.h"
#include "tasks/bev/pillar_feature_net.h"
#include "tasks/bev/window_transformer.h"

namespace ptqat::tasks::bev {

/// Quantizable layers: `pfn.linear{i}` (QLinearBn1d); for "second" `backbone.{s}.{i}`
/// (QConvBn2d, conv3x3, i = 0 strided) and `neck.{s}.up` (QConvTransposeBn2d) or `neck.{s}.down`
/// (QConvBn2d); for "transformer" `encoder.patch_embed`, `encoder.blocks.{i}.attention.qkv` /
/// `.proj`, `.fc1`, `.fc2`; then `shared` (QConvBn2d). Every BatchNorm belongs to the layer before
/// it; the LayerNorms are parameters outside the quantizable layers.
class BevNetImpl : public torch::nn::Module {
 public:
  /// Validates the config (validate()); `point_features`: features per point of
  /// Batch.pillar_features.
  BevNetImpl(const BevNetConfig& config, const datasets::PillarConfig& pillars,
             int64_t point_features = kPillarPointFeatures);

  /// The shared features of the batch's pillars: [Batch.size(), shared_channels, grid().height,
  /// grid().width].
  torch::Tensor bev_features(const datasets::Batch& batch);
  /// The pseudo-image [B, pillar features, grid_y, grid_x] -> shared features.
  torch::Tensor encode(const torch::Tensor& pseudo_image);

  const BevNetConfig& bev_config() const { return config_; }
  /// Cells of the shared features.
  const BevGrid& grid() const { return grid_; }

 private:
  BevNetConfig config_;
  BevGrid grid_;
  int64_t grid_x_ = 0, grid_y_ = 0;

  PillarFeatureNet pfn_{nullptr};
  std::vector<std::vector<quant::QConvBn2d>> backbone_;
  std::vector<NeckBranch> neck_;
  WindowTransformer transformer_{nullptr};
  quant::QConvBn2d shared_{nullptr};
};

}  // namespace ptqat::tasks::bev
