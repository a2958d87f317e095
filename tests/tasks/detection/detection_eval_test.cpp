#include "tasks/detection/detection_eval.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
#include "tasks/detection/submission_json.h"
#include "tests/support/expect_error.h"
#include "tests/support/nuscenes_fixture.h"
#include "tests/support/temp_dir.h"

namespace ptqat::tasks::detection {
namespace {

using testing::expect_error;
using testing::NuScenesFixture;
using testing::TempDir;
using testing::yaw_quaternion;

constexpr int64_t kStart = 1'533'151'603'547'590;

/// scene-0103 (mini_val) with two samples, each holding one box of each of the 10 detection
/// classes (tracked across the samples, so every box has a velocity), within range.
struct TenClassScene {
  TempDir dir;
  std::vector<Token> samples;

  TenClassScene() {
    NuScenesFixture fixture;
    fixture.write_lidarseg = false;
    fixture.write_occupancy = false;
    fixture.default_points = 8;
    const std::vector<std::pair<std::string, std::string>> classes = {
        {"vehicle.car", "vehicle.parked"},          {"vehicle.truck", "vehicle.moving"},
        {"vehicle.bus.rigid", "vehicle.stopped"},   {"vehicle.trailer", "vehicle.parked"},
        {"vehicle.construction", "vehicle.parked"}, {"human.pedestrian.adult", "pedestrian.moving"},
        {"vehicle.motorcycle", "cycle.with_rider"}, {"vehicle.bicycle", "cycle.without_rider"},
        {"movable_object.trafficcone", ""},         {"movable_object.barrier", ""}};
    fixture.add_scene("scene-0103");
    for (int s = 0; s < 2; ++s) {
      const Vec3 ego = {500.0 + s, 800.0, 0.0};
      samples.push_back(fixture.add_sample(kStart + 500'000 * s, ego, yaw_quaternion(0)));
      for (size_t c = 0; c < classes.size(); ++c) {
        const double x = ego[0] + 3.0 + 2.5 * static_cast<double>(c) + 0.4 * s;
        fixture.add_annotation(samples.back(), "track-" + std::to_string(c), classes[c].first,
                               {x, 805.0 - static_cast<double>(c), 1.0}, {1.0, 2.0, 1.5},
                               yaw_quaternion(0.1 * static_cast<double>(c)), classes[c].second);
      }
    }
    fixture.write(dir.path().string());
  }
};

/// The ground truth as predictions, moved by `dx` metres along x.
DetectionResults shifted_ground_truth(const datasets::NuScenes& index, double dx) {
  DetectionResults gt = load_gt(index, eval_sample_set(index, "mini_val"));
  DetectionResults predictions;
  for (const auto& [token, boxes] : gt.entries()) {
    std::vector<DetectionBox> moved = boxes;
    double score = 0.9;
    for (auto& box : moved) {
      box.translation[0] += dx;
      box.score = score;
      score -= 0.01;
      box.num_pts = -1;
      box.annotation = datasets::kNoRow;
    }
    predictions.add(token, moved);
  }
  return predictions;
}

TEST(EvaluateDetection, PerfectPredictionsScoreOne) {
  TenClassScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  const DetectionMetrics metrics =
      evaluate_detection(index, "mini_val", shifted_ground_truth(index, 0.0));
  EXPECT_DOUBLE_EQ(metrics.mean_ap, 1.0);
  EXPECT_DOUBLE_EQ(metrics.nd_score, 1.0);
  for (int m = 0; m < kNumTpMetrics; ++m) EXPECT_NEAR(metrics.tp_errors[m], 0.0, 1e-12);
  EXPECT_EQ(metrics.gt_counts.after_bike_rack, 20u);
  EXPECT_EQ(metrics.num_samples, 2u);
}

TEST(EvaluateDetection, ShiftOf70cmGivesThreeQuartersMapAndKnownNds) {
  TenClassScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  const DetectionMetrics metrics =
      evaluate_detection(index, "mini_val", shifted_ground_truth(index, 0.7));
  for (size_t c = 0; c < kNumClasses; ++c) {
    // No match at 0.5 m, every box matched at 1, 2 and 4 m.
    EXPECT_EQ(metrics.label_aps[c][0], 0.0) << c;
    for (size_t k = 1; k < 4; ++k) EXPECT_DOUBLE_EQ(metrics.label_aps[c][k], 1.0) << c;
    EXPECT_NEAR(metrics.label_tp_errors[c][kTransErr], 0.7, 1e-9);
    EXPECT_NEAR(metrics.label_tp_errors[c][kScaleErr], 0.0, 1e-12);
  }
  const auto cone = static_cast<size_t>(detection_class_index("traffic_cone"));
  const auto barrier = static_cast<size_t>(detection_class_index("barrier"));
  EXPECT_TRUE(std::isnan(metrics.label_tp_errors[cone][kOrientErr]));
  EXPECT_TRUE(std::isnan(metrics.label_tp_errors[barrier][kVelErr]));
  EXPECT_DOUBLE_EQ(metrics.mean_ap, 0.75);
  EXPECT_NEAR(metrics.tp_errors[kTransErr], 0.7, 1e-9);
  // NDS = (5 * 0.75 + (0.3 + 1 + 1 + 1 + 1)) / 10.
  EXPECT_NEAR(metrics.nd_score, 0.805, 1e-9);

  const nlohmann::ordered_json json = metrics.to_json();
  EXPECT_DOUBLE_EQ(json["mean_ap"].get<double>(), 0.75);
  EXPECT_EQ(json["label_aps"]["car"]["0.5"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(json["label_aps"]["car"]["1.0"].get<double>(), 1.0);
  EXPECT_TRUE(json["label_tp_errors"]["traffic_cone"]["orient_err"].is_null());
  EXPECT_NEAR(json["nd_score"].get<double>(), 0.805, 1e-9);
  EXPECT_EQ(json["cfg"]["dist_th_tp"].get<double>(), 2.0);
  for (const char* key : {"mean_dist_aps", "tp_errors", "tp_scores", "eval_time"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
}

TEST(EvaluateDetection, SubmissionFileGivesTheInMemoryNumbers) {
  TenClassScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  Submission submission;
  submission.meta.use_lidar = true;
  submission.results = shifted_ground_truth(index, 0.3);
  const std::string path = scene.dir.file("results.json");
  write_submission(path, submission);
  const DetectionMetrics from_file = evaluate_submission(index, "mini_val", path);
  const DetectionMetrics in_memory =
      evaluate_detection(index, "mini_val", shifted_ground_truth(index, 0.3));
  EXPECT_EQ(from_file.mean_ap, in_memory.mean_ap);
  EXPECT_EQ(from_file.nd_score, in_memory.nd_score);
  ASSERT_TRUE(from_file.meta.has_value());
  EXPECT_TRUE(from_file.meta->use_lidar);
  EXPECT_TRUE(from_file.to_json()["meta"]["use_lidar"].get<bool>());
}

TEST(EvaluateDetection, NoBoxesAtAllGivesZeroScores) {
  TenClassScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  DetectionResults nothing;
  for (const Token& sample : scene.samples) nothing.add(sample, {});
  const DetectionMetrics metrics = evaluate_detection(index, "mini_val", std::move(nothing));
  EXPECT_EQ(metrics.mean_ap, 0.0);
  EXPECT_EQ(metrics.nd_score, 0.0);
  for (int m = 0; m < kNumTpMetrics; ++m) EXPECT_EQ(metrics.tp_errors[m], 1.0);
}

TEST(EvaluateDetection, SplitWithoutAnnotationsIsDetectableAndRefused) {
  TempDir dir;
  NuScenesFixture fixture;
  fixture.write_lidarseg = false;
  fixture.write_occupancy = false;
  fixture.add_scene("scene-0077");  // an official test scene
  const Token sample = fixture.add_sample(kStart, {0, 0, 0}, yaw_quaternion(0));
  fixture.write(dir.path().string(), "v1.0-test");
  const datasets::NuScenes index(dir.path().string(), "v1.0-test");
  EXPECT_FALSE(has_detection_ground_truth(index, "test"));
  DetectionResults predictions;
  predictions.add(sample, {});
  expect_error<DataError>([&] { evaluate_detection(index, "test", std::move(predictions)); },
                          {"'test'", "no annotation", "has_detection_ground_truth"});
}

TEST(EvaluateDetection, BadConfigIsAConfigError) {
  TenClassScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  DetectionEvalConfig config;
  config.dist_th_tp = 3.0;
  expect_error<ConfigError>(
      [&] { evaluate_detection(index, "mini_val", shifted_ground_truth(index, 0), config); },
      {"dist_th_tp", "3"});
}

}  // namespace
}  // namespace ptqat::tasks::detection
