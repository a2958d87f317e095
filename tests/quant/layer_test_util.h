#pragma once
// Shared steps of the quantizable-layer tests: calibrating one layer, the reference fake
// quantization of a quantizer's tensor, and snapshots of a module's tensors.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "core/collective.h"
#include "quant/fake_quant.h"
#include "quant/quant_config.h"
#include "quant/quantizable_layer.h"

namespace ptqat::quant::test {

/// Configures `layer` (a module holder) with the default specs, weights at `weight_bits`, min-max
/// observers; calibrates it on `x` and leaves it in quantize mode.
template <class Holder>
void calibrate_layer(Holder& layer, const torch::Tensor& x, int64_t weight_bits = 4) {
  QuantConfig config;
  config.weight.bits = weight_bits;
  layer->configure_quantizers(config.weight, ObserverKind::kMinMax, config.activation,
                              ObserverKind::kMinMax, config.observer);
  layer->set_mode(LayerMode::kCalibrate);
  {
    torch::NoGradGuard no_grad;
    layer->forward(x);
  }
  core::SingleProcessCollective group;
  layer->finish_calibration(group);
  layer->set_mode(LayerMode::kQuantize);
}

/// A LibTorch layer `Plain` built from `options` holding `weight` and `bias` (when it has one):
/// what a quantizable layer in float mode must equal.
template <class Plain, class Options>
Plain plain_copy(const torch::Tensor& weight, const torch::Tensor& bias, const Options& options) {
  Plain plain(options);
  torch::NoGradGuard no_grad;
  plain->weight.copy_(weight);
  if (plain->bias.defined()) plain->bias.copy_(bias);
  return plain;
}

/// Checks that `layer` (a module holder, weight `layer_weight`) and `plain` give the same output
/// on `x` and the same weight gradient, then clears both gradients.
template <class Holder, class Plain>
void expect_same_forward_and_weight_grad(Holder& layer, Plain& plain,
                                         const torch::Tensor& layer_weight,
                                         const torch::Tensor& x) {
  const torch::Tensor y = layer->forward(x);
  const torch::Tensor expected = plain->forward(x);
  EXPECT_TRUE(torch::equal(y, expected));
  y.sum().backward();
  expected.sum().backward();
  EXPECT_TRUE(torch::equal(layer_weight.grad(), plain->weight.grad()));
  layer->zero_grad();
  plain->zero_grad();
}

/// fake_quantize() called directly with the quantizer's current scale, zero point and spec,
/// the scale as a constant: the reference for what a layer computes.
inline torch::Tensor reference_fake_quantize(Quantizer& quantizer, const torch::Tensor& x) {
  QuantSpec spec = quantizer->spec();
  spec.learnable_scale = false;
  return fake_quantize(x, quantizer->scale().detach(),
                       spec.symmetric ? torch::Tensor() : quantizer->zero_point(), spec);
}

/// Every parameter and buffer of `module`, cloned, by dotted name.
inline std::map<std::string, torch::Tensor> snapshot(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : module.named_parameters()) {
    tensors[item.key()] = item.value().detach().clone();
  }
  for (const auto& item : module.named_buffers()) tensors[item.key()] = item.value().clone();
  return tensors;
}

/// Checks that freezing `layer` (calibrated, in quantize mode) changes neither its output on `x`
/// nor the input gradient, which before freezing is the straight-through gradient of the
/// fake-quantized layer with fixed scales. `x` should reach past the input quantizer's range, so
/// that the straight-through mask is not all ones.
template <class Holder>
void expect_frozen_matches_straight_through(Holder& layer, const torch::Tensor& x) {
  layer->weight_quantizer()->set_trainable(false);
  layer->input_quantizer()->set_trainable(false);
  ASSERT_FALSE(layer->frozen());
  torch::Tensor x_trainable = x.clone().requires_grad_(true);
  const torch::Tensor y_trainable = layer->forward(x_trainable);
  const torch::Tensor grad = torch::randn(y_trainable.sizes());
  (y_trainable * grad).sum().backward();

  layer->freeze();
  ASSERT_TRUE(layer->frozen());
  torch::Tensor x_frozen = x.clone().requires_grad_(true);
  const torch::Tensor y_frozen = layer->forward(x_frozen);
  (y_frozen * grad).sum().backward();
  EXPECT_TRUE(torch::equal(y_frozen.detach(), y_trainable.detach()));
  ASSERT_TRUE(x_frozen.grad().defined());
  EXPECT_TRUE(torch::allclose(x_frozen.grad(), x_trainable.grad(), 1e-5, 1e-5))
      << (x_frozen.grad() - x_trainable.grad()).abs().max().item<double>();
  // Straight through: zero where the input was clamped (and only there, barring exact zeros).
  const double scale = layer->input_quantizer()->scale().item().toDouble();
  const torch::Tensor clamped =
      (reference_fake_quantize(layer->input_quantizer(), x) - x).abs() > scale;
  ASSERT_GT(clamped.sum().item<int64_t>(), 0) << "the test input never leaves the grid";
  EXPECT_TRUE(torch::all(x_frozen.grad().masked_select(clamped) == 0).item<bool>());
}

}  // namespace ptqat::quant::test
