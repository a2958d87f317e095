#include "quant/quant_spec.h"

namespace ptqat::quant {

namespace {
constexpr int64_t kMinBits = 2;
constexpr int64_t kMaxBits = 16;
// LibTorch tensors have at most a handful of dims; 7 leaves room and catches typos like 10.
constexpr int64_t kMaxAxis = 7;
}  // namespace

int64_t QuantSpec::quant_min() const {
  if (!is_signed) return 0;
  const int64_t half = int64_t{1} << (bits - 1);
  return symmetric && narrow_range ? -(half - 1) : -half;
}

int64_t QuantSpec::quant_max() const {
  return is_signed ? (int64_t{1} << (bits - 1)) - 1 : (int64_t{1} << bits) - 1;
}

void QuantSpec::validate() const {
  PTQAT_CHECK(bits >= kMinBits && bits <= kMaxBits, ConfigError,
              "bits: expected an integer in [{}, {}], got {}", kMinBits, kMaxBits, bits);
  PTQAT_CHECK(axis >= 0 && axis <= kMaxAxis, ConfigError,
              "axis: expected an integer in [0, {}], got {}", kMaxAxis, axis);
}

void QuantSpec::visit(core::ConfigVisitor& v) {
  using core::Stage;
  v.field({"bits", "bits per integer", Stage::kCalibrate}, bits,
          core::IntRange{kMinBits, kMaxBits});
  v.field({"symmetric", "zero point fixed at 0 (else calibrated)", Stage::kCalibrate}, symmetric);
  v.field({"is_signed", "signed integer grid (else [0, 2^bits - 1])", Stage::kCalibrate},
          is_signed);
  v.field(
      {"narrow_range", "symmetric signed grids drop -2^(bits-1), as TensorRT", Stage::kCalibrate},
      narrow_range);
  v.field({"per_channel", "one scale per slice along axis", Stage::kCalibrate}, per_channel);
  v.field({"axis", "channel axis: 0 conv/linear weights, 1 transposed conv", Stage::kCalibrate},
          axis, core::IntRange{0, kMaxAxis});
  v.field({"learnable_scale", "LSQ-trained scale (else fixed scale + STE)", Stage::kFineTune},
          learnable_scale);
  v.field(
      {"lsq_grad_scaling", "LSQ scale-gradient factor 1/sqrt(numel * quant_max)", Stage::kFineTune},
      lsq_grad_scaling);
}

}  // namespace ptqat::quant
