#pragma once
// The convolution blocks the BEV networks and heads are built from, initialised as mmdet3d
// initialises SECOND, SECONDFPN and CenterPoint's heads.

#include <torch/torch.h>

#include <cstdint>

#include "quant/with_batch_norm.h"

namespace ptqat::tasks::bev {

/// mmcv's kaiming_init: normal, fan_out, ReLU gain, zero bias (when defined).
void kaiming_init(torch::Tensor& weight, torch::Tensor& bias);

/// Conv (no bias) + BatchNorm as one quantizable layer, kaiming-initialised.
quant::QConvBn2d conv_bn(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                         double eps, double momentum);

/// One neck branch of SECOND-FPN: resamples a backbone stage to the common resolution, then
/// BatchNorm + ReLU. A factor > 1: QConvTransposeBn2d (kernel = stride = factor, no bias, module
/// `up`, its BatchNorm `up.bn`); a factor < 1: a QConvBn2d with kernel = stride =
/// 1 / factor (`down`), as mmdet3d's SECONDFPN; a factor of 1 the former, or the latter (a 1x1
/// conv) with `conv_for_no_stride` (SECONDFPN's use_conv_for_no_stride).
class NeckBranchImpl : public torch::nn::Module {
 public:
  NeckBranchImpl(int64_t in_channels, int64_t out_channels, double factor, bool conv_for_no_stride,
                 double bn_eps, double bn_momentum);
  torch::Tensor forward(const torch::Tensor& x);

  quant::QConvTransposeBn2d up{nullptr};
  quant::QConvBn2d down{nullptr};
};
TORCH_MODULE(NeckBranch);

}  // namespace ptqat::tasks::bev
