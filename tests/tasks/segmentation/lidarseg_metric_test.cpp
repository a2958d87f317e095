// The lidarseg metric: hand-built confusions, and parity with the official devkit's outputs on
// tests/data/devkit-golden (its PROVENANCE.md): perfect and noisy predictions on mini_val.

#include "tasks/segmentation/lidarseg_metric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "tests/support/expect_error.h"
#include "tests/support/temp_dir.h"

namespace ptqat::tasks::segmentation {
namespace {

using ptqat::testing::expect_error;

const std::string kRoot = PTQAT_TEST_DATA_DIR "/devkit-golden";

torch::Tensor labels(std::vector<int64_t> values) { return torch::tensor(values, torch::kInt64); }

TEST(LidarsegConfusion, IgnoredGroundTruthAndAbsentClassesAreNaN) {
  LidarsegConfusion confusion;
  // Ground truth 0 (ignore) is dropped whatever was predicted.
  confusion.add(labels({1, 1, 2, 2, 0}), labels({1, 2, 2, 2, 5}));
  const auto iou = confusion.iou();
  EXPECT_TRUE(std::isnan(iou[0]));
  EXPECT_DOUBLE_EQ(iou[1], 1.0 / 2.0);  // 1 / (2 + 1 - 1)
  EXPECT_DOUBLE_EQ(iou[2], 2.0 / 3.0);  // 2 / (2 + 3 - 2)
  EXPECT_TRUE(std::isnan(iou[5]));      // predicted only on an ignored point
  EXPECT_DOUBLE_EQ(confusion.mean_iou(), (0.5 + 2.0 / 3.0) / 2.0);
  EXPECT_DOUBLE_EQ(confusion.frequency_weighted_iou(), 0.5 * 0.5 + 0.5 * 2.0 / 3.0);
}

TEST(LidarsegConfusion, AFalsePositiveClassCountsWithIoUZero) {
  LidarsegConfusion confusion;
  confusion.add(labels({3, 3, 3, 3}), labels({3, 3, 3, 4}));
  EXPECT_DOUBLE_EQ(confusion.iou()[3], 0.75);
  EXPECT_DOUBLE_EQ(confusion.iou()[4], 0.0);
  EXPECT_DOUBLE_EQ(confusion.mean_iou(), 0.375);
}

TEST(LidarsegConfusion, FramesSumAsOneConcatenatedFrame) {
  torch::manual_seed(3);
  const torch::Tensor gt = torch::randint(0, kNumClasses, {500}, torch::kInt64);
  const torch::Tensor pred = torch::randint(1, kNumClasses, {500}, torch::kInt64);
  LidarsegConfusion whole, parts;
  whole.add(gt, pred);
  parts.add(gt.slice(0, 0, 123), pred.slice(0, 0, 123));
  parts.add(gt.slice(0, 123), pred.slice(0, 123).to(torch::kUInt8));
  EXPECT_EQ(whole.counts(), parts.counts());
}

void expect_devkit_parity(const std::string& results, const std::string& devkit_file) {
  const datasets::NuScenes index(kRoot, "v1.0-mini");
  const LidarsegMetrics metrics = evaluate_lidarseg_folder(index, "mini_val", results);
  std::ifstream file(devkit_file);
  const nlohmann::json devkit = nlohmann::json::parse(file);
  EXPECT_EQ(metrics.samples, devkit.at("num_samples").get<int64_t>());
  EXPECT_NEAR(metrics.mean_iou, devkit.at("mIoU").get<double>(), 1e-6);
  EXPECT_NEAR(metrics.frequency_weighted_iou, devkit.at("fwIoU").get<double>(), 1e-6);
  const nlohmann::json& per_class = devkit.at("iou_per_class");
  for (int c = 0; c < kNumClasses; ++c) {
    const nlohmann::json& expected =
        per_class.at(std::string(datasets::kLidarsegClassNames[static_cast<size_t>(c)]));
    if (expected.is_null()) {
      EXPECT_TRUE(std::isnan(metrics.iou[c])) << c;
    } else {
      EXPECT_NEAR(metrics.iou[c], expected.get<double>(), 1e-6) << c;
    }
  }
}

TEST(LidarsegMetric, MatchesTheDevkitOnPerfectPredictions) {
  expect_devkit_parity(kRoot + "/lidarseg_results", kRoot + "/devkit_metrics_lidarseg_perfect.json");
}

TEST(LidarsegMetric, MatchesTheDevkitOnNoisyPredictions) {
  expect_devkit_parity(kRoot + "/lidarseg_results_noisy",
                       kRoot + "/devkit_metrics_lidarseg_noisy.json");
}

TEST(LidarsegMetric, BadPredictionsNameTheSample) {
  const datasets::NuScenes index(kRoot, "v1.0-mini");
  expect_error<DataError>(
      [&] {
        evaluate_lidarseg(index, "mini_val", [](datasets::Row, int64_t points) {
          return torch::zeros({points}, torch::kUInt8);  // 0 is not a prediction
        });
      },
      {"lidarseg prediction of sample", "expected labels in 1..16", "got 0..0"});
  expect_error<DataError>(
      [&] {
        evaluate_lidarseg(index, "mini_val", [](datasets::Row, int64_t points) {
          return torch::ones({points + 1}, torch::kUInt8);
        });
      },
      {"lidarseg prediction of sample", "labels (the keyframe's points)"});
  ptqat::testing::TempDir empty;
  expect_error<IoError>([&] { evaluate_lidarseg_folder(index, "mini_val", empty.path().string()); },
                        {"_lidarseg.bin: missing lidarseg prediction of sample"});
}

}  // namespace
}  // namespace ptqat::tasks::segmentation
