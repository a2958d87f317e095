#include "tasks/detection/centerpoint_loss.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptqat::tasks::detection {
namespace {

torch::Tensor map_of(const std::vector<float>& values) {
  return torch::tensor(values).view({1, 1, 1, static_cast<int64_t>(values.size())});
}

TEST(FocalLoss, MatchesHandComputation) {
  // One positive (t = 1, p = 0.8), a Gaussian shoulder (t = 0.5, p = 0.3), background (p = 0.1).
  const auto pred = map_of({0.8F, 0.3F, 0.1F});
  const auto target = map_of({1.0F, 0.5F, 0.0F});
  const double positive = -std::log(0.8) * 0.2 * 0.2;
  const double shoulder = -std::log(0.7) * 0.3 * 0.3 * std::pow(0.5, 4);
  const double background = -std::log(0.9) * 0.1 * 0.1;
  EXPECT_NEAR(gaussian_focal_loss(pred, target).item<double>(), positive + shoulder + background,
              1e-6);
}

TEST(FocalLoss, NormalisedByPositivesAndAtLeastOne) {
  const auto pred = map_of({0.8F, 0.6F, 0.1F});
  const double both = -std::log(0.8) * 0.04 - std::log(0.6) * 0.16 - std::log(0.9) * 0.01;
  EXPECT_NEAR(gaussian_focal_loss(pred, map_of({1.0F, 1.0F, 0.0F})).item<double>(), both / 2.0,
              1e-6);
  // No positive: the sum itself (divided by 1).
  const double none = -std::log(0.2) * 0.64 - std::log(0.4) * 0.36 - std::log(0.9) * 0.01;
  EXPECT_NEAR(gaussian_focal_loss(pred, map_of({0.0F, 0.0F, 0.0F})).item<double>(), none, 1e-6);
}

TEST(FocalLoss, ClampedSigmoidKeepsLogarithmsFinite) {
  const auto p = clamped_sigmoid(torch::tensor({-100.0F, 0.0F, 100.0F}));
  EXPECT_NEAR(p[0].item<float>(), 1e-4, 1e-9);
  EXPECT_FLOAT_EQ(p[1].item<float>(), 0.5F);
  EXPECT_NEAR(p[2].item<float>(), 1.0 - 1e-4, 1e-7);
  const auto logits = torch::tensor({-100.0F, 100.0F}).view({1, 1, 1, 2}).requires_grad_();
  const auto loss = gaussian_focal_loss(clamped_sigmoid(logits), map_of({1.0F, 0.0F}));
  loss.backward();
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
}

TEST(GatherCells, PicksFlatIndices) {
  const auto maps = torch::arange(2 * 3 * 2 * 4, torch::kFloat32).view({2, 3, 2, 4});
  const auto indices = torch::tensor({5, 0, 7, 2}, torch::kInt64).view({2, 2});
  const auto out = gather_cells(maps, indices);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 2, 3}));
  // Sample 0, cell 5 = (iy 1, ix 1): channel c at c * 8 + 5.
  EXPECT_EQ(out[0][0][2].item<float>(), 2 * 8 + 5);
  EXPECT_EQ(out[1][0][1].item<float>(), 24 + 8 + 7);
  EXPECT_EQ(out[1][1][0].item<float>(), 24 + 2);
}

TEST(WeightedL1, CodeWeightsAndMaskedRows) {
  auto pred = torch::zeros({1, 2, 10});
  auto target = torch::zeros({1, 2, 10});
  target[0][0] = torch::tensor({1.0F, -2.0F, 0.5F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 3.0F, -1.0F});
  target[0][1].fill_(100.0F);  // masked out
  const auto mask = torch::tensor({true, false}).view({1, 2});
  const std::vector<double> codes = {1, 1, 1, 1, 1, 1, 1, 1, 0.2, 0.2};
  const double expected = (1.0 + 2.0 + 0.5 + 0.2 * 3.0 + 0.2 * 1.0) / (1.0 + 1e-4);
  EXPECT_NEAR(weighted_l1_loss(pred, target, mask, codes).item<double>(), expected, 1e-6);
  // A NaN target weighs nothing.
  target[0][0][2] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NEAR(weighted_l1_loss(pred, target, mask, codes).item<double>(),
              (1.0 + 2.0 + 0.2 * 3.0 + 0.2 * 1.0) / (1.0 + 1e-4), 1e-6);
}

TEST(CenterPointLoss, WeightedSumOfGroupParts) {
  // One group, 1 class, 2 x 2 cells; target peak at cell 3 with regression row 0.
  CenterPointHeadOutput head;
  head.heatmap = torch::zeros({1, 1, 2, 2});  // p = 0.5 everywhere
  head.offset = torch::zeros({1, 2, 2, 2});
  head.height = torch::zeros({1, 1, 2, 2});
  head.size = torch::zeros({1, 3, 2, 2});
  head.rotation = torch::zeros({1, 2, 2, 2});
  head.velocity = torch::zeros({1, 2, 2, 2});
  GroupTargets target;
  target.heatmap = torch::tensor({0.0F, 0.0F, 0.0F, 1.0F}).view({1, 1, 2, 2});
  target.boxes = torch::zeros({1, 1, 10});
  target.boxes[0][0][0] = 0.5F;
  target.boxes[0][0][9] = 2.0F;
  target.indices = torch::tensor({3}, torch::kInt64).view({1, 1});
  target.mask = torch::tensor({true}).view({1, 1});
  CenterPointLossConfig config;
  const StepLoss loss = centerpoint_loss({head}, {target}, config);

  const double focal = -std::log(0.5) * 0.25 + 3.0 * (-std::log(0.5) * 0.25);
  const double l1 = (0.5 + 0.2 * 2.0) / (1.0 + 1e-4);
  EXPECT_NEAR(loss.parts.at("heatmap").item<double>(), focal, 1e-6);
  EXPECT_NEAR(loss.parts.at("bbox").item<double>(), 0.25 * l1, 1e-6);
  EXPECT_NEAR(loss.parts.at("group0.heatmap").item<double>(), focal, 1e-6);
  EXPECT_NEAR(loss.parts.at("group0.bbox").item<double>(), 0.25 * l1, 1e-6);
  EXPECT_NEAR(loss.total.item<double>(), focal + 0.25 * l1, 1e-6);
}

}  // namespace
}  // namespace ptqat::tasks::detection
