#include "datasets/data_config.h"

namespace ptqat::datasets {

using core::Stage;

void DataConfig::visit(core::ConfigVisitor& v) {
  v.section("data", [&] {
    v.field({"dataroot", "folder holding <version>/, samples/, sweeps/, lidarseg/", Stage::kNone},
            dataroot);
    v.field({"version", "version folder: v1.0-mini, v1.0-trainval, v1.0-test, or a custom name",
             Stage::kFloatTrain},
            version);
    v.field({"train_split", "official split name or a key of <version>/splits.json",
             Stage::kFloatTrain},
            train_split);
    v.field({"eval_split", "split evaluated after training", Stage::kEvaluate}, eval_split);
    v.field({"select_split", "held-out split that select = best picks checkpoints on",
             Stage::kFloatTrain},
            select_split);
    v.field({"nsweeps", "LiDAR sweeps per sample, keyframe included (nuScenes usage: 10)",
             Stage::kFloatTrain},
            nsweeps, core::IntRange{1, 30});
    v.field({"lidarseg", "load lidarseg point labels of the keyframe", Stage::kFloatTrain},
            lidarseg);
    v.field(
        {"occupancy", "load Occ3D labels (gts/<scene>/<sample>/labels.npz)", Stage::kFloatTrain},
        occupancy);
    v.field(
        {"occupancy_dir", "Occ3D gts folder, relative to dataroot unless absolute", Stage::kNone},
        occupancy_dir);
    v.choice({"frame",
              "frame of points and boxes: lidar (keyframe LIDAR_TOP) or ego (keyframe ego, Occ3D)",
              Stage::kFloatTrain},
             frame, {"lidar", "ego"});
    v.field({"cbgs",
             "class-balanced resampling of the training split (CBGS, as mmdetection3d's "
             "CenterPoint recipe)",
             Stage::kFloatTrain},
            cbgs);
  });
}

std::string DataConfig::occupancy_root() const {
  if (!occupancy_dir.empty() && occupancy_dir.front() == '/') return occupancy_dir;
  return dataroot + "/" + occupancy_dir;
}

}  // namespace ptqat::datasets
