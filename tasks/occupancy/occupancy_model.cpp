#include "tasks/occupancy/occupancy_model.h"

#include <cmath>

#include "core/error.h"
#include "datasets/nuscenes/occ3d.h"
#include "tasks/bev/bev_layers.h"
#include "tasks/occupancy/occ3d_metric.h"

namespace ptqat::tasks::occupancy {

namespace nn = torch::nn;

void validate_occupancy_grid(const datasets::PillarConfig& pillars) {
  const std::vector<double>& range = pillars.point_range;
  const bool matches = range.size() == 6 && std::abs(range[0] + 40.0) < 1e-6 &&
                       std::abs(range[1] + 40.0) < 1e-6 && std::abs(range[3] - 40.0) < 1e-6 &&
                       std::abs(range[4] - 40.0) < 1e-6;
  PTQAT_CHECK(matches, ConfigError,
              "pillars.point_range: expected x and y over Occ3D's grid [-40, 40] m for the "
              "occupancy task, got [{}]",
              fmt::join(range, ", "));
}

OccupancyModelImpl::OccupancyModelImpl(const bev::BevNetConfig& bev, const OccupancyConfig& head,
                                       const datasets::PillarConfig& pillars)
    : bev::BevNetImpl(bev, pillars) {
  validate_occupancy_grid(pillars);
  occ_hidden_ = register_module("occ_hidden", bev::conv_bn(bev.shared_channels,
                                                           head.hidden_channels, 3, 1, 1,
                                                           bev.bn_eps, bev.bn_momentum));
  occ_out_ = register_module(
      "occ_out", quant::QConv2d(nn::Conv2dOptions(head.hidden_channels,
                                                  kNumOccClasses * datasets::kOccGridZ, 1)));
}

torch::Tensor OccupancyModelImpl::forward(const datasets::Batch& batch) {
  torch::Tensor features = bev_features(batch);  // [B, C, rows = y, cols = x]
  if (features.size(2) != datasets::kOccGridY || features.size(3) != datasets::kOccGridX) {
    // Cell centres line up with align_corners = false: both grids span the same range.
    features = nn::functional::interpolate(
        features, nn::functional::InterpolateFuncOptions()
                      .size(std::vector<int64_t>{datasets::kOccGridY, datasets::kOccGridX})
                      .mode(torch::kBilinear)
                      .align_corners(false));
  }
  const torch::Tensor logits = occ_out_(torch::relu(occ_hidden_(features)));
  const int64_t b = logits.size(0);
  // [B, 18 * 16, y, x] -> [B, 18, 16 (z), y, x] -> [B, 18, x, y, z].
  return logits.view({b, kNumOccClasses, datasets::kOccGridZ, datasets::kOccGridY,
                      datasets::kOccGridX})
      .permute({0, 1, 4, 3, 2});
}

}  // namespace ptqat::tasks::occupancy
