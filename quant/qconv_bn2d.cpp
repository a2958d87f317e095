#include "quant/qconv_bn2d.h"

#include "core/error.h"
#include "quant/frozen_ops.h"
#include "quant/sync_batch_norm.h"

namespace ptqat::quant {

namespace {

/// gamma / sqrt(running_var + eps) per output channel (1 / sqrt(...) without affine), the factor
/// of torch.nn.utils.fusion.fuse_conv_bn_weights.
torch::Tensor bn_factor(const torch::nn::BatchNorm2d& bn) {
  torch::Tensor factor = torch::rsqrt(bn->running_var + bn->options.eps());
  return bn->weight.defined() ? bn->weight * factor : factor;
}

}  // namespace

QConvBn2dImpl::QConvBn2dImpl(const torch::nn::Conv2dOptions& conv_options,
                             const torch::nn::BatchNorm2dOptions& bn_options)
    : QuantizableLayer(conv_options.out_channels()) {
  PTQAT_CHECK(bn_options.num_features() == conv_options.out_channels(), ConfigError,
              "conv_bn2d: batch norm num_features: expected the convolution's {} output "
              "channels, got {}",
              conv_options.out_channels(), bn_options.num_features());
  PTQAT_CHECK(bn_options.track_running_stats(), ConfigError,
              "conv_bn2d: batch norm track_running_stats: expected true (the folded weight uses "
              "the running statistics), got false");
  conv = register_module("conv", torch::nn::Conv2d(conv_options));
  conv_geometry(conv->options);  // rejects what the quantized paths cannot run
  bn = register_module("bn", torch::nn::BatchNorm2d(bn_options));
}

torch::Tensor QConvBn2dImpl::folded_weight() {
  return conv->weight * bn_factor(bn).reshape({-1, 1, 1, 1});
}

torch::Tensor QConvBn2dImpl::folded_bias() {
  // beta + (b - running_mean) * gamma / sqrt(running_var + eps); b = 0 without a conv bias.
  torch::Tensor shifted = conv->bias.defined() ? conv->bias - bn->running_mean : -bn->running_mean;
  torch::Tensor bias = shifted * bn_factor(bn);
  return bn->bias.defined() ? bn->bias + bias : bias;
}

torch::Tensor QConvBn2dImpl::float_forward(const torch::Tensor& x) {
  return quant::batch_norm(bn, conv->forward(x));
}

torch::Tensor QConvBn2dImpl::apply(const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias) {
  const ConvGeometry g = conv_geometry(conv->options);
  return torch::conv2d(x, weight, bias, g.stride, g.padding, g.dilation, g.groups);
}

torch::Tensor QConvBn2dImpl::apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                                          const torch::Tensor& bias) {
  return frozen_convolution(x, weight, bias, conv_geometry(conv->options));
}

torch::Tensor QConvBn2dImpl::quantized_forward(const torch::Tensor& x) {
  const torch::Tensor input = input_quantizer()->forward(x);
  if (bn_statistics_ == BnStatistics::kUpdate && is_training()) {
    // The statistics the BatchNorm would see after the quantized input: the unfolded float
    // convolution. BatchNorm2d's own training-mode forward updates them, so the momentum (or the
    // cumulative average without one), num_batches_tracked and the unbiased running variance are
    // exactly BatchNorm's; its normalized output is not needed.
    torch::NoGradGuard no_grad;
    quant::batch_norm(bn, apply(input.detach(), conv->weight, conv->bias));
  }
  return apply(input, weight_quantizer()->forward(folded_weight()), folded_bias());
}

std::vector<torch::Tensor> QConvBn2dImpl::layer_parameters() {
  std::vector<torch::Tensor> parameters{conv->weight};
  for (const torch::Tensor& p : {conv->bias, bn->weight, bn->bias}) {
    if (p.defined()) parameters.push_back(p);
  }
  return parameters;
}

}  // namespace ptqat::quant
