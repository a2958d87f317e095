#pragma once
// QuantSpec: what a quantizer quantizes to (bit width, integer range, granularity) and how its
// scale is trained. Independent of any tensor; the fake-quant kernels (quant/fake_quant.h) and
// the observers read it.

#include <cstdint>

#include "core/config.h"

namespace ptqat::quant {

/// The integer grid of one quantizer.
///
/// Integer range [quant_min(), quant_max()] for b = bits, by combination:
///
/// | symmetric | is_signed | narrow_range | range                         | zero point     |
/// |-----------|-----------|--------------|-------------------------------|----------------|
/// | true      | true      | true         | [-(2^(b-1) - 1), 2^(b-1) - 1] | 0              |
/// | true      | true      | false        | [-2^(b-1), 2^(b-1) - 1]       | 0              |
/// | true      | false     | any          | [0, 2^b - 1]                  | 0              |
/// | false     | true      | any          | [-2^(b-1), 2^(b-1) - 1]       | in the range   |
/// | false     | false     | any          | [0, 2^b - 1]                  | in the range   |
///
/// narrow_range only narrows symmetric signed grids: it drops -2^(b-1) so the grid is symmetric
/// about 0, as TensorRT expects for weights. It has no effect elsewhere: on an unsigned grid
/// dropping code 0 would make 0.0 unrepresentable with zero point 0, and an asymmetric grid is
/// shifted by its zero point anyway. E.g. 8 bits: [-127, 127], [-128, 127], [0, 255].
struct QuantSpec {
  /// Bits per integer, 2..16.
  int64_t bits = 8;
  /// Zero point fixed at 0 (true) or calibrated (false, affine quantization).
  bool symmetric = true;
  /// Signed integer grid (true) or unsigned [0, 2^b - 1] (false, e.g. after ReLU).
  bool is_signed = true;
  /// Symmetric signed grids drop -2^(b-1): [-(2^(b-1)-1), 2^(b-1)-1], as TensorRT.
  bool narrow_range = true;
  /// One scale (and zero point) per slice along `axis` instead of one per tensor.
  bool per_channel = false;
  /// The channel axis of per-channel quantization: 0 for conv/linear weights, 1 for
  /// transposed-conv weights ([in, out, kh, kw]).
  int64_t axis = 0;
  /// Learn the scale with LSQ (Esser et al. 2020) instead of a fixed scale with a
  /// straight-through estimator.
  bool learnable_scale = false;
  /// With learnable_scale: multiply the scale gradient by 1/sqrt(numel * quant_max), LSQ's
  /// gradient scaling (as PyTorch's _LearnableFakeQuantize); false: factor 1.
  bool lsq_grad_scaling = true;

  /// Smallest integer of the grid (table above).
  int64_t quant_min() const;
  /// Largest integer of the grid (table above).
  int64_t quant_max() const;
  /// Throws ConfigError naming the field and its allowed range when the spec is out of range.
  void validate() const;

  /// Lists the fields for the config readers and writers (core/config.h).
  void visit(core::ConfigVisitor& v);
};

}  // namespace ptqat::quant
