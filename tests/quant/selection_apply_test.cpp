// apply_selection and trainable_parameter_count on a tiny calibrated model; the counts are
// computed by hand from the layer shapes.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/collective.h"
#include "quant/layer_policy.h"
#include "quant/qconv2d.h"
#include "quant/qlinear.h"
#include "quant/selection.h"
#include "quant/with_batch_norm.h"

namespace ptqat::quant {
namespace {

namespace nn = torch::nn;

// Parameters by hand:
//   conv   QConv2d 3->4, 3x3, bias:   weight 4*3*3*3 = 108, bias 4        -> 112
//   convbn QConvBn2d 4->4, 1x1, BN:   weight 4*4 = 16, gamma 4, beta 4     -> 24
//   fc     QLinear 4->2:              weight 8, bias 2                     -> 10
//   head   torch::nn::Linear 2->3:    weight 6, bias 3                     -> 9
// Learnable scales (weights per output channel, inputs per tensor):
//   conv 4 + 1 = 5, convbn 4 + 1 = 5, fc 2 + 1 = 3.
constexpr int64_t kConvParams = 112;
constexpr int64_t kConvBnParams = 24;
constexpr int64_t kFcParams = 10;
constexpr int64_t kHeadParams = 9;
constexpr int64_t kConvScales = 5;
constexpr int64_t kConvBnScales = 5;
constexpr int64_t kFcScales = 3;
constexpr int64_t kAllTrainable = kConvParams + kConvScales + kConvBnParams + kConvBnScales +
                                  kFcParams + kFcScales + kHeadParams;  // 168

struct TinyNetImpl : nn::Module {
  TinyNetImpl() {
    conv = register_module("conv", QConv2d(nn::Conv2dOptions(3, 4, 3)));
    convbn = register_module(
        "convbn", QConvBn2d(nn::Conv2dOptions(4, 4, 1).bias(false), nn::BatchNorm2dOptions(4)));
    fc = register_module("fc", QLinear(nn::LinearOptions(4, 2)));
    head = register_module("head", nn::Linear(2, 3));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(conv(x));
    y = convbn(y);
    return head(fc(y.mean({2, 3})));
  }

  QConv2d conv{nullptr};
  QConvBn2d convbn{nullptr};
  QLinear fc{nullptr};
  nn::Linear head{nullptr};
};
TORCH_MODULE(TinyNet);

/// A calibrated TinyNet, its layers in forward order and their table.
struct Fixture {
  explicit Fixture(const QuantConfig& config = QuantConfig()) {
    torch::manual_seed(3);
    model = TinyNet();
    input = torch::randn({2, 3, 5, 5});
    layers = {
        {"conv", model->conv.ptr()}, {"convbn", model->convbn.ptr()}, {"fc", model->fc.ptr()}};
    configure_layers(layers, config);
    model->eval();
    for (const NamedLayer& named : layers) named.layer->set_mode(LayerMode::kCalibrate);
    {
      torch::NoGradGuard no_grad;
      model->forward(input);
    }
    core::SingleProcessCollective group;
    for (const NamedLayer& named : layers) {
      named.layer->finish_calibration(group);
      named.layer->set_mode(LayerMode::kQuantize);
    }
    for (size_t i = 0; i < layers.size(); ++i) {
      LayerDiscrepancy row;
      row.name = layers[i].name;
      row.forward_index = static_cast<int64_t>(i);
      row.parameters = layers[i].layer->parameter_count();
      table.push_back(row);
    }
  }

  LayerSelection selection_of(std::vector<bool> frozen) const {
    LayerSelection selection;
    selection.frozen = std::move(frozen);
    return selection;
  }

  TinyNet model{nullptr};
  torch::Tensor input;
  std::vector<NamedLayer> layers;
  DiscrepancyTable table;
};

TEST(SelectionApply, LayerParameterCountsMatchTheHandCount) {
  Fixture f;
  EXPECT_EQ(f.table[0].parameters, kConvParams);
  EXPECT_EQ(f.table[1].parameters, kConvBnParams);
  EXPECT_EQ(f.table[2].parameters, kFcParams);
}

TEST(SelectionApply, QatTrainsEveryParameterAndScale) {
  Fixture f;
  const int64_t trainable =
      apply_selection(*f.model, f.layers, f.selection_of({false, false, false}), QuantMethod::kQat,
                      BnStatistics::kFrozen, f.table);
  EXPECT_EQ(trainable, kAllTrainable);
  EXPECT_EQ(trainable_parameter_count(*f.model), kAllTrainable);
  for (const LayerDiscrepancy& row : f.table) EXPECT_FALSE(row.frozen) << row.name;
  for (const NamedLayer& named : f.layers) EXPECT_FALSE(named.layer->frozen()) << named.name;
}

TEST(SelectionApply, PtqatFreezesTheSelectedLayersOnly) {
  Fixture f;
  const int64_t trainable = apply_selection(*f.model, f.layers, f.selection_of({true, false, true}),
                                            QuantMethod::kPtqat, BnStatistics::kUpdate, f.table);
  // convbn trains (24 + 5 scales) and the float head (9) is outside every quantizable layer.
  EXPECT_EQ(trainable, kConvBnParams + kConvBnScales + kHeadParams);
  EXPECT_EQ(trainable, 38);
  EXPECT_TRUE(f.table[0].frozen);
  EXPECT_FALSE(f.table[1].frozen);
  EXPECT_TRUE(f.table[2].frozen);
  EXPECT_TRUE(f.model->conv->frozen());
  EXPECT_FALSE(f.model->convbn->frozen());
  EXPECT_TRUE(f.model->fc->frozen());

  // Only the trainable parameters receive gradients.
  f.model->train();
  f.model->forward(f.input).sum().backward();
  EXPECT_FALSE(f.model->conv->conv->weight.grad().defined());
  EXPECT_FALSE(f.model->fc->linear->weight.grad().defined());
  EXPECT_TRUE(f.model->convbn->conv->weight.grad().defined());
  EXPECT_TRUE(f.model->convbn->bn->weight.grad().defined());
  EXPECT_TRUE(f.model->head->weight.grad().defined());
}

TEST(SelectionApply, PtqFreezesEveryParameterOfTheModel) {
  Fixture f;
  // Whatever the selection says, PTQ trains nothing, not even the float head.
  const int64_t trainable =
      apply_selection(*f.model, f.layers, f.selection_of({false, true, false}), QuantMethod::kPtq,
                      BnStatistics::kFrozen, f.table);
  EXPECT_EQ(trainable, 0);
  for (const auto& parameter : f.model->named_parameters()) {
    EXPECT_FALSE(parameter.value().requires_grad()) << parameter.key();
  }
  for (const LayerDiscrepancy& row : f.table) EXPECT_TRUE(row.frozen) << row.name;
  for (const NamedLayer& named : f.layers) EXPECT_TRUE(named.layer->frozen()) << named.name;
}

TEST(SelectionApply, FixedScalesAreNotCounted) {
  QuantConfig config;
  config.weight.learnable_scale = false;
  config.activation.learnable_scale = false;
  Fixture f(config);
  const int64_t trainable =
      apply_selection(*f.model, f.layers, f.selection_of({false, false, false}), QuantMethod::kQat,
                      BnStatistics::kFrozen, f.table);
  EXPECT_EQ(trainable, kConvParams + kConvBnParams + kFcParams + kHeadParams);
}

TEST(SelectionApply, ReapplyingUnfreezesPreviouslyFrozenLayers) {
  Fixture f;
  apply_selection(*f.model, f.layers, f.selection_of({true, true, true}), QuantMethod::kPtqat,
                  BnStatistics::kFrozen, f.table);
  EXPECT_EQ(trainable_parameter_count(*f.model), kHeadParams);
  const int64_t trainable =
      apply_selection(*f.model, f.layers, f.selection_of({false, false, false}), QuantMethod::kQat,
                      BnStatistics::kFrozen, f.table);
  EXPECT_EQ(trainable, kAllTrainable);
  EXPECT_FALSE(f.model->conv->frozen());
  EXPECT_FALSE(f.table[0].frozen);
}

struct SharedLinearImpl : nn::Module {
  SharedLinearImpl() {
    a = register_module("a", nn::Linear(2, 3));
    register_module("b", a);  // the same module under a second name
  }
  nn::Linear a{nullptr};
};
TORCH_MODULE(SharedLinear);

TEST(SelectionApply, SharedParametersAreCountedOnce) {
  SharedLinear model;
  ASSERT_EQ(model->parameters().size(), 4u);  // a.weight, a.bias, b.weight, b.bias
  EXPECT_EQ(trainable_parameter_count(*model), 9);
  model->a->bias.set_requires_grad(false);
  EXPECT_EQ(trainable_parameter_count(*model), 6);
}

}  // namespace
}  // namespace ptqat::quant
