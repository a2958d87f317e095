#include "tasks/bev/bev_layers.h"

#include <cmath>

namespace ptqat::tasks::bev {

namespace nn = torch::nn;

void kaiming_init(torch::Tensor& weight, torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  nn::init::kaiming_normal_(weight, 0.0, torch::kFanOut, torch::kReLU);
  if (bias.defined()) bias.zero_();
}

quant::QConvBn2d conv_bn(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                         double eps, double momentum) {
  quant::QConvBn2d layer(
      nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false),
      nn::BatchNorm2dOptions(out).eps(eps).momentum(momentum));
  kaiming_init(layer->conv->weight, layer->conv->bias);
  return layer;
}

NeckBranchImpl::NeckBranchImpl(int64_t in_channels, int64_t out_channels, double factor,
                               bool conv_for_no_stride, double bn_eps, double bn_momentum) {
  if (factor > 1.0 || (factor == 1.0 && !conv_for_no_stride)) {
    const auto kernel = static_cast<int64_t>(std::llround(factor));
    up = register_module(
        "up", quant::QConvTransposeBn2d(
                  nn::ConvTranspose2dOptions(in_channels, out_channels, kernel)
                      .stride(kernel)
                      .bias(false),
                  nn::BatchNorm2dOptions(out_channels).eps(bn_eps).momentum(bn_momentum)));
    kaiming_init(up->conv->weight, up->conv->bias);
  } else {
    const auto kernel = static_cast<int64_t>(std::llround(1.0 / factor));
    down = register_module(
        "down", conv_bn(in_channels, out_channels, kernel, kernel, 0, bn_eps, bn_momentum));
  }
}

torch::Tensor NeckBranchImpl::forward(const torch::Tensor& x) {
  return torch::relu(up ? up(x) : down(x));
}

}  // namespace ptqat::tasks::bev
