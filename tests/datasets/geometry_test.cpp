#include "datasets/geometry.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptqat::datasets {

namespace {

Eigen::Quaterniond yaw(double angle) {
  return Eigen::Quaterniond(Eigen::AngleAxisd(angle, Eigen::Vector3d::UnitZ()));
}

}  // namespace

TEST(Geometry, PointsInBoxIsInclusiveOnEveryFace) {
  // Centre (1, 2, 3), w = 2, l = 4, h = 6, no rotation: the length runs along x. Face offsets
  // from the centre: x +-2, y +-1, z +-3; every coordinate below is exact in float and double.
  const Eigen::Vector3d centre(1, 2, 3), wlh(2, 4, 6);
  const auto points = torch::tensor({{1.0f, 2.0f, 3.0f},       // centre
                                     {3.0f, 2.0f, 3.0f},       // on the front face
                                     {3.0625f, 2.0f, 3.0f},    // just past it
                                     {1.0f, 1.0f, 3.0f},       // on a side face
                                     {1.0f, 0.9375f, 3.0f},    // just past it
                                     {-1.0f, 1.0f, 0.0f},      // a corner
                                     {1.0f, 2.0f, 6.0625f}});  // above the top
  const auto inside = points_in_box(points, centre, wlh, Eigen::Quaterniond::Identity());
  const std::vector<bool> expected = {true, true, false, true, false, true, false};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(inside[static_cast<int64_t>(i)].item<bool>(), expected[i]) << i;
  }
}

TEST(Geometry, PointsInBoxFollowsTheBoxRotation) {
  // Yawed 90 degrees, the 4 m length runs along y: (1, 3.9, 3) is inside, (2.9, 2, 3) is not.
  const auto points = torch::tensor({{1.0f, 3.9f, 3.0f}, {2.9f, 2.0f, 3.0f}});
  const auto inside = points_in_box(points, {1, 2, 3}, {2, 4, 6}, yaw(M_PI / 2));
  EXPECT_TRUE(inside[0].item<bool>());
  EXPECT_FALSE(inside[1].item<bool>());
}

TEST(Geometry, TransformPointsRotatesThenTranslates) {
  RigidTransform transform{yaw(M_PI / 2), Eigen::Vector3d(1, 0, 0)};
  const auto moved = transform_points(torch::tensor({{1.0f, 0.0f, 0.0f, 7.0f}}), transform);
  EXPECT_EQ(moved.sizes(), (std::vector<int64_t>{1, 3}));
  EXPECT_NEAR(moved[0][0].item<float>(), 1.0, 1e-6);  // (0, 1, 0) + (1, 0, 0)
  EXPECT_NEAR(moved[0][1].item<float>(), 1.0, 1e-6);
  EXPECT_NEAR(moved[0][2].item<float>(), 0.0, 1e-6);
}

TEST(Geometry, InverseAndCompositionAndYaw) {
  const RigidTransform a{yaw(0.3), Eigen::Vector3d(1, 2, 3)};
  const RigidTransform b{yaw(-1.1), Eigen::Vector3d(-4, 0.5, 0)};
  const Eigen::Vector3d p(0.25, -2, 7);
  EXPECT_TRUE((a * b).apply(p).isApprox(a.apply(b.apply(p)), 1e-12));
  EXPECT_TRUE(a.inverse().apply(a.apply(p)).isApprox(p, 1e-12));
  EXPECT_NEAR(quaternion_yaw(yaw(0.3) * yaw(-1.1)), -0.8, 1e-12);
  EXPECT_NEAR(quaternion_yaw(to_eigen({0.7071067811865476, 0, 0, 0.7071067811865476})), M_PI / 2,
              1e-12);
}

}  // namespace ptqat::datasets
