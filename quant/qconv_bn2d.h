#pragma once
// QConvBn2d: a quantizable Conv2d that owns the BatchNorm2d after it, so that quantization sees
// the BN-folded weight (as deployment does) and a frozen layer runs one folded convolution.

#include <torch/torch.h>

#include "quant/quantizable_layer.h"

namespace ptqat::quant {

/// bn(conv(x)). Float mode: exactly torch::nn::BatchNorm2d after torch::nn::Conv2d (training
/// mode uses batch statistics and updates the running ones). Quantize mode: one convolution
/// with q(w * gamma / sqrt(running_var + eps)) and bias beta + (b - running_mean) * gamma /
/// sqrt(running_var + eps), differentiable in w, b, gamma, beta. With BnStatistics::kUpdate and
/// the module in training mode, the running statistics are first updated (no gradient) from the
/// unfolded convolution of the quantized input. Parameters under `conv` and `bn`.
class QConvBn2dImpl : public QuantizableLayer {
 public:
  QConvBn2dImpl(const torch::nn::Conv2dOptions& conv_options,
                const torch::nn::BatchNorm2dOptions& bn_options);

  torch::Tensor forward(const torch::Tensor& x) { return run(x); }
  LayerKind kind() const override { return LayerKind::kConvBn2d; }
  torch::Tensor folded_weight() override;
  torch::Tensor folded_bias() override;
  void set_bn_statistics(BnStatistics policy) override { bn_statistics_ = policy; }

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 protected:
  torch::Tensor float_forward(const torch::Tensor& x) override;
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias) override;
  torch::Tensor apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias) override;
  torch::Tensor quantized_forward(const torch::Tensor& x) override;
  std::vector<torch::Tensor> layer_parameters() override;

 private:
  BnStatistics bn_statistics_ = BnStatistics::kFrozen;
};
TORCH_MODULE(QConvBn2d);

}  // namespace ptqat::quant
