#include "quant/qconv2d.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "tests/quant/layer_test_util.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

std::vector<nn::Conv2dOptions> geometries() {
  return {
      nn::Conv2dOptions(4, 6, 3).padding(1),
      nn::Conv2dOptions(4, 6, 3).stride(2).padding({1, 0}),
      nn::Conv2dOptions(4, 6, {3, 1}).dilation(2).padding({2, 0}).bias(false),
      nn::Conv2dOptions(4, 6, 3).groups(2).padding(torch::kValid),
  };
}

TEST(QConv2d, FloatModeIsTorchConv2d) {
  torch::manual_seed(1);
  for (const auto& options : geometries()) {
    QConv2d layer(options);
    nn::Conv2d plain =
        test::plain_copy<nn::Conv2d>(layer->conv->weight, layer->conv->bias, options);
    for (bool training : {true, false}) {
      layer->train(training);
      plain->train(training);
      const torch::Tensor x = torch::randn({2, 4, 9, 8});
      test::expect_same_forward_and_weight_grad(layer, plain, layer->conv->weight, x);
    }
  }
}

TEST(QConv2d, QuantizeModeIsTheConvolutionOfFakeQuantizedInputAndWeight) {
  torch::manual_seed(2);
  for (const auto& options : geometries()) {
    QConv2d layer(options);
    const torch::Tensor x = torch::randn({2, 4, 9, 8});
    test::calibrate_layer(layer, x);
    nn::Conv2d plain =
        test::plain_copy<nn::Conv2d>(layer->conv->weight, layer->conv->bias, options);
    torch::Tensor qweight;
    {
      torch::NoGradGuard no_grad;
      qweight = test::reference_fake_quantize(layer->weight_quantizer(), plain->weight);
      plain->weight.copy_(qweight);
    }
    const torch::Tensor expected =
        plain->forward(test::reference_fake_quantize(layer->input_quantizer(), x));
    EXPECT_TRUE(torch::equal(layer->forward(x), expected));
    EXPECT_FALSE(torch::equal(qweight, layer->conv->weight));  // 4 bits: visibly quantized
  }
}

TEST(QConv2d, FrozenMatchesStraightThrough) {
  torch::manual_seed(3);
  for (const auto& options : geometries()) {
    QConv2d layer(options);
    const torch::Tensor x = torch::randn({2, 4, 9, 8});
    test::calibrate_layer(layer, x * 0.5);
    test::expect_frozen_matches_straight_through(layer, x);
  }
}

TEST(QConv2d, UnbatchedInput) {
  torch::manual_seed(4);
  QConv2d layer(nn::Conv2dOptions(2, 3, 3).padding(1));
  const torch::Tensor x = torch::randn({2, 5, 5});
  test::calibrate_layer(layer, x);
  const torch::Tensor trainable = layer->forward(x);
  layer->freeze();
  EXPECT_TRUE(torch::equal(layer->forward(x), trainable));
  EXPECT_EQ(trainable.sizes(), torch::IntArrayRef({3, 5, 5}));
}

TEST(QConv2d, RejectsPaddingItCannotRun) {
  EXPECT_THROW(QConv2d(nn::Conv2dOptions(2, 2, 3).padding(torch::kSame)), ConfigError);
  EXPECT_THROW(QConv2d(nn::Conv2dOptions(2, 2, 3).padding(1).padding_mode(torch::kReflect)),
               ConfigError);
  EXPECT_THROW(QConv2d(nn::Conv2dOptions(2, 2, 3).padding_mode(torch::kCircular)), ConfigError);
}

}  // namespace
}  // namespace ptqat::quant
