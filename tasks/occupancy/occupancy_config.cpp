#include "tasks/occupancy/occupancy_config.h"

namespace ptqat::tasks::occupancy {

void OccupancyConfig::visit(core::ConfigVisitor& v) {
  using core::IntRange;
  using core::Stage;
  v.field(
      {"hidden_channels", "hidden channels of the head's conv3x3 at 200 x 200", Stage::kFloatTrain},
      hidden_channels, IntRange{1, 4096});
  v.choice({"mask", "voxels the training loss counts: Occ3D mask_camera, mask_lidar, or all",
            Stage::kFloatTrain},
           mask, {"camera", "lidar", "none"});
  v.choice({"class_weights",
            "cross-entropy class weights: inverse_log (1 / ln(1.02 + train frequency)) or none",
            Stage::kFloatTrain},
           class_weights, {"inverse_log", "none"});
}

}  // namespace ptqat::tasks::occupancy
