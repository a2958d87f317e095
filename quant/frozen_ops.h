#pragma once
// The operations of frozen layers: convolution, transposed convolution and linear with a
// constant weight and bias. Custom autograd functions whose backward computes only the input
// gradient (at::convolution_backward with the input-only mask, or the adjoint convolution of
// grad and W: see Note [Input gradient of a frozen convolution] in frozen_ops.cpp; grad @ W for
// linear) and which save no input activation, only
// the input's sizes: a frozen layer needs neither its weight gradient nor what only that gradient
// would use.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace ptqat::quant {

/// Geometry of a 2-d (transposed) convolution, as at::convolution takes it.
struct ConvGeometry {
  std::vector<int64_t> stride{1, 1};
  std::vector<int64_t> padding{0, 0};
  std::vector<int64_t> dilation{1, 1};
  bool transposed = false;
  std::vector<int64_t> output_padding{0, 0};
  int64_t groups = 1;
};

/// The geometry of a torch::nn::Conv2d or ConvTranspose2d from its module's options
/// (`conv->options`). Throws ConfigError for a padding mode other than zeros and for padding
/// "same" (which may pad asymmetrically, as at::convolution cannot); padding "valid" is 0.
ConvGeometry conv_geometry(const torch::nn::detail::ConvNdOptions<2>& options);

/// at::convolution(x, weight, bias, geometry...) with gradient to x only. `weight` and `bias`
/// (may be undefined) must not require grad.
torch::Tensor frozen_convolution(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias, const ConvGeometry& geometry);

/// at::linear(x, weight, bias) with gradient to x only.
torch::Tensor frozen_linear(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias);

}  // namespace ptqat::quant
