#include "tasks/segmentation/segmentation_config.h"

namespace ptqat::tasks::segmentation {

void SegmentationConfig::visit(core::ConfigVisitor& v) {
  using core::IntRange;
  using core::Stage;
  v.field({"point_channels", "width of the per-point encoder", Stage::kFloatTrain}, point_channels,
          IntRange{1, 4096});
  v.field({"hidden_channels", "hidden width of the per-point classifier", Stage::kFloatTrain},
          hidden_channels, IntRange{1, 4096});
  v.choice({"class_weights",
            "cross-entropy class weights: inverse_log (1 / ln(1.02 + train frequency)) or none",
            Stage::kFloatTrain},
           class_weights, {"inverse_log", "none"});
}

}  // namespace ptqat::tasks::segmentation
