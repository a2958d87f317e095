#include "tasks/detection/detection_gt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
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
const Vec3 kEgo = {100.0, 200.0, 0.0};
const Vec3 kSize = {2.0, 4.0, 1.5};

NuScenesFixture small_fixture() {
  NuScenesFixture fixture;
  fixture.write_lidarseg = false;
  fixture.write_occupancy = false;
  fixture.default_points = 8;
  return fixture;
}

Vec3 at(double dx, double dy, double z = 1.0) { return {kEgo[0] + dx, kEgo[1] + dy, z}; }

/// One sample of scene-0103 (mini_val) whose boxes test every filter; the names say what the
/// filters do to them. A second sample of scene-0916 holds only an animal.
struct FilterScene {
  TempDir dir;
  Token sample, empty_sample;
  std::map<std::string, Token> annotation;  ///< by role

  FilterScene() {
    NuScenesFixture fixture = small_fixture();
    fixture.add_scene("scene-0103");
    sample = fixture.add_sample(kStart, kEgo, yaw_quaternion(0));
    const auto add = [&](const std::string& role, const std::string& category, Vec3 where,
                         int64_t points = 10, Vec3 size = kSize) {
      annotation[role] = fixture.add_annotation(sample, role, category, where, size,
                                                yaw_quaternion(0), "", points);
    };
    add("car_in_range", "vehicle.car", at(49.9, 0));
    add("car_at_range", "vehicle.car", at(50.0, 0));  // ego_dist == 50: dropped (strict)
    add("ped_in_range", "human.pedestrian.adult", at(0, 39.5));
    add("ped_at_range", "human.pedestrian.adult", at(0, 40.0));
    add("cone_no_points", "movable_object.trafficcone", at(10, 0), 0);
    add("cone", "movable_object.trafficcone", at(11, 0), 5);
    add("rack", "static_object.bicycle_rack", at(20, 0));  // never a detection box
    add("bike_in_rack", "vehicle.bicycle", at(20, 0.5));
    add("moto_in_rack", "vehicle.motorcycle", at(21.9, 0));  // rack length 4 along x
    add("bike_outside", "vehicle.bicycle", at(22.1, 0));
    add("car_in_rack", "vehicle.car", at(20, -0.5));  // only cycles are dropped
    add("barrier_in_range", "movable_object.barrier", at(-29, 0));
    add("barrier_out", "movable_object.barrier", at(-31, 0));
    add("animal", "animal", at(5, 5));
    fixture.add_scene("scene-0916");
    empty_sample = fixture.add_sample(kStart + 20'000'000, kEgo, yaw_quaternion(0));
    fixture.add_annotation(empty_sample, "dog", "animal", at(3, 3), kSize, yaw_quaternion(0));
    fixture.write(dir.path().string());
  }
};

std::vector<Token> tokens_of(const datasets::NuScenes& index, const std::vector<DetectionBox>& b) {
  std::vector<Token> out;
  for (const auto& box : b) out.push_back(index.tables().sample_annotation[box.annotation].token);
  return out;
}

TEST(DetectionGt, FiltersRangeStrictlyZeroPointsAndBikeRacks) {
  FilterScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  const EvalSampleSet samples = eval_sample_set(index, "mini_val");
  DetectionResults gt = load_gt(index, samples);
  add_center_dist(index, gt);
  EXPECT_DOUBLE_EQ(gt.find(scene.sample)->at(0).ego_dist, 49.9);
  const FilterCounts counts = filter_eval_boxes(index, gt, DetectionEvalConfig{});
  EXPECT_EQ(counts.total, 12u);  // every box but the rack and the animal
  EXPECT_EQ(counts.after_range, 9u);
  EXPECT_EQ(counts.after_points, 8u);
  EXPECT_EQ(counts.after_bike_rack, 6u);
  const std::vector<Token> kept = tokens_of(index, *gt.find(scene.sample));
  const std::vector<Token> expected = {
      scene.annotation["car_in_range"], scene.annotation["ped_in_range"],
      scene.annotation["cone"],         scene.annotation["bike_outside"],
      scene.annotation["car_in_rack"],  scene.annotation["barrier_in_range"]};
  EXPECT_EQ(kept, expected);
  EXPECT_TRUE(gt.find(scene.empty_sample)->empty());
}

TEST(DetectionGt, PredictionsAreFilteredAlikeButKeepTheirUnknownPointCount) {
  FilterScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  const EvalSampleSet samples = eval_sample_set(index, "mini_val");
  DetectionResults gt = load_gt(index, samples);
  DetectionResults predictions;
  for (const auto& [token, boxes] : gt.entries()) {
    std::vector<DetectionBox> copies = boxes;
    for (auto& box : copies) {
      box.num_pts = -1;
      box.score = 0.5;
    }
    predictions.add(token, copies);
  }
  add_center_dist(index, predictions);
  const FilterCounts counts = filter_eval_boxes(index, predictions, DetectionEvalConfig{});
  EXPECT_EQ(counts.after_points, 9u);  // the zero-point cone is a ground-truth notion
  EXPECT_EQ(counts.after_bike_rack, 7u);
  // A prediction that declares num_pts = 0 is dropped.
  DetectionResults declared;
  DetectionBox zero = gt.find(scene.sample)->at(0);
  zero.num_pts = 0;
  declared.add(scene.sample, {zero});
  add_center_dist(index, declared);
  EXPECT_EQ(filter_eval_boxes(index, declared, DetectionEvalConfig{}).after_points, 0u);
}

TEST(DetectionGt, GroundTruthFieldsFollowTheDevkit) {
  TempDir dir;
  NuScenesFixture fixture = small_fixture();
  fixture.add_scene("scene-0103");
  const Token first = fixture.add_sample(kStart, kEgo, yaw_quaternion(0));
  const Token second = fixture.add_sample(kStart + 500'000, kEgo, yaw_quaternion(0));
  fixture.add_annotation(first, "car", "vehicle.car", at(10, 0), kSize, yaw_quaternion(0.3),
                         "vehicle.moving", 7);
  fixture.add_annotation(second, "car", "vehicle.car", at(11, 0.5), kSize, yaw_quaternion(0.3),
                         "vehicle.moving", 7);
  fixture.add_annotation(second, "cone", "movable_object.trafficcone", at(5, 0), kSize,
                         yaw_quaternion(0));
  fixture.tables().sample_annotation.back().num_radar_pts = 3;
  fixture.write(dir.path().string());
  const datasets::NuScenes index(dir.path().string(), "v1.0-mini");
  const DetectionResults gt = load_gt(index, eval_sample_set(index, "mini_val"));
  ASSERT_EQ(gt.num_samples(), 2u);
  const DetectionBox& car = gt.find(first)->at(0);
  EXPECT_EQ(car.sample_token, first);
  EXPECT_EQ(car.detection_name(), "car");
  EXPECT_EQ(car.attribute_name(), "vehicle.moving");
  EXPECT_EQ(car.score, -1.0);
  EXPECT_EQ(car.num_pts, 7);
  // One-sided difference over the sample timestamps: (1, 0.5) m in 0.5 s.
  EXPECT_NEAR(car.velocity[0], 2.0, 1e-9);
  EXPECT_NEAR(car.velocity[1], 1.0, 1e-9);
  const DetectionBox& cone = gt.find(second)->at(1);
  EXPECT_EQ(cone.attribute, -1);
  EXPECT_EQ(cone.num_pts, 10 + 3);            // lidar + radar
  EXPECT_TRUE(std::isnan(cone.velocity[0]));  // a single annotation has no velocity
}

TEST(DetectionGt, SampleSetsOfOfficialAndCustomSplits) {
  TempDir dir;
  NuScenesFixture fixture = small_fixture();
  fixture.add_scene("scene-0103");
  const Token a = fixture.add_sample(kStart, kEgo, yaw_quaternion(0));
  fixture.add_annotation(a, "car", "vehicle.car", at(10, 0), kSize, yaw_quaternion(0));
  fixture.add_scene("scene-0061");  // mini_train
  const Token b = fixture.add_sample(kStart + 20'000'000, kEgo, yaw_quaternion(0));
  fixture.add_annotation(b, "dog", "animal", at(3, 3), kSize, yaw_quaternion(0));
  fixture.custom_splits["only_0061"] = {"scene-0061"};
  fixture.write(dir.path().string());
  const datasets::NuScenes index(dir.path().string(), "v1.0-mini");

  const EvalSampleSet val = eval_sample_set(index, "mini_val");
  EXPECT_TRUE(val.predefined);
  ASSERT_EQ(val.samples.size(), 1u);
  EXPECT_EQ(index.tables().sample[val.samples[0]].token, a);
  const EvalSampleSet custom = eval_sample_set(index, "only_0061");
  EXPECT_FALSE(custom.predefined);
  ASSERT_EQ(custom.samples.size(), 1u);
  EXPECT_EQ(index.tables().sample[custom.samples[0]].token, b);
  EXPECT_EQ(all_samples(index).samples.size(), 2u);

  expect_error<ConfigError>([&] { eval_sample_set(index, "val"); },
                            {"'val'", "trainval", "v1.0-mini"});
  expect_error<DataError>([&] { eval_sample_set(index, "night"); }, {"night"});

  // Annotations of detection classes decide whether the metric is defined.
  EXPECT_TRUE(has_detection_ground_truth(index, "mini_val"));
  EXPECT_FALSE(has_detection_ground_truth(index, "only_0061"));
}

TEST(DetectionGt, SelectPredictionsAppliesTheSplitRules) {
  TempDir dir;
  NuScenesFixture fixture = small_fixture();
  fixture.add_scene("scene-0103");
  const Token a = fixture.add_sample(kStart, kEgo, yaw_quaternion(0));
  const Token a2 = fixture.add_sample(kStart + 500'000, kEgo, yaw_quaternion(0));
  fixture.add_scene("scene-0061");
  const Token b = fixture.add_sample(kStart + 20'000'000, kEgo, yaw_quaternion(0));
  fixture.custom_splits["custom"] = {"scene-0103"};
  fixture.write(dir.path().string());
  const datasets::NuScenes index(dir.path().string(), "v1.0-mini");

  const auto results = [&](std::vector<Token> samples) {
    DetectionResults out;
    for (const Token& t : samples) out.add(t, {});
    return out;
  };
  // Official split: the keys must equal the split's samples; their order is kept.
  const auto val = eval_sample_set(index, "mini_val");
  const auto kept = select_predictions(index, val, results({a2, a}), 500);
  EXPECT_EQ(kept.entries()[0].first, a2);
  expect_error<DataError>(
      [&] {
        select_predictions(index, val, results({a, a2, b}), 500);
      },
      {b.hex(), "not in split 'mini_val'"});
  expect_error<DataError>([&] { select_predictions(index, val, results({a}), 500, "sub.json"); },
                          {"sub.json", a2.hex(), "no entry", "1 of 2 samples missing"});
  // Custom split: sub-selected in split order; extras ignored, a missing sample is an error.
  const auto custom = eval_sample_set(index, "custom");
  const auto picked = select_predictions(index, custom, results({b, a2, a}), 500);
  ASSERT_EQ(picked.num_samples(), 2u);
  EXPECT_EQ(picked.entries()[0].first, a);
  EXPECT_EQ(picked.entries()[1].first, a2);
  expect_error<DataError>(
      [&] {
        select_predictions(index, custom, results({a, b}), 500);
      },
      {a2.hex(), "split 'custom'"});
  // Box checks apply to in-memory predictions as to files.
  DetectionBox bad;
  bad.sample_token = a;
  bad.detection_class = 0;
  bad.score = std::nan("");
  DetectionResults with_bad;
  with_bad.add(a, {bad});
  with_bad.add(a2, {});
  expect_error<DataError>([&] { select_predictions(index, val, std::move(with_bad), 500); },
                          {a.hex(), "box 0", "detection_score is NaN"});
}

}  // namespace
}  // namespace ptqat::tasks::detection
