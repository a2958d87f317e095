// ENet's inverse-log class weights, as the segmentation and occupancy losses use them.

#include "tasks/class_weights.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ptqat::tasks {
namespace {

TEST(ClassWeights, RareClassesWeighUpToFiftyAndADominantOneAboutOnePointFour) {
  const torch::Tensor weights = inverse_log_weights(torch::tensor({0, 1, 999}, torch::kInt64));
  ASSERT_EQ(weights.dtype(), torch::kFloat32);
  EXPECT_NEAR(weights[0].item<double>(), 1.0 / std::log(1.02), 1e-4);          // absent: ~50.5
  EXPECT_NEAR(weights[1].item<double>(), 1.0 / std::log(1.02 + 0.001), 1e-4);  // rare
  EXPECT_NEAR(weights[2].item<double>(), 1.0 / std::log(1.02 + 0.999), 1e-4);  // ~1.42
  // No labels at all: every class alike.
  const torch::Tensor none = inverse_log_weights(torch::zeros({3}));
  EXPECT_TRUE(torch::allclose(none, torch::full({3}, 1.0 / std::log(1.02))));
  EXPECT_EQ(weights_text(torch::tensor({1.5f, 2.0f})), "1.5, 2");
}

}  // namespace
}  // namespace ptqat::tasks
