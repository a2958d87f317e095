#pragma once
// A Transformer BEV encoder built from quantizable layers: a patch embedding (QConv2d), then
// Swin-style blocks (Liu et al. 2021) of windowed multi-head self-attention with a relative
// position bias and an MLP, every projection a QLinear. LibTorch's MultiheadAttention runs its
// projections and matmuls inside one op, where neither weights nor matmul inputs can be
// fake-quantized; here the matmul operands go through quantizers attached to the `qkv` layer.

#include <torch/torch.h>

#include <cstdint>

#include "quant/qconv2d.h"
#include "quant/qlinear.h"
#include "tasks/bev/bev_net_config.h"

namespace ptqat::tasks::bev {

/// Multi-head self-attention inside windows of tokens. Modules: `qkv` (QLinear dim -> 3 dim,
/// with attached quantizers `query`, `key`, `attention`, `value` for the matmul operands),
/// `proj` (QLinear dim -> dim); parameter `relative_position_bias` [heads, (2 window - 1)^2].
class WindowAttentionImpl : public torch::nn::Module {
 public:
  WindowAttentionImpl(int64_t dim, int64_t heads, int64_t window);
  /// `x` [windows, window^2, dim]; `mask` [windows per sample, window^2, window^2] added to the
  /// attention logits (0 or a large negative), or undefined.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);

  quant::QLinear qkv{nullptr}, proj{nullptr};

 private:
  int64_t heads_;
  int64_t window_;
  double scale_;
  size_t query_, key_, attention_, value_;  ///< attached quantizers of qkv
  torch::Tensor relative_position_bias_;
  torch::Tensor relative_position_index_;  ///< [window^2, window^2] int64 into the bias table
};
TORCH_MODULE(WindowAttention);

/// Pre-norm block: x + attention(norm1(x)) in (optionally shifted) windows, then
/// x + fc2(gelu(fc1(norm2(x)))). Modules `norm1`, `attention`, `norm2`, `fc1`, `fc2`.
class TransformerBlockImpl : public torch::nn::Module {
 public:
  /// `tokens_y` x `tokens_x`: the token grid, divisible by `window`; `shift`: cyclic shift by
  /// window / 2 with Swin's attention mask between regions that are not neighbours.
  TransformerBlockImpl(int64_t dim, int64_t heads, int64_t window, int64_t hidden, bool shift,
                       int64_t tokens_y, int64_t tokens_x);
  /// `x` [B, tokens_y, tokens_x, dim] -> same shape.
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  WindowAttention attention{nullptr};
  quant::QLinear fc1{nullptr}, fc2{nullptr};

 private:
  int64_t window_;
  int64_t shift_;
  torch::Tensor mask_;  ///< undefined without shift
};
TORCH_MODULE(TransformerBlock);

/// The encoder: `patch_embed` (QConv2d, kernel = stride = patch_size), `blocks.{i}`, and a final
/// LayerNorm `norm`. [B, in_channels, H, W] -> [B, embed_dim, H / patch, W / patch].
class WindowTransformerImpl : public torch::nn::Module {
 public:
  WindowTransformerImpl(int64_t in_channels, const WindowTransformerConfig& config,
                        int64_t grid_y, int64_t grid_x);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  quant::QConv2d patch_embed_{nullptr};
  std::vector<TransformerBlock> blocks_;
  torch::nn::LayerNorm norm_{nullptr};
};
TORCH_MODULE(WindowTransformer);

}  // namespace ptqat::tasks::bev
