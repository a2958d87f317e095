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

namespace ptqat::tasks::detection {
namespace {

const std::string kGolden = std::string(PTQAT_TEST_DATA_DIR) + "/devkit-golden";

struct GoldenTask {
  GoldenTask() {
    index = std::make_shared<datasets::NuScenes>(kGolden, "v1.0-mini");
    datasets::DataConfig data;
    data.dataroot = kGolden;
    data.version = "v1.0-mini";
    data.nsweeps = 1;
    dataset = std::make_unique<datasets::NuScenesDataset>(index, "mini_val", data);
    task = std::make_unique<DetectionTask>(testing::tiny_config(), testing::tiny_pillars(), index,
                                           "mini_val");
  }

  std::vector<datasets::Batch> batches() const {
    datasets::LoaderConfig config;
    config.batch_size = 4;
    config.workers = 0;
    datasets::Loader loader(*dataset, config, testing::tiny_pillars(), datasets::AugmentConfig{}, 0,
                            1, 3);
    loader.start_epoch(0);
    std::vector<datasets::Batch> all;
    while (auto batch = loader.next()) all.push_back(std::move(*batch));
    return all;
  }

  std::shared_ptr<datasets::NuScenes> index;
  std::unique_ptr<datasets::NuScenesDataset> dataset;
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
  // Float training: every parameter that requires grad gets one (quantizer scales do not
  // require grad before fine-tuning).
  int64_t trained = 0;
  for (const auto& parameter : model->named_parameters()) {
    if (!parameter.value().requires_grad()) continue;
    ASSERT_TRUE(parameter.value().grad().defined()) << parameter.key();
    ++trained;
  }
  EXPECT_GT(trained, 0);
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
