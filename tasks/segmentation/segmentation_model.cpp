#include "tasks/segmentation/segmentation_model.h"

#include "tasks/segmentation/lidarseg_metric.h"

namespace ptqat::tasks::segmentation {

namespace nn = torch::nn;

SegmentationModelImpl::SegmentationModelImpl(const bev::BevNetConfig& bev,
                                             const SegmentationConfig& head,
                                             const datasets::PillarConfig& pillars)
    : bev::BevNetImpl(bev, pillars) {
  const auto linear_bn = [&](int64_t in, int64_t out) {
    return quant::QLinearBn1d(
        nn::LinearOptions(in, out).bias(false),
        nn::BatchNorm1dOptions(out).eps(bev.bn_eps).momentum(bev.bn_momentum));
  };
  point_encoder_ = register_module("point_encoder", linear_bn(kPointFeatures, head.point_channels));
  classifier_hidden_ =
      register_module("classifier_hidden",
                      linear_bn(head.point_channels + bev.shared_channels, head.hidden_channels));
  classifier_out_ = register_module(
      "classifier_out", quant::QLinear(nn::LinearOptions(head.hidden_channels, kNumClasses - 1)));
}

torch::Tensor SegmentationModelImpl::forward(const datasets::Batch& batch,
                                             const torch::Tensor& points) {
  const torch::Tensor features = bev_features(batch);  // [B, C, H, W]
  const bev::BevGrid& cells = grid();
  const torch::Tensor selected = batch.points.index({points});
  const torch::Tensor sample = batch.point_batch.index({points});
  const torch::Tensor x = selected.select(1, 0), y = selected.select(1, 1);
  // The point's cell, clamped: points outside the range take the nearest border cell.
  const torch::Tensor ix =
      ((x - cells.x_min) / cells.cell_x).floor().clamp(0, cells.width - 1).to(torch::kInt64);
  const torch::Tensor iy =
      ((y - cells.y_min) / cells.cell_y).floor().clamp(0, cells.height - 1).to(torch::kInt64);
  const torch::Tensor dx = x - (cells.x_min + (ix.to(x.dtype()) + 0.5) * cells.cell_x);
  const torch::Tensor dy = y - (cells.y_min + (iy.to(y.dtype()) + 0.5) * cells.cell_y);
  const torch::Tensor own =
      torch::cat({selected.slice(1, 0, 5), dx.unsqueeze(1), dy.unsqueeze(1)}, 1);
  const torch::Tensor encoded = torch::relu(point_encoder_(own));
  // [B, H, W, C] gathered at (sample, iy, ix).
  const torch::Tensor cell_features = features.permute({0, 2, 3, 1}).index({sample, iy, ix});
  const torch::Tensor hidden =
      torch::relu(classifier_hidden_(torch::cat({encoded, cell_features}, 1)));
  return classifier_out_(hidden);
}

}  // namespace ptqat::tasks::segmentation
