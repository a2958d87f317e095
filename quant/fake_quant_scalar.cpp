// Portable fake-quant kernels: the reference the AVX2 kernels must equal, and the fallback on
// CPUs without AVX2+FMA. Arithmetic as in Note [Fake-quant arithmetic] (fake_quant_kernels.h).

#include <cmath>

#include "quant/fake_quant_kernels.h"

namespace ptqat::quant::kernels {

namespace {

// Clamp with the operand order of _mm256_max_ps / _mm256_min_ps (a NaN q becomes qmin), so the
// scalar and AVX2 paths agree even on NaN.
inline float clamp_like_simd(float q, float lo, float hi) {
  const float c = q > lo ? q : lo;
  return c < hi ? c : hi;
}

}  // namespace

void forward_scalar(const float* x, float* out, uint8_t* mask, int64_t n, const AffineParams& p) {
  for (int64_t i = 0; i < n; ++i) {
    const float q = std::nearbyint(x[i] * p.inv_scale) + p.zero_point;
    out[i] = (clamp_like_simd(q, p.quant_min, p.quant_max) - p.zero_point) * p.scale;
    if (mask != nullptr) mask[i] = (q >= p.quant_min && q <= p.quant_max) ? 1 : 0;
  }
}

void ste_backward_scalar(const float* dy, const uint8_t* mask, float* dx, int64_t n) {
  // A multiply rather than a select, as ATen's `dY * mask`: -0.0 and NaN propagate the same way.
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * static_cast<float>(mask[i]);
}

double lsq_backward_scalar(const float* x, const float* dy, float* dx, int64_t n,
                           const AffineParams& p, float grad_factor) {
  const float below_factor = p.quant_min - p.zero_point;
  const float above_factor = p.quant_max - p.zero_point;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    // Esser et al. 2020, eq. 3, in the arrangement of ATen's learnable-scale backward kernel.
    const float q = std::nearbyint(p.zero_point + x[i] * p.inv_scale);
    const bool below = q < p.quant_min;
    const bool above = q > p.quant_max;
    dx[i] = dy[i] * static_cast<float>(!below && !above);
    float term;
    if (below) {
      term = (dy[i] * below_factor) * grad_factor;
    } else if (above) {
      term = (dy[i] * above_factor) * grad_factor;
    } else {
      const float x_fq = (q - p.zero_point) * p.scale;
      term = ((dy[i] * (x_fq - x[i])) * p.inv_scale) * grad_factor;
    }
    sum += term;
  }
  return sum;
}

}  // namespace ptqat::quant::kernels
