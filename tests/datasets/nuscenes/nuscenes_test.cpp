#include "datasets/nuscenes/nuscenes.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "tests/support/nuscenes_fixture.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {

using testing::NuScenesFixture;
using testing::TempDir;
using testing::yaw_quaternion;

namespace {

constexpr double kHalfPi = M_PI / 2;

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const DataError& error) {
    return error.what();
  }
  return "no DataError";
}

}  // namespace

TEST(NuScenes, ResolvesTokensAndBuildsTheDevkitsReverseIndices) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061", "scene-0103"}, 3, 2);
  fixture.write(dir.path().string());
  const NuScenes nusc(dir.path().string(), "v1.0-mini");
  const Tables& t = nusc.tables();
  EXPECT_EQ(t.scene.size(), 2u);
  EXPECT_EQ(t.sample.size(), 6u);
  EXPECT_EQ(t.sample_data.size(), 6u + 2 * 2 * 2);  // keyframes + 2 sweeps before samples 2, 3
  EXPECT_EQ(t.sample_annotation.size(), 12u);
  EXPECT_EQ(t.category.size(), 32u);
  for (const auto& sample : t.sample) {
    ASSERT_NE(sample.lidar_top, kNoRow);
    EXPECT_TRUE(t.sample_data[sample.lidar_top].is_key_frame);
    EXPECT_EQ(t.sample_data[sample.lidar_top].timestamp, sample.timestamp);
    ASSERT_EQ(sample.annotations.size(), 2u);
    EXPECT_LT(sample.annotations[0], sample.annotations[1]);  // sample_annotation.json order
  }
  EXPECT_EQ(nusc.category_name(t.sample[0].annotations[0]), "vehicle.car");
  EXPECT_EQ(nusc.category_name(t.sample[0].annotations[1]), "human.pedestrian.adult");
  EXPECT_EQ(t.scene[1].first_sample, 3);
  EXPECT_EQ(t.sample[4].prev, 3);
  EXPECT_EQ(nusc.sample_row(t.sample[4].token), 4);
  EXPECT_GE(nusc.index_seconds(), 0.0);
}

TEST(NuScenes, BoxesGoFromGlobalThroughEgoIntoTheLidarFrame) {
  // LiDAR mounted at (1, 0, 2) in the ego frame, yawed -90 degrees; the ego at (100, 200, 0)
  // yawed +90 degrees. A box at global (100, 210, 1) with yaw +90 degrees:
  //   global -> ego:   (0, 10, 1) rotated by -90 deg -> (10, 0, 1), yaw 0
  //   ego -> LiDAR:    (9, 0, -1) rotated by +90 deg -> (0, 9, -1), yaw +90 deg
  // Its previous annotation 0.5 s earlier at global (100, 205, 1): velocity (0, 10, 0) global,
  // rotated by -90 then +90 degrees -> (0, 10) in the LiDAR frame.
  TempDir dir;
  NuScenesFixture fixture({1, 0, 2}, yaw_quaternion(-kHalfPi));
  fixture.add_scene("scene-0061");
  const Token first = fixture.add_sample(1'000'000, {100, 200, 0}, yaw_quaternion(kHalfPi));
  const Token second = fixture.add_sample(1'500'000, {100, 200, 0}, yaw_quaternion(kHalfPi));
  fixture.add_annotation(first, "car", "vehicle.car", {100, 205, 1}, {2, 4, 1.5},
                         yaw_quaternion(kHalfPi), "vehicle.moving", 17);
  fixture.add_annotation(second, "car", "vehicle.car", {100, 210, 1}, {2, 4, 1.5},
                         yaw_quaternion(kHalfPi), "vehicle.parked", 23);
  fixture.add_annotation(second, "rack", "static_object.bicycle_rack", {0, 0, 0}, {1, 1, 1},
                         yaw_quaternion(0));
  fixture.write(dir.path().string());

  const NuScenes nusc(dir.path().string(), "v1.0-mini");
  const SampleBoxes boxes = nusc.lidar_boxes(1);
  ASSERT_EQ(boxes.size(), 1);  // the bicycle rack is not a detection class
  const auto b = boxes.boxes[0];
  EXPECT_NEAR(b[0].item<float>(), 0.0, 1e-5);
  EXPECT_NEAR(b[1].item<float>(), 9.0, 1e-5);
  EXPECT_NEAR(b[2].item<float>(), -1.0, 1e-5);
  EXPECT_FLOAT_EQ(b[3].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(b[4].item<float>(), 4.0f);
  EXPECT_FLOAT_EQ(b[5].item<float>(), 1.5f);
  EXPECT_NEAR(b[6].item<float>(), kHalfPi, 1e-6);
  EXPECT_NEAR(b[7].item<float>(), 0.0, 1e-5);
  EXPECT_NEAR(b[8].item<float>(), 10.0, 1e-5);
  EXPECT_EQ(boxes.labels[0].item<int64_t>(), 0);      // car
  EXPECT_EQ(boxes.attributes[0].item<int64_t>(), 2);  // vehicle.parked
  EXPECT_EQ(boxes.num_lidar_pts[0].item<int64_t>(), 23);
}

TEST(NuScenes, VelocityFollowsTheDevkitsCentredOneSidedAndNanRules) {
  TempDir dir;
  NuScenesFixture fixture;
  fixture.add_scene("scene-0061");
  // Sample times (s): 0, 0.5, 1.0, 2.6, 5.7 -- gaps 0.5, 0.5, 1.6, 3.1.
  const int64_t times[] = {0, 500'000, 1'000'000, 2'600'000, 5'700'000};
  std::vector<Token> samples;
  for (int64_t t : times) {
    samples.push_back(fixture.add_sample(1'000'000'000 + t, {0, 0, 0}, yaw_quaternion(0)));
  }
  const double x[] = {0, 1, 3, 6, 10};
  for (int i = 0; i < 5; ++i) {
    fixture.add_annotation(samples[i], "track", "vehicle.car", {x[i], 0, 0}, {1, 1, 1},
                           yaw_quaternion(0));
  }
  fixture.add_annotation(samples[0], "alone", "vehicle.car", {5, 5, 0}, {1, 1, 1},
                         yaw_quaternion(0));
  fixture.write(dir.path().string());
  const NuScenes nusc(dir.path().string(), "v1.0-mini");

  // First annotation: one-sided forward, (1 - 0) / 0.5.
  EXPECT_NEAR(nusc.box_velocity(0).x(), 2.0, 1e-9);
  // Second: centred, (3 - 0) / 1.0.
  EXPECT_NEAR(nusc.box_velocity(1).x(), 3.0, 1e-9);
  // Third: centred over 0.5 + 1.6 = 2.1 s <= 3.0: (6 - 1) / 2.1.
  EXPECT_NEAR(nusc.box_velocity(2).x(), 5.0 / 2.1, 1e-9);
  // Fourth: centred over 1.6 + 3.1 = 4.7 s > 3.0: NaN.
  EXPECT_TRUE(std::isnan(nusc.box_velocity(3).x()));
  // Last: one-sided backward over 3.1 s > 1.5: NaN.
  EXPECT_TRUE(std::isnan(nusc.box_velocity(4).x()));
  // No neighbour at all: NaN.
  EXPECT_TRUE(nusc.box_velocity(5).array().isNaN().all());
}

TEST(NuScenes, OneSidedVelocityAtExactlyTheLimitIsDefined) {
  TempDir dir;
  NuScenesFixture fixture;
  fixture.add_scene("scene-0061");
  const Token a = fixture.add_sample(1'000'000, {0, 0, 0}, yaw_quaternion(0));
  const Token b = fixture.add_sample(2'500'000, {0, 0, 0}, yaw_quaternion(0));
  fixture.add_annotation(a, "t", "vehicle.truck", {0, 0, 0}, {1, 1, 1}, yaw_quaternion(0));
  fixture.add_annotation(b, "t", "vehicle.truck", {0, 3, 0}, {1, 1, 1}, yaw_quaternion(0));
  fixture.write(dir.path().string());
  const NuScenes nusc(dir.path().string(), "v1.0-mini");
  EXPECT_NEAR(nusc.box_velocity(0).y(), 2.0, 1e-9);  // 3 m over exactly 1.5 s
}

TEST(NuScenes, OfficialSplitsSelectScenesInListOrderAndCustomSplitsComeFromSplitsJson) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0103", "scene-0061", "scene-0916"});
  fixture.custom_splits["tiny"] = {"scene-0916", "scene-0103"};
  fixture.custom_splits["empty"] = {};
  fixture.write(dir.path().string());
  const NuScenes nusc(dir.path().string(), "v1.0-mini");
  EXPECT_EQ(nusc.split_scene_names("mini_train"), std::vector<std::string>{"scene-0061"});
  EXPECT_EQ(nusc.split_scene_names("mini_val"),
            (std::vector<std::string>{"scene-0103", "scene-0916"}));
  EXPECT_EQ(nusc.split_scene_names("tiny"), (std::vector<std::string>{"scene-0916", "scene-0103"}));
  // Samples follow the scenes' order, then each scene's linked list.
  EXPECT_EQ(nusc.split_samples("tiny"), (std::vector<Row>{6, 7, 8, 0, 1, 2}));
  EXPECT_NE(error_of([&] { nusc.split_samples("nope"); }).find("no split 'nope'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { nusc.split_samples("test"); }).find("selects none"), std::string::npos);
  // Found when the split is opened, not after an epoch of training on the other one.
  EXPECT_NE(error_of([&] { nusc.split_samples("empty"); }).find("split 'empty' lists no scenes"),
            std::string::npos);
}

TEST(NuScenes, LidarsegLookupFollowsTheOfficial32To16Mapping) {
  TempDir dir;
  testing::standard_fixture({"scene-0061"}, 1, 0).write(dir.path().string());
  const NuScenes nusc(dir.path().string(), "v1.0-mini");
  // docs/nuscenes.md 5c, the index LUT for the standard category order.
  const int expected[32] = {0, 0, 7, 7, 7, 0, 7, 0,  0,  1,  0,  0,  8,  0, 2,  3,
                            3, 4, 5, 0, 0, 6, 9, 10, 11, 12, 13, 14, 15, 0, 16, 0};
  for (int i = 0; i < 32; ++i) EXPECT_EQ(nusc.lidarseg_lut()[i], expected[i]) << i;
}

TEST(NuScenes, IndexesTheDevkitGoldenDataset) {
  const NuScenes nusc(std::string(PTQAT_TEST_DATA_DIR) + "/devkit-golden", "v1.0-mini");
  const Tables& t = nusc.tables();
  // Counts from devkit-golden/expected.json.
  EXPECT_EQ(t.sample.size(), 12u);
  EXPECT_EQ(t.sample_data.size(), 32u);
  EXPECT_EQ(t.sample_annotation.size(), 207u);
  EXPECT_EQ(t.instance.size(), 37u);
  EXPECT_EQ(t.lidarseg.size(), 12u);
  EXPECT_EQ(nusc.split_samples("mini_val").size(), 12u);
  int64_t detection_boxes = 0;
  for (Row s = 0; s < 12; ++s) detection_boxes += nusc.lidar_boxes(s).size();
  EXPECT_EQ(detection_boxes, 179);  // counted independently from the JSON with Python
  EXPECT_EQ(nusc.lidar_boxes(0).size(), 15);
}

TEST(NuScenesErrors, MissingDataroot) {
  EXPECT_EQ(error_of([] { NuScenes("/nonexistent/nuscenes", "v1.0-mini"); }),
            "/nonexistent/nuscenes: no such dataroot (expected a folder holding v1.0-mini/ with "
            "the nuScenes tables)");
}

TEST(NuScenesErrors, MissingVersionAndMissingTable) {
  TempDir dir;
  EXPECT_NE(error_of([&] {
              NuScenes(dir.path().string(), "v1.0-mini");
            }).find("no such nuScenes version folder"),
            std::string::npos);
  testing::standard_fixture({"scene-0061"}, 1, 0).write(dir.path().string());
  std::filesystem::remove(dir.path() / "v1.0-mini" / "ego_pose.json");
  EXPECT_EQ(error_of([&] { NuScenes(dir.path().string(), "v1.0-mini"); }),
            dir.file("v1.0-mini") +
                "/ego_pose.json: missing table (expected a JSON list of "
                "ego_pose records)");
}

TEST(NuScenesErrors, MalformedJsonNamesTheTable) {
  TempDir dir;
  testing::standard_fixture({"scene-0061"}, 1, 0).write(dir.path().string());
  testing::write_text(dir.path() / "v1.0-mini" / "sample.json", "[{\"token\": \"ab\", ");
  const std::string message = error_of([&] { NuScenes(dir.path().string(), "v1.0-mini"); });
  EXPECT_NE(message.find("sample.json"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST(NuScenesErrors, WrongFieldTypeNamesRecordAndField) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061"}, 1, 0);
  fixture.write(dir.path().string());
  const std::string token = fixture.tables().sample[0].token.hex();
  testing::write_text(dir.path() / "v1.0-mini" / "sample.json",
                      "[{\"token\": \"" + token + "\", \"timestamp\": \"soon\"}]");
  EXPECT_EQ(error_of([&] { NuScenes(dir.path().string(), "v1.0-mini"); }),
            dir.file("v1.0-mini") + "/sample.json: record 0 (token " + token +
                "): field 'timestamp': expected an integer");
}

TEST(NuScenesErrors, DanglingTokenNamesTableRecordFieldAndTarget) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061"}, 1, 0);
  const Token missing{0x1234, 0x5678};
  fixture.tables().sample_annotation[1].instance_token = missing;
  fixture.write(dir.path().string());
  const std::string owner = fixture.tables().sample_annotation[1].token.hex();
  EXPECT_EQ(error_of([&] { NuScenes(dir.path().string(), "v1.0-mini"); }),
            dir.file("v1.0-mini") + "/sample_annotation.json: record " + owner +
                ": instance_token " + missing.hex() + " not found in instance.json");
}

TEST(NuScenesErrors, MalformedTokenIsRejected) {
  TempDir dir;
  NuScenesFixture fixture = testing::standard_fixture({"scene-0061"}, 1, 0);
  fixture.write(dir.path().string());
  testing::write_text(
      dir.path() / "v1.0-mini" / "sensor.json",
      "[{\"token\": \"xyz\", \"channel\": \"LIDAR_TOP\", \"modality\": \"lidar\"}]");
  EXPECT_NE(error_of([&] {
              NuScenes(dir.path().string(), "v1.0-mini");
            }).find("sensor.json: record 0: field 'token': expected a 32-hex-digit token"),
            std::string::npos);
}

}  // namespace ptqat::datasets
