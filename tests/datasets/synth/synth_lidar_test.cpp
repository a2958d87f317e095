#include "datasets/synth/synth_lidar.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

namespace ptqat::datasets {
namespace {

// A flat world along global x (road_origin 0, heading 0: road-frame y = global y) holding one
// car-sized box whose front face is 8 m ahead of the sensor: x in [8, 12], y in [-1, 1],
// z in [0, 1.5].
SynthScene one_box_scene() {
  SynthScene scene;
  scene.duration = 20.0;
  SynthObject box;
  box.category = "vehicle.car";
  box.lidarseg_index = 17;
  box.wlh = {2.0, 4.0, 1.5};
  box.start = {10.0, 0.0, 0.75};
  box.t_end = 20.0;
  box.reflectivity = 60.0f;
  scene.objects.push_back(box);
  return scene;
}

RigidTransform sensor_at(double x, double y, double z) {
  RigidTransform pose;
  pose.translation = {x, y, z};
  return pose;
}

TEST(SynthLidar, BoxPointsLieOnTheVisibleFaces) {
  constexpr double kHeight = 2.0;
  std::mt19937_64 rng(1);
  const LidarScan scan = cast_lidar(one_box_scene(), 0.0, sensor_at(0, 0, kHeight), {}, rng);
  const auto points = scan.points.accessor<float, 2>();
  const auto labels = scan.labels.accessor<uint8_t, 1>();
  int64_t front = 0, top = 0;
  for (int64_t n = 0; n < scan.points.size(0); ++n) {
    if (labels[n] != 17) continue;
    const double x = points[n][0], y = points[n][1], z = points[n][2] + kHeight;
    const bool on_front = std::abs(x - 8.0) < 0.1 && std::abs(y) <= 1.01 && z >= 0 && z <= 1.5;
    const bool on_top = std::abs(z - 1.5) < 0.01 && x >= 7.99 && x <= 12.1 && std::abs(y) <= 1.01;
    EXPECT_TRUE(on_front || on_top) << x << " " << y << " " << z;
    front += on_front;
    top += on_top && !on_front;
  }
  // By hand (beams every 41.34/31 = 1.3335 deg from -30.67, azimuth step 360/1084 deg):
  // the front face spans +-atan(1/8) = +-7.1 deg (about 43 columns) and elevations
  // atan(-0.5/8)..atan(-2/8) = -3.6..-14.0 deg, i.e. rings 13..20 (8 beams): ~344 points.
  // Ring 21 (-2.67 deg) reaches z = 1.5 at 10.7 m, on the top face, within +-5.3 deg: ~32.
  EXPECT_GE(front, 8 * 40);
  EXPECT_LE(front, 8 * 46);
  EXPECT_GE(top, 28);
  EXPECT_LE(top, 36);
}

TEST(SynthLidar, GroundPointsSitAtMinusTheSensorHeight) {
  constexpr double kHeight = 1.84;
  std::mt19937_64 rng(2);
  const SynthScene empty;
  const LidarScan scan = cast_lidar(empty, 0.0, sensor_at(0, 0, kHeight), {}, rng);
  const auto points = scan.points.accessor<float, 2>();
  const auto labels = scan.labels.accessor<uint8_t, 1>();
  // Only the beams below the horizon hit anything: ring r points at -30.67 + 1.3335 r deg, so
  // rings 0..22 (-1.34 deg reaches the ground at 78 m > 70 m: ring 22 gives nothing).
  std::set<int> rings;
  for (int64_t n = 0; n < scan.points.size(0); ++n) {
    const double x = points[n][0], y = points[n][1], z = points[n][2];
    // Range noise (0.02 m std) moves a point along its ray: |dz| < 5 std * sin(30.67 deg).
    EXPECT_NEAR(z, -kHeight, 0.06);
    EXPECT_LE(std::hypot(x, y, z), 70.1);
    const double lateral = std::abs(y);
    const int expected = lateral < 6.9 ? 24 : (lateral > 7.1 && lateral < 9.9 ? 26 : 27);
    if (lateral < 6.9 || (lateral > 7.1 && lateral < 9.9) || lateral > 10.1) {
      EXPECT_EQ(labels[n], expected) << x << " " << y;
    }
    rings.insert(static_cast<int>(points[n][4]));
  }
  EXPECT_EQ(rings.size(), 22u);
  EXPECT_EQ(*rings.begin(), 0);
  EXPECT_EQ(*rings.rbegin(), 21);
  // Every ray of rings 0..21 hits the ground within 70 m: 22 full revolutions.
  EXPECT_EQ(scan.points.size(0), 22 * 1084);
}

TEST(SynthLidar, RingMatchesTheBeamElevation) {
  std::mt19937_64 rng(3);
  const SynthScene scene = make_synth_scene(0, 7, 20.0);
  RigidTransform pose = sensor_at(0, 0, 0);
  pose.translation = scene.ego_translation(0) + Eigen::Vector3d(0, 0, 1.84);
  pose.rotation = Eigen::AngleAxisd(scene.ego_yaw(0) - M_PI / 2, Eigen::Vector3d::UnitZ());
  const LidarScan scan = cast_lidar(scene, 0.0, pose, {}, rng);
  const auto points = scan.points.accessor<float, 2>();
  for (int64_t n = 0; n < scan.points.size(0); ++n) {
    const double ring = points[n][4];
    ASSERT_EQ(ring, std::floor(ring));
    ASSERT_GE(ring, 0);
    ASSERT_LE(ring, 31);
    const double elevation_deg =
        std::atan2(points[n][2], std::hypot(points[n][0], points[n][1])) * 180.0 / M_PI;
    ASSERT_NEAR(elevation_deg, -30.67 + 41.34 * ring / 31.0, 1e-3);
    ASSERT_GE(points[n][3], 0.0f);
    ASSERT_LE(points[n][3], 100.0f);
  }
}

TEST(SynthLidar, GeneratedSceneGivesAFullSweepWithObjectPoints) {
  const SynthScene scene = make_synth_scene(1, 7, 20.0);
  RigidTransform pose;
  pose.translation = scene.ego_translation(4.0) + Eigen::Vector3d(0, 0, 1.84);
  pose.rotation = Eigen::AngleAxisd(scene.ego_yaw(4.0) - M_PI / 2, Eigen::Vector3d::UnitZ());
  std::mt19937_64 rng(4);
  const LidarScan scan = cast_lidar(scene, 4.0, pose, {}, rng);
  // 34,688 rays; the 22 lowest rings always hit the ground (23,848), and buildings catch part
  // of the upper ones.
  EXPECT_GE(scan.points.size(0), 24000);
  EXPECT_LE(scan.points.size(0), 32 * 1084);
  EXPECT_EQ(scan.labels.size(0), scan.points.size(0));
  std::set<int> labels;
  const auto l = scan.labels.accessor<uint8_t, 1>();
  int64_t object_points = 0;
  for (int64_t n = 0; n < scan.labels.size(0); ++n) {
    labels.insert(l[n]);
    object_points += l[n] < 24;
  }
  EXPECT_TRUE(labels.count(24) && labels.count(26) && labels.count(28));
  EXPECT_GE(object_points, 500);  // ~30 objects near the ego
}

TEST(SynthLidar, SameRngStateGivesTheSameSweep) {
  const SynthScene scene = make_synth_scene(0, 1, 20.0);
  RigidTransform pose;
  pose.translation = scene.ego_translation(1.0) + Eigen::Vector3d(0, 0, 1.84);
  std::mt19937_64 a(9), b(9), c(10);
  const LidarScan sa = cast_lidar(scene, 1.0, pose, {}, a);
  const LidarScan sb = cast_lidar(scene, 1.0, pose, {}, b);
  const LidarScan sc = cast_lidar(scene, 1.0, pose, {}, c);
  EXPECT_TRUE(torch::equal(sa.points, sb.points));
  EXPECT_TRUE(torch::equal(sa.labels, sb.labels));
  EXPECT_TRUE(torch::equal(sa.labels, sc.labels));  // noise moves points, not their surfaces
  EXPECT_FALSE(torch::equal(sa.points, sc.points));
}

TEST(SynthLidar, BoxCastsAShadowOnTheGround) {
  std::mt19937_64 rng(5);
  const LidarScan scan = cast_lidar(one_box_scene(), 0.0, sensor_at(0, 0, 2.0), {}, rng);
  const auto points = scan.points.accessor<float, 2>();
  // A ray to the ground at distance x in [12, 30] with |y| < 0.6 crosses x = 8 below z = 1.5.
  for (int64_t n = 0; n < scan.points.size(0); ++n) {
    const double x = points[n][0], y = points[n][1];
    EXPECT_FALSE(x > 12.2 && x < 30 && std::abs(y) < 0.6 * x / 12.0) << x << " " << y;
  }
  // The box is not alive before t_begin: the shadow disappears.
  SynthScene later = one_box_scene();
  later.objects[0].t_begin = 5.0;
  const LidarScan none = cast_lidar(later, 0.0, sensor_at(0, 0, 2.0), {}, rng);
  EXPECT_EQ((none.labels == 17).sum().item<int64_t>(), 0);
}

}  // namespace
}  // namespace ptqat::datasets
