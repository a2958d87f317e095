#pragma once
// QConvTranspose2d: a quantizable torch::nn::ConvTranspose2d (zero padding only).

#include <torch/torch.h>

#include "quant/quantizable_layer.h"

namespace ptqat::quant {

/// ConvTranspose2d with a per-channel weight quantizer on axis 1 (the weight is
/// [in, out / groups, kh, kw]) and a per-tensor input quantizer. Parameters under `conv`.
class QConvTranspose2dImpl : public QuantizableLayer {
 public:
  explicit QConvTranspose2dImpl(const torch::nn::ConvTranspose2dOptions& options);

  torch::Tensor forward(const torch::Tensor& x) { return run(x); }
  LayerKind kind() const override { return LayerKind::kConvTranspose2d; }
  torch::Tensor folded_weight() override;
  torch::Tensor folded_bias() override;
  int64_t weight_axis() const override { return 1; }

  torch::nn::ConvTranspose2d conv{nullptr};

 protected:
  torch::Tensor float_forward(const torch::Tensor& x) override;
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias) override;
  torch::Tensor apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias) override;
  std::vector<torch::Tensor> layer_parameters() override;
};
TORCH_MODULE(QConvTranspose2d);

}  // namespace ptqat::quant
