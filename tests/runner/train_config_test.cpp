#include "runner/train_config.h"

#include <gtest/gtest.h>

#include <vector>

namespace ptqat::runner {
namespace {

TEST(TrainConfig, OnlyWeightsDecayNotBiasesNormsOrQuantizerScales) {
  const torch::Tensor weight = torch::ones({4, 3}, torch::requires_grad());
  const torch::Tensor bias = torch::ones({4}, torch::requires_grad());
  const torch::Tensor norm_weight = torch::ones({4}, torch::requires_grad());
  const torch::Tensor channel_scales = torch::ones({4}, torch::requires_grad());
  const torch::Tensor tensor_scale = torch::ones({}, torch::requires_grad());
  OptimizerConfig config;
  config.weight_decay = 0.1;
  config.schedule = ScheduleKind::kCosine;  // AdamW's lr is config.lr from the first step
  config.lr = 0.5;
  const std::vector<torch::optim::OptimizerParamGroup> groups =
      adamw_param_groups({weight, bias, norm_weight, channel_scales, tensor_scale}, config);
  ASSERT_EQ(groups.size(), 2u);
  const auto decay = [](const torch::optim::OptimizerParamGroup& group) {
    return static_cast<const torch::optim::AdamWOptions&>(group.options()).weight_decay();
  };
  EXPECT_EQ(groups[0].params().size(), 1u);
  EXPECT_EQ(decay(groups[0]), 0.1);
  EXPECT_EQ(groups[1].params().size(), 4u);
  EXPECT_EQ(decay(groups[1]), 0.0);

  // One step with zero gradients: Adam's update is 0, so only the decoupled decay acts,
  // p <- p * (1 - lr * weight_decay) = 1 * (1 - 0.5 * 0.1) = 0.95 on the weight alone.
  torch::optim::AdamW optimizer(groups, adamw_options(config));
  for (const torch::Tensor& parameter : {weight, bias, norm_weight, channel_scales, tensor_scale}) {
    parameter.mutable_grad() = torch::zeros_like(parameter);
  }
  optimizer.step();
  EXPECT_TRUE(torch::allclose(weight, torch::full({4, 3}, 0.95)));
  for (const torch::Tensor& parameter : {bias, norm_weight, channel_scales, tensor_scale}) {
    EXPECT_TRUE(torch::equal(parameter, torch::ones_like(parameter)));
  }
}

TEST(TrainConfig, AGroupWithoutParametersIsLeftOut) {
  OptimizerConfig config;
  EXPECT_EQ(adamw_param_groups({torch::ones({2, 2}, torch::requires_grad())}, config).size(), 1u);
  EXPECT_EQ(adamw_param_groups({torch::ones({2}, torch::requires_grad())}, config).size(), 1u);
}

}  // namespace
}  // namespace ptqat::runner
