#include "datasets/synth/synth_occupancy.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

namespace ptqat::datasets {
namespace {

// road_origin (0, 1.75) and heading 0 put the ego at the global origin with yaw 0 at every t
// when ego_speed is 0, so the ego frame is the global frame. Road-frame y = global y - 1.75.
SynthScene hand_scene() {
  SynthScene scene;
  scene.road_origin = {0.0, 1.75};
  scene.ego_speed = 0.0;
  SynthObject car;
  car.category = "vehicle.car";
  car.lidarseg_index = 17;  // -> class 4
  // x in [9.9, 12.1], y in [-0.9, 0.9], z in [0, 1.5]: voxel centres x = 10.2..11.8
  // (i = 125..129), y = -0.6..0.6 (j = 98..101), z = 0.4..1.2 (k = 3..5).
  car.wlh = {1.8, 2.2, 1.5};
  car.start = {11.0, 0.0, 0.75};
  car.t_end = 20.0;
  scene.objects.push_back(car);
  // A tree turned by 90 degrees: its length (1.4, box x) runs along y, its width (2.2) along x:
  // x in [-21.1, -18.9] (i = 47..52), y in [9.3, 10.7] (j = 123..126), z in [0, 1.9]
  // (k = 3..6).
  SynthStructure tree;
  tree.box.center = {-20.0, 10.0, 0.95};
  tree.box.wlh = {2.2, 1.4, 1.9};
  tree.box.yaw = M_PI / 2;
  tree.lidarseg_index = 30;  // -> class 16
  scene.structures.push_back(tree);
  return scene;
}

bool in_range(int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; }

TEST(SynthOccupancy, BoxesAndGroundGiveTheHandComputedVoxels) {
  const Occ3dLabels labels = make_occupancy(hand_scene(), 0.0, {}, {});
  ASSERT_EQ(labels.semantics.sizes(), torch::IntArrayRef({200, 200, 16}));
  ASSERT_EQ(labels.semantics.scalar_type(), torch::kUInt8);
  const auto sem = labels.semantics.accessor<uint8_t, 3>();
  for (int64_t i = 0; i < 200; ++i) {
    for (int64_t j = 0; j < 200; ++j) {
      for (int64_t k = 0; k < 16; ++k) {
        int expected = 17;
        if (k == 2) {
          // Ground layer: road-frame |y| <= 7 road, <= 10 sidewalk, else terrain.
          const double y_road = std::abs(-40 + 0.4 * (static_cast<double>(j) + 0.5) - 1.75);
          expected = y_road <= 7 ? 11 : (y_road <= 10 ? 13 : 14);
        } else if (in_range(i, 125, 129) && in_range(j, 98, 101) && in_range(k, 3, 5)) {
          expected = 4;
        } else if (in_range(i, 47, 52) && in_range(j, 123, 126) && in_range(k, 3, 6)) {
          expected = 16;
        }
        ASSERT_EQ(sem[i][j][k], expected) << i << " " << j << " " << k;
      }
    }
  }
}

TEST(SynthOccupancy, DeadObjectsAreNotInTheGrid) {
  SynthScene scene = hand_scene();
  scene.objects[0].t_begin = 3.0;
  const Occ3dLabels labels = make_occupancy(scene, 0.0, {}, {});
  EXPECT_EQ((labels.semantics == 4).sum().item<int64_t>(), 0);
  EXPECT_EQ((labels.semantics == 16).sum().item<int64_t>(), 6 * 4 * 4);
}

std::set<std::tuple<int64_t, int64_t, int64_t>> marked(const torch::Tensor& mask) {
  std::set<std::tuple<int64_t, int64_t, int64_t>> out;
  const torch::Tensor idx = mask.nonzero();
  for (int64_t n = 0; n < idx.size(0); ++n) {
    out.insert({idx[n][0].item<int64_t>(), idx[n][1].item<int64_t>(), idx[n][2].item<int64_t>()});
  }
  return out;
}

TEST(SynthOccupancy, AxisAlignedRayMarksTheVoxelsAlongIt) {
  // From the centre of voxel (100, 100, 5) = (0.2, 0.2, 1.2) to that of (110, 100, 5).
  const torch::Tensor end = torch::tensor({{4.2f, 0.2f, 1.2f, 7.0f}});
  const Occ3dLabels labels =
      make_occupancy(hand_scene(), 0.0, {end}, {Eigen::Vector3d(0.2, 0.2, 1.2)});
  std::set<std::tuple<int64_t, int64_t, int64_t>> expected;
  for (int64_t i = 100; i <= 110; ++i) expected.insert({i, 100, 5});
  EXPECT_EQ(marked(labels.mask_lidar), expected);
}

TEST(SynthOccupancy, SlantedRayMarksTheVoxelsItCrosses) {
  // (0.2, 0.2) -> (1.8, 0.6) in voxel units from (100.5, 100.5) to (104.5, 101.5): slope 1/4,
  // crossing j = 101 at i = 102.5, the middle of voxel column 102.
  const torch::Tensor end = torch::tensor({{1.8, 0.6, 1.2}}, torch::kFloat64);
  const Occ3dLabels labels =
      make_occupancy(hand_scene(), 0.0, {end}, {Eigen::Vector3d(0.2, 0.2, 1.2)});
  const std::set<std::tuple<int64_t, int64_t, int64_t>> expected = {
      {100, 100, 5}, {101, 100, 5}, {102, 100, 5}, {102, 101, 5}, {103, 101, 5}, {104, 101, 5}};
  EXPECT_EQ(marked(labels.mask_lidar), expected);
}

TEST(SynthOccupancy, RaysLeavingTheGridAreClipped) {
  // From outside (x = -50) through the grid to outside (x = 50) along row j = 100, k = 5.
  const torch::Tensor end = torch::tensor({{50.0f, 0.2f, 1.2f}});
  const Occ3dLabels labels =
      make_occupancy(hand_scene(), 0.0, {end}, {Eigen::Vector3d(-50, 0.2, 1.2)});
  EXPECT_EQ(labels.mask_lidar.sum().item<int64_t>(), 200);
  EXPECT_TRUE(labels.mask_lidar.index({torch::indexing::Slice(), 100, 5}).all().item<bool>());
}

TEST(SynthOccupancy, CameraSeesUpToTheFirstOccupiedVoxel) {
  const Occ3dLabels labels = make_occupancy(hand_scene(), 0.0, {}, {});
  const auto cam = labels.mask_camera.accessor<bool, 3>();
  EXPECT_TRUE(cam[112][100][3]);    // free, 5 m ahead, between the camera and the car
  EXPECT_TRUE(cam[125][100][4]);    // the car's front voxel column
  EXPECT_FALSE(cam[127][100][4]);   // inside the car
  EXPECT_FALSE(cam[150][100][3]);   // free, 20 m ahead behind the car
  EXPECT_FALSE(cam[150][100][2]);   // ground behind the car
  EXPECT_TRUE(cam[150][130][2]);    // ground 20 m ahead, 12 m left: nothing in between
  EXPECT_TRUE(cam[100][112][2]);    // ground 5 m to the left
  EXPECT_FALSE(cam[0][0][6]);       // a corner, 56 m away
  EXPECT_FALSE(cam[101][100][15]);  // straight above: outside the +-20 degree field of view
  EXPECT_FALSE(cam[100][130][1]);   // under the ground
}

TEST(SynthOccupancy, GeneratedSceneKeyframeIsConsistent) {
  const SynthScene scene = make_synth_scene(0, 3, 20.0);
  const Occ3dLabels labels = make_occupancy(scene, 2.0, {}, {});
  // Every column has its ground voxel; driveable surface is under the ego.
  EXPECT_TRUE((labels.semantics.select(2, 2) != 17).all().item<bool>());
  EXPECT_EQ(labels.semantics[100][100][2].item<int>(), 11);
  EXPECT_LE(labels.semantics.max().item<int>(), 17);
  // Something besides the ground is occupied and the camera sees part of the grid.
  EXPECT_GT(((labels.semantics != 17) & (labels.semantics < 11)).sum().item<int64_t>(), 0);
  EXPECT_GT(labels.mask_camera.sum().item<int64_t>(), 10000);
  EXPECT_EQ(labels.mask_lidar.sum().item<int64_t>(), 0);
}

}  // namespace
}  // namespace ptqat::datasets
