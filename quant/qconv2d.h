#pragma once
// QConv2d: a quantizable torch::nn::Conv2d (zero padding only).

#include <torch/torch.h>

#include "quant/quantizable_layer.h"

namespace ptqat::quant {

/// Conv2d with a per-channel weight quantizer (axis 0) and a per-tensor input quantizer.
/// Parameters: `conv.weight`, `conv.bias` (as torch::nn::Conv2d's, under `conv`).
class QConv2dImpl : public QuantizableLayer {
 public:
  /// Throws ConfigError for a padding mode other than zeros.
  explicit QConv2dImpl(const torch::nn::Conv2dOptions& options);

  torch::Tensor forward(const torch::Tensor& x) { return run(x); }
  LayerKind kind() const override { return LayerKind::kConv2d; }
  torch::Tensor folded_weight() override;
  torch::Tensor folded_bias() override;

  torch::nn::Conv2d conv{nullptr};

 protected:
  torch::Tensor float_forward(const torch::Tensor& x) override;
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias) override;
  torch::Tensor apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias) override;
  std::vector<torch::Tensor> layer_parameters() override;
};
TORCH_MODULE(QConv2d);

}  // namespace ptqat::quant
