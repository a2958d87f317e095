#include "quant/qconv2d.h"

#include "quant/frozen_ops.h"

namespace ptqat::quant {

QConv2dImpl::QConv2dImpl(const torch::nn::Conv2dOptions& options)
    : QuantizableLayer(options.out_channels()) {
  conv = register_module("conv", torch::nn::Conv2d(options));
  conv_geometry(conv->options);  // rejects what the quantized paths cannot run
}

torch::Tensor QConv2dImpl::folded_weight() { return conv->weight; }

torch::Tensor QConv2dImpl::folded_bias() { return conv->bias; }

torch::Tensor QConv2dImpl::float_forward(const torch::Tensor& x) { return conv->forward(x); }

torch::Tensor QConv2dImpl::apply(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias) {
  // The op torch::nn::Conv2d runs (zero padding), with the given weight and bias.
  const ConvGeometry g = conv_geometry(conv->options);
  return torch::conv2d(x, weight, bias, g.stride, g.padding, g.dilation, g.groups);
}

torch::Tensor QConv2dImpl::apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias) {
  return frozen_convolution(x, weight, bias, conv_geometry(conv->options));
}

std::vector<torch::Tensor> QConv2dImpl::layer_parameters() {
  std::vector<torch::Tensor> parameters{conv->weight};
  if (conv->bias.defined()) parameters.push_back(conv->bias);
  return parameters;
}

}  // namespace ptqat::quant
