#include "quant/fake_quant.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "quant/fake_quant_kernels.h"

namespace ptqat::quant {

namespace {

using kernels::AffineParams;

// Elements per task: 128 KiB of floats amortizes the task overhead of at::parallel_for and
// still splits a 1M-element weight tensor over 16 threads. Pieces are fixed by the tensor's
// shape, not the thread count, so the LSQ scale-gradient sums are the same on every machine.
constexpr int64_t kBlock = int64_t{1} << 15;

// A contiguous tensor seen as `rows` rows of `row_len` elements; row r uses channel r % channels.
// Per tensor: one row. Per channel on axis a: rows = prod(sizes[..a]) * sizes[a],
// row_len = prod(sizes[a+1..]).
struct Layout {
  int64_t rows = 1;
  int64_t row_len = 0;
  int64_t channels = 1;
};

Layout layout_of(const torch::Tensor& x, const QuantSpec& spec) {
  if (!spec.per_channel) return {1, x.numel(), 1};
  PTQAT_CHECK(spec.axis < x.dim(), ConfigError,
              "axis: expected a channel axis of the {}-d tensor (sizes {}), got {}", x.dim(),
              c10::str(x.sizes()), spec.axis);
  Layout layout;
  layout.channels = x.size(spec.axis);
  layout.rows = 1;
  for (int64_t d = 0; d <= spec.axis; ++d) layout.rows *= x.size(d);
  layout.row_len = 1;
  for (int64_t d = spec.axis + 1; d < x.dim(); ++d) layout.row_len *= x.size(d);
  return layout;
}

// Reads the per-channel grids once, on the CPU, in the float arithmetic of the kernels.
std::vector<AffineParams> grid_params(const torch::Tensor& scale, const torch::Tensor& zero_point,
                                      const QuantSpec& spec, int64_t channels) {
  PTQAT_ASSERT(scale.defined() && scale.numel() == channels,
               "fake_quantize: scale has {} elements, expected {}",
               scale.defined() ? scale.numel() : 0, channels);
  const auto qmin = spec.quant_min();
  const auto qmax = spec.quant_max();
  const torch::Tensor s = scale.detach().to(torch::kCPU, torch::kFloat).contiguous();
  torch::Tensor z;
  if (zero_point.defined()) {
    PTQAT_ASSERT(zero_point.numel() == channels,
                 "fake_quantize: zero_point has {} elements, expected {}", zero_point.numel(),
                 channels);
    z = zero_point.detach().to(torch::kCPU);
    if (z.is_floating_point()) z = z.round();  // half to even, as ATen's learnable forward
    z = z.to(torch::kLong).contiguous();
  } else {
    z = torch::zeros({channels}, torch::kLong);
  }
  const float* sp = s.data_ptr<float>();
  const int64_t* zp = z.data_ptr<int64_t>();
  std::vector<AffineParams> params(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    PTQAT_ASSERT(zp[c] >= qmin && zp[c] <= qmax,
                 "fake_quantize: zero point {} of channel {} outside [{}, {}]", zp[c], c, qmin,
                 qmax);
    PTQAT_ASSERT(!spec.symmetric || zp[c] == 0,
                 "fake_quantize: symmetric spec with zero point {} in channel {}", zp[c], c);
    // 1.0f / scale in float, exactly as ATen: the forward multiplies by it.
    params[c] = {sp[c], 1.0f / sp[c], static_cast<float>(zp[c]), static_cast<float>(qmin),
                 static_cast<float>(qmax)};
  }
  return params;
}

struct KernelSet {
  decltype(&kernels::forward_scalar) forward;
  decltype(&kernels::ste_backward_scalar) ste_backward;
  decltype(&kernels::lsq_backward_scalar) lsq_backward;
};

KernelSet kernel_set(KernelPath path) {
  if (path == KernelPath::kAuto) {
    path = kernels::cpu_has_avx2_fma() ? KernelPath::kAvx2 : KernelPath::kScalar;
  }
  if (path == KernelPath::kAvx2) {
    PTQAT_CHECK(kernels::cpu_has_avx2_fma(), Error,
                "fake_quantize: the AVX2 kernel was requested but this CPU lacks AVX2+FMA");
    return {kernels::forward_avx2, kernels::ste_backward_avx2, kernels::lsq_backward_avx2};
  }
  return {kernels::forward_scalar, kernels::ste_backward_scalar, kernels::lsq_backward_scalar};
}

// Runs body(piece, row, start, length) over all pieces in parallel: each row is cut into
// pieces of at most kBlock elements, and short rows are grouped so a task still gets ~kBlock.
template <class Body>
int64_t for_each_piece(const Layout& layout, const Body& body) {
  const int64_t per_row = std::max<int64_t>(1, (layout.row_len + kBlock - 1) / kBlock);
  const int64_t count = layout.rows * per_row;
  const int64_t grain = std::max<int64_t>(1, kBlock / std::max<int64_t>(1, layout.row_len));
  at::parallel_for(0, count, grain, [&](int64_t begin, int64_t end) {
    for (int64_t piece = begin; piece < end; ++piece) {
      const int64_t row = piece / per_row;
      const int64_t offset = (piece % per_row) * kBlock;
      body(piece, row, row * layout.row_len + offset, std::min(kBlock, layout.row_len - offset));
    }
  });
  return count;
}

void check_cpu_float(const torch::Tensor& t, const char* what) {
  PTQAT_ASSERT(t.defined() && t.device().is_cpu() && t.scalar_type() == torch::kFloat,
               "fake_quantize: {} must be a CPU float tensor", what);
}

// Reference path on other devices and dtypes: ATen's operators, autograd included.
torch::Tensor aten_fake_quantize(const torch::Tensor& x, const torch::Tensor& scale,
                                 const torch::Tensor& zero_point, const QuantSpec& spec,
                                 double grad_factor) {
  const int64_t qmin = spec.quant_min();
  const int64_t qmax = spec.quant_max();
  const torch::Tensor s = scale.to(x.device(), torch::kFloat).reshape({-1});
  torch::Tensor z = zero_point.defined() ? zero_point.detach().to(x.device()).reshape({-1})
                                         : torch::zeros_like(s);
  if (z.is_floating_point()) z = z.round();
  if (spec.learnable_scale) {
    const torch::Tensor zf = z.to(torch::kFloat);
    return spec.per_channel
               ? at::_fake_quantize_learnable_per_channel_affine(x, s, zf, spec.axis, qmin, qmax,
                                                                 grad_factor)
               : at::_fake_quantize_learnable_per_tensor_affine(x, s, zf, qmin, qmax, grad_factor);
  }
  const torch::Tensor zi = z.to(torch::kInt);
  return spec.per_channel
             ? at::fake_quantize_per_channel_affine(x, s.detach(), zi, spec.axis, qmin, qmax)
             : at::fake_quantize_per_tensor_affine(x, s.detach(), zi, qmin, qmax);
}

// The autograd op around the CPU kernels. Non-tensor arguments travel in saved_data.
class FakeQuantizeFunction : public torch::autograd::Function<FakeQuantizeFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& scale, const torch::Tensor& zero_point,
                               const QuantSpec& spec, double grad_factor, KernelPath path) {
    ctx->saved_data["bits"] = spec.bits;
    ctx->saved_data["symmetric"] = spec.symmetric;
    ctx->saved_data["is_signed"] = spec.is_signed;
    ctx->saved_data["narrow_range"] = spec.narrow_range;
    ctx->saved_data["per_channel"] = spec.per_channel;
    ctx->saved_data["axis"] = spec.axis;
    ctx->saved_data["learnable_scale"] = spec.learnable_scale;
    ctx->saved_data["grad_factor"] = grad_factor;
    ctx->saved_data["path"] = static_cast<int64_t>(path);
    if (spec.learnable_scale) {
      // LSQ needs x itself (x_q - x), so the backward re-reads x and no mask is written.
      ctx->save_for_backward({x, scale, zero_point});
      return cpu::forward(x, scale, zero_point, spec, /*with_mask=*/false, path).output;
    }
    auto result = cpu::forward(x, scale, zero_point, spec, x.requires_grad(), path);
    ctx->save_for_backward({result.mask});
    return result.output;
  }

  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad_outputs) {
    QuantSpec spec;
    spec.bits = ctx->saved_data["bits"].toInt();
    spec.symmetric = ctx->saved_data["symmetric"].toBool();
    spec.is_signed = ctx->saved_data["is_signed"].toBool();
    spec.narrow_range = ctx->saved_data["narrow_range"].toBool();
    spec.per_channel = ctx->saved_data["per_channel"].toBool();
    spec.axis = ctx->saved_data["axis"].toInt();
    spec.learnable_scale = ctx->saved_data["learnable_scale"].toBool();
    const double grad_factor = ctx->saved_data["grad_factor"].toDouble();
    const auto path = static_cast<KernelPath>(ctx->saved_data["path"].toInt());
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& grad = grad_outputs[0];
    torch::autograd::tensor_list grads(6);
    if (!grad.defined()) return grads;
    if (spec.learnable_scale) {
      auto lsq = cpu::lsq_backward(grad, saved[0], saved[1], saved[2], spec, grad_factor, path);
      grads[0] = lsq.grad_input;
      grads[1] = lsq.grad_scale;
    } else if (saved[0].defined()) {
      grads[0] = cpu::ste_backward(grad, saved[0], path);
    }
    return grads;
  }
};

}  // namespace

bool cpu_has_avx2_fma() { return kernels::cpu_has_avx2_fma(); }

double lsq_grad_factor(int64_t numel, const QuantSpec& spec) {
  if (!spec.lsq_grad_scaling) return 1.0;
  return 1.0 / std::sqrt(static_cast<double>(std::max<int64_t>(numel, 1)) *
                         static_cast<double>(spec.quant_max()));
}

torch::Tensor fake_quantize(const torch::Tensor& x, const torch::Tensor& scale,
                            const torch::Tensor& zero_point, const QuantSpec& spec) {
  return fake_quantize(x, scale, zero_point, spec, lsq_grad_factor(x.numel(), spec),
                       KernelPath::kAuto);
}

torch::Tensor fake_quantize(const torch::Tensor& x, const torch::Tensor& scale,
                            const torch::Tensor& zero_point, const QuantSpec& spec,
                            double grad_factor, KernelPath path) {
  spec.validate();
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat) {
    return aten_fake_quantize(x, scale, zero_point, spec, grad_factor);
  }
  PTQAT_ASSERT(scale.defined(), "fake_quantize: scale is undefined");
  // autograd::Function records every tensor argument and rejects undefined ones.
  const torch::Tensor zp =
      zero_point.defined() ? zero_point : torch::zeros(scale.sizes(), torch::kInt);
  return FakeQuantizeFunction::apply(x, scale, zp, spec, grad_factor, path);
}

namespace cpu {

ForwardResult forward(const torch::Tensor& x, const torch::Tensor& scale,
                      const torch::Tensor& zero_point, const QuantSpec& spec, bool with_mask,
                      KernelPath path) {
  spec.validate();
  check_cpu_float(x, "x");
  const torch::Tensor input = x.contiguous();
  const Layout layout = layout_of(input, spec);
  const auto params = grid_params(scale, zero_point, spec, layout.channels);
  const KernelSet kernels = kernel_set(path);
  ForwardResult result;
  result.output = torch::empty(input.sizes(), input.options());
  if (with_mask) result.mask = torch::empty(input.sizes(), input.options().dtype(torch::kUInt8));
  if (input.numel() == 0) return result;
  const float* in = input.data_ptr<float>();
  float* out = result.output.data_ptr<float>();
  uint8_t* mask = with_mask ? result.mask.data_ptr<uint8_t>() : nullptr;
  for_each_piece(layout, [&](int64_t, int64_t row, int64_t start, int64_t length) {
    kernels.forward(in + start, out + start, mask == nullptr ? nullptr : mask + start, length,
                    params[row % layout.channels]);
  });
  return result;
}

torch::Tensor ste_backward(const torch::Tensor& grad_output, const torch::Tensor& mask,
                           KernelPath path) {
  check_cpu_float(grad_output, "grad_output");
  PTQAT_ASSERT(
      mask.defined() && mask.scalar_type() == torch::kUInt8 && mask.numel() == grad_output.numel(),
      "fake_quantize: mask does not match grad_output");
  const torch::Tensor grad = grad_output.contiguous();
  const torch::Tensor m = mask.contiguous();
  torch::Tensor grad_input = torch::empty(grad.sizes(), grad.options());
  if (grad.numel() == 0) return grad_input;
  const KernelSet kernels = kernel_set(path);
  const float* g = grad.data_ptr<float>();
  const uint8_t* mp = m.data_ptr<uint8_t>();
  float* dx = grad_input.data_ptr<float>();
  for_each_piece(Layout{1, grad.numel(), 1}, [&](int64_t, int64_t, int64_t start, int64_t length) {
    kernels.ste_backward(g + start, mp + start, dx + start, length);
  });
  return grad_input;
}

LsqGradients lsq_backward(const torch::Tensor& grad_output, const torch::Tensor& x,
                          const torch::Tensor& scale, const torch::Tensor& zero_point,
                          const QuantSpec& spec, double grad_factor, KernelPath path) {
  spec.validate();
  check_cpu_float(x, "x");
  check_cpu_float(grad_output, "grad_output");
  PTQAT_ASSERT(grad_output.sizes() == x.sizes(), "fake_quantize: grad_output shape mismatch");
  const torch::Tensor input = x.contiguous();
  const torch::Tensor grad = grad_output.contiguous();
  const Layout layout = layout_of(input, spec);
  const auto params = grid_params(scale, zero_point, spec, layout.channels);
  const KernelSet kernels = kernel_set(path);
  LsqGradients result;
  result.grad_input = torch::empty(input.sizes(), input.options());
  std::vector<double> channel_sums(static_cast<size_t>(layout.channels), 0.0);
  if (input.numel() > 0) {
    const float* in = input.data_ptr<float>();
    const float* g = grad.data_ptr<float>();
    float* dx = result.grad_input.data_ptr<float>();
    // ATen's kernel takes grad_factor as float; so do we.
    const auto factor = static_cast<float>(grad_factor);
    const int64_t per_row = std::max<int64_t>(1, (layout.row_len + kBlock - 1) / kBlock);
    std::vector<double> piece_sums(static_cast<size_t>(layout.rows * per_row), 0.0);
    for_each_piece(layout, [&](int64_t piece, int64_t row, int64_t start, int64_t length) {
      piece_sums[piece] = kernels.lsq_backward(in + start, g + start, dx + start, length,
                                               params[row % layout.channels], factor);
    });
    // Sequential, fixed-order reduction: the result does not depend on the thread count.
    for (size_t piece = 0; piece < piece_sums.size(); ++piece) {
      channel_sums[(piece / per_row) % layout.channels] += piece_sums[piece];
    }
  }
  torch::Tensor sums = torch::from_blob(channel_sums.data(), {layout.channels}, torch::kDouble);
  // copy=true: `sums` aliases the local vector.
  result.grad_scale = sums.to(scale.scalar_type(), /*non_blocking=*/false, /*copy=*/true)
                          .reshape(scale.sizes())
                          .to(scale.device());
  return result;
}

}  // namespace cpu

}  // namespace ptqat::quant
