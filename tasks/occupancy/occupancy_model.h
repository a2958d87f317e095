#pragma once
// Occupancy prediction from quantizable layers: the shared BEV network on ego-frame points, then
// a channel-to-height head (FlashOcc, Yu et al. 2023): the BEV features, resampled to Occ3D's
// 200 x 200 cells, go through a conv3x3 and a 1x1 conv whose 16 x 18 output channels are the
// class logits of the cell's 16 height bins.

#include <torch/torch.h>

#include <cstdint>

#include "datasets/batch.h"
#include "datasets/pillars.h"
#include "quant/qconv2d.h"
#include "quant/with_batch_norm.h"
#include "tasks/bev/bev_net.h"
#include "tasks/occupancy/occupancy_config.h"

namespace ptqat::tasks::occupancy {

/// Checks that the pillar grid covers Occ3D's x, y range [-40, 40] m, which the head's cells
/// must match; ConfigError naming pillars.point_range.
void validate_occupancy_grid(const datasets::PillarConfig& pillars);

/// Layers beyond bev::BevNetImpl's: `occ_hidden` (QConvBn2d 3x3 + ReLU) and `occ_out` (QConv2d
/// 1x1 with bias, 18 x 16 channels: class c of height bin z is channel c * 16 + z).
class OccupancyModelImpl : public bev::BevNetImpl {
 public:
  OccupancyModelImpl(const bev::BevNetConfig& bev, const OccupancyConfig& head,
                     const datasets::PillarConfig& pillars);

  /// Logits [B, 18, 200, 200, 16], indexed as Occ3D's [ix, iy, iz] after the class axis.
  torch::Tensor forward(const datasets::Batch& batch);

 private:
  quant::QConvBn2d occ_hidden_{nullptr};
  quant::QConv2d occ_out_{nullptr};
};
TORCH_MODULE(OccupancyModel);

}  // namespace ptqat::tasks::occupancy
