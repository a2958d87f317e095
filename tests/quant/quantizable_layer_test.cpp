// The behaviour every quantizable layer shares (quant/quantizable_layer.h), shown on QConv2d and
// QConvBn2d: modes, keep-float, freezing, LSQ, checkpoints and the discrepancy captures.

#include "quant/quantizable_layer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "quant/qconv2d.h"
#include "quant/with_batch_norm.h"
#include "tests/quant/layer_test_util.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;
using test::calibrate_layer;
using test::reference_fake_quantize;

QConv2d small_conv() { return QConv2d(nn::Conv2dOptions(3, 4, 3).padding(1)); }

QConvBn2d small_conv_bn() {
  QConvBn2d layer(nn::Conv2dOptions(3, 4, 3).padding(1).bias(false), nn::BatchNorm2dOptions(4));
  torch::NoGradGuard no_grad;
  layer->bn->running_mean.uniform_(-0.5, 0.5);
  layer->bn->running_var.uniform_(0.5, 2.0);
  layer->bn->weight.uniform_(0.5, 1.5);
  layer->bn->bias.uniform_(-0.2, 0.2);
  return layer;
}

TEST(QuantizableLayer, KindNames) {
  EXPECT_STREQ(layer_kind_name(LayerKind::kConv2d), "conv2d");
  EXPECT_STREQ(layer_kind_name(LayerKind::kConvBn2d), "conv_bn2d");
  EXPECT_STREQ(layer_kind_name(LayerKind::kConvTranspose2d), "conv_transpose2d");
  EXPECT_STREQ(layer_kind_name(LayerKind::kLinear), "linear");
}

TEST(DiscrepancySums, HandComputedMetrics) {
  DiscrepancySums sums;
  sums.add(torch::tensor({1.0f, 2.0f}), torch::tensor({1.0f, 0.0f}));
  // (q - f)^2 = 0 + 4; f^2 = 1; q^2 = 5; q.f = 1; 2 elements.
  EXPECT_DOUBLE_EQ(sums.value(DiscrepancyMetric::kMse), 2.0);
  EXPECT_DOUBLE_EQ(sums.value(DiscrepancyMetric::kNmse), 4.0);
  EXPECT_NEAR(sums.value(DiscrepancyMetric::kCosine), 1.0 - 1.0 / std::sqrt(5.0), 1e-12);
  sums.add(torch::tensor({{3.0f}}), torch::tensor({{1.0f}}));  // any shape; sums accumulate
  EXPECT_DOUBLE_EQ(sums.value(DiscrepancyMetric::kMse), 8.0 / 3.0);
  EXPECT_DOUBLE_EQ(sums.value(DiscrepancyMetric::kNmse), 4.0);
  EXPECT_NEAR(sums.value(DiscrepancyMetric::kCosine), 1.0 - 4.0 / std::sqrt(14.0 * 2.0), 1e-12);
}

TEST(DiscrepancySums, ZeroDenominators) {
  DiscrepancySums agree;
  agree.add(torch::zeros({3}), torch::zeros({3}));
  for (auto metric :
       {DiscrepancyMetric::kMse, DiscrepancyMetric::kNmse, DiscrepancyMetric::kCosine})
    EXPECT_EQ(agree.value(metric), 0.0);
  DiscrepancySums differ;
  differ.add(torch::ones({2}), torch::zeros({2}));
  EXPECT_EQ(differ.value(DiscrepancyMetric::kNmse), std::numeric_limits<double>::infinity());
  EXPECT_EQ(differ.value(DiscrepancyMetric::kCosine), 1.0);
  EXPECT_EQ(DiscrepancySums{}.value(DiscrepancyMetric::kMse), 0.0);
}

TEST(ForwardOrder, RecordsFirstCallOnly) {
  QConv2d a = small_conv();
  QConv2d b = small_conv();
  ForwardOrder order;
  order.record(a.get());
  order.record(b.get());
  order.record(a.get());
  ASSERT_EQ(order.layers().size(), 2u);
  EXPECT_EQ(order.layers()[0], a.get());
  EXPECT_EQ(order.layers()[1], b.get());
}

TEST(QuantizableLayer, CalibrateModeObservesTheInputAndOutputsFloat) {
  torch::manual_seed(1);
  QConv2d layer = small_conv();
  const torch::Tensor x = torch::rand({2, 3, 6, 6}) * 4.0 - 1.0;
  const torch::Tensor expected = layer->forward(x);  // float mode
  calibrate_layer(layer, x);
  layer->set_mode(LayerMode::kCalibrate);
  EXPECT_TRUE(torch::equal(layer->forward(x), expected));
  // Input: asymmetric unsigned 8 bits, min-max: (max - min) / 255.
  const double lo = x.min().item<double>();
  const double hi = x.max().item<double>();
  EXPECT_FLOAT_EQ(layer->input_quantizer()->scale().item<float>(),
                  static_cast<float>((hi - lo) / 255.0));
  // Weight: per output channel, symmetric narrow 4 bits: max |w_c| / 7.
  const torch::Tensor weight_max = layer->conv->weight.detach().abs().amax({1, 2, 3});
  EXPECT_TRUE(torch::allclose(layer->weight_quantizer()->scale(), weight_max / 7.0));
}

TEST(QuantizableLayer, KeepFloatLayerRunsUnquantized) {
  torch::manual_seed(2);
  QConv2d layer = small_conv();
  const torch::Tensor x = torch::randn({2, 3, 5, 5});
  const torch::Tensor expected = layer->forward(x);
  layer->set_keep_float(true);
  layer->set_mode(LayerMode::kCalibrate);
  layer->forward(x);
  core::SingleProcessCollective group;
  layer->finish_calibration(group);  // skipped: nothing observed, no error
  EXPECT_FALSE(layer->input_quantizer()->calibrated());
  layer->set_mode(LayerMode::kQuantize);
  EXPECT_TRUE(torch::equal(layer->forward(x), expected));
  layer->freeze();  // needs no calibration
  EXPECT_TRUE(torch::equal(layer->frozen_weight(), layer->conv->weight));
  EXPECT_TRUE(torch::equal(layer->forward(x), expected));
}

TEST(QuantizableLayer, FreezeCachesTheQuantizedWeightAndUnfreezeDropsIt) {
  torch::manual_seed(3);
  QConv2d layer = small_conv();
  EXPECT_THROW(layer->freeze(), Error);  // not calibrated
  calibrate_layer(layer, torch::randn({2, 3, 5, 5}));
  EXPECT_EQ(layer->parameter_count(), 4 * 3 * 9 + 4);
  layer->freeze();
  EXPECT_TRUE(layer->frozen());
  EXPECT_TRUE(
      torch::equal(layer->frozen_weight(),
                   reference_fake_quantize(layer->weight_quantizer(), layer->conv->weight)));
  EXPECT_TRUE(torch::equal(layer->frozen_bias(), layer->conv->bias));
  EXPECT_NE(layer->frozen_bias().data_ptr(), layer->conv->bias.data_ptr());  // a copy
  for (const auto& p : layer->parameters()) EXPECT_FALSE(p.requires_grad());

  layer->unfreeze();
  EXPECT_FALSE(layer->frozen());
  EXPECT_EQ(layer->frozen_weight().numel(), 0);
  EXPECT_EQ(layer->frozen_bias().numel(), 0);
  // Weight, bias and both (learnable by default) scales train.
  for (const auto& p : layer->parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(QuantizableLayer, FrozenInputGradientIsTheStraightThroughGradient) {
  torch::manual_seed(4);
  QConvBn2d layer = small_conv_bn();
  layer->eval();
  const torch::Tensor x = torch::randn({2, 3, 6, 6});
  calibrate_layer(layer, x * 0.5);  // the full x leaves the input grid
  test::expect_frozen_matches_straight_through(layer, x);
}

TEST(QuantizableLayer, FrozenLayerStaysBitIdenticalThroughAnOptimizerStep) {
  torch::manual_seed(5);
  nn::Conv2d upstream(nn::Conv2dOptions(2, 3, 1));
  QConvBn2d layer = small_conv_bn();
  const torch::Tensor x = torch::randn({2, 2, 6, 6});
  calibrate_layer(layer, upstream->forward(x).detach());
  layer->unfreeze();
  layer->freeze();
  layer->set_bn_statistics(BnStatistics::kUpdate);  // must not touch a frozen layer's BN
  layer->train();
  const auto before = test::snapshot(*layer);

  std::vector<torch::Tensor> parameters = upstream->parameters();
  for (const auto& p : layer->parameters()) parameters.push_back(p);
  torch::optim::SGD optimizer(parameters,
                              torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(0.1));
  for (int step = 0; step < 2; ++step) {
    optimizer.zero_grad();
    layer->forward(upstream->forward(x)).square().mean().backward();
    for (const auto& item : layer->named_parameters()) {
      EXPECT_FALSE(item.value().grad().defined()) << item.key();
    }
    ASSERT_TRUE(upstream->weight.grad().defined());
    optimizer.step();
  }
  for (const auto& [name, value] : test::snapshot(*layer)) {
    EXPECT_TRUE(torch::equal(value, before.at(name))) << name;
  }
}

TEST(QuantizableLayer, LsqScalesGetGradientsOnlyWhenTrainable) {
  torch::manual_seed(6);
  QConv2d layer = small_conv();
  const torch::Tensor x = torch::randn({2, 3, 5, 5});
  calibrate_layer(layer, x);
  layer->unfreeze();  // trainable: learnable scales require grad
  layer->forward(x).square().sum().backward();
  const torch::Tensor weight_grad = layer->weight_quantizer()->scale().grad();
  ASSERT_TRUE(weight_grad.defined());
  EXPECT_EQ(weight_grad.numel(), 4);
  EXPECT_GT(weight_grad.abs().sum().item<double>(), 0.0);
  ASSERT_TRUE(layer->input_quantizer()->scale().grad().defined());

  layer->zero_grad(/*set_to_none=*/true);
  layer->weight_quantizer()->set_trainable(false);
  layer->input_quantizer()->set_trainable(false);
  layer->forward(x).square().sum().backward();
  EXPECT_FALSE(layer->weight_quantizer()->scale().grad().defined());
  EXPECT_FALSE(layer->input_quantizer()->scale().grad().defined());
  EXPECT_TRUE(layer->conv->weight.grad().defined());
}

TEST(QuantizableLayer, CheckpointRoundTripsQuantizersAndFrozenCache) {
  torch::manual_seed(7);
  QConvBn2d saved = small_conv_bn();
  saved->eval();
  const torch::Tensor x = torch::randn({2, 3, 5, 5});
  calibrate_layer(saved, x);
  saved->freeze();
  std::stringstream stream;
  torch::save(saved, stream);

  torch::manual_seed(8);
  QConvBn2d loaded = small_conv_bn();  // other weights, uncalibrated, not frozen
  loaded->eval();
  torch::load(loaded, stream);
  loaded->set_mode(LayerMode::kQuantize);
  EXPECT_TRUE(loaded->frozen());
  EXPECT_TRUE(torch::equal(loaded->frozen_weight(), saved->frozen_weight()));
  EXPECT_TRUE(torch::equal(loaded->frozen_bias(), saved->frozen_bias()));
  for (auto* pair : {&saved, &loaded}) ASSERT_TRUE((*pair)->input_quantizer()->calibrated());
  EXPECT_TRUE(loaded->weight_quantizer()->calibrated());
  EXPECT_TRUE(
      torch::equal(loaded->weight_quantizer()->scale(), saved->weight_quantizer()->scale()));
  EXPECT_TRUE(torch::equal(loaded->input_quantizer()->zero_point(),
                           saved->input_quantizer()->zero_point()));
  EXPECT_TRUE(torch::equal(loaded->forward(x), saved->forward(x)));
}

TEST(QuantizableLayer, IsolatedCaptureReturnsFloatAndSumsTheQuantizedError) {
  torch::manual_seed(9);
  QConv2d layer = small_conv();
  const torch::Tensor x1 = torch::randn({2, 3, 5, 5});
  const torch::Tensor x2 = torch::randn({1, 3, 5, 5});
  calibrate_layer(layer, x1);
  const torch::Tensor q1 = layer->forward(x1).detach();
  const torch::Tensor q2 = layer->forward(x2).detach();
  layer->set_mode(LayerMode::kFloat);
  const torch::Tensor f1 = layer->forward(x1).detach();
  const torch::Tensor f2 = layer->forward(x2).detach();

  layer->set_mode(LayerMode::kQuantize);
  layer->set_discrepancy_capture(DiscrepancyCapture::kIsolated);
  EXPECT_TRUE(torch::equal(layer->forward(x1), f1));
  EXPECT_TRUE(torch::equal(layer->forward(x2), f2));
  const double squared_error = (q1.to(torch::kDouble) - f1).square().sum().item<double>() +
                               (q2.to(torch::kDouble) - f2).square().sum().item<double>();
  EXPECT_NEAR(layer->discrepancy().value(DiscrepancyMetric::kMse),
              squared_error / static_cast<double>(q1.numel() + q2.numel()), 1e-12);
  EXPECT_GT(squared_error, 0.0);
}

TEST(QuantizableLayer, StoredReferencesAreComparedInCallOrder) {
  torch::manual_seed(10);
  QConv2d layer = small_conv();
  const torch::Tensor x1 = torch::randn({2, 3, 5, 5});
  const torch::Tensor x2 = torch::randn({2, 3, 5, 5}) * 2;
  calibrate_layer(layer, x1);
  layer->set_mode(LayerMode::kFloat);
  layer->set_discrepancy_capture(DiscrepancyCapture::kStoreReference);
  torch::Tensor f1 = layer->forward(x1);
  const torch::Tensor f2 = layer->forward(x2);
  const torch::Tensor f1_copy = f1.detach().clone();
  f1.detach().relu_();  // an in-place op of the model must not change the stored reference

  layer->set_mode(LayerMode::kQuantize);
  layer->set_discrepancy_capture(DiscrepancyCapture::kCompareReference);
  const torch::Tensor q1 = layer->forward(x1);
  const torch::Tensor q2 = layer->forward(x2);
  DiscrepancySums expected;
  expected.add(q1, f1_copy);
  expected.add(q2, f2);
  EXPECT_DOUBLE_EQ(layer->discrepancy().squared_error, expected.squared_error);
  EXPECT_DOUBLE_EQ(layer->discrepancy().dot, expected.dot);
  EXPECT_THROW(layer->forward(x1), Error);  // a third call has no reference

  // A new storing pass starts from no references.
  layer->set_discrepancy_capture(DiscrepancyCapture::kStoreReference);
  layer->set_discrepancy_capture(DiscrepancyCapture::kCompareReference);
  EXPECT_THROW(layer->forward(x1), Error);
}

}  // namespace
}  // namespace ptqat::quant
