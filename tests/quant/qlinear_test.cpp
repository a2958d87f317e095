#include "quant/qlinear.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/quant/layer_test_util.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

TEST(QLinear, FloatModeIsTorchLinear) {
  torch::manual_seed(1);
  for (const auto& options : {nn::LinearOptions(5, 3), nn::LinearOptions(5, 3).bias(false)}) {
    QLinear layer(options);
    nn::Linear plain =
        test::plain_copy<nn::Linear>(layer->linear->weight, layer->linear->bias, options);
    for (bool training : {true, false}) {
      layer->train(training);
      plain->train(training);
      for (const auto& sizes : {std::vector<int64_t>{5}, std::vector<int64_t>{2, 4, 5}}) {
        const torch::Tensor x = torch::randn(sizes);
        test::expect_same_forward_and_weight_grad(layer, plain, layer->linear->weight, x);
      }
    }
  }
}

TEST(QLinear, QuantizeModeIsTheLinearOfFakeQuantizedInputAndWeight) {
  torch::manual_seed(2);
  QLinear layer(nn::LinearOptions(6, 4));
  const torch::Tensor x = torch::randn({3, 2, 6});
  test::calibrate_layer(layer, x);
  torch::NoGradGuard no_grad;
  const torch::Tensor expected =
      torch::linear(test::reference_fake_quantize(layer->input_quantizer(), x),
                    test::reference_fake_quantize(layer->weight_quantizer(), layer->linear->weight),
                    layer->linear->bias);
  EXPECT_TRUE(torch::equal(layer->forward(x), expected));
  // One weight scale per output feature.
  EXPECT_EQ(layer->weight_quantizer()->scale().numel(), 4);
}

TEST(QLinear, FrozenMatchesStraightThrough) {
  torch::manual_seed(3);
  QLinear layer(nn::LinearOptions(6, 4));
  const torch::Tensor x = torch::randn({3, 2, 6});
  test::calibrate_layer(layer, x * 0.5);
  test::expect_frozen_matches_straight_through(layer, x);
}

}  // namespace
}  // namespace ptqat::quant
