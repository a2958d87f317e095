// The detection task end to end on real nuScenes-format files (tests/data/devkit-golden): loader
// batches -> CenterPoint loss and backward -> evaluation -> submission JSON + official metric.

#include "tasks/detection/detection_task.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "datasets/loader.h"
#include "datasets/nuscenes_dataset.h"
#include "quant/layer_discovery.h"
#include "tasks/detection/submission_json.h"
#include "tests/support/temp_dir.h"
#include "tests/tasks/detection/tiny_centerpoint.h"
#include "tests/tasks/task_test_util.h"

namespace ptqat::tasks::detection {
namespace {

/// The tiny detection task on the devkit's golden mini_val.
struct GoldenTask : task_tests::GoldenSplit {
  GoldenTask() : GoldenSplit(one_sweep()) {
    task = std::make_unique<DetectionTask>(testing::tiny_config(), testing::tiny_pillars(), index,
                                           "mini_val");
  }

  static datasets::DataConfig one_sweep() {
    datasets::DataConfig data;
    data.nsweeps = 1;
    return data;
  }

  std::vector<datasets::Batch> batches() const {
    return tasks::task_tests::epoch_batches(*dataset, testing::tiny_pillars());
  }

  std::unique_ptr<DetectionTask> task;
};

TEST(DetectionTask, LossIsFiniteAndReachesEveryTrainableParameter) {
  torch::manual_seed(0);
  GoldenTask golden;
  const auto model = golden.task->build_model();
  EXPECT_FALSE(quant::find_quantizable_layers(*model).empty());
  model->train();
  const std::vector<datasets::Batch> batches = golden.batches();
  ASSERT_EQ(batches.size(), 3u);  // 12 samples of mini_val, 4 per batch
  const StepLoss loss = golden.task->loss(*model, batches[0]);
  ASSERT_TRUE(loss.total.defined());
  EXPECT_TRUE(std::isfinite(loss.total.item<double>()));
  EXPECT_GT(loss.total.item<double>(), 0.0);
  EXPECT_FALSE(loss.parts.empty());
  loss.total.backward();
  EXPECT_GT(tasks::task_tests::expect_every_trainable_parameter_has_grad(*model), 0);
}

TEST(DetectionTask, EvaluationExportsEverySampleAndScoresWithTheOfficialMetric) {
  torch::manual_seed(0);
  GoldenTask golden;
  const auto model = golden.task->build_model();
  model->eval();
  torch::NoGradGuard no_grad;
  auto evaluation = golden.task->begin_evaluation();
  for (const auto& batch : golden.batches()) evaluation->add(*model, batch);
  ptqat::testing::TempDir dir;
  PredictionExport output;
  output.submission_json = dir.file("submission.json");
  const TaskMetrics metrics = evaluation->finish(output);

  const Submission submission = read_submission(output.submission_json);
  EXPECT_EQ(submission.results.num_samples(), 12u);
  EXPECT_TRUE(submission.meta.use_lidar);
  ASSERT_TRUE(metrics.has_ground_truth);
  EXPECT_EQ(metrics.primary, "NDS");
  for (const char* name : {"mAP", "NDS", "mATE", "mASE", "mAOE", "mAVE", "mAAE"}) {
    ASSERT_EQ(metrics.scalars.count(name), 1u) << name;
  }
  // An untrained model: NDS and mAP within their ranges, far from perfect.
  EXPECT_GE(metrics.scalars.at("NDS"), 0.0);
  EXPECT_LT(metrics.scalars.at("NDS"), 0.5);
  EXPECT_GE(metrics.scalars.at("mAP"), 0.0);
  EXPECT_EQ(metrics.class_names.size(), 10u);
  EXPECT_EQ(metrics.per_class.at("AP").size(), 10u);
  EXPECT_NE(metrics.json.find("\"NDS\""), std::string::npos);
  EXPECT_NE(metrics.json.find("\"nd_score\""), std::string::npos);
}

}  // namespace
}  // namespace ptqat::tasks::detection
