#include "tasks/detection/centerpoint_targets.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/tasks/detection/tiny_centerpoint.h"

namespace ptqat::tasks::detection {
namespace {

/// One sample whose boxes are `rows` (9 values each) with detection classes `classes`.
std::pair<torch::Tensor, torch::Tensor> batch_of(const std::vector<std::vector<float>>& rows,
                                                 const std::vector<int64_t>& classes) {
  auto boxes = torch::zeros({1, static_cast<int64_t>(rows.size()), 9});
  for (size_t m = 0; m < rows.size(); ++m) {
    boxes[0][static_cast<int64_t>(m)] = torch::tensor(rows[m]);
  }
  return {boxes, torch::tensor(classes, torch::kInt64).unsqueeze(0)};
}

const std::vector<std::vector<int>> kGroups = {{0}, {1, 4}, {5, 8}};  // car | truck, cv | ped, cone

TEST(GaussianRadius, MatchesCenterNetFormula) {
  // 4 x 2 cells at overlap 0.1: r1 = (6 + sqrt(36 - 4 * 7.2 / 1.1)) / 2 = 4.5667,
  // r2 = (12 + sqrt(144 - 16 * 7.2)) / 2 = 8.6833, r3 = (-1.2 + sqrt(1.44 + 1.6 * 7.2)) / 2 = 1.2.
  EXPECT_NEAR(gaussian_radius(4.0, 2.0, 0.1), 1.2, 1e-12);
  // 30 x 10 cells: r3 = (-8 + sqrt(64 + 1.6 * 270)) / 2 = 7.1355287 (the smallest root).
  EXPECT_NEAR(gaussian_radius(30.0, 10.0, 0.1), (-8.0 + std::sqrt(64.0 + 432.0)) / 2.0, 1e-12);
  EXPECT_NEAR(gaussian_radius(30.0, 10.0, 0.1), gaussian_radius(10.0, 30.0, 0.1), 1e-12);
}

TEST(DrawGaussian, PeakOneAndSigmaOfDiameterOverSix) {
  auto heatmap = torch::zeros({7, 7});
  draw_gaussian(heatmap, 3, 3, 1);  // sigma = 3 / 6
  EXPECT_FLOAT_EQ(heatmap[3][3].item<float>(), 1.0F);
  EXPECT_FLOAT_EQ(heatmap[3][4].item<float>(), static_cast<float>(std::exp(-2.0)));
  EXPECT_FLOAT_EQ(heatmap[2][2].item<float>(), static_cast<float>(std::exp(-4.0)));
  EXPECT_EQ(heatmap[3][5].item<float>(), 0.0F);  // outside the radius
  // A second Gaussian keeps the maximum, clipped at the map border.
  draw_gaussian(heatmap, 0, 3, 2);  // sigma = 5 / 6
  EXPECT_FLOAT_EQ(heatmap[3][0].item<float>(), 1.0F);
  EXPECT_FLOAT_EQ(heatmap[5][1].item<float>(),
                  static_cast<float>(std::exp(-5.0 / (2.0 * 25.0 / 36.0))));
  // Where both overlap the larger value stays: exp(-2) of the first beats exp(-2.88).
  EXPECT_FLOAT_EQ(heatmap[3][2].item<float>(), static_cast<float>(std::exp(-2.0)));
  EXPECT_FLOAT_EQ(heatmap[3][3].item<float>(), 1.0F);
  EXPECT_EQ(heatmap[3][6].item<float>(), 0.0F);
}

TEST(CenterPointTargets, HandPlacedCarBox) {
  // Centre (1.3, -2.6): head coordinates (9.3, 5.4), cell (ix 9, iy 5), offset (0.3, 0.4).
  const auto [boxes, labels] =
      batch_of({{1.3F, -2.6F, 0.5F, 2.0F, 4.0F, 1.5F, 0.3F, 1.0F, -0.5F}}, {0});
  CenterPointTargetConfig config;
  config.min_radius = 0;  // the formula's radius: int(1.2) = 1
  const std::vector<GroupTargets> targets =
      build_targets(boxes, labels, kGroups, testing::unit_grid(), config);
  ASSERT_EQ(targets.size(), 3U);
  const GroupTargets& car = targets[0];
  EXPECT_EQ(car.heatmap.sizes(), (std::vector<int64_t>{1, 1, 16, 16}));
  EXPECT_EQ(car.boxes.sizes(), (std::vector<int64_t>{1, 500, 10}));
  EXPECT_FLOAT_EQ(car.heatmap[0][0][5][9].item<float>(), 1.0F);
  EXPECT_EQ(car.heatmap.eq(1.0).sum().item<int64_t>(), 1);
  EXPECT_FLOAT_EQ(car.heatmap[0][0][5][10].item<float>(), static_cast<float>(std::exp(-2.0)));
  EXPECT_FLOAT_EQ(car.heatmap[0][0][6][9].item<float>(), static_cast<float>(std::exp(-2.0)));
  EXPECT_EQ(car.heatmap[0][0][5][11].item<float>(), 0.0F);
  EXPECT_EQ(car.heatmap.gt(0).sum().item<int64_t>(), 9);  // the 3 x 3 square of radius 1

  EXPECT_EQ(car.indices[0][0].item<int64_t>(), 5 * 16 + 9);
  EXPECT_TRUE(car.mask[0][0].item<bool>());
  EXPECT_EQ(car.mask.sum().item<int64_t>(), 1);
  const std::vector<double> expected = {0.3,           0.4,           0.5,           std::log(2.0),
                                        std::log(4.0), std::log(1.5), std::sin(0.3), std::cos(0.3),
                                        1.0,           -0.5};
  for (int64_t i = 0; i < kBoxCodeSize; ++i) {
    EXPECT_NEAR(car.boxes[0][0][i].item<float>(), expected[static_cast<size_t>(i)], 1e-5) << i;
  }
  // Other groups see nothing.
  EXPECT_EQ(targets[1].heatmap.sum().item<float>(), 0.0F);
  EXPECT_EQ(targets[2].mask.sum().item<int64_t>(), 0);
}

TEST(CenterPointTargets, MinRadiusGroupsChannelsAndSkips) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const auto [boxes, labels] = batch_of(
      {
          {0.5F, 0.5F, 0.0F, 2.0F, 4.0F, 1.5F, 0.0F, nan, nan},     // construction_vehicle
          {-7.5F, 7.5F, 0.0F, 0.5F, 0.5F, 1.0F, 0.0F, 0.0F, 0.0F},  // traffic_cone, corner
          {20.0F, 0.0F, 0.0F, 0.5F, 0.5F, 1.0F, 0.0F, 0.0F, 0.0F},  // pedestrian off the grid
          {0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F},   // padding
          {3.5F, 3.5F, 0.0F, 2.0F, 4.0F, 1.5F, 0.0F, 0.0F, 0.0F},   // bus: no group holds it
      },
      {4, 8, 5, -1, 2});
  CenterPointTargetConfig config;  // min_radius 2
  const std::vector<GroupTargets> targets =
      build_targets(boxes, labels, kGroups, testing::unit_grid(), config);
  EXPECT_EQ(targets[0].mask.sum().item<int64_t>(), 0);

  const GroupTargets& trucks = targets[1];  // channel 1 = construction_vehicle
  EXPECT_EQ(trucks.heatmap[0][0].sum().item<float>(), 0.0F);
  EXPECT_FLOAT_EQ(trucks.heatmap[0][1][8][8].item<float>(), 1.0F);
  // Radius max(2, int(1.2)) = 2, sigma 5 / 6: the value two cells away.
  EXPECT_FLOAT_EQ(trucks.heatmap[0][1][8][10].item<float>(),
                  static_cast<float>(std::exp(-4.0 / (2.0 * 25.0 / 36.0))));
  EXPECT_EQ(trucks.heatmap[0][1][8][11].item<float>(), 0.0F);
  EXPECT_EQ(trucks.mask.sum().item<int64_t>(), 1);
  EXPECT_EQ(trucks.boxes[0][0][8].item<float>(), 0.0F);  // NaN velocity trained as 0
  EXPECT_EQ(trucks.boxes[0][0][9].item<float>(), 0.0F);

  const GroupTargets& small = targets[2];  // channel 1 = traffic_cone; the pedestrian is skipped
  EXPECT_EQ(small.mask.sum().item<int64_t>(), 1);
  EXPECT_EQ(small.indices[0][0].item<int64_t>(), 15 * 16 + 0);
  EXPECT_FLOAT_EQ(small.heatmap[0][1][15][0].item<float>(), 1.0F);
  EXPECT_EQ(small.heatmap[0][0].sum().item<float>(), 0.0F);
}

TEST(CenterPointTargets, MaxObjectsPerGroup) {
  const auto [boxes, labels] = batch_of({{0.5F, 0.5F, 0, 2, 4, 1.5F, 0, 0, 0},
                                         {2.5F, 0.5F, 0, 2, 4, 1.5F, 0, 0, 0},
                                         {4.5F, 0.5F, 0, 2, 4, 1.5F, 0, 0, 0}},
                                        {0, 0, 0});
  CenterPointTargetConfig config;
  config.max_objects = 2;
  const GroupTargets car = build_targets(boxes, labels, kGroups, testing::unit_grid(), config)[0];
  EXPECT_EQ(car.mask.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(car.mask.sum().item<int64_t>(), 2);
  EXPECT_EQ(car.heatmap.eq(1.0).sum().item<int64_t>(), 2);
  EXPECT_EQ(car.indices[0][1].item<int64_t>(), 8 * 16 + 10);
}

}  // namespace
}  // namespace ptqat::tasks::detection
