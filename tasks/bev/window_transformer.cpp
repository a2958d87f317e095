#include "tasks/bev/window_transformer.h"

#include <cmath>

#include "core/error.h"

namespace ptqat::tasks::bev {

namespace nn = torch::nn;
using torch::indexing::Slice;

namespace {

/// Swin's logit added between tokens of different regions of a shifted window.
constexpr double kMaskedLogit = -100.0;

/// [B, H, W, C] -> [B * windows, window^2, C], windows in row-major order.
torch::Tensor partition(const torch::Tensor& x, int64_t window) {
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  return x.view({b, h / window, window, w / window, window, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({-1, window * window, c});
}

/// The inverse of partition().
torch::Tensor merge(const torch::Tensor& windows, int64_t window, int64_t b, int64_t h,
                    int64_t w) {
  const int64_t c = windows.size(2);
  return windows.view({b, h / window, w / window, window, window, c})
      .permute({0, 1, 3, 2, 4, 5})
      .reshape({b, h, w, c});
}

/// Swin's mask of a grid shifted by `shift`: tokens that were not neighbours before the cyclic
/// shift (three regions per axis) must not attend to each other.
torch::Tensor shifted_window_mask(int64_t h, int64_t w, int64_t window, int64_t shift) {
  torch::Tensor regions = torch::zeros({1, h, w, 1});
  const int64_t bounds[3][2] = {{0, -window}, {-window, -shift}, {-shift, 0}};
  const auto slice = [](int64_t begin, int64_t end, int64_t size) {
    return Slice(begin < 0 ? size + begin : begin, end <= 0 ? size + end : end);
  };
  int64_t label = 0;
  for (const auto& ys : bounds) {
    for (const auto& xs : bounds) {
      regions.index_put_({0, slice(ys[0], ys[1], h), slice(xs[0], xs[1], w), 0}, label++);
    }
  }
  const torch::Tensor ids = partition(regions, window).squeeze(2);  // [windows, window^2]
  const torch::Tensor differ = ids.unsqueeze(1) != ids.unsqueeze(2);
  return torch::zeros(differ.sizes()).masked_fill(differ, kMaskedLogit);
}

}  // namespace

WindowAttentionImpl::WindowAttentionImpl(int64_t dim, int64_t heads, int64_t window)
    : heads_(heads), window_(window), scale_(1.0 / std::sqrt(static_cast<double>(dim / heads))) {
  qkv = register_module("qkv", quant::QLinear(nn::LinearOptions(dim, 3 * dim)));
  proj = register_module("proj", quant::QLinear(nn::LinearOptions(dim, dim)));
  query_ = qkv->attach_activation_quantizer("query");
  key_ = qkv->attach_activation_quantizer("key");
  attention_ = qkv->attach_activation_quantizer("attention");
  value_ = qkv->attach_activation_quantizer("value");
  const int64_t span = 2 * window - 1;
  relative_position_bias_ = register_parameter(
      "relative_position_bias",
      // Swin's trunc_normal_(std 0.02) (LibTorch 1.13 has no trunc_normal_): clamped at 2 std.
      (torch::randn({heads, span * span}) * 0.02).clamp_(-0.04, 0.04));
  // Index of (token i, token j) into the table: their offset (dy, dx), each shifted into
  // [0, 2 window - 1).
  const torch::Tensor coords = torch::stack(
      torch::meshgrid({torch::arange(window), torch::arange(window)}, "ij"));  // [2, w, w]
  const torch::Tensor flat = coords.flatten(1);                                // [2, w^2]
  const torch::Tensor offset = flat.unsqueeze(2) - flat.unsqueeze(1) + (window - 1);
  relative_position_index_ =
      register_buffer("relative_position_index", offset[0] * span + offset[1]);
}

torch::Tensor WindowAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int64_t windows = x.size(0), tokens = x.size(1), dim = x.size(2);
  const torch::Tensor projected =
      qkv(x).view({windows, tokens, 3, heads_, dim / heads_}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = qkv->quantize_attached(query_, projected[0] * scale_);
  const torch::Tensor k = qkv->quantize_attached(key_, projected[1]);
  const torch::Tensor v = qkv->quantize_attached(value_, projected[2]);
  torch::Tensor logits = torch::matmul(q, k.transpose(-2, -1));  // [windows, heads, t, t]
  logits = logits + relative_position_bias_.index({Slice(), relative_position_index_})
                        .unsqueeze(0);
  if (mask.defined()) {
    const int64_t per_sample = mask.size(0);
    logits = (logits.view({windows / per_sample, per_sample, heads_, tokens, tokens}) +
              mask.unsqueeze(1).unsqueeze(0))
                 .view({windows, heads_, tokens, tokens});
  }
  const torch::Tensor attention = qkv->quantize_attached(attention_, torch::softmax(logits, -1));
  const torch::Tensor out =
      torch::matmul(attention, v).transpose(1, 2).reshape({windows, tokens, dim});
  return proj(out);
}

TransformerBlockImpl::TransformerBlockImpl(int64_t dim, int64_t heads, int64_t window,
                                           int64_t hidden, bool shift, int64_t tokens_y,
                                           int64_t tokens_x)
    : window_(window), shift_(shift && window > 1 ? window / 2 : 0) {
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({dim})));
  attention = register_module("attention", WindowAttention(dim, heads, window));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({dim})));
  fc1 = register_module("fc1", quant::QLinear(nn::LinearOptions(dim, hidden)));
  fc2 = register_module("fc2", quant::QLinear(nn::LinearOptions(hidden, dim)));
  if (shift_ > 0) {
    mask_ = register_buffer("attention_mask",
                            shifted_window_mask(tokens_y, tokens_x, window, shift_));
  }
}

torch::Tensor TransformerBlockImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), h = x.size(1), w = x.size(2);
  torch::Tensor y = norm1(x);
  if (shift_ > 0) y = torch::roll(y, {-shift_, -shift_}, {1, 2});
  y = merge(attention(partition(y, window_), mask_), window_, b, h, w);
  if (shift_ > 0) y = torch::roll(y, {shift_, shift_}, {1, 2});
  const torch::Tensor mid = x + y;
  return mid + fc2(torch::gelu(fc1(norm2(mid))));
}

WindowTransformerImpl::WindowTransformerImpl(int64_t in_channels,
                                             const WindowTransformerConfig& config, int64_t grid_y,
                                             int64_t grid_x) {
  const int64_t p = config.patch_size;
  PTQAT_ASSERT(grid_y % p == 0 && grid_x % p == 0, "grid {} x {} not divisible by patch {}",
               grid_y, grid_x, p);
  patch_embed_ = register_module(
      "patch_embed",
      quant::QConv2d(nn::Conv2dOptions(in_channels, config.embed_dim, p).stride(p)));
  const auto hidden = static_cast<int64_t>(
      std::llround(config.mlp_ratio * static_cast<double>(config.embed_dim)));
  auto blocks = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < config.depth; ++i) {
    blocks_.push_back(TransformerBlock(config.embed_dim, config.heads, config.window,
                                       std::max<int64_t>(hidden, 1), config.shift && i % 2 == 1,
                                       grid_y / p, grid_x / p));
    blocks->push_back(blocks_.back());
  }
  norm_ = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({config.embed_dim})));
}

torch::Tensor WindowTransformerImpl::forward(const torch::Tensor& x) {
  torch::Tensor tokens = patch_embed_(x).permute({0, 2, 3, 1});  // [B, h, w, dim]
  for (TransformerBlock& block : blocks_) tokens = block(tokens);
  return norm_(tokens).permute({0, 3, 1, 2}).contiguous();
}

}  // namespace ptqat::tasks::bev
