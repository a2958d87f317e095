#include "quant/layer_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ptqat::quant {
namespace {

QuantConfig config_at(int64_t weight_bits, int64_t input_bits, EdgeLayerPolicy first_last,
                      std::vector<std::string> overrides = {}) {
  QuantConfig config;
  config.weight.bits = weight_bits;
  config.activation.bits = input_bits;
  config.first_last = first_last;
  config.overrides = std::move(overrides);
  return config;
}

void expect_precision(const LayerPrecision& p, bool keep_float, int64_t weight_bits,
                      int64_t input_bits) {
  EXPECT_EQ(p.keep_float, keep_float);
  EXPECT_EQ(p.weight_bits, weight_bits);
  EXPECT_EQ(p.input_bits, input_bits);
}

TEST(LayerPolicy, EveryLayerGetsTheConfiguredBitsWithPolicySame) {
  const QuantConfig config = config_at(4, 6, EdgeLayerPolicy::kSame);
  for (int64_t index : {0, 1, 4}) {
    expect_precision(layer_precision("layer", index, 5, config), false, 4, 6);
  }
}

TEST(LayerPolicy, Int8PolicyRaisesFirstAndLastLayerAtFourBits) {
  const QuantConfig config = config_at(4, 4, EdgeLayerPolicy::kInt8);
  expect_precision(layer_precision("first", 0, 5, config), false, 8, 8);
  expect_precision(layer_precision("middle", 1, 5, config), false, 4, 4);
  expect_precision(layer_precision("middle", 3, 5, config), false, 4, 4);
  expect_precision(layer_precision("last", 4, 5, config), false, 8, 8);
  // A single layer is both first and last.
  expect_precision(layer_precision("only", 0, 1, config), false, 8, 8);
}

TEST(LayerPolicy, Int8PolicyNeverLowersBits) {
  expect_precision(layer_precision("first", 0, 3, config_at(16, 10, EdgeLayerPolicy::kInt8)), false,
                   16, 10);
  // Raised independently: only the side below 8 moves.
  expect_precision(layer_precision("last", 2, 3, config_at(4, 12, EdgeLayerPolicy::kInt8)), false,
                   8, 12);
}

TEST(LayerPolicy, FloatPolicyKeepsFirstAndLastLayerFloat) {
  const QuantConfig config = config_at(4, 4, EdgeLayerPolicy::kFloat);
  EXPECT_TRUE(layer_precision("first", 0, 4, config).keep_float);
  EXPECT_FALSE(layer_precision("second", 1, 4, config).keep_float);
  EXPECT_FALSE(layer_precision("third", 2, 4, config).keep_float);
  EXPECT_TRUE(layer_precision("last", 3, 4, config).keep_float);
}

TEST(LayerPolicy, OverridesApplyInOrderAfterFirstLast) {
  // Later entries win: "backbone.*=float" then "backbone.conv1=6" leaves conv1 quantized at 6.
  const QuantConfig config =
      config_at(4, 4, EdgeLayerPolicy::kInt8, {"backbone.*=float", "backbone.conv1=6"});
  expect_precision(layer_precision("backbone.conv1", 2, 5, config), false, 6, 6);
  EXPECT_TRUE(layer_precision("backbone.conv2", 3, 5, config).keep_float);
  // Reversed order: float wins.
  const QuantConfig reversed =
      config_at(4, 4, EdgeLayerPolicy::kInt8, {"backbone.conv1=6", "backbone.*=float"});
  EXPECT_TRUE(layer_precision("backbone.conv1", 2, 5, reversed).keep_float);
  // An override applies after first_last: it can lower the first layer below 8 bits ...
  expect_precision(
      layer_precision("stem", 0, 5, config_at(4, 4, EdgeLayerPolicy::kInt8, {"stem=3"})), false, 3,
      3);
  // ... and an override with bits clears a float policy.
  expect_precision(
      layer_precision("head.out", 4, 5, config_at(4, 4, EdgeLayerPolicy::kFloat, {"head.*=8"})),
      false, 8, 8);
  // Layers it does not match keep the policy's precision.
  expect_precision(layer_precision("neck", 1, 5, config), false, 4, 4);
}

TEST(LayerPolicy, PatternsAreShellGlobsOnTheWholeDottedName) {
  const QuantConfig config = config_at(8, 8, EdgeLayerPolicy::kSame,
                                       {"backbone.*=4", "*.head.cls?=2", "neck.[02]=6", "det=5"});
  // '*' crosses dots.
  EXPECT_EQ(layer_precision("backbone.blocks.0.conv", 1, 9, config).weight_bits, 4);
  EXPECT_EQ(layer_precision("backbone.x", 1, 9, config).weight_bits, 4);
  EXPECT_EQ(layer_precision("backbone", 1, 9, config).weight_bits, 8);
  EXPECT_EQ(layer_precision("model.head.cls1", 1, 9, config).weight_bits, 2);
  EXPECT_EQ(layer_precision("model.head.cls12", 1, 9, config).weight_bits, 8);
  EXPECT_EQ(layer_precision("neck.0", 1, 9, config).weight_bits, 6);
  EXPECT_EQ(layer_precision("neck.2", 1, 9, config).weight_bits, 6);
  EXPECT_EQ(layer_precision("neck.1", 1, 9, config).weight_bits, 8);
  // No implicit prefix or suffix match.
  EXPECT_EQ(layer_precision("det", 1, 9, config).weight_bits, 5);
  EXPECT_EQ(layer_precision("det.conv", 1, 9, config).weight_bits, 8);
  EXPECT_EQ(layer_precision("head.det", 1, 9, config).weight_bits, 8);
}

TEST(LayerPolicy, MalformedOverrideIsConfigError) {
  const QuantConfig config = config_at(8, 8, EdgeLayerPolicy::kSame, {"backbone.*"});
  EXPECT_THROW(layer_precision("backbone.conv", 0, 1, config), ConfigError);
}

}  // namespace
}  // namespace ptqat::quant
