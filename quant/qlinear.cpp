#include "quant/qlinear.h"

#include "quant/frozen_ops.h"

namespace ptqat::quant {

QLinearImpl::QLinearImpl(const torch::nn::LinearOptions& options)
    : QuantizableLayer(options.out_features()) {
  linear = register_module("linear", torch::nn::Linear(options));
}

torch::Tensor QLinearImpl::folded_weight() { return linear->weight; }

torch::Tensor QLinearImpl::folded_bias() { return linear->bias; }

torch::Tensor QLinearImpl::float_forward(const torch::Tensor& x) { return linear->forward(x); }

torch::Tensor QLinearImpl::apply(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias) {
  return torch::linear(x, weight, bias);
}

torch::Tensor QLinearImpl::apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                                        const torch::Tensor& bias) {
  return frozen_linear(x, weight, bias);
}

std::vector<torch::Tensor> QLinearImpl::layer_parameters() {
  std::vector<torch::Tensor> parameters{linear->weight};
  if (linear->bias.defined()) parameters.push_back(linear->bias);
  return parameters;
}

}  // namespace ptqat::quant
