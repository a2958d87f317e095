#pragma once
// Small builders the quantizer tests share.

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "quant/quant_spec.h"

namespace ptqat::quant::test {

/// A per-tensor spec with the given integer grid (QuantSpec's table).
inline QuantSpec grid_spec(int64_t bits, bool symmetric, bool is_signed, bool narrow_range) {
  QuantSpec spec;
  spec.bits = bits;
  spec.symmetric = symmetric;
  spec.is_signed = is_signed;
  spec.narrow_range = narrow_range;
  return spec;
}

/// A 1-d float32 tensor of `values`.
inline torch::Tensor floats(const std::vector<float>& values) {
  return torch::tensor(values, torch::kFloat);
}

}  // namespace ptqat::quant::test
