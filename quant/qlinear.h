#pragma once
// QLinear: a quantizable torch::nn::Linear (inputs of any rank >= 1, as Linear).

#include <torch/torch.h>

#include "quant/quantizable_layer.h"

namespace ptqat::quant {

/// Linear with a per-channel weight quantizer (axis 0, one scale per output feature) and a
/// per-tensor input quantizer. Parameters under `linear`.
class QLinearImpl : public QuantizableLayer {
 public:
  explicit QLinearImpl(const torch::nn::LinearOptions& options);

  torch::Tensor forward(const torch::Tensor& x) { return run(x); }
  LayerKind kind() const override { return LayerKind::kLinear; }
  torch::Tensor folded_weight() override;
  torch::Tensor folded_bias() override;

  torch::nn::Linear linear{nullptr};

 protected:
  torch::Tensor float_forward(const torch::Tensor& x) override;
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& weight,
                      const torch::Tensor& bias) override;
  torch::Tensor apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& bias) override;
  std::vector<torch::Tensor> layer_parameters() override;
};
TORCH_MODULE(QLinear);

}  // namespace ptqat::quant
