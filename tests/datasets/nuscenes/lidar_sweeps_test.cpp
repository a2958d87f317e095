#include "datasets/nuscenes/lidar_sweeps.h"

#include <gtest/gtest.h>

#include "tests/support/nuscenes_fixture.h"
#include "tests/support/temp_dir.h"

namespace ptqat::datasets {

using testing::NuScenesFixture;
using testing::yaw_quaternion;

namespace {

/// LiDAR at (0.94, 0, 1.84) yawed -90 degrees. Keyframe at t = 1 s with the ego at (100, 200);
/// sweeps 0.025 s and 0.075 s earlier with the ego 0.5 m and 1.0 m further back along global x;
/// the previous keyframe 0.1 s earlier.
struct SweepScene {
  testing::TempDir dir;
  Token sample;
  std::unique_ptr<NuScenes> nusc;

  SweepScene() {
    NuScenesFixture fixture({0.94, 0, 1.84}, yaw_quaternion(-M_PI / 2));
    fixture.add_scene("scene-0061");
    fixture.add_sample(900'000, {98.0, 200, 0}, yaw_quaternion(0));
    const Token older = fixture.add_sweep(925'000, {99.0, 200, 0}, yaw_quaternion(0));
    const Token newer = fixture.add_sweep(975'000, {99.5, 200, 0}, yaw_quaternion(0));
    sample = fixture.add_sample(1'000'000, {100, 200, 0}, yaw_quaternion(0));
    fixture.set_points(fixture.keyframe_of(sample),
                       torch::tensor({{0.5f, 0.5f, 0.f, 7.f, 3.f}, {2.f, 3.f, 4.f, 9.f, 5.f}}));
    // (5, 0, 0) in the newer sweep; (0.5, 0.5, 0) is within 1 m and must be dropped.
    fixture.set_points(newer,
                       torch::tensor({{5.f, 0.f, 0.f, 1.f, 2.f}, {0.5f, 0.5f, 0.f, 1.f, 2.f}}));
    fixture.set_points(older, torch::tensor({{5.f, 0.f, 0.f, 2.f, 2.f}}));
    fixture.write(dir.path().string());
    nusc = std::make_unique<NuScenes>(dir.path().string(), "v1.0-mini");
  }
};

}  // namespace

TEST(LidarSweeps, AggregatesSweepsIntoTheKeyframeFrameWithTimeLags) {
  SweepScene scene;
  const AggregatedSweeps sweeps = aggregate_sweeps(*scene.nusc, 1, 10);
  // Keyframe (2 points, kept as they are, even the close one), newer sweep (1 of 2 kept),
  // older sweep (1), then the previous keyframe's random points.
  EXPECT_EQ(sweeps.keyframe_points, 2);
  EXPECT_EQ(sweeps.sweeps, 4);
  const auto p = sweeps.points;
  ASSERT_GE(p.size(0), 4);
  EXPECT_TRUE(torch::equal(p.slice(0, 0, 2).slice(1, 0, 4),
                           torch::tensor({{0.5f, 0.5f, 0.f, 7.f}, {2.f, 3.f, 4.f, 9.f}})));
  EXPECT_EQ(p[0][4].item<float>(), 0.0f);
  // (5, 0, 0) in the newer sweep: sensor -> ego (0.94, -5, 1.84), -> global (100.44, 195, 1.84),
  // -> keyframe ego (0.44, -5, 1.84), -> keyframe sensor (5, -0.5, 0). Time lag 0.025 s.
  EXPECT_NEAR(p[2][0].item<float>(), 5.0, 1e-5);
  EXPECT_NEAR(p[2][1].item<float>(), -0.5, 1e-5);
  EXPECT_NEAR(p[2][2].item<float>(), 0.0, 1e-5);
  EXPECT_EQ(p[2][3].item<float>(), 1.0f);
  EXPECT_NEAR(p[2][4].item<float>(), 0.025, 1e-6);
  // The older sweep: the ego 1 m back -> (5, -1, 0), lag 0.075 s.
  EXPECT_NEAR(p[3][0].item<float>(), 5.0, 1e-5);
  EXPECT_NEAR(p[3][1].item<float>(), -1.0, 1e-5);
  EXPECT_NEAR(p[3][4].item<float>(), 0.075, 1e-6);
  // The previous keyframe: lag 0.1 s for every one of its points.
  EXPECT_TRUE(torch::allclose(p.slice(0, 4).select(1, 4), torch::full({p.size(0) - 4}, 0.1f)));
}

TEST(LidarSweeps, NsweepsLimitsHowFarBackItWalks) {
  SweepScene scene;
  EXPECT_EQ(aggregate_sweeps(*scene.nusc, 1, 1).sweeps, 1);
  EXPECT_EQ(aggregate_sweeps(*scene.nusc, 1, 1).points.size(0), 2);
  EXPECT_EQ(aggregate_sweeps(*scene.nusc, 1, 2).points.size(0), 3);
  // The first keyframe of the scene has no earlier sample_data.
  EXPECT_EQ(aggregate_sweeps(*scene.nusc, 0, 10).sweeps, 1);
}

}  // namespace ptqat::datasets
