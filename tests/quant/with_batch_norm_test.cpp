// What every layer owning its BatchNorm shares (quant/with_batch_norm.h), for each of QConvBn2d,
// QLinearBn1d and QConvTransposeBn2d: float mode is the plain layer then the BatchNorm, the fold
// is exact, the discrepancy sees the output after the BatchNorm, and a frozen layer (BatchNorm
// included) stays bit-identical through fine-tuning.

#include "quant/with_batch_norm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "tests/quant/layer_test_util.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

struct ConvBn {
  using Layer = QConvBn2d;
  using Plain = nn::Conv2d;
  using Norm = nn::BatchNorm2d;
  static Layer make() {
    return Layer(nn::Conv2dOptions(3, 4, 3).padding(1), nn::BatchNorm2dOptions(4));
  }
  static Plain plain() { return Plain(nn::Conv2dOptions(3, 4, 3).padding(1)); }
  static Norm norm() { return Norm(nn::BatchNorm2dOptions(4)); }
  static auto& inner(Layer& layer) { return layer->conv; }
  static torch::Tensor input() { return torch::randn({2, 3, 6, 6}); }
};

struct LinearBn {
  using Layer = QLinearBn1d;
  using Plain = nn::Linear;
  using Norm = nn::BatchNorm1d;
  static Layer make() { return Layer(nn::LinearOptions(5, 4), nn::BatchNorm1dOptions(4)); }
  static Plain plain() { return Plain(nn::LinearOptions(5, 4)); }
  static Norm norm() { return Norm(nn::BatchNorm1dOptions(4)); }
  static auto& inner(Layer& layer) { return layer->linear; }
  static torch::Tensor input() { return torch::randn({12, 5}); }
};

struct ConvTransposeBn {
  using Layer = QConvTransposeBn2d;
  using Plain = nn::ConvTranspose2d;
  using Norm = nn::BatchNorm2d;
  static Layer make() {
    return Layer(nn::ConvTranspose2dOptions(3, 4, 2).stride(2), nn::BatchNorm2dOptions(4));
  }
  static Plain plain() { return Plain(nn::ConvTranspose2dOptions(3, 4, 2).stride(2)); }
  static Norm norm() { return Norm(nn::BatchNorm2dOptions(4)); }
  static auto& inner(Layer& layer) { return layer->conv; }
  static torch::Tensor input() { return torch::randn({2, 3, 4, 4}); }
};

template <class Kind>
class WithBatchNormTest : public ::testing::Test {
 protected:
  /// A layer with trained-looking BatchNorm statistics and affine parameters, and plain LibTorch
  /// copies of its layer and BatchNorm.
  WithBatchNormTest() : layer(Kind::make()), plain(Kind::plain()), norm(Kind::norm()) {
    torch::manual_seed(11);
    torch::NoGradGuard no_grad;
    layer->bn->running_mean.uniform_(-0.5, 0.5);
    layer->bn->running_var.uniform_(0.5, 2.0);
    layer->bn->weight.uniform_(0.5, 1.5);
    layer->bn->bias.uniform_(-0.3, 0.3);
    plain->weight.copy_(Kind::inner(layer)->weight);
    plain->bias.copy_(Kind::inner(layer)->bias);
    for (const auto& name : {"weight", "bias"}) {
      norm->named_parameters()[name].copy_(layer->bn->named_parameters()[name]);
    }
    for (const auto& name : {"running_mean", "running_var"}) {
      norm->named_buffers()[name].copy_(layer->bn->named_buffers()[name]);
    }
  }

  torch::Tensor plain_forward(const torch::Tensor& x) { return norm->forward(plain->forward(x)); }

  typename Kind::Layer layer;
  typename Kind::Plain plain;
  typename Kind::Norm norm;
};

using Kinds = ::testing::Types<ConvBn, LinearBn, ConvTransposeBn>;
TYPED_TEST_SUITE(WithBatchNormTest, Kinds);

TYPED_TEST(WithBatchNormTest, FloatModeIsTheBatchNormAfterThePlainLayer) {
  for (const bool training : {true, true, false}) {
    this->layer->train(training);
    this->plain->train(training);
    this->norm->train(training);
    const torch::Tensor x = TypeParam::input();
    EXPECT_TRUE(torch::equal(this->layer->forward(x), this->plain_forward(x))) << training;
    EXPECT_TRUE(torch::equal(this->layer->bn->running_var, this->norm->running_var));
    EXPECT_TRUE(
        torch::equal(this->layer->bn->num_batches_tracked, this->norm->num_batches_tracked));
  }
}

TYPED_TEST(WithBatchNormTest, TheFoldedLayerIsTheBatchNormOfTheLayerInEval) {
  this->layer->eval();
  this->norm->eval();
  typename TypeParam::Plain folded = TypeParam::plain();
  torch::NoGradGuard no_grad;
  folded->weight.copy_(this->layer->folded_weight());
  folded->bias.copy_(this->layer->folded_bias());
  const torch::Tensor x = TypeParam::input();
  EXPECT_TRUE(torch::allclose(folded->forward(x), this->plain_forward(x), 1e-5, 1e-5));
}

TYPED_TEST(WithBatchNormTest, TheDiscrepancyComparesTheOutputAfterTheBatchNorm) {
  this->layer->eval();
  this->norm->eval();
  const torch::Tensor x = TypeParam::input();
  test::calibrate_layer(this->layer, x);
  const torch::Tensor quantized = this->layer->forward(x).detach();
  this->layer->set_discrepancy_capture(DiscrepancyCapture::kIsolated);
  // The isolated pass returns the float reference, and sums the quantized output against it.
  const torch::Tensor reference = this->layer->forward(x);
  EXPECT_TRUE(torch::equal(reference, this->plain_forward(x)));
  DiscrepancySums expected;
  expected.add(quantized, reference);
  EXPECT_EQ(this->layer->discrepancy().squared_error, expected.squared_error);
  EXPECT_GT(expected.squared_error, 0.0);
}

TYPED_TEST(WithBatchNormTest, AFrozenLayerAndItsBatchNormStayBitIdenticalThroughFineTuning) {
  const torch::Tensor x = TypeParam::input();
  test::calibrate_layer(this->layer, x);
  this->layer->freeze();
  this->layer->set_bn_statistics(BnStatistics::kUpdate);  // must not touch a frozen layer
  this->layer->eval();
  const torch::Tensor before_eval = this->layer->forward(x).detach();
  const auto before = test::snapshot(*this->layer);

  // Fine-tuning as the runner does it: training mode, AdamW with weight decay over every
  // parameter, a trainable scale upstream so that gradients flow through the frozen layer.
  nn::Linear scale(nn::LinearOptions(1, 1));
  std::vector<torch::Tensor> parameters = scale->parameters();
  for (const auto& p : this->layer->parameters()) parameters.push_back(p);
  torch::optim::AdamW optimizer(parameters, torch::optim::AdamWOptions(0.1).weight_decay(0.1));
  this->layer->train();
  for (int step = 0; step < 3; ++step) {
    optimizer.zero_grad();
    const torch::Tensor scaled = x * scale->forward(torch::ones({1, 1})).squeeze();
    this->layer->forward(scaled).square().mean().backward();
    ASSERT_TRUE(scale->weight.grad().defined());
    optimizer.step();
  }
  for (const auto& [name, value] : test::snapshot(*this->layer)) {
    EXPECT_TRUE(torch::equal(value, before.at(name))) << name;
  }
  this->layer->eval();
  EXPECT_TRUE(torch::equal(this->layer->forward(x), before_eval));
}

TEST(WithBatchNorm, RejectsBatchNormWithoutRunningStatisticsOrOtherChannels) {
  EXPECT_THROW(QLinearBn1d(nn::LinearOptions(5, 4), nn::BatchNorm1dOptions(3)), ConfigError);
  EXPECT_THROW(
      QLinearBn1d(nn::LinearOptions(5, 4), nn::BatchNorm1dOptions(4).track_running_stats(false)),
      ConfigError);
  // Grouped: the weight's axis 1 holds out / groups channels, no per-output-channel fold.
  EXPECT_THROW(
      QConvTransposeBn2d(nn::ConvTranspose2dOptions(4, 4, 2).groups(2), nn::BatchNorm2dOptions(4)),
      ConfigError);
  EXPECT_STREQ(layer_kind_name(QConvTransposeBn2d(nn::ConvTranspose2dOptions(4, 4, 2),
                                                  nn::BatchNorm2dOptions(4))
                                   ->kind()),
               "conv_transpose_bn2d");
}

}  // namespace
}  // namespace ptqat::quant
