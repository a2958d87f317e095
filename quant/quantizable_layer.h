#pragma once
// QuantizableLayer: the base of every quantizable layer (QConv2d, QConvTranspose2d, QLinear, and
// with the BatchNorm after them QConvBn2d, QConvTransposeBn2d, QLinearBn1d). A float layer plus a
// weight quantizer and an input-activation quantizer, with the three modes of
// docs/architecture.md ("One layer, three modes"), freezing at the PTQ state, and the captures the
// passes need: LibTorch has no forward hooks, so the layer itself records its forward order, its
// calibration statistics and its float-vs-quantized discrepancy.

#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quant/quant_config.h"
#include "quant/quantizer.h"

namespace ptqat::quant {

/// What forward() computes.
enum class LayerMode {
  kFloat,      ///< The plain float layer, numerically identical to the LibTorch layer.
  kCalibrate,  ///< Float output; the input quantizer observes the input.
  kQuantize,   ///< Fake-quantized input and (BN-folded) weight.
};

/// The kinds ending in Bn own the BatchNorm after them (quant/with_batch_norm.h).
enum class LayerKind {
  kConv2d,
  kConvBn2d,
  kConvTranspose2d,
  kConvTransposeBn2d,
  kLinear,
  kLinearBn1d
};

/// "conv2d", "conv_bn2d", "conv_transpose2d", "conv_transpose_bn2d", "linear", "linear_bn1d"
/// (tables, export, records).
const char* layer_kind_name(LayerKind kind);
/// The kind named `name`, or nullopt.
std::optional<LayerKind> layer_kind_from_name(std::string_view name);

/// Running float64 sums that give a layer's output discrepancy over calibration batches in every
/// metric (quant/quant_config.h: DiscrepancyMetric).
struct DiscrepancySums {
  double squared_error = 0;  ///< sum (q - f)^2
  double reference_sq = 0;   ///< sum f^2
  double output_sq = 0;      ///< sum q^2
  double dot = 0;            ///< sum q * f
  double elements = 0;

  /// Adds one output `q` against its float reference `f` (same shape).
  void add(const torch::Tensor& output, const torch::Tensor& reference);
  /// MSE = squared_error / elements; NMSE = squared_error / reference_sq;
  /// cosine = 1 - dot / sqrt(output_sq * reference_sq). 0 where a denominator is 0 and the
  /// outputs agree.
  double value(DiscrepancyMetric metric) const;
};

/// What a layer captures for a discrepancy pass (quant/discrepancy.h).
enum class DiscrepancyCapture {
  kNone,
  kIsolated,          ///< In quantize mode: compute float and quantized outputs of the same
                      ///< input, add to the sums, return the float output.
  kStoreReference,    ///< In float mode: keep a copy of each output, in call order.
  kCompareReference,  ///< In quantize mode: compare each output with the stored reference of
                      ///< the same call, then drop the references.
};

class QuantizableLayer;

/// Collects layers in the order of their first forward call (docs/architecture.md: registration
/// order is not forward order).
class ForwardOrder {
 public:
  void record(const QuantizableLayer* layer);
  const std::vector<const QuantizableLayer*>& layers() const { return layers_; }

 private:
  std::vector<const QuantizableLayer*> layers_;
};

/// Base of the quantizable layers. Subclasses own the float layer as a submodule, implement the
/// kind-specific pieces below and call run() from their forward().
///
/// Frozen state (PTQ): freeze() caches the fake-quantized BN-folded weight and the folded bias
/// as buffers `frozen_weight` and `frozen_bias` (empty when not frozen; saved with the module,
/// so the frozen state survives a checkpoint), and sets requires_grad false on every parameter
/// of the layer. In quantize mode a frozen layer fake-quantizes its input with the fixed scale
/// and runs apply_frozen(), which computes only the input gradient and saves no input activation.
/// Float mode ignores the frozen state.
class QuantizableLayer : public torch::nn::Module {
 public:
  virtual LayerKind kind() const = 0;

  LayerMode mode() const { return mode_; }
  void set_mode(LayerMode mode) { mode_ = mode; }

  Quantizer& weight_quantizer() { return weight_quantizer_; }
  Quantizer& input_quantizer() { return input_quantizer_; }

  /// Sets both quantizers' specs and observers (drops calibration). The weight spec's axis is
  /// replaced by weight_axis().
  void configure_quantizers(QuantSpec weight, ObserverKind weight_observer, QuantSpec input,
                            ObserverKind input_observer, const ObserverOptions& options);
  /// A layer kept in float by a policy: quantize mode runs it unquantized.
  bool keeps_float() const { return keep_float_; }
  void set_keep_float(bool keep_float) { keep_float_ = keep_float; }

  /// Ends calibration: the weight quantizer observes folded_weight(), then both quantizers reduce
  /// their statistics over `group` and set their scales. A keep-float layer skips this.
  void finish_calibration(core::Collective& group);

  /// The weight the weight quantizer sees: the layer's weight, for the layers owning a BatchNorm
  /// folded with its running statistics: w * gamma / sqrt(var + eps) per output channel.
  virtual torch::Tensor folded_weight() = 0;
  /// The bias that goes with folded_weight() (undefined when the layer has none).
  virtual torch::Tensor folded_bias() = 0;
  /// The channel axis of per-channel weight quantization: 0, or 1 for transposed convolutions.
  virtual int64_t weight_axis() const { return 0; }
  /// Parameters of the layer: weight, bias, BatchNorm affine (not quantizer scales).
  int64_t parameter_count();

  bool frozen() const;
  /// Freezes at the current (PTQ) state; see the class comment. Requires calibrated quantizers
  /// unless keeps_float().
  void freeze();
  /// Trainable for fine-tuning: weight, bias, BatchNorm affine require grad, scales too when
  /// their spec is learnable; drops the frozen cache.
  void unfreeze();
  /// Freezes with a given quantized weight and bias (import of an exported model).
  void freeze_with(const torch::Tensor& weight, const torch::Tensor& bias);
  /// The frozen cache (empty tensors when not frozen).
  const torch::Tensor& frozen_weight() const { return frozen_weight_; }
  const torch::Tensor& frozen_bias() const { return frozen_bias_; }

  /// Attaches a per-tensor quantizer, registered as submodule `<name>_quantizer`, for an activation
  /// that the owning module computes from this layer's output and feeds to an operation without
  /// weights: the operands of an attention's matmuls (query, key, attention weights, value).
  /// It follows this layer: the input spec and observer of configure_quantizers(), calibration,
  /// freezing at a fixed scale, keep-float. Returns the index quantize_attached() takes.
  size_t attach_activation_quantizer(const std::string& name);
  /// `x` through attached quantizer `index` in this layer's mode: float returns `x`, calibrate
  /// observes it, quantize fake-quantizes it (with the fixed scale once frozen; unchanged when
  /// keep-float). An isolated discrepancy pass keeps the network in float: it returns `x` and
  /// adds the fake-quantized `x` against `x` to attached_discrepancy(); a comparing pass adds
  /// its output against `x` likewise.
  torch::Tensor quantize_attached(size_t index, const torch::Tensor& x);
  /// Names of the attached quantizers (as given to attach_activation_quantizer), by index.
  const std::vector<std::string>& attached_names() const { return attached_names_; }
  Quantizer& attached_quantizer(size_t index) { return attached_quantizers_.at(index); }

  /// BatchNorm statistics during fine-tuning (of the layers owning a BatchNorm).
  virtual void set_bn_statistics(BnStatistics /*policy*/) {}

  /// Pass captures (quant/layer_discovery.h, quant/discrepancy.h).
  void set_forward_order(ForwardOrder* order) { forward_order_ = order; }
  void set_discrepancy_capture(DiscrepancyCapture capture);
  /// The sums of the layer's output against its float reference.
  DiscrepancySums& discrepancy() { return discrepancy_; }
  /// Per attached quantizer, the sums of its fake-quantized tensor against the tensor it was
  /// given, in the quantized passes of either capture: the error the quantizer itself adds.
  std::vector<DiscrepancySums>& attached_discrepancy() { return attached_discrepancy_; }
  /// The layer's discrepancy in `metric`: its output's plus each attached quantizer's. An
  /// attention's matmul operands are quantized by quantizers attached to the layer that
  /// computes them (and frozen with it), so their error ranks that layer (docs/quantization.md,
  /// "Attention"). Each term is one tensor's own metric, so a scale-free metric stays scale-free.
  double discrepancy_value(DiscrepancyMetric metric) const;
  /// Zeroes the output's and the attached quantizers' sums.
  void reset_discrepancy();

 protected:
  /// `weight_channels`: the size of the weight along weight_axis().
  explicit QuantizableLayer(int64_t weight_channels);

  /// What forward() returns, by mode, frozen state and capture.
  torch::Tensor run(const torch::Tensor& input);

  /// The plain float layer (float mode, and the reference of the discrepancy passes).
  virtual torch::Tensor float_forward(const torch::Tensor& x) = 0;
  /// The layer's operation with a given weight and bias (both already folded).
  virtual torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& weight,
                              const torch::Tensor& bias) = 0;
  /// As apply(), differentiable only with respect to x, saving no activation (quant/frozen_ops.h).
  virtual torch::Tensor apply_frozen(const torch::Tensor& x, const torch::Tensor& weight,
                                     const torch::Tensor& bias) = 0;
  /// Quantize mode of a trainable layer: apply(q(x), q(folded_weight()), folded_bias()).
  /// The layers owning a BatchNorm override it to update its statistics first when configured.
  virtual torch::Tensor quantized_forward(const torch::Tensor& x);
  /// The quantized forward of a frozen layer: apply_frozen(q_fixed(x), cache).
  torch::Tensor frozen_forward(const torch::Tensor& x);
  /// The parameters whose requires_grad freeze()/unfreeze() switch, except quantizer scales.
  virtual std::vector<torch::Tensor> layer_parameters() = 0;

 private:
  /// Weight, input and attached quantizers.
  std::vector<Quantizer*> all_quantizers();

  Quantizer weight_quantizer_{nullptr};
  Quantizer input_quantizer_{nullptr};
  std::vector<Quantizer> attached_quantizers_;
  std::vector<std::string> attached_names_;
  torch::Tensor frozen_weight_;
  torch::Tensor frozen_bias_;
  LayerMode mode_ = LayerMode::kFloat;
  bool keep_float_ = false;
  ForwardOrder* forward_order_ = nullptr;
  DiscrepancyCapture capture_ = DiscrepancyCapture::kNone;
  DiscrepancySums discrepancy_;
  std::vector<DiscrepancySums> attached_discrepancy_;
  std::vector<torch::Tensor> references_;
  size_t next_reference_ = 0;
};

}  // namespace ptqat::quant
