#include "tasks/bev/pillar_feature_net.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptqat::tasks::bev {
namespace {

TEST(PillarFeatureNet, MaxOverKeptPointsOnly) {
  // One layer, 2 features -> 2 channels, weight [[1, 0], [0, -1]]; eval-mode BatchNorm with
  // running mean 0 and variance 1: out = relu(W x / sqrt(1 + eps)) maxed over the kept points.
  PillarFeatureNet pfn(2, std::vector<int64_t>{2}, 1e-3, 0.1);
  {
    torch::NoGradGuard no_grad;
    pfn->named_parameters()["linear0.linear.weight"].copy_(
        torch::tensor({1.0F, 0.0F, 0.0F, -1.0F}).view({2, 2}));
  }
  pfn->eval();
  // Pillar 0 keeps 2 of 3 slots; its padding slot holds values that would win a plain max.
  auto features = torch::tensor({1.0F, 2.0F, 3.0F, -4.0F, 100.0F, -100.0F,  //
                                 -1.0F, -5.0F, 0.0F, 0.0F, 0.0F, 0.0F})
                      .view({2, 3, 2});
  const auto num_points = torch::tensor({2, 1}, torch::kInt64);
  const auto out = pfn(features, num_points);
  const double scale = 1.0 / std::sqrt(1.0 + 1e-3);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_NEAR(out[0][0].item<double>(), 3.0 * scale, 1e-6);  // max(1, 3)
  EXPECT_NEAR(out[0][1].item<double>(), 4.0 * scale, 1e-6);  // max(-2, 4)
  EXPECT_NEAR(out[1][0].item<double>(), 0.0, 1e-6);          // relu(-1)
  EXPECT_NEAR(out[1][1].item<double>(), 5.0 * scale, 1e-6);
}

TEST(PillarFeatureNet, GradientsMatchADenseMaskedMax) {
  torch::manual_seed(0);
  PillarFeatureNet pfn(4, std::vector<int64_t>{6}, 1e-3, 0.1);
  pfn->eval();  // BatchNorm: x / sqrt(1 + eps)
  const auto num_points = torch::tensor({3, 1, 5, 2}, torch::kInt64);
  const auto kept = torch::arange(5).unsqueeze(0) < num_points.unsqueeze(1);  // [4, 5]
  const auto data = torch::randn({4, 5, 4}) * kept.unsqueeze(2);
  const auto grad_out = torch::randn({4, 6});

  auto features = data.clone().requires_grad_();
  (pfn(features, num_points) * grad_out).sum().backward();

  // Reference: every slot through the layer, padding slots at -inf, torch's max over slots.
  auto reference_features = data.clone().requires_grad_();
  const auto weight = pfn->named_parameters()["linear0.linear.weight"].detach();
  const auto per_slot =
      torch::relu(torch::matmul(reference_features, weight.t()) / std::sqrt(1.0 + 1e-3));
  const auto masked = per_slot.masked_fill(kept.logical_not().unsqueeze(2), -INFINITY);
  const auto reference = std::get<0>(masked.max(1));
  (reference * grad_out).sum().backward();

  EXPECT_TRUE(torch::allclose(pfn(data, num_points), reference, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(features.grad(), reference_features.grad(), 1e-5, 1e-6))
      << features.grad() << reference_features.grad();
}

TEST(PillarFeatureNet, TwoLayersConcatenatePillarMax) {
  PillarFeatureNet pfn(10, std::vector<int64_t>{8, 16}, 1e-3, 0.1);
  EXPECT_EQ(pfn->named_parameters()["linear1.linear.weight"].sizes(),
            (std::vector<int64_t>{16, 16}));
  const auto out = pfn(torch::randn({5, 4, 10}), torch::tensor({1, 2, 3, 4, 4}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 16}));
  EXPECT_EQ(pfn->out_channels(), 16);
}

TEST(ScatterToBev, PlacesPillarsAndPassesGradients) {
  auto features = torch::tensor({1.0F, 2.0F, 3.0F, 4.0F, 5.0F, 6.0F}).view({3, 2});
  features.requires_grad_();
  const auto coords = torch::tensor({0, 1, 2, 1, 0, 0, 1, 2, 3}, torch::kInt64).view({3, 3});
  const auto bev = scatter_to_bev(features, coords, 2, 3, 4);
  ASSERT_EQ(bev.sizes(), (std::vector<int64_t>{2, 2, 3, 4}));
  EXPECT_EQ(bev[0][0][1][2].item<float>(), 1.0F);
  EXPECT_EQ(bev[0][1][1][2].item<float>(), 2.0F);
  EXPECT_EQ(bev[1][0][0][0].item<float>(), 3.0F);
  EXPECT_EQ(bev[1][1][2][3].item<float>(), 6.0F);
  EXPECT_EQ(bev.sum().item<float>(), 21.0F);  // nothing else written
  (bev * torch::arange(48, torch::kFloat32).view({2, 2, 3, 4})).sum().backward();
  // d/d feature = the weight at its place: sample 0 cell 6 -> 6, 18; sample 1 cell 0 -> 24, 36.
  const auto expected = torch::tensor({6.0F, 18.0F, 24.0F, 36.0F, 35.0F, 47.0F}).view({3, 2});
  EXPECT_TRUE(torch::equal(features.grad(), expected)) << features.grad();
}

}  // namespace
}  // namespace ptqat::tasks::bev
