#pragma once
// LiDAR semantic segmentation from quantizable layers: the shared BEV network (pillar features
// -> BEV encoder-decoder -> shared conv) and a per-point head that combines each point's own
// features with its BEV cell's features, so every point of the keyframe gets a label, also those
// that no pillar encoded.

#include <torch/torch.h>

#include <cstdint>

#include "datasets/batch.h"
#include "datasets/pillars.h"
#include "quant/qlinear.h"
#include "tasks/bev/bev_net.h"
#include "tasks/segmentation/segmentation_config.h"

namespace ptqat::tasks::segmentation {

/// Per-point features of the point encoder: x, y, z, intensity, time lag, and x, y relative to
/// the centre of the point's BEV cell.
inline constexpr int64_t kPointFeatures = 7;

/// Layers beyond bev::BevNetImpl's: `point_encoder` (QLinearBn1d, no bias) + ReLU;
/// `classifier_hidden` (QLinearBn1d over the point features concatenated with the cell's shared
/// BEV features, no bias) + ReLU;
/// `classifier_out` (QLinear with bias) -> 16 logits, logit j for challenge class j + 1.
class SegmentationModelImpl : public bev::BevNetImpl {
 public:
  SegmentationModelImpl(const bev::BevNetConfig& bev, const SegmentationConfig& head,
                        const datasets::PillarConfig& pillars);

  /// Logits [M, 16] of the points selected by `points` ([N] bool over Batch.points).
  torch::Tensor forward(const datasets::Batch& batch, const torch::Tensor& points);

 private:
  quant::QLinearBn1d point_encoder_{nullptr}, classifier_hidden_{nullptr};
  quant::QLinear classifier_out_{nullptr};
};
TORCH_MODULE(SegmentationModel);

}  // namespace ptqat::tasks::segmentation
