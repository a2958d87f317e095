// The occupancy task on a synthetic dataset written in the nuScenes + Occ3D format: ego-frame
// points on the label grid, loss and backward, evaluation -> challenge .npz files + the mIoU.

#include "tasks/occupancy/occupancy_task.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "datasets/loader.h"
#include "datasets/nuscenes/npz.h"
#include "datasets/nuscenes/occ3d.h"
#include "datasets/nuscenes_dataset.h"
#include "datasets/synth/synth_dataset.h"
#include "quant/layer_discovery.h"
#include "tasks/occupancy/occ3d_metric.h"
#include "tests/support/temp_dir.h"
#include "tests/tasks/task_test_util.h"

namespace ptqat::tasks::occupancy {
namespace {

datasets::PillarConfig occ_pillars() {
  datasets::PillarConfig pillars;
  pillars.point_range = {-40.0, -40.0, -1.0, 40.0, 40.0, 5.4};
  pillars.pillar_size = {1.6, 1.6};
  pillars.max_points_per_pillar = 16;
  pillars.max_pillars = 2500;
  return pillars;
}

bev::BevNetConfig small_bev() {
  bev::BevNetConfig config;
  config.pfn_channels = {8};
  config.backbone_layers = {0, 1};
  config.backbone_strides = {1, 2};
  config.backbone_channels = {8, 16};
  config.upsample_strides = {1.0, 2.0};
  config.upsample_channels = {8, 8};
  config.shared_channels = 8;
  return config;
}

/// Two scenes of three keyframes, written once for the suite.
struct Synthetic {
  Synthetic() {
    datasets::SynthOptions options;
    options.scenes = 2;
    options.samples_per_scene = 3;
    datasets::write_synth_dataset(options, dir.path().string());
    index = std::make_shared<datasets::NuScenes>(dir.path().string(), "v1.0-synth");
    data.dataroot = dir.path().string();
    data.version = "v1.0-synth";
    data.nsweeps = 1;
    data.occupancy = true;
    data.frame = "ego";
    split = index->split_samples("synth_train").empty() ? "synth_val" : "synth_train";
    OccupancyConfig head;
    head.hidden_channels = 8;
    task = std::make_unique<OccupancyTask>(small_bev(), head, occ_pillars(), index,
                                           data.occupancy_root(), split, split);
  }

  /// Training batches are augmented (with what maps the grid onto itself: flips and quarter
  /// turns), evaluation batches are not.
  std::vector<datasets::Batch> batches(bool training) const {
    const datasets::NuScenesDataset dataset(index, split, data);
    datasets::LoaderConfig config;
    config.batch_size = 2;
    config.workers = 0;
    datasets::AugmentConfig augment;
    augment.enabled = training;
    augment.rotation = {0.0, 0.0};
    augment.scale = {1.0, 1.0};
    augment.quarter_turns = true;
    datasets::Loader loader(dataset, config, occ_pillars(), augment, 0, 1, 3);
    loader.start_epoch(0);
    std::vector<datasets::Batch> all;
    while (auto batch = loader.next()) all.push_back(std::move(*batch));
    return all;
  }

  ptqat::testing::TempDir dir;
  std::shared_ptr<datasets::NuScenes> index;
  datasets::DataConfig data;
  std::string split;
  std::unique_ptr<OccupancyTask> task;
};

const Synthetic& synthetic() {
  static const Synthetic instance;
  return instance;
}

/// Share of the keyframe points inside the grid that fall in an occupied (not free) voxel.
double occupied_share(const datasets::Sample& sample) {
  const torch::Tensor points = sample.points.slice(0, 0, sample.keyframe_points);
  const torch::Tensor ix = ((points.select(1, 0) + 40) / 0.4).floor().to(torch::kInt64);
  const torch::Tensor iy = ((points.select(1, 1) + 40) / 0.4).floor().to(torch::kInt64);
  const torch::Tensor iz = ((points.select(1, 2) + 1) / 0.4).floor().to(torch::kInt64);
  const torch::Tensor inside =
      (ix >= 0) & (ix < 200) & (iy >= 0) & (iy < 200) & (iz >= 0) & (iz < 16);
  const torch::Tensor labels =
      sample.occ_semantics.index({ix.index({inside}), iy.index({inside}), iz.index({inside})});
  return (labels != datasets::kOccFreeClass).to(torch::kDouble).mean().item<double>();
}

TEST(OccupancyTask, EgoFramePointsLandInOccupiedVoxels) {
  const Synthetic& s = synthetic();
  datasets::DataConfig lidar = s.data;
  lidar.frame = "lidar";
  const datasets::NuScenesDataset ego_set(s.index, s.split, s.data);
  const datasets::NuScenesDataset lidar_set(s.index, s.split, lidar);
  double ego = 0, in_lidar_frame = 0;
  for (int64_t i = 0; i < ego_set.size(); ++i) {
    ego += occupied_share(ego_set.get(i)) / static_cast<double>(ego_set.size());
    in_lidar_frame += occupied_share(lidar_set.get(i)) / static_cast<double>(ego_set.size());
  }
  // A LiDAR return sits on a surface, so in the grid's frame most points are in occupied
  // voxels; read in the LiDAR frame (mounted ~1.8 m up) far fewer are.
  EXPECT_GT(ego, 0.7);
  EXPECT_LT(in_lidar_frame, ego - 0.3);
}

TEST(OccupancyTask, LossIsFiniteAndReachesEveryTrainableParameter) {
  torch::manual_seed(0);
  const Synthetic& s = synthetic();
  const auto model = s.task->build_model();
  model->train();
  const StepLoss loss = s.task->loss(*model, s.batches(true).front());
  EXPECT_TRUE(std::isfinite(loss.total.item<double>()));
  loss.total.backward();
  tasks::task_tests::expect_every_trainable_parameter_has_grad(*model);
}

TEST(OccupancyTask, EvaluationExportsChallengeFilesThatScoreAsInMemory) {
  torch::manual_seed(0);
  const Synthetic& s = synthetic();
  const auto model = s.task->build_model();
  model->eval();
  torch::NoGradGuard no_grad;
  const std::vector<datasets::Batch> batches = s.batches(false);
  auto evaluation = s.task->begin_evaluation();
  auto first = s.task->begin_evaluation();
  auto rest = s.task->begin_evaluation();
  for (size_t i = 0; i < batches.size(); ++i) {
    evaluation->add(*model, batches[i]);
    (i == 0 ? first : rest)->add(*model, batches[i]);
  }
  ptqat::testing::TempDir out;
  const TaskMetrics metrics = evaluation->finish({"", out.path().string()});
  ASSERT_TRUE(metrics.has_ground_truth);
  EXPECT_EQ(metrics.class_names.size(), 18u);

  // The exported files, read back as the challenge reads them, give the same mIoU.
  Occ3dConfusion confusion;
  for (const datasets::Row row : s.index->split_samples(s.split)) {
    const auto arrays = datasets::read_npz(
        out.file("occupancy/" + s.index->tables().sample[row].token.hex() + ".npz"));
    ASSERT_EQ(arrays.size(), 1u);
    const torch::Tensor prediction = arrays.at("arr_0").to_tensor();
    ASSERT_EQ(prediction.sizes().vec(), (std::vector<int64_t>{200, 200, 16}));
    ASSERT_EQ(prediction.scalar_type(), torch::kUInt8);
    const datasets::Occ3dLabels truth = datasets::read_occ3d_labels(
        datasets::occupancy_labels_path(*s.index, s.data.occupancy_root(), row));
    confusion.add(truth.semantics, prediction, truth.mask_camera);
  }
  EXPECT_DOUBLE_EQ(metrics.scalars.at("mIoU"), confusion.mean_iou());

  auto merged = s.task->begin_evaluation();
  merged->merge(rest->serialize());
  merged->merge(first->serialize());
  EXPECT_EQ(merged->finish({}).json, metrics.json);
}

}  // namespace
}  // namespace ptqat::tasks::occupancy
