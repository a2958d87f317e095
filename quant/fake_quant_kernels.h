#pragma once
// Raw-pointer fake-quant kernels over one contiguous float span with one (scale, zero point).
// Internal to quant/: quant/fake_quant.cpp splits tensors into spans, runs them on threads and
// picks the implementation. Kept free of torch headers so the AVX2 file can be compiled with
// its own target flags, outside the torch precompiled header.
//
// Note [Fake-quant arithmetic]
// The forward matches ATen 1.13's fake_quantize_tensor_cachemask_kernel and
// fake_quant_per_channel_cachemask_cpu (int zero point) bit for bit on finite inputs:
//   q   = nearbyint(x * inv_scale) + zero_point     (float multiply, float round half to even)
//   out = (clamp(q, qmin, qmax) - zero_point) * scale
//   mask = qmin <= q <= qmax
// with inv_scale = 1.0f / scale in float. ATen clamps in int64 and multiplies in double, but
// every intermediate is an integer below 2^24 times a float, so float arithmetic rounds to the
// same values. Where ATen converts |q| >= 2^63 to int64 (undefined behaviour, qmin on x86) we
// saturate properly; such inputs are not finite-range fake quantization anyway.
// The LSQ backward follows _fake_quantize_grad_learnable_tensor_kernel, which rounds *after*
// adding the zero point: q' = nearbyint(zero_point + x * inv_scale). For an integer zero point
// q' differs from q only when the float sum rounds onto a .5 tie (large zero points); we keep
// ATen's formula so gradients match its operator element by element.

#include <cstdint>

namespace ptqat::quant::kernels {

/// One quantization grid, all in float as the kernels compute.
struct AffineParams {
  float scale;
  float inv_scale;  ///< 1.0f / scale, computed once in float as ATen does.
  float zero_point;
  float quant_min;
  float quant_max;
};

/// out = fake_quant(x); mask[i] = 1 where x[i] was not clamped, else 0 (mask may be null).
void forward_scalar(const float* x, float* out, uint8_t* mask, int64_t n, const AffineParams& p);
/// dx = dy * mask (mask as 0.0f / 1.0f, like ATen's `dY * mask`).
void ste_backward_scalar(const float* dy, const uint8_t* mask, float* dx, int64_t n);
/// dx = straight-through gradient; returns the sum over the span of the LSQ scale gradient
/// terms (already multiplied by grad_factor), accumulated in double.
double lsq_backward_scalar(const float* x, const float* dy, float* dx, int64_t n,
                           const AffineParams& p, float grad_factor);

/// Whether the CPU (and OS) support the AVX2+FMA kernels below.
bool cpu_has_avx2_fma();
/// AVX2 versions of the above; same results. Call only when cpu_has_avx2_fma().
void forward_avx2(const float* x, float* out, uint8_t* mask, int64_t n, const AffineParams& p);
void ste_backward_avx2(const float* dy, const uint8_t* mask, float* dx, int64_t n);
double lsq_backward_avx2(const float* x, const float* dy, float* dx, int64_t n,
                         const AffineParams& p, float grad_factor);

}  // namespace ptqat::quant::kernels
