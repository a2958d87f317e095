#include "quant/qconv_transpose2d.h"

#include "quant/frozen_ops.h"

namespace ptqat::quant {

QConvTranspose2dImpl::QConvTranspose2dImpl(const torch::nn::ConvTranspose2dOptions& options)
    : QuantizableLayer(options.out_channels() / options.groups()) {
  conv = register_module("conv", torch::nn::ConvTranspose2d(options));
  conv_geometry(conv->options);  // rejects padding modes other than zeros
  // The base constructor could not call weight_axis() (virtual, not yet ours): reconfigure the
  // default quantizers so that the weight's channels lie on axis 1 ([in, out / groups, kh, kw]).
  const QuantConfig defaults;
  configure_quantizers(defaults.weight, defaults.weight_observer, defaults.activation,
                       defaults.activation_observer, defaults.observer);
}

torch::Tensor QConvTranspose2dImpl::folded_weight() { return conv->weight; }

torch::Tensor QConvTranspose2dImpl::folded_bias() { return conv->bias; }

torch::Tensor QConvTranspose2dImpl::float_forward(const torch::Tensor& x) {
  return conv->forward(x);
}

torch::Tensor QConvTranspose2dImpl::apply(const torch::Tensor& x, const torch::Tensor& weight,
                                          const torch::Tensor& bias) {
  // What ConvTranspose2dImpl::forward runs without an output_size: the options' output padding.
  const ConvGeometry g = conv_geometry(conv->options);
  return torch::conv_transpose2d(x, weight, bias, g.stride, g.padding, g.output_padding, g.groups,
                                 g.dilation);
}

torch::Tensor QConvTranspose2dImpl::apply_frozen(const torch::Tensor& x,
                                                 const torch::Tensor& weight,
                                                 const torch::Tensor& bias) {
  return frozen_convolution(x, weight, bias, conv_geometry(conv->options));
}

std::vector<torch::Tensor> QConvTranspose2dImpl::layer_parameters() {
  std::vector<torch::Tensor> parameters{conv->weight};
  if (conv->bias.defined()) parameters.push_back(conv->bias);
  return parameters;
}

}  // namespace ptqat::quant
