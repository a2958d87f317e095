// The Transformer BEV encoder: windowed attention equals textbook multi-head attention on one
// window, windows do not leak into each other, the shift mask separates regions, and its
// projections and matmul operands go through PTQ, freezing and the HDF5 export.

#include "tasks/bev/window_transformer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/collective.h"
#include "quant/calibration.h"
#include "quant/discrepancy.h"
#include "quant/layer_discovery.h"
#include "quant/layer_policy.h"
#include "quant/quantized_export.h"
#include "tests/support/temp_dir.h"

namespace ptqat::tasks::bev {
namespace {

TEST(WindowAttention, OneWindowIsTextbookMultiHeadAttention) {
  torch::manual_seed(0);
  const int64_t dim = 8, heads = 2, window = 3, tokens = window * window;
  WindowAttention attention(dim, heads, window);
  torch::NoGradGuard no_grad;
  attention->named_parameters()["relative_position_bias"].zero_();
  const torch::Tensor x = torch::randn({1, tokens, dim});
  const torch::Tensor qkv = attention->qkv->linear(x).view({tokens, 3, heads, dim / heads});
  std::vector<torch::Tensor> outputs;
  for (int64_t h = 0; h < heads; ++h) {
    const torch::Tensor q = qkv.select(1, 0).select(1, h);
    const torch::Tensor k = qkv.select(1, 1).select(1, h);
    const torch::Tensor v = qkv.select(1, 2).select(1, h);
    const torch::Tensor weights =
        torch::softmax(q.matmul(k.t()) / std::sqrt(static_cast<double>(dim / heads)), -1);
    outputs.push_back(weights.matmul(v));
  }
  const torch::Tensor expected = attention->proj->linear(torch::cat(outputs, 1)).unsqueeze(0);
  EXPECT_TRUE(torch::allclose(attention(x, torch::Tensor()), expected, 1e-5, 1e-6));
}

TEST(TransformerBlock, WindowsWithoutShiftDoNotSeeEachOther) {
  torch::manual_seed(1);
  TransformerBlock block(8, 2, 2, 16, /*shift=*/false, 4, 4);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = torch::randn({1, 4, 4, 8});
  torch::Tensor changed = x.clone();
  changed.index_put_({0, torch::indexing::Slice(0, 2), torch::indexing::Slice(0, 2)},
                     torch::randn({2, 2, 8}));  // the top-left window only
  const torch::Tensor a = block(x), b = block(changed);
  using torch::indexing::Slice;
  EXPECT_TRUE(a.index({0, Slice(2, 4)}).equal(b.index({0, Slice(2, 4)})));
  EXPECT_TRUE(a.index({0, Slice(0, 2), Slice(2, 4)}).equal(b.index({0, Slice(0, 2), Slice(2, 4)})));
  EXPECT_FALSE(
      a.index({0, Slice(0, 2), Slice(0, 2)}).equal(b.index({0, Slice(0, 2), Slice(0, 2)})));
}

TEST(TransformerBlock, ShiftedWindowsMaskTokensFromDifferentRegions) {
  TransformerBlock block(8, 2, 2, 16, /*shift=*/true, 4, 4);
  const torch::Tensor mask = block->named_buffers()["attention_mask"];
  ASSERT_EQ(mask.sizes().vec(), (std::vector<int64_t>{4, 4, 4}));
  // After a cyclic shift by 1 on a 4 x 4 grid of 2 x 2 windows, the first window holds tokens of
  // one region; the last holds four regions (each of its tokens wrapped differently).
  EXPECT_EQ(mask[0].abs().sum().item<double>(), 0.0);
  const torch::Tensor last = mask[3];
  EXPECT_EQ((last == 0).sum().item<int64_t>(), 4);  // each token sees only itself
  EXPECT_EQ((last == -100).sum().item<int64_t>(), 12);
}

/// The encoder on a 16 x 16 pseudo-image: patches of 2, windows of 4, one shifted block.
struct Encoder {
  Encoder() {
    WindowTransformerConfig config;
    config.patch_size = 2;
    config.embed_dim = 8;
    config.depth = 2;
    config.heads = 2;
    config.window = 4;
    torch::manual_seed(2);
    net = WindowTransformer(3, config, 16, 16);
    layers = quant::in_forward_order(quant::find_quantizable_layers(*net), [&] { net(input); });
    quant.weight.bits = 4;
    quant::configure_layers(layers, quant);
  }
  quant::QLinear qkv(int block) {
    return std::dynamic_pointer_cast<quant::QLinearImpl>(
        net->named_modules()["blocks." + std::to_string(block) + ".attention.qkv"]);
  }

  /// The isolated NMSE of every layer, by name.
  std::map<std::string, double> discrepancy() {
    std::map<std::string, double> by_name;
    const auto forward = [&](int64_t) { net(input); };
    for (const auto& row : quant::measure_discrepancy(*net, layers, 1, forward, quant, group)) {
      by_name[row.name] = row.discrepancy;
    }
    return by_name;
  }

  quant::QuantConfig quant;
  WindowTransformer net{nullptr};
  torch::Tensor input = torch::randn({2, 3, 16, 16});
  std::vector<quant::NamedLayer> layers;
  core::SingleProcessCollective group;
};

TEST(WindowTransformer, ProjectionsAreLayersAndMatmulOperandsAreQuantized) {
  Encoder e;
  // patch_embed, then per block qkv, proj, fc1, fc2.
  ASSERT_EQ(e.layers.size(), 9u);
  EXPECT_EQ(e.layers[0].name, "patch_embed");
  EXPECT_EQ(e.layers[1].name, "blocks.0.attention.qkv");
  EXPECT_EQ(e.qkv(0)->attached_names(),
            (std::vector<std::string>{"query", "key", "attention", "value"}));
  torch::NoGradGuard no_grad;
  quant::set_mode(e.layers, quant::LayerMode::kFloat);
  const torch::Tensor float_out = e.net(e.input);
  EXPECT_EQ(float_out.sizes().vec(), (std::vector<int64_t>{2, 8, 8, 8}));
  quant::calibrate(
      *e.net, e.layers, 1, [&](int64_t) { e.net(e.input); }, e.group);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(e.qkv(1)->attached_quantizer(i)->calibrated());
  const torch::Tensor quantized = e.net(e.input);
  EXPECT_FALSE(quantized.equal(float_out));
  // Float weights with only the attention operands quantized still differ from float.
  for (const quant::NamedLayer& layer : e.layers) {
    layer.layer->set_keep_float(layer.layer.get() != e.qkv(0).get());
  }
  EXPECT_FALSE(e.net(e.input).equal(float_out));
}

TEST(WindowTransformer, ABadlyScaledQueryKeyQuantizerShowsUpInItsLayersDiscrepancy) {
  Encoder e;
  quant::calibrate(
      *e.net, e.layers, 1, [&](int64_t) { e.net(e.input); }, e.group);
  const std::map<std::string, double> calibrated = e.discrepancy();
  {
    // The key operand of q.k^T with a scale 20 times too small: most keys clip.
    torch::NoGradGuard no_grad;
    e.qkv(0)->attached_quantizer(1)->scale().mul_(0.05);
  }
  const std::map<std::string, double> spoiled = e.discrepancy();
  const std::string qkv = "blocks.0.attention.qkv";
  EXPECT_GT(spoiled.at(qkv), 5 * calibrated.at(qkv));
  for (const auto& [name, value] : spoiled) {
    // In the isolated mode every other layer sees float inputs: nothing else changes.
    if (name != qkv) {
      EXPECT_EQ(value, calibrated.at(name)) << name;
    }
    EXPECT_LE(value, spoiled.at(qkv)) << name;
  }
}

TEST(WindowTransformer, FrozenAttachedScalesStayFixedAndExportRoundTrips) {
  Encoder e;
  quant::calibrate(
      *e.net, e.layers, 1, [&](int64_t) { e.net(e.input); }, e.group);
  for (const quant::NamedLayer& layer : e.layers) layer.layer->unfreeze();
  EXPECT_TRUE(e.qkv(0)->attached_quantizer(0)->scale().requires_grad());
  for (const quant::NamedLayer& layer : e.layers) layer.layer->freeze();
  EXPECT_FALSE(e.qkv(0)->attached_quantizer(0)->scale().requires_grad());
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = e.net(e.input);
  }
  ptqat::testing::TempDir dir;
  quant::export_quantized(e.layers, dir.file("model.h5"));
  Encoder fresh;  // same seed: same float weights, uncalibrated
  quant::import_quantized(fresh.layers, dir.file("model.h5"));
  for (const quant::NamedLayer& layer : fresh.layers)
    layer.layer->set_mode(quant::LayerMode::kQuantize);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(fresh.net(e.input), expected, 1e-6, 1e-6));
  EXPECT_TRUE(
      fresh.qkv(1)->attached_quantizer(3)->scale().equal(e.qkv(1)->attached_quantizer(3)->scale()));
}

}  // namespace
}  // namespace ptqat::tasks::bev
