// The segmentation task end to end on real nuScenes-format files (tests/data/devkit-golden, with
// lidarseg): loader batches -> weighted cross-entropy and backward -> evaluation -> challenge
// folder + the devkit's metric.

#include "tasks/segmentation/segmentation_task.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "datasets/loader.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "datasets/nuscenes_dataset.h"
#include "quant/layer_discovery.h"
#include "tasks/segmentation/lidarseg_metric.h"
#include "tests/support/temp_dir.h"
#include "tests/tasks/detection/tiny_centerpoint.h"
#include "tests/tasks/task_test_util.h"

namespace ptqat::tasks::segmentation {
namespace {

/// A small segmentation task on the devkit's golden mini_val (2 sweeps, lidarseg labels).
struct GoldenTask : task_tests::GoldenSplit {
  GoldenTask() : GoldenSplit(two_sweeps_with_labels()) {
    SegmentationConfig head;
    head.point_channels = 8;
    head.hidden_channels = 16;
    task = std::make_unique<SegmentationTask>(detection::testing::tiny_config().bev, head,
                                              detection::testing::tiny_pillars(), index, "mini_val",
                                              "mini_val");
  }

  std::vector<datasets::Batch> batches() const {
    return tasks::task_tests::epoch_batches(*dataset, detection::testing::tiny_pillars());
  }

  static datasets::DataConfig two_sweeps_with_labels() {
    datasets::DataConfig data;
    data.nsweeps = 2;
    data.lidarseg = true;
    return data;
  }

  std::unique_ptr<SegmentationTask> task;
};

TEST(SegmentationTask, LossIsFiniteAndReachesEveryTrainableParameter) {
  torch::manual_seed(0);
  GoldenTask golden;
  const auto model = golden.task->build_model();
  EXPECT_GE(quant::find_quantizable_layers(*model).size(), 3u);
  model->train();
  const std::vector<datasets::Batch> batches = golden.batches();
  ASSERT_EQ(batches.size(), 3u);
  const StepLoss loss = golden.task->loss(*model, batches[0]);
  EXPECT_TRUE(std::isfinite(loss.total.item<double>()));
  EXPECT_GT(loss.total.item<double>(), 0.0);
  loss.total.backward();
  tasks::task_tests::expect_every_trainable_parameter_has_grad(*model);
}

TEST(SegmentationTask, EvaluationLabelsEveryKeyframePointAndExportsTheChallengeFolder) {
  torch::manual_seed(0);
  GoldenTask golden;
  const auto model = golden.task->build_model();
  model->eval();
  torch::NoGradGuard no_grad;
  auto evaluation = golden.task->begin_evaluation();
  for (const datasets::Batch& batch : golden.batches()) evaluation->add(*model, batch);
  ptqat::testing::TempDir dir;
  const std::string folder = dir.file("results");
  const TaskMetrics metrics = evaluation->finish({"", folder});
  ASSERT_TRUE(metrics.has_ground_truth);
  EXPECT_EQ(metrics.primary, "mIoU");
  EXPECT_EQ(metrics.class_names.size(), 16u);
  EXPECT_EQ(metrics.per_class.at("IoU").size(), 16u);
  EXPECT_TRUE(std::filesystem::is_regular_file(folder + "/mini_val/submission.json"));

  // One file per keyframe with one label in 1..16 per point of its .pcd.bin (points outside the
  // pillar range included), scored by the folder path of the metric exactly as in memory.
  const auto& tables = golden.index->tables();
  for (const datasets::Row sample : golden.index->split_samples("mini_val")) {
    const datasets::Row lidar = tables.sample[sample].lidar_top;
    const std::string path =
        lidarseg_prediction_path(folder, "mini_val", tables.sample_data[lidar].token.hex());
    const torch::Tensor labels = datasets::read_lidarseg_labels(path, -1);
    const torch::Tensor truth = datasets::read_lidarseg_labels(
        golden.index->path_of(tables.lidarseg[golden.index->lidarseg_of(lidar)].filename), -1);
    EXPECT_EQ(labels.numel(), truth.numel()) << path;
    EXPECT_GE(labels.min().item<int>(), 1);
    EXPECT_LE(labels.max().item<int>(), 16);
  }
  const LidarsegMetrics from_folder = evaluate_lidarseg_folder(*golden.index, "mini_val", folder);
  EXPECT_DOUBLE_EQ(metrics.scalars.at("mIoU"), from_folder.mean_iou);
  EXPECT_DOUBLE_EQ(metrics.scalars.at("fwIoU"), from_folder.frequency_weighted_iou);
}

TEST(SegmentationTask, MergedShardsScoreAsOneEvaluation) {
  torch::manual_seed(0);
  GoldenTask golden;
  const auto model = golden.task->build_model();
  model->eval();
  torch::NoGradGuard no_grad;
  const std::vector<datasets::Batch> batches = golden.batches();
  auto whole = golden.task->begin_evaluation();
  auto first = golden.task->begin_evaluation();
  auto rest = golden.task->begin_evaluation();
  for (size_t i = 0; i < batches.size(); ++i) {
    whole->add(*model, batches[i]);
    (i == 0 ? first : rest)->add(*model, batches[i]);
  }
  auto merged = golden.task->begin_evaluation();
  merged->merge(rest->serialize());
  merged->merge(first->serialize());
  EXPECT_EQ(merged->finish({}).json, whole->finish({}).json);
  EXPECT_THROW(merged->merge(std::string(7, '\0')), DataError);
}

}  // namespace
}  // namespace ptqat::tasks::segmentation
