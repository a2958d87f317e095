#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "quant/with_batch_norm.h"
#include "tests/quant/layer_test_util.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

/// A layer with trained-looking BatchNorm statistics and affine parameters.
QConvBn2d make_layer(const nn::Conv2dOptions& conv, nn::BatchNorm2dOptions bn) {
  QConvBn2d layer(conv, bn);
  torch::NoGradGuard no_grad;
  layer->bn->running_mean.uniform_(-0.5, 0.5);
  layer->bn->running_var.uniform_(0.5, 2.0);
  if (layer->bn->weight.defined()) {
    layer->bn->weight.uniform_(0.5, 1.5);
    layer->bn->bias.uniform_(-0.3, 0.3);
  }
  return layer;
}

/// Plain Conv2d and BatchNorm2d holding copies of the layer's parameters and statistics.
struct Plain {
  Plain(const QConvBn2d& layer, const nn::Conv2dOptions& conv_options,
        const nn::BatchNorm2dOptions& bn_options)
      : conv(conv_options), bn(bn_options) {
    torch::NoGradGuard no_grad;
    conv->weight.copy_(layer->conv->weight);
    if (conv->bias.defined()) conv->bias.copy_(layer->conv->bias);
    if (bn->weight.defined()) {
      bn->weight.copy_(layer->bn->weight);
      bn->bias.copy_(layer->bn->bias);
    }
    bn->running_mean.copy_(layer->bn->running_mean);
    bn->running_var.copy_(layer->bn->running_var);
  }
  torch::Tensor forward(const torch::Tensor& x) { return bn->forward(conv->forward(x)); }
  nn::Conv2d conv;
  nn::BatchNorm2d bn;
};

const nn::Conv2dOptions kConv = nn::Conv2dOptions(3, 4, 3).padding(1);

TEST(QConvBn2d, FloatModeIsBatchNormAfterConv2dAndUpdatesStatisticsIdentically) {
  torch::manual_seed(1);
  for (const auto& bn_options :
       {nn::BatchNorm2dOptions(4), nn::BatchNorm2dOptions(4).momentum(c10::nullopt).eps(1e-3)}) {
    QConvBn2d layer = make_layer(kConv, bn_options);
    Plain plain(layer, kConv, bn_options);
    for (bool training : {true, true, false}) {
      layer->train(training);
      plain.conv->train(training);
      plain.bn->train(training);
      const torch::Tensor x = torch::randn({2, 3, 6, 6});
      const torch::Tensor y = layer->forward(x);
      const torch::Tensor expected = plain.forward(x);
      EXPECT_TRUE(torch::equal(y, expected));
      EXPECT_TRUE(torch::equal(layer->bn->running_mean, plain.bn->running_mean));
      EXPECT_TRUE(torch::equal(layer->bn->running_var, plain.bn->running_var));
      EXPECT_TRUE(torch::equal(layer->bn->num_batches_tracked, plain.bn->num_batches_tracked));
      y.sum().backward();
      expected.sum().backward();
      EXPECT_TRUE(torch::equal(layer->conv->weight.grad(), plain.conv->weight.grad()));
      EXPECT_TRUE(torch::equal(layer->bn->weight.grad(), plain.bn->weight.grad()));
    }
  }
}

TEST(QConvBn2d, FoldedConvolutionEqualsBatchNormOfConvInEval) {
  torch::manual_seed(2);
  struct Case {
    nn::Conv2dOptions conv;
    nn::BatchNorm2dOptions bn;
    int64_t padding;  // as in `conv`
  };
  const std::vector<Case> cases = {
      {kConv, nn::BatchNorm2dOptions(4), 1},
      {nn::Conv2dOptions(3, 4, 3).stride(2).bias(false), nn::BatchNorm2dOptions(4).eps(1e-2), 0},
      {kConv, nn::BatchNorm2dOptions(4).affine(false), 1},
  };
  for (const Case& c : cases) {
    const nn::Conv2dOptions& conv_options = c.conv;
    const nn::BatchNorm2dOptions& bn_options = c.bn;
    QConvBn2d layer = make_layer(conv_options, bn_options);
    layer->eval();
    const torch::Tensor x = torch::randn({2, 3, 7, 7});
    torch::NoGradGuard no_grad;
    const torch::Tensor folded = torch::conv2d(x, layer->folded_weight(), layer->folded_bias(),
                                               conv_options.stride(), c.padding);
    EXPECT_TRUE(torch::allclose(folded, layer->forward(x), 1e-5, 1e-5))
        << (folded - layer->forward(x)).abs().max().item<double>();

    // By hand: w * gamma / sqrt(var + eps), beta + (b - mean) * gamma / sqrt(var + eps).
    const double eps = bn_options.eps();
    torch::Tensor gamma = torch::ones({4});
    torch::Tensor beta = torch::zeros({4});
    if (bn_options.affine()) {
      gamma = layer->bn->weight;
      beta = layer->bn->bias;
    }
    const torch::Tensor factor = gamma / (layer->bn->running_var + eps).sqrt();
    const torch::Tensor b = layer->conv->bias.defined() ? layer->conv->bias : torch::zeros({4});
    EXPECT_TRUE(torch::allclose(layer->folded_weight(),
                                layer->conv->weight * factor.reshape({4, 1, 1, 1}), 1e-6, 1e-7));
    EXPECT_TRUE(torch::allclose(layer->folded_bias(), beta + (b - layer->bn->running_mean) * factor,
                                1e-6, 1e-7));
  }
}

TEST(QConvBn2d, QuantizeModeIsOneConvolutionWithTheFakeQuantizedFoldedWeight) {
  torch::manual_seed(3);
  QConvBn2d layer = make_layer(kConv, nn::BatchNorm2dOptions(4));
  layer->eval();
  const torch::Tensor x = torch::randn({2, 3, 6, 6});
  test::calibrate_layer(layer, x);
  const torch::Tensor y = layer->forward(x);
  // Folded weight, and its gradient reaches w, gamma and beta (BN folding is differentiable).
  y.sum().backward();
  EXPECT_TRUE(layer->conv->weight.grad().defined());
  EXPECT_TRUE(layer->bn->weight.grad().defined());
  EXPECT_TRUE(layer->bn->bias.grad().defined());
  torch::NoGradGuard no_grad;
  const torch::Tensor expected = torch::conv2d(
      test::reference_fake_quantize(layer->input_quantizer(), x),
      test::reference_fake_quantize(layer->weight_quantizer(), layer->folded_weight()),
      layer->folded_bias(), 1, 1);
  EXPECT_TRUE(torch::equal(y, expected));
}

TEST(QConvBn2d, UpdatedStatisticsFollowBatchNormOnTheQuantizedInput) {
  torch::manual_seed(4);
  for (const auto& bn_options : {nn::BatchNorm2dOptions(4).momentum(0.2),
                                 nn::BatchNorm2dOptions(4).momentum(c10::nullopt)}) {
    QConvBn2d layer = make_layer(kConv, bn_options);
    layer->eval();
    const torch::Tensor x = torch::randn({3, 3, 6, 6});
    test::calibrate_layer(layer, x);
    const torch::Tensor mean0 = layer->bn->running_mean.clone();
    const torch::Tensor var0 = layer->bn->running_var.clone();

    layer->train();
    layer->forward(x);  // kFrozen (default): statistics stay
    EXPECT_TRUE(torch::equal(layer->bn->running_mean, mean0));
    layer->set_bn_statistics(BnStatistics::kUpdate);
    layer->eval();
    layer->forward(x);  // eval: statistics stay
    EXPECT_TRUE(torch::equal(layer->bn->running_var, var0));

    layer->train();
    layer->forward(x);
    torch::NoGradGuard no_grad;
    // By hand: batch statistics of conv(q(x)) with the unfolded float weight; the running
    // variance takes the unbiased batch variance. Without a momentum, the cumulative average
    // of one batch is the batch statistic itself.
    const torch::Tensor y =
        torch::conv2d(test::reference_fake_quantize(layer->input_quantizer(), x),
                      layer->conv->weight, layer->conv->bias, 1, 1);
    const torch::Tensor mean = y.mean({0, 2, 3});
    const torch::Tensor var = y.var({0, 2, 3}, /*unbiased=*/true);
    const double m = bn_options.momentum() ? *bn_options.momentum() : 1.0;
    EXPECT_TRUE(torch::allclose(layer->bn->running_mean, (1 - m) * mean0 + m * mean, 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(layer->bn->running_var, (1 - m) * var0 + m * var, 1e-5, 1e-6));
    EXPECT_EQ(layer->bn->num_batches_tracked.item<int64_t>(), 1);
  }
}

TEST(QConvBn2d, FrozenMatchesStraightThrough) {
  torch::manual_seed(5);
  const nn::Conv2dOptions conv = nn::Conv2dOptions(4, 6, 3).stride(2).groups(2).bias(false);
  QConvBn2d layer = make_layer(conv, nn::BatchNorm2dOptions(6));
  layer->eval();
  const torch::Tensor x = torch::randn({2, 4, 9, 9});
  test::calibrate_layer(layer, x * 0.5);
  test::expect_frozen_matches_straight_through(layer, x);
}

TEST(QConvBn2d, RejectsBatchNormWithoutRunningStatisticsOrOtherChannels) {
  EXPECT_THROW(QConvBn2d(kConv, nn::BatchNorm2dOptions(4).track_running_stats(false)), ConfigError);
  EXPECT_THROW(QConvBn2d(kConv, nn::BatchNorm2dOptions(5)), ConfigError);
}

}  // namespace
}  // namespace ptqat::quant
