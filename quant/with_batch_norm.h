#pragma once
// A quantizable layer that owns the BatchNorm after it: QConvBn2d, QLinearBn1d and
// QConvTransposeBn2d. Owning it is what makes the method mean what it says:
// - quantization sees the BN-folded weight, as a deployment runtime (TensorRT) folds it;
// - the discrepancy compares the output that flows on, after the BatchNorm;
// - a frozen layer fixes the BatchNorm with its weight (one folded operation, no statistics
//   updated, no affine parameter trained), so that it stays at its PTQ state.

#include <torch/torch.h>

#include <vector>

#include "core/error.h"
#include "quant/qconv2d.h"
#include "quant/qconv_transpose2d.h"
#include "quant/qlinear.h"
#include "quant/quantizable_layer.h"
#include "quant/sync_batch_norm.h"

namespace ptqat::quant {

/// bn(layer(x)), `Layer` one of QConv2dImpl, QLinearImpl, QConvTranspose2dImpl and `BatchNorm`
/// the torch::nn::BatchNorm holder over its output channels. Float mode: exactly the BatchNorm
/// after the plain layer (training mode uses batch statistics and updates the running ones).
/// Quantize mode: one operation with q(w * f) and bias beta + (b - running_mean) * f, where
/// f = gamma / sqrt(running_var + eps) per output channel (torch.nn.utils.fusion's folding),
/// differentiable in w, b, gamma, beta. With BnStatistics::kUpdate and the module training, the
/// running statistics are first updated (no gradient) from the unfolded layer on the quantized
/// input. Parameters under the layer's own names and `bn`.
template <class Layer, class BatchNorm, LayerKind Kind>
class WithBatchNorm : public Layer {
 public:
  /// ConfigError when the BatchNorm does not track running statistics (the fold uses them) or
  /// its features are not the layer's output channels (a grouped transposed convolution has no
  /// per-output-channel weight axis to fold into).
  template <class LayerOptions, class BatchNormOptions>
  WithBatchNorm(const LayerOptions& layer_options, const BatchNormOptions& bn_options)
      : Layer(layer_options) {
    const int64_t channels = Layer::folded_weight().size(this->weight_axis());
    PTQAT_CHECK(bn_options.num_features() == channels, ConfigError,
                "{}: batch norm num_features: expected the layer's {} output channels along its "
                "weight's axis {}, got {}",
                layer_kind_name(Kind), channels, this->weight_axis(), bn_options.num_features());
    PTQAT_CHECK(bn_options.track_running_stats(), ConfigError,
                "{}: batch norm track_running_stats: expected true (the folded weight uses the "
                "running statistics), got false",
                layer_kind_name(Kind));
    bn = this->register_module("bn", BatchNorm(bn_options));
  }

  torch::Tensor forward(const torch::Tensor& x) { return this->run(x); }
  LayerKind kind() const override { return Kind; }

  torch::Tensor folded_weight() override {
    std::vector<int64_t> shape(static_cast<size_t>(Layer::folded_weight().dim()), 1);
    shape[static_cast<size_t>(this->weight_axis())] = -1;
    return Layer::folded_weight() * bn_factor().reshape(shape);
  }

  torch::Tensor folded_bias() override {
    // beta + (b - running_mean) * f; b = 0 without a bias of the layer.
    const torch::Tensor own = Layer::folded_bias();
    const torch::Tensor shifted = own.defined() ? own - bn->running_mean : -bn->running_mean;
    const torch::Tensor bias = shifted * bn_factor();
    return bn->bias.defined() ? bn->bias + bias : bias;
  }

  void set_bn_statistics(BnStatistics policy) override { bn_statistics_ = policy; }

  BatchNorm bn{nullptr};

 protected:
  torch::Tensor float_forward(const torch::Tensor& x) override {
    return batch_norm(bn, Layer::float_forward(x));
  }

  torch::Tensor quantized_forward(const torch::Tensor& x) override {
    const torch::Tensor input = this->input_quantizer()->forward(x);
    if (bn_statistics_ == BnStatistics::kUpdate && this->is_training()) {
      // The statistics the BatchNorm would see after the quantized input: the unfolded float
      // layer. The BatchNorm's own training-mode forward updates them, so the momentum (or the
      // cumulative average without one), num_batches_tracked and the unbiased running variance
      // are exactly BatchNorm's; its normalized output is not needed.
      torch::NoGradGuard no_grad;
      batch_norm(bn, this->apply(input.detach(), Layer::folded_weight(), Layer::folded_bias()));
    }
    return this->apply(input, this->weight_quantizer()->forward(folded_weight()), folded_bias());
  }

  std::vector<torch::Tensor> layer_parameters() override {
    std::vector<torch::Tensor> parameters = Layer::layer_parameters();
    if (bn->weight.defined()) parameters.push_back(bn->weight);
    if (bn->bias.defined()) parameters.push_back(bn->bias);
    return parameters;
  }

 private:
  /// f = gamma / sqrt(running_var + eps) per output channel (1 / sqrt(...) without affine).
  torch::Tensor bn_factor() const {
    const torch::Tensor factor = torch::rsqrt(bn->running_var + bn->options.eps());
    return bn->weight.defined() ? bn->weight * factor : factor;
  }

  BnStatistics bn_statistics_ = BnStatistics::kFrozen;
};

// Instantiated once, in with_batch_norm.cpp.
extern template class WithBatchNorm<QConv2dImpl, torch::nn::BatchNorm2d, LayerKind::kConvBn2d>;
extern template class WithBatchNorm<QLinearImpl, torch::nn::BatchNorm1d, LayerKind::kLinearBn1d>;
extern template class WithBatchNorm<QConvTranspose2dImpl, torch::nn::BatchNorm2d,
                                    LayerKind::kConvTransposeBn2d>;

/// Conv2d + BatchNorm2d; parameters `conv.*` and `bn.*`.
using QConvBn2dImpl = WithBatchNorm<QConv2dImpl, torch::nn::BatchNorm2d, LayerKind::kConvBn2d>;
TORCH_MODULE(QConvBn2d);

/// Linear + BatchNorm1d over its features (inputs [N, in_features]); parameters `linear.*` and
/// `bn.*`.
using QLinearBn1dImpl = WithBatchNorm<QLinearImpl, torch::nn::BatchNorm1d, LayerKind::kLinearBn1d>;
TORCH_MODULE(QLinearBn1d);

/// ConvTranspose2d (groups 1) + BatchNorm2d; parameters `conv.*` and `bn.*`.
using QConvTransposeBn2dImpl =
    WithBatchNorm<QConvTranspose2dImpl, torch::nn::BatchNorm2d, LayerKind::kConvTransposeBn2d>;
TORCH_MODULE(QConvTransposeBn2d);

}  // namespace ptqat::quant
