#pragma once
// Fake quantization (quantize, then dequantize, in float) with straight-through and LSQ
// gradients: the op every quantizer in quant/ calls.
//
// On CPU float tensors a fused kernel runs (quant/fake_quant_kernels.h): the forward writes the
// output and, for the straight-through backward, a one-byte-per-element mask in one pass; the
// backward reads them back (STE), or re-reads the input and reduces the LSQ scale gradient in
// the same pass as the input gradient. Its forward equals ATen's fake_quantize_per_tensor_affine
// / fake_quantize_per_channel_affine bit for bit on finite inputs; see Note [Fake-quant
// arithmetic]. Other devices and dtypes call ATen's operators, the reference.

#include <torch/torch.h>

#include <cstdint>

#include "quant/quant_spec.h"

namespace ptqat::quant {

/// Which CPU implementation runs. kAuto: AVX2+FMA when the CPU has it, else scalar; the other
/// values force one (tests, benchmarks). Forcing kAvx2 on a CPU without it throws ptqat::Error.
enum class KernelPath { kAuto, kScalar, kAvx2 };

/// Whether this CPU can run the AVX2+FMA kernels (checked once at run time).
bool cpu_has_avx2_fma();

/// LSQ's scale-gradient factor for a tensor of `numel` elements: 1/sqrt(numel * quant_max)
/// when spec.lsq_grad_scaling (as PyTorch's _LearnableFakeQuantize), else 1.
double lsq_grad_factor(int64_t numel, const QuantSpec& spec);

/// Differentiable fake quantization of `x`:
///   out = (clamp(nearbyint(x / scale) + zero_point, qmin, qmax) - zero_point) * scale
/// with x / scale computed as x * (1.0f / scale) and rounding half to even, as ATen.
///
/// `scale`: float, one element (per tensor) or x.size(spec.axis) elements (per channel), > 0.
/// `zero_point`: integer-valued, same element count as `scale`, within [qmin, qmax]; an
/// undefined tensor means 0 (symmetric specs). Floating zero points are rounded half to even.
/// Gradient to x: straight-through inside [qmin, qmax], 0 where clamped. With
/// spec.learnable_scale, also a gradient to `scale` (LSQ, ATen's
/// _fake_quantize_learnable_*_affine_backward formula) scaled by lsq_grad_factor(); otherwise
/// `scale` gets none. `zero_point` never gets a gradient.
/// CPU float input: the fused kernel; output is contiguous (the memory format is not kept).
torch::Tensor fake_quantize(const torch::Tensor& x, const torch::Tensor& scale,
                            const torch::Tensor& zero_point, const QuantSpec& spec);

/// As above with an explicit LSQ gradient factor and CPU kernel choice.
torch::Tensor fake_quantize(const torch::Tensor& x, const torch::Tensor& scale,
                            const torch::Tensor& zero_point, const QuantSpec& spec,
                            double grad_factor, KernelPath path);

/// Non-differentiable pieces of the CPU kernel, exposed for tests and benchmarks.
namespace cpu {

/// Forward output and, when asked for, the uint8 mask (1 = not clamped).
struct ForwardResult {
  torch::Tensor output;
  torch::Tensor mask;  ///< kUInt8, shape of x; undefined unless requested.
};

/// Forward on a CPU float tensor; arguments as fake_quantize().
ForwardResult forward(const torch::Tensor& x, const torch::Tensor& scale,
                      const torch::Tensor& zero_point, const QuantSpec& spec, bool with_mask,
                      KernelPath path = KernelPath::kAuto);

/// Straight-through backward: grad_output * mask.
torch::Tensor ste_backward(const torch::Tensor& grad_output, const torch::Tensor& mask,
                           KernelPath path = KernelPath::kAuto);

/// LSQ backward: gradients to x and to scale (shape of scale) in one pass over x.
struct LsqGradients {
  torch::Tensor grad_input;
  torch::Tensor grad_scale;
};
LsqGradients lsq_backward(const torch::Tensor& grad_output, const torch::Tensor& x,
                          const torch::Tensor& scale, const torch::Tensor& zero_point,
                          const QuantSpec& spec, double grad_factor,
                          KernelPath path = KernelPath::kAuto);

}  // namespace cpu

}  // namespace ptqat::quant
