#pragma once
// Quantizer: the module a quantizable layer owns for its weight and for its input. It holds the
// scale (a parameter, trained by LSQ when the spec asks and the layer is trainable) and zero
// point, calibrates them through an Observer, and fake-quantizes.

#include <torch/torch.h>

#include <cstdint>
#include <memory>

#include "core/collective.h"
#include "quant/observer.h"
#include "quant/quant_spec.h"

namespace ptqat::quant {

/// One tensor's quantizer. State saved with the module (torch::save): `scale` (parameter,
/// [channels] float32), `zero_point` ([channels] int32 buffer) and `calibrated` (bool buffer).
/// The spec and observer kind are configuration, set by the passes before calibration.
class QuantizerImpl : public torch::nn::Module {
 public:
  /// `channels`: 1 for a per-tensor spec, else the size of the tensor along spec.axis.
  QuantizerImpl(QuantSpec spec, ObserverKind observer, ObserverOptions options, int64_t channels);

  const QuantSpec& spec() const { return spec_; }
  /// Replaces spec and observer (layer policies); drops calibration. `channels` as above.
  void configure(QuantSpec spec, ObserverKind observer, ObserverOptions options, int64_t channels);

  /// Adds one tensor to the calibration statistics.
  void observe(const torch::Tensor& x);
  /// Reduces the statistics over `group`, sets scale and zero point, drops the observer.
  /// Throws Error when nothing was observed.
  void finish_calibration(core::Collective& group);
  /// Whether scale and zero point hold calibrated values (saved with the module).
  bool calibrated() const;

  /// Fake-quantizes `x` with the current scale. LSQ gradients to the scale when the spec is
  /// learnable and the scale requires grad; straight-through otherwise. Throws Error when not
  /// calibrated.
  torch::Tensor forward(const torch::Tensor& x);
  /// Fake-quantizes with the scale treated as a constant (straight-through to x only).
  torch::Tensor forward_fixed(const torch::Tensor& x);

  /// The integer codes of `x`: clamp(nearbyint(x * (1/scale)) + zero_point, qmin, qmax), as
  /// the fake-quant kernel computes them, in int32. (codes - zero_point) * scale equals
  /// forward(x) exactly.
  torch::Tensor quantize_to_integers(const torch::Tensor& x) const;

  const torch::Tensor& scale() const { return scale_; }
  const torch::Tensor& zero_point() const { return zero_point_; }
  /// Sets calibrated parameters directly (import); shapes as after calibration.
  void set_params(const torch::Tensor& scale, const torch::Tensor& zero_point);

  /// Lets the optimizer train the scale: requires_grad = trainable && spec().learnable_scale.
  void set_trainable(bool trainable);

 private:
  torch::Tensor zero_point_or_undefined() const;

  QuantSpec spec_;
  ObserverKind observer_kind_;
  ObserverOptions options_;
  std::unique_ptr<Observer> observer_;
  torch::Tensor scale_;
  torch::Tensor zero_point_;
  torch::Tensor calibrated_;
  // Host copy of `calibrated_`, valid while the buffer's version and storage are unchanged: reading
  // a CUDA buffer on every forward would synchronize the stream (see calibrated()).
  mutable int64_t calibrated_version_ = -1;
  mutable const void* calibrated_data_ = nullptr;
  mutable bool calibrated_value_ = false;
};
TORCH_MODULE(Quantizer);

}  // namespace ptqat::quant
