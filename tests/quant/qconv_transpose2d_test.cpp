#include "quant/qconv_transpose2d.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "tests/quant/layer_test_util.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

std::vector<nn::ConvTranspose2dOptions> geometries() {
  return {
      nn::ConvTranspose2dOptions(4, 6, 2).stride(2),
      nn::ConvTranspose2dOptions(4, 6, 3).stride(2).padding(1).output_padding(1),
      nn::ConvTranspose2dOptions(4, 6, 3).groups(2).dilation(2).bias(false),
      // An output padding of at least the stride (allowed below the dilation).
      nn::ConvTranspose2dOptions(4, 6, 3).dilation(3).output_padding({2, 1}),
  };
}

TEST(QConvTranspose2d, FloatModeIsTorchConvTranspose2d) {
  torch::manual_seed(1);
  for (const auto& options : geometries()) {
    QConvTranspose2d layer(options);
    nn::ConvTranspose2d plain =
        test::plain_copy<nn::ConvTranspose2d>(layer->conv->weight, layer->conv->bias, options);
    for (bool training : {true, false}) {
      layer->train(training);
      plain->train(training);
      const torch::Tensor x = torch::randn({2, 4, 5, 6});
      test::expect_same_forward_and_weight_grad(layer, plain, layer->conv->weight, x);
    }
  }
}

TEST(QConvTranspose2d, WeightChannelsAreOnAxisOne) {
  torch::manual_seed(2);
  QConvTranspose2d layer(nn::ConvTranspose2dOptions(4, 6, 3).groups(2));
  EXPECT_EQ(layer->weight_quantizer()->spec().axis, 1);
  EXPECT_TRUE(layer->weight_quantizer()->spec().per_channel);
  EXPECT_EQ(layer->weight_quantizer()->scale().numel(), 3);  // [4, 6 / 2, 3, 3]
  test::calibrate_layer(layer, torch::randn({1, 4, 5, 5}));
  EXPECT_EQ(layer->weight_quantizer()->spec().axis, 1);
  const torch::Tensor weight_max = layer->conv->weight.detach().abs().amax({0, 2, 3});
  EXPECT_TRUE(torch::allclose(layer->weight_quantizer()->scale(), weight_max / 7.0));
}

TEST(QConvTranspose2d, QuantizeModeIsTheTransposedConvolutionOfFakeQuantizedTensors) {
  torch::manual_seed(3);
  for (const auto& options : geometries()) {
    QConvTranspose2d layer(options);
    const torch::Tensor x = torch::randn({2, 4, 5, 6});
    test::calibrate_layer(layer, x);
    nn::ConvTranspose2d plain =
        test::plain_copy<nn::ConvTranspose2d>(layer->conv->weight, layer->conv->bias, options);
    {
      torch::NoGradGuard no_grad;
      plain->weight.copy_(test::reference_fake_quantize(layer->weight_quantizer(), plain->weight));
    }
    const torch::Tensor expected =
        plain->forward(test::reference_fake_quantize(layer->input_quantizer(), x));
    EXPECT_TRUE(torch::equal(layer->forward(x), expected));
  }
}

TEST(QConvTranspose2d, FrozenMatchesStraightThrough) {
  torch::manual_seed(4);
  for (const auto& options : geometries()) {
    QConvTranspose2d layer(options);
    const torch::Tensor x = torch::randn({2, 4, 5, 6});
    test::calibrate_layer(layer, x * 0.5);
    test::expect_frozen_matches_straight_through(layer, x);
  }
}

TEST(QConvTranspose2d, RejectsPaddingModesOtherThanZeros) {
  EXPECT_THROW(QConvTranspose2d(nn::ConvTranspose2dOptions(2, 2, 3).padding_mode(torch::kReflect)),
               ConfigError);
}

}  // namespace
}  // namespace ptqat::quant
