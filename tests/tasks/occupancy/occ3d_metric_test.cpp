// Occ3D mIoU on hand-built grids: the camera mask, "free" in the confusion but not in the mean,
// NaN for classes absent from both, sums over frames.

#include "tasks/occupancy/occ3d_metric.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "datasets/nuscenes/occ3d.h"

namespace ptqat::tasks::occupancy {
namespace {

torch::Tensor grid(int value) {
  return torch::full({datasets::kOccGridX, datasets::kOccGridY, datasets::kOccGridZ}, value,
                     torch::kUInt8);
}

TEST(Occ3dConfusion, MaskedVoxelsDoNotCountAndFreeIsNotAveraged) {
  torch::Tensor gt = grid(17), pred = grid(17);
  torch::Tensor mask = torch::zeros(gt.sizes(), torch::kBool);
  // Four visible car voxels: three predicted car, one predicted free.
  for (int i = 0; i < 4; ++i) {
    gt[i][0][0] = 4;
    mask[i][0][0] = true;
  }
  pred[0][0][0] = 4;
  pred[1][0][0] = 4;
  pred[2][0][0] = 4;
  // Two visible free voxels, one predicted as pedestrian.
  mask[10][0][0] = true;
  mask[11][0][0] = true;
  pred[11][0][0] = 7;
  // An invisible voxel with a wrong prediction: ignored.
  gt[20][0][0] = 4;
  pred[20][0][0] = 9;
  Occ3dConfusion confusion;
  confusion.add(gt, pred, mask);
  const auto iou = confusion.iou();
  EXPECT_DOUBLE_EQ(iou[4], 0.75);       // 3 / (4 + 3 - 3)
  EXPECT_DOUBLE_EQ(iou[7], 0.0);        // a false positive only
  EXPECT_DOUBLE_EQ(iou[17], 1.0 / 3.0);  // free: 1 / (2 + 2 - 1)
  EXPECT_TRUE(std::isnan(iou[9]));      // its only prediction was masked out
  EXPECT_TRUE(std::isnan(iou[0]));
  // nanmean over classes 0..16: car 0.75 and pedestrian 0; free is left out.
  EXPECT_DOUBLE_EQ(confusion.mean_iou(), 0.375);
}

TEST(Occ3dConfusion, FramesSumAndPredictionsMustBeClassIds) {
  torch::manual_seed(1);
  const torch::Tensor gt = torch::randint(0, 18, {200, 200, 16}, torch::kInt64).to(torch::kUInt8);
  const torch::Tensor pred = torch::randint(0, 18, {200, 200, 16}, torch::kInt64).to(torch::kUInt8);
  const torch::Tensor mask = torch::rand({200, 200, 16}) < 0.5;
  Occ3dConfusion once, twice;
  once.add(gt, pred, mask);
  twice.add(gt, pred, mask);
  twice.add(gt, pred, mask);
  EXPECT_DOUBLE_EQ(once.mean_iou(), twice.mean_iou());
  EXPECT_EQ(twice.counts()[3][5], 2 * once.counts()[3][5]);
  EXPECT_THROW(once.add(gt, grid(18), mask), DataError);
}

}  // namespace
}  // namespace ptqat::tasks::occupancy
