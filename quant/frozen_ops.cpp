#include "quant/frozen_ops.h"

#include <torch/version.h>

#include <variant>

#include "core/error.h"

namespace ptqat::quant {

namespace {

// The option variants are c10::variant, LibTorch 1.13's own type, and std::variant from 2.0 on.
#if TORCH_VERSION_MAJOR >= 2
using std::get_if;
#else
using c10::get_if;
#endif

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

std::vector<int64_t> to_vector(const torch::ExpandingArray<2>& values) {
  return {values->begin(), values->end()};
}

/// The frozen weight and bias: passed to the autograd functions as one non-tensor argument, so
/// that autograd neither records them as inputs nor sees the undefined bias.
struct FrozenConstants {
  torch::Tensor weight;
  torch::Tensor bias;  ///< May be undefined.
};

void check_constants(const FrozenConstants& constants) {
  PTQAT_ASSERT(constants.weight.defined() && !constants.weight.requires_grad() &&
                   !(constants.bias.defined() && constants.bias.requires_grad()),
               "frozen op: the weight must be defined and neither weight nor bias may require "
               "grad (frozen layers get no weight gradient)");
}

// Note [Input gradient of a frozen convolution]
// at::convolution_backward needs an `input` argument even when only grad_input is asked for,
// although grad_input does not depend on the input's values.
// - A zero-stride stand-in (an expanded scalar) does not work: LibTorch 1.13's CPU backends
//   call input.contiguous() first and materialize a full input-sized copy (measured: +128 MiB
//   of peak memory for a 128 MiB input, every geometry).
// - On CPU, ordinary convolutions therefore get an uninitialized contiguous stand-in
//   (at::empty): nothing copies it and the backward-input kernels never read or touch it, so
//   its pages are not even resident. This runs ATen's fast backward-input kernel; the adjoint
//   below would run LibTorch 1.13's slow_conv_transpose2d on CPU (measured on the bench step
//   network: 0.176 s + 0.038 s zero-filling per step against ~0.075 s, and a 54 MiB scratch
//   buffer for its head layer).
// - Elsewhere the input gradient is the adjoint operation, which reads only grad and weight
//   (on GPUs, cuDNN implements transposed convolution as the backward-data kernel, so this is
//   the kernel convolution_backward would run, without allocating a stand-in):
//     convolution:            dL/dx = conv_transpose(grad, W), output padding chosen so that
//                             the result has the input's size (the rows the forward's floor
//                             dropped);
//     transposed convolution: dL/dx = conv(grad, W), cut to the input's size (an output padding
//                             of at least the stride, allowed when below the dilation, adds
//                             rows). Its CPU kernel is the fast ordinary convolution.
torch::Tensor convolution_input_gradient(const torch::Tensor& grad, const torch::Tensor& weight,
                                         const std::vector<int64_t>& input_sizes,
                                         const ConvGeometry& g) {
  const size_t spatial = input_sizes.size() - 2;
  if (!g.transposed) {
    std::vector<int64_t> output_padding(spatial);
    for (size_t i = 0; i < spatial; ++i) {
      const int64_t kernel = weight.size(static_cast<int64_t>(i) + 2);
      const int64_t covered = (grad.size(static_cast<int64_t>(i) + 2) - 1) * g.stride[i] -
                              2 * g.padding[i] + g.dilation[i] * (kernel - 1) + 1;
      output_padding[i] = input_sizes[i + 2] - covered;  // in [0, stride - 1]
    }
    return at::convolution(grad, weight, /*bias=*/{}, g.stride, g.padding, g.dilation,
                           /*transposed=*/true, output_padding, g.groups);
  }
  torch::Tensor grad_input =
      at::convolution(grad, weight, /*bias=*/{}, g.stride, g.padding, g.dilation,
                      /*transposed=*/false, std::vector<int64_t>(spatial, 0), g.groups);
  for (size_t i = 0; i < spatial; ++i) {
    const auto dim = static_cast<int64_t>(i) + 2;
    if (grad_input.size(dim) > input_sizes[i + 2]) {
      grad_input = grad_input.narrow(dim, 0, input_sizes[i + 2]);
    }
  }
  return grad_input;
}

class FrozenConvolution : public torch::autograd::Function<FrozenConvolution> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const FrozenConstants& constants, const ConvGeometry& g) {
    check_constants(constants);
    // Only the sizes of x: saving x itself would keep the activation alive until backward.
    ctx->saved_data["input_sizes"] = x.sizes().vec();
    ctx->saved_data["stride"] = g.stride;
    ctx->saved_data["padding"] = g.padding;
    ctx->saved_data["dilation"] = g.dilation;
    ctx->saved_data["transposed"] = g.transposed;
    ctx->saved_data["output_padding"] = g.output_padding;
    ctx->saved_data["groups"] = g.groups;
    // Saved as a variable (not in saved_data) so that autograd reports an in-place change of
    // the cache between forward and backward.
    ctx->save_for_backward({constants.weight});
    torch::NoGradGuard no_grad;
    return at::convolution(x, constants.weight, constants.bias, g.stride, g.padding, g.dilation,
                           g.transposed, g.output_padding, g.groups);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const torch::Tensor& grad = grad_outputs[0];
    // One entry per forward argument; only x gets a gradient.
    tensor_list grads(3);
    if (!grad.defined()) return grads;
    ConvGeometry g;
    g.stride = ctx->saved_data["stride"].toIntVector();
    g.padding = ctx->saved_data["padding"].toIntVector();
    g.dilation = ctx->saved_data["dilation"].toIntVector();
    g.transposed = ctx->saved_data["transposed"].toBool();
    g.output_padding = ctx->saved_data["output_padding"].toIntVector();
    g.groups = ctx->saved_data["groups"].toInt();
    const std::vector<int64_t> input_sizes = ctx->saved_data["input_sizes"].toIntVector();
    const torch::Tensor weight = ctx->get_saved_variables()[0];
    if (!g.transposed && grad.device().is_cpu()) {
      // See Note [Input gradient of a frozen convolution].
      const torch::Tensor stand_in = at::empty(input_sizes, grad.options());
      grads[0] = std::get<0>(at::convolution_backward(
          grad, stand_in, weight, /*bias_sizes=*/c10::nullopt, g.stride, g.padding, g.dilation,
          /*transposed=*/false, g.output_padding, g.groups, {true, false, false}));
    } else {
      grads[0] = convolution_input_gradient(grad, weight, input_sizes, g);
    }
    return grads;
  }
};

class FrozenLinear : public torch::autograd::Function<FrozenLinear> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const FrozenConstants& constants) {
    check_constants(constants);
    ctx->save_for_backward({constants.weight});
    torch::NoGradGuard no_grad;
    return at::linear(x, constants.weight, constants.bias);
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_outputs) {
    const torch::Tensor& grad = grad_outputs[0];
    tensor_list grads(2);
    if (!grad.defined()) return grads;
    // y = x W^T + b over any leading dims: dL/dx = grad W ([..., out] x [out, in]).
    grads[0] = grad.matmul(ctx->get_saved_variables()[0]);
    return grads;
  }
};

}  // namespace

ConvGeometry conv_geometry(const torch::nn::detail::ConvNdOptions<2>& options) {
  const char* layer = options.transposed() ? "conv_transpose2d" : "conv2d";
  PTQAT_CHECK(get_if<torch::enumtype::kZeros>(&options.padding_mode()) != nullptr, ConfigError,
              "{}: padding_mode: expected zeros (the quantized layers run at::convolution), got {}",
              layer, torch::enumtype::get_enum_name(options.padding_mode()));
  ConvGeometry g;
  g.stride = to_vector(options.stride());
  g.dilation = to_vector(options.dilation());
  g.transposed = options.transposed();
  g.output_padding = to_vector(options.output_padding());
  g.groups = options.groups();
  if (const auto* explicit_padding = get_if<torch::ExpandingArray<2>>(&options.padding())) {
    g.padding = to_vector(*explicit_padding);
  } else if (get_if<torch::enumtype::kValid>(&options.padding()) != nullptr) {
    g.padding = {0, 0};
  } else {
    PTQAT_FAIL(ConfigError,
               "{}: padding: expected explicit sizes or \"valid\", got \"same\" (which may pad "
               "asymmetrically; give the padding explicitly)",
               layer);
  }
  return g;
}

torch::Tensor frozen_convolution(const torch::Tensor& x, const torch::Tensor& weight,
                                 const torch::Tensor& bias, const ConvGeometry& geometry) {
  // Unbatched input, as torch::conv2d accepts it: at::convolution needs the batch dimension.
  if (x.dim() == weight.dim() - 1) {
    return frozen_convolution(x.unsqueeze(0), weight, bias, geometry).squeeze(0);
  }
  return FrozenConvolution::apply(x, FrozenConstants{weight, bias}, geometry);
}

torch::Tensor frozen_linear(const torch::Tensor& x, const torch::Tensor& weight,
                            const torch::Tensor& bias) {
  return FrozenLinear::apply(x, FrozenConstants{weight, bias});
}

}  // namespace ptqat::quant
