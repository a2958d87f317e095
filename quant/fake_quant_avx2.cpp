// AVX2+FMA fake-quant kernels. Compiled for the generic x86-64 target like the rest of the
// project; only these functions carry target("avx2,fma"), and quant/fake_quant.cpp calls them
// after kernels::cpu_has_avx2_fma(). No torch headers here: this file cannot share the torch
// precompiled header (built without these target flags), see quant/CMakeLists.txt.
//
// Results equal the scalar kernels (quant/fake_quant_scalar.cpp) bit for bit, except the order
// in which lsq_backward sums its double accumulators. FP contraction is off for this file
// (quant/CMakeLists.txt): GCC would otherwise fuse the intrinsics' multiply and add into FMAs
// and change the rounding of the LSQ terms.

#include <immintrin.h>

#include <array>
#include <cstring>

#include "quant/fake_quant_kernels.h"

namespace ptqat::quant::kernels {

namespace {

constexpr int kLanes = 8;

// byte k of entry b is bit k of b: expands a _mm256_movemask_ps result to eight 0/1 mask bytes.
constexpr std::array<uint64_t, 256> make_mask_bytes() {
  std::array<uint64_t, 256> table{};
  for (uint64_t bits = 0; bits < 256; ++bits) {
    for (uint64_t k = 0; k < 8; ++k) table[bits] |= ((bits >> k) & 1u) << (8 * k);
  }
  return table;
}
constexpr std::array<uint64_t, 256> kMaskBytes = make_mask_bytes();

// _MM_FROUND_TO_NEAREST_INT is round half to even, as std::nearbyint under the default
// rounding mode; NO_EXC keeps the inexact flag untouched like nearbyint (unlike rint).
constexpr int kRoundHalfEven = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;

}  // namespace

bool cpu_has_avx2_fma() {
  // libgcc's CPU detection also checks that the OS saves the YMM registers (XGETBV).
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

__attribute__((target("avx2,fma"))) void forward_avx2(const float* x, float* out, uint8_t* mask,
                                                      int64_t n, const AffineParams& p) {
  const __m256 inv_scale = _mm256_set1_ps(p.inv_scale);
  const __m256 scale = _mm256_set1_ps(p.scale);
  const __m256 zero_point = _mm256_set1_ps(p.zero_point);
  const __m256 lo = _mm256_set1_ps(p.quant_min);
  const __m256 hi = _mm256_set1_ps(p.quant_max);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 q =
        _mm256_add_ps(_mm256_round_ps(_mm256_mul_ps(v, inv_scale), kRoundHalfEven), zero_point);
    const __m256 clamped = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_sub_ps(clamped, zero_point), scale));
    if (mask != nullptr) {
      const __m256 inside =
          _mm256_and_ps(_mm256_cmp_ps(q, lo, _CMP_GE_OQ), _mm256_cmp_ps(q, hi, _CMP_LE_OQ));
      std::memcpy(mask + i, &kMaskBytes[_mm256_movemask_ps(inside)], sizeof(uint64_t));
    }
  }
  forward_scalar(x + i, out + i, mask == nullptr ? nullptr : mask + i, n - i, p);
}

__attribute__((target("avx2,fma"))) void ste_backward_avx2(const float* dy, const uint8_t* mask,
                                                           float* dx, int64_t n) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(mask + i));
    const __m256 m = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
    _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), m));
  }
  ste_backward_scalar(dy + i, mask + i, dx + i, n - i);
}

__attribute__((target("avx2,fma"))) double lsq_backward_avx2(const float* x, const float* dy,
                                                             float* dx, int64_t n,
                                                             const AffineParams& p,
                                                             float grad_factor) {
  const __m256 inv_scale = _mm256_set1_ps(p.inv_scale);
  const __m256 scale = _mm256_set1_ps(p.scale);
  const __m256 zero_point = _mm256_set1_ps(p.zero_point);
  const __m256 lo = _mm256_set1_ps(p.quant_min);
  const __m256 hi = _mm256_set1_ps(p.quant_max);
  const __m256 below_factor = _mm256_set1_ps(p.quant_min - p.zero_point);
  const __m256 above_factor = _mm256_set1_ps(p.quant_max - p.zero_point);
  const __m256 factor = _mm256_set1_ps(grad_factor);
  const __m256 one = _mm256_set1_ps(1.0f);
  __m256d sum_lo = _mm256_setzero_pd();
  __m256d sum_hi = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const __m256 v = _mm256_loadu_ps(x + i);
    const __m256 g = _mm256_loadu_ps(dy + i);
    // Rounds after adding the zero point, as ATen's learnable backward does (see the Note).
    const __m256 q =
        _mm256_round_ps(_mm256_add_ps(zero_point, _mm256_mul_ps(v, inv_scale)), kRoundHalfEven);
    const __m256 below = _mm256_cmp_ps(q, lo, _CMP_LT_OQ);
    const __m256 above = _mm256_cmp_ps(q, hi, _CMP_GT_OQ);
    const __m256 outside = _mm256_or_ps(below, above);
    _mm256_storeu_ps(dx + i, _mm256_mul_ps(g, _mm256_andnot_ps(outside, one)));

    const __m256 x_fq = _mm256_mul_ps(_mm256_sub_ps(q, zero_point), scale);
    const __m256 inside_term =
        _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(g, _mm256_sub_ps(x_fq, v)), inv_scale), factor);
    const __m256 clamp_factor = _mm256_blendv_ps(above_factor, below_factor, below);
    const __m256 outside_term = _mm256_mul_ps(_mm256_mul_ps(g, clamp_factor), factor);
    const __m256 term = _mm256_blendv_ps(inside_term, outside_term, outside);
    sum_lo = _mm256_add_pd(sum_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(term)));
    sum_hi = _mm256_add_pd(sum_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(term, 1)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(sum_lo, sum_hi));
  const double head = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  return head + lsq_backward_scalar(x + i, dy + i, dx + i, n - i, p, grad_factor);
}

}  // namespace ptqat::quant::kernels
