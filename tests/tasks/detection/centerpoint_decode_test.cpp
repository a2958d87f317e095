#include "tasks/detection/centerpoint_decode.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
#include "tests/support/expect_error.h"
#include "tests/support/nuscenes_fixture.h"
#include "tests/support/temp_dir.h"
#include "tests/tasks/detection/tiny_centerpoint.h"

namespace ptqat::tasks::detection {
namespace {

using ptqat::testing::expect_error;
using ptqat::testing::NuScenesFixture;
using ptqat::testing::TempDir;
using ptqat::testing::yaw_quaternion;

TEST(CircleNms, SuppressesWithinSquaredRadiusByScore) {
  const auto centers = torch::tensor({0.0F, 0.0F, 1.0F, 0.0F, 3.0F, 0.0F, 3.5F, 0.0F}).view({4, 2});
  const auto scores = torch::tensor({0.9F, 0.8F, 0.7F, 0.95F});
  // Visit 3 (0.95): suppresses 2 (d^2 0.25), not 1 (6.25) or 0 (12.25); visit 0: suppresses 1.
  EXPECT_EQ(circle_nms(centers, scores, 4.0), (std::vector<int64_t>{3, 0}));
  // The bound is inclusive: d^2 = 1 at threshold 1 suppresses.
  EXPECT_EQ(circle_nms(centers, scores, 1.0), (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(circle_nms(centers, scores, 0.2), (std::vector<int64_t>{3, 0, 1, 2}));
  // A suppressed box suppresses nothing: 1 would suppress 2 (d^2 4) but 0 removed it first.
  const auto chain = torch::tensor({0.0F, 0.0F, 1.5F, 0.0F, 3.0F, 0.0F}).view({3, 2});
  EXPECT_EQ(circle_nms(chain, torch::tensor({0.9F, 0.8F, 0.7F}), 2.25),
            (std::vector<int64_t>{0, 2}));
  EXPECT_TRUE(circle_nms(torch::zeros({0, 2}), torch::zeros({0}), 1.0).empty());
}

/// One group (car, pedestrian) over 2 samples; sample 1 holds nothing. Sample 0: a car peak at
/// (iy 5, ix 9) with a full regression, a weaker car peak one cell right (0.65 m^2 away), a
/// pedestrian there, a car at cell (0, 0) outside the post-centre range and a peak below the
/// score threshold.
CenterPointHeadOutput hand_built_head() {
  CenterPointHeadOutput head;
  head.heatmap = torch::full({2, 2, 16, 16}, -10.0F);
  head.offset = torch::zeros({2, 2, 16, 16});
  head.height = torch::zeros({2, 1, 16, 16});
  head.size = torch::zeros({2, 3, 16, 16});
  head.rotation = torch::zeros({2, 2, 16, 16});
  head.velocity = torch::zeros({2, 2, 16, 16});
  head.rotation[0][1].fill_(1.0F);  // yaw 0 elsewhere
  head.heatmap[0][0][5][9] = 2.0F;
  head.offset[0][0][5][9] = 0.3F;
  head.offset[0][1][5][9] = 0.4F;
  head.height[0][0][5][9] = 0.5F;
  head.size[0][0][5][9] = static_cast<float>(std::log(2.0));
  head.size[0][1][5][9] = static_cast<float>(std::log(4.0));
  head.size[0][2][5][9] = static_cast<float>(std::log(1.5));
  head.rotation[0][0][5][9] = static_cast<float>(2.0 * std::sin(0.3));  // atan2 ignores scale
  head.rotation[0][1][5][9] = static_cast<float>(2.0 * std::cos(0.3));
  head.velocity[0][0][5][9] = 1.0F;
  head.velocity[0][1][5][9] = -0.5F;
  head.heatmap[0][0][5][10] = 1.0F;   // car at (2, -3): d^2 = 0.65 <= 4
  head.heatmap[0][1][5][10] = 1.5F;   // pedestrian at the same place
  head.heatmap[0][0][0][0] = 0.0F;    // car at (-8, -8)
  head.heatmap[0][1][12][3] = -3.0F;  // 0.047 <= 0.1
  return head;
}

CenterPointDecodeConfig hand_decode_config() {
  CenterPointDecodeConfig config;
  config.post_center_range = {-7.0, -7.0, -10.0, 7.0, 7.0, 10.0};
  return config;
}

TEST(CenterPointDecode, HandBuiltHeadGivesExpectedLidarBoxes) {
  const std::vector<DecodedBoxes> decoded =
      decode({hand_built_head()}, {{0, 5}}, testing::unit_grid(), hand_decode_config());
  ASSERT_EQ(decoded.size(), 2U);
  EXPECT_EQ(decoded[1].size(), 0);
  const DecodedBoxes& boxes = decoded[0];
  ASSERT_EQ(boxes.size(), 2);
  EXPECT_EQ(boxes.labels[0].item<int64_t>(), 0);
  EXPECT_NEAR(boxes.scores[0].item<float>(), 1.0 / (1.0 + std::exp(-2.0)), 1e-6);
  const std::vector<double> car = {1.3, -2.6, 0.5, 2.0, 4.0, 1.5, 0.3, 1.0, -0.5};
  for (int64_t i = 0; i < 9; ++i) {
    EXPECT_NEAR(boxes.boxes[0][i].item<float>(), car[static_cast<size_t>(i)], 1e-5) << i;
  }
  EXPECT_EQ(boxes.labels[1].item<int64_t>(), 5);
  EXPECT_NEAR(boxes.scores[1].item<float>(), 1.0 / (1.0 + std::exp(-1.5)), 1e-6);
  const std::vector<double> pedestrian = {2.0, -3.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0};
  for (int64_t i = 0; i < 9; ++i) {
    EXPECT_NEAR(boxes.boxes[1][i].item<float>(), pedestrian[static_cast<size_t>(i)], 1e-5) << i;
  }
}

TEST(CenterPointDecode, LimitsAndDisabledNms) {
  CenterPointDecodeConfig config = hand_decode_config();
  config.max_boxes = 1;
  EXPECT_EQ(decode({hand_built_head()}, {{0, 5}}, testing::unit_grid(), config)[0].size(), 1);
  config = hand_decode_config();
  config.top_k = 1;  // only the strongest peak of the group
  EXPECT_EQ(decode({hand_built_head()}, {{0, 5}}, testing::unit_grid(), config)[0].size(), 1);
  config = hand_decode_config();
  config.circle_nms_threshold[0] = 0.0;  // cars: keep all, the weaker car comes back
  const DecodedBoxes boxes = decode({hand_built_head()}, {{0, 5}}, testing::unit_grid(), config)[0];
  ASSERT_EQ(boxes.size(), 3);
  EXPECT_EQ(boxes.labels[2].item<int64_t>(), 0);
  EXPECT_NEAR(boxes.boxes[2][0].item<float>(), 2.0, 1e-6);
  config.post_center_range = {-8.0, -8.0, -10.0, 8.0, 8.0, 10.0};  // (-8, -8) is inside
  EXPECT_EQ(decode({hand_built_head()}, {{0, 5}}, testing::unit_grid(), config)[0].size(), 4);
}

TEST(DefaultAttribute, CenterPointExportRule) {
  const auto attribute = [](const char* name, double speed) {
    const int index = default_attribute(detection_class_index(name), speed);
    return index < 0 ? std::string() : std::string(datasets::kAttributeNames[index]);
  };
  EXPECT_EQ(attribute("car", 0.5), "vehicle.moving");
  EXPECT_EQ(attribute("car", 0.2), "vehicle.parked");
  EXPECT_EQ(attribute("construction_vehicle", 1.0), "vehicle.moving");
  EXPECT_EQ(attribute("construction_vehicle", 0.0), "vehicle.parked");
  EXPECT_EQ(attribute("bus", 0.0), "vehicle.stopped");
  EXPECT_EQ(attribute("trailer", 0.1), "vehicle.parked");
  EXPECT_EQ(attribute("pedestrian", 1.0), "pedestrian.moving");
  EXPECT_EQ(attribute("pedestrian", 0.1), "pedestrian.standing");
  EXPECT_EQ(attribute("bicycle", 1.0), "cycle.with_rider");
  EXPECT_EQ(attribute("motorcycle", 0.0), "cycle.without_rider");
  EXPECT_EQ(attribute("barrier", 1.0), "");
  EXPECT_EQ(attribute("traffic_cone", 0.0), "");
}

constexpr int64_t kStart = 1'533'151'603'547'590;
const Vec3 kLidarTranslation = {0.94, 0.1, 1.84};
const Quat kLidarRotation = yaw_quaternion(-M_PI / 2);
const Vec3 kEgo = {300.0, 400.0, 0.2};
const Quat kEgoRotation = yaw_quaternion(0.5);
const Vec3 kCar = {310.0, 405.0, 1.0};
constexpr double kCarYaw = 1.1;

/// scene-0103 with two samples 0.5 s apart; a car moves +x at 4 m/s; the ego is yawed by 0.5.
struct MovingCarScene {
  TempDir dir;
  std::vector<Token> samples;

  MovingCarScene() {
    NuScenesFixture fixture(kLidarTranslation, kLidarRotation);
    fixture.write_lidarseg = false;
    fixture.write_occupancy = false;
    fixture.default_points = 8;
    fixture.add_scene("scene-0103");
    for (int s = 0; s < 2; ++s) {
      samples.push_back(fixture.add_sample(
          kStart + 500'000 * s, {kEgo[0] + 2.0 * s, kEgo[1] + s, kEgo[2]}, kEgoRotation));
      fixture.add_annotation(samples.back(), "car", "vehicle.car",
                             {kCar[0] + 2.0 * s, kCar[1], kCar[2]}, {1.9, 4.6, 1.7},
                             yaw_quaternion(kCarYaw), "vehicle.moving");
    }
    fixture.write(dir.path().string());
  }
};

Eigen::Matrix4d pose_matrix(const Vec3& translation, const Quat& rotation) {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m.topLeftCorner<3, 3>() =
      Eigen::Quaterniond(rotation[0], rotation[1], rotation[2], rotation[3]).toRotationMatrix();
  m.topRightCorner<3, 1>() = Eigen::Vector3d(translation[0], translation[1], translation[2]);
  return m;
}

TEST(ToGlobal, MatchesPoseMatricesAndRecoversTheAnnotation) {
  MovingCarScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  const datasets::Row row = index.sample_row(scene.samples[0]);
  // The annotation as the dataset hands it to training: LiDAR frame.
  const datasets::SampleBoxes lidar = index.lidar_boxes(row);
  ASSERT_EQ(lidar.size(), 1);
  DecodedBoxes decoded;
  decoded.boxes = lidar.boxes;
  decoded.scores = torch::tensor({0.75F});
  decoded.labels = torch::tensor({int64_t{0}});
  const std::vector<DetectionBox> boxes =
      to_global(decoded, lidar_to_global(index, row), scene.samples[0]);
  ASSERT_EQ(boxes.size(), 1U);
  const DetectionBox& box = boxes[0];

  // Independently: global = ego pose matrix * calibrated sensor matrix * LiDAR point.
  const Eigen::Matrix4d lidar_to_global_matrix =
      pose_matrix(kEgo, kEgoRotation) * pose_matrix(kLidarTranslation, kLidarRotation);
  const auto b = lidar.boxes.accessor<float, 2>();
  const Eigen::Vector4d expected =
      lidar_to_global_matrix * Eigen::Vector4d(b[0][0], b[0][1], b[0][2], 1);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(box.translation[i], expected[i], 1e-9);
  const Eigen::Vector3d velocity =
      lidar_to_global_matrix.topLeftCorner<3, 3>() * Eigen::Vector3d(b[0][7], b[0][8], 0);
  EXPECT_NEAR(box.velocity[0], velocity.x(), 1e-9);
  EXPECT_NEAR(box.velocity[1], velocity.y(), 1e-9);

  // And it is the annotation again (up to the float32 of the LiDAR-frame box).
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(box.translation[i], kCar[i], 1e-4);
  EXPECT_NEAR(box.velocity[0], 4.0, 1e-4);
  EXPECT_NEAR(box.velocity[1], 0.0, 1e-4);
  const Quat q = yaw_quaternion(kCarYaw);
  const double dot = box.rotation[0] * q[0] + box.rotation[1] * q[1] + box.rotation[2] * q[2] +
                     box.rotation[3] * q[3];
  EXPECT_NEAR(std::abs(dot), 1.0, 1e-6);
  EXPECT_NEAR(box.size[0], 1.9, 1e-6);
  EXPECT_NEAR(box.size[1], 4.6, 1e-6);
  EXPECT_NEAR(box.size[2], 1.7, 1e-6);
  EXPECT_EQ(box.detection_name(), "car");
  EXPECT_EQ(box.attribute_name(), "vehicle.moving");
  EXPECT_DOUBLE_EQ(box.score, 0.75);
  EXPECT_EQ(box.sample_token, scene.samples[0]);
}

TEST(AddPredictions, SkipsPaddingAndNamesUnknownSamples) {
  MovingCarScene scene;
  const datasets::NuScenes index(scene.dir.path().string(), "v1.0-mini");
  datasets::Batch batch;
  batch.tokens = {scene.samples[1].hex(), scene.samples[0].hex()};
  batch.padding = {false, true};
  DecodedBoxes one;
  one.boxes = torch::zeros({1, 9});
  one.boxes[0][3] = 1.0F;
  one.boxes[0][4] = 1.0F;
  one.boxes[0][5] = 1.0F;
  one.scores = torch::tensor({0.5F});
  one.labels = torch::tensor({int64_t{9}});
  DetectionResults results;
  add_predictions(index, batch, {one, one}, results);
  ASSERT_EQ(results.num_samples(), 1U);
  EXPECT_EQ(results.entries()[0].first, scene.samples[1]);
  EXPECT_EQ(results.entries()[0].second.at(0).detection_name(), "barrier");
  EXPECT_EQ(results.entries()[0].second.at(0).attribute, -1);

  batch.tokens = {std::string(32, 'a'), scene.samples[0].hex()};
  batch.padding = {false, false};
  DetectionResults other;
  expect_error<DataError>(
      [&] {
        add_predictions(index, batch, {one, one}, other);
      },
      {std::string(32, 'a'), "sample.json"});
}

}  // namespace
}  // namespace ptqat::tasks::detection
