#include "quant/quantizable_layer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/autocast.h"
#include "core/enum_names.h"
#include "core/error.h"

namespace ptqat::quant {

namespace {

constexpr core::EnumName<LayerKind> kLayerKindNames[] = {
    {LayerKind::kConv2d, "conv2d"},
    {LayerKind::kConvBn2d, "conv_bn2d"},
    {LayerKind::kConvTranspose2d, "conv_transpose2d"},
    {LayerKind::kConvTransposeBn2d, "conv_transpose_bn2d"},
    {LayerKind::kLinear, "linear"},
    {LayerKind::kLinearBn1d, "linear_bn1d"}};

}  // namespace

const char* layer_kind_name(LayerKind kind) {
  return core::name_of(kind, kLayerKindNames, "LayerKind");
}

std::optional<LayerKind> layer_kind_from_name(std::string_view name) {
  return core::value_of(name, kLayerKindNames);
}

void DiscrepancySums::add(const torch::Tensor& output, const torch::Tensor& reference) {
  PTQAT_ASSERT(output.sizes() == reference.sizes(),
               "discrepancy: output of sizes {} against a reference of sizes {}",
               c10::str(output.sizes()), c10::str(reference.sizes()));
  torch::NoGradGuard no_grad;
  // float64: sums over millions of elements and many batches lose digits in float32.
  const torch::Tensor q = output.detach().to(torch::kDouble).reshape({-1});
  const torch::Tensor f = reference.detach().to(torch::kDouble).reshape({-1});
  const torch::Tensor diff = q - f;
  // One host copy for the four sums: on a GPU each item() would synchronize the stream.
  const torch::Tensor sums =
      torch::stack({diff.dot(diff), f.dot(f), q.dot(q), q.dot(f)}).to(torch::kCPU);
  const auto s = sums.accessor<double, 1>();
  squared_error += s[0];
  reference_sq += s[1];
  output_sq += s[2];
  dot += s[3];
  elements += static_cast<double>(q.numel());
}

double DiscrepancySums::value(DiscrepancyMetric metric) const {
  // A zero denominator with equal outputs (e.g. a layer whose outputs are all zero in both
  // modes) is no discrepancy. With unequal outputs NMSE is unbounded (+inf) and the cosine of a
  // zero vector undefined: counted as uncorrelated (distance 1).
  const bool agree = squared_error == 0;
  switch (metric) {
    case DiscrepancyMetric::kMse:
      return elements > 0 ? squared_error / elements : 0.0;
    case DiscrepancyMetric::kNmse:
      if (reference_sq > 0) return squared_error / reference_sq;
      return agree ? 0.0 : std::numeric_limits<double>::infinity();
    case DiscrepancyMetric::kCosine: {
      const double norms = std::sqrt(output_sq) * std::sqrt(reference_sq);
      if (norms > 0) return std::max(0.0, 1.0 - dot / norms);  // rounding can dip below 0
      return agree ? 0.0 : 1.0;
    }
  }
  PTQAT_ASSERT(false, "discrepancy: unknown metric {}", static_cast<int>(metric));
  return 0.0;
}

void ForwardOrder::record(const QuantizableLayer* layer) {
  // Linear search: a model has at most a few hundred layers and a recording pass runs once.
  if (std::find(layers_.begin(), layers_.end(), layer) == layers_.end()) layers_.push_back(layer);
}

QuantizableLayer::QuantizableLayer(int64_t weight_channels) {
  const QuantConfig defaults;
  QuantSpec weight = defaults.weight;
  // weight_axis() is virtual and still this base's during construction: axis 0 here, and a
  // subclass with another axis (QConvTranspose2d) reconfigures in its own constructor.
  weight.axis = 0;
  weight_quantizer_ = register_module("weight_quantizer",
                                      Quantizer(weight, defaults.weight_observer, defaults.observer,
                                                weight.per_channel ? weight_channels : 1));
  input_quantizer_ = register_module(
      "input_quantizer",
      Quantizer(defaults.activation, defaults.activation_observer, defaults.observer, 1));
  frozen_weight_ = register_buffer("frozen_weight", torch::empty({0}));
  frozen_bias_ = register_buffer("frozen_bias", torch::empty({0}));
}

void QuantizableLayer::configure_quantizers(QuantSpec weight, ObserverKind weight_observer,
                                            QuantSpec input, ObserverKind input_observer,
                                            const ObserverOptions& options) {
  // The input's channel axis and count differ by layer kind and input rank; the layers keep one
  // input scale, as the integer kernels of deployment runtimes do.
  PTQAT_CHECK(!input.per_channel, ConfigError,
              "quant.activation.per_channel: expected false (input quantizers are per tensor), "
              "got true");
  weight.axis = weight_axis();
  int64_t channels = 1;
  if (weight.per_channel) {
    torch::NoGradGuard no_grad;
    channels = folded_weight().size(weight.axis);
  }
  weight_quantizer_->configure(weight, weight_observer, options, channels);
  input_quantizer_->configure(input, input_observer, options, 1);
  for (Quantizer& attached : attached_quantizers_) {
    attached->configure(input, input_observer, options, 1);
  }
}

size_t QuantizableLayer::attach_activation_quantizer(const std::string& name) {
  // Defaults as the input quantizer's: configure_quantizers() sets the real spec.
  const QuantConfig defaults;
  attached_names_.push_back(name);
  attached_discrepancy_.emplace_back();
  attached_quantizers_.push_back(register_module(
      name + "_quantizer",
      Quantizer(defaults.activation, defaults.activation_observer, defaults.observer, 1)));
  return attached_quantizers_.size() - 1;
}

torch::Tensor QuantizableLayer::quantize_attached(size_t index, const torch::Tensor& x) {
  PTQAT_ASSERT(index < attached_quantizers_.size(), "attached quantizer {} of {}", index,
               attached_quantizers_.size());
  Quantizer& quantizer = attached_quantizers_[index];
  if (keep_float_) return x;
  switch (mode_) {
    case LayerMode::kFloat:
      return x;
    case LayerMode::kCalibrate:
      quantizer->observe(x);
      return x;
    case LayerMode::kQuantize:
      break;
  }
  torch::Tensor quantized = frozen() ? quantizer->forward_fixed(x) : quantizer->forward(x);
  if (capture_ == DiscrepancyCapture::kIsolated ||
      capture_ == DiscrepancyCapture::kCompareReference) {
    attached_discrepancy_[index].add(quantized, x);
  }
  return capture_ == DiscrepancyCapture::kIsolated ? x : quantized;
}

double QuantizableLayer::discrepancy_value(DiscrepancyMetric metric) const {
  double value = discrepancy_.value(metric);
  for (const DiscrepancySums& sums : attached_discrepancy_) {
    if (sums.elements > 0) value += sums.value(metric);
  }
  return value;
}

void QuantizableLayer::reset_discrepancy() {
  discrepancy_ = {};
  for (DiscrepancySums& sums : attached_discrepancy_) sums = {};
}

void QuantizableLayer::finish_calibration(core::Collective& group) {
  if (keep_float_) return;
  {
    torch::NoGradGuard no_grad;
    weight_quantizer_->observe(folded_weight());
  }
  weight_quantizer_->finish_calibration(group);
  input_quantizer_->finish_calibration(group);
  for (Quantizer& attached : attached_quantizers_) attached->finish_calibration(group);
}

int64_t QuantizableLayer::parameter_count() {
  int64_t count = 0;
  for (const torch::Tensor& parameter : layer_parameters()) count += parameter.numel();
  return count;
}

bool QuantizableLayer::frozen() const { return frozen_weight_.numel() > 0; }

void QuantizableLayer::freeze() {
  torch::Tensor weight;
  torch::Tensor bias;
  {
    torch::NoGradGuard no_grad;
    weight = folded_weight().detach();
    if (!keep_float_) {
      for (Quantizer* quantizer : all_quantizers()) {
        PTQAT_CHECK((*quantizer)->calibrated(), Error,
                    "freeze: the layer's quantizers are not calibrated");
      }
      // The same fixed-scale fake quantization that quantize mode applies to the weight.
      weight = weight_quantizer_->forward_fixed(weight);
    }
    bias = folded_bias();
  }
  freeze_with(weight, bias);
}

void QuantizableLayer::freeze_with(const torch::Tensor& weight, const torch::Tensor& bias) {
  torch::NoGradGuard no_grad;
  const torch::Tensor model_weight = folded_weight();
  const torch::Tensor model_bias = folded_bias();
  PTQAT_CHECK(weight.defined() && weight.sizes() == model_weight.sizes(), Error,
              "freeze: weight of sizes {} for a layer whose weight has sizes {}",
              weight.defined() ? c10::str(weight.sizes()) : "undefined",
              c10::str(model_weight.sizes()));
  PTQAT_CHECK(bias.defined() == model_bias.defined() &&
                  (!bias.defined() || bias.sizes() == model_bias.sizes()),
              Error, "freeze: bias of sizes {} for a layer whose bias has sizes {}",
              bias.defined() ? c10::str(bias.sizes()) : "none",
              model_bias.defined() ? c10::str(model_bias.sizes()) : "none");
  // Copies, never aliases: the cache must not follow later writes to a parameter (the folded
  // bias of a plain convolution is the parameter itself). set_data keeps the registered buffers
  // (same TensorImpls as these members) while changing their shapes.
  const auto copy = [&](const torch::Tensor& t) {
    return t.detach().to(model_weight.device(), model_weight.scalar_type(),
                         /*non_blocking=*/false, /*copy=*/true);
  };
  frozen_weight_.set_data(copy(weight));
  frozen_bias_.set_data(bias.defined() ? copy(bias) : torch::empty({0}, model_weight.options()));
  for (torch::Tensor& parameter : layer_parameters()) {
    parameter.set_requires_grad(false);
    // A gradient left from training would still move the parameter: optimizers step every
    // parameter with a defined gradient (weight decay and momentum even on a zeroed one).
    parameter.mutable_grad() = torch::Tensor();
  }
  for (Quantizer* quantizer : all_quantizers()) {
    (*quantizer)->set_trainable(false);
    (*quantizer)->scale().mutable_grad() = torch::Tensor();
  }
}

void QuantizableLayer::unfreeze() {
  torch::NoGradGuard no_grad;
  frozen_weight_.set_data(torch::empty({0}, frozen_weight_.options()));
  frozen_bias_.set_data(torch::empty({0}, frozen_bias_.options()));
  for (torch::Tensor& parameter : layer_parameters()) parameter.set_requires_grad(true);
  // A keep-float layer never uses its quantizers: their scales would get no gradient and only
  // inflate the trainable-parameter count.
  for (Quantizer* quantizer : all_quantizers()) (*quantizer)->set_trainable(!keep_float_);
}

std::vector<Quantizer*> QuantizableLayer::all_quantizers() {
  std::vector<Quantizer*> quantizers = {&weight_quantizer_, &input_quantizer_};
  for (Quantizer& attached : attached_quantizers_) quantizers.push_back(&attached);
  return quantizers;
}

void QuantizableLayer::set_discrepancy_capture(DiscrepancyCapture capture) {
  // A comparing pass reads the references the storing pass left; every other capture starts
  // afresh, so references never outlive the batch they were stored for.
  if (capture != DiscrepancyCapture::kCompareReference) references_.clear();
  next_reference_ = 0;
  capture_ = capture;
}

torch::Tensor QuantizableLayer::run(const torch::Tensor& input) {
  if (forward_order_ != nullptr) forward_order_->record(this);
  switch (mode_) {
    case LayerMode::kFloat: {
      torch::Tensor output = float_forward(input);
      // A clone: the model may modify the output in place (relu_) before the quantized pass.
      if (capture_ == DiscrepancyCapture::kStoreReference) {
        references_.push_back(output.detach().clone());
      }
      return output;
    }
    case LayerMode::kCalibrate:
      if (!keep_float_) input_quantizer_->observe(input);
      return float_forward(input);
    case LayerMode::kQuantize:
      break;
  }
  const auto quantized = [&](const torch::Tensor& reduced) {
    // Under mixed precision the previous layer hands over bfloat16; fake-quant runs in float32
    // (a 4-bit grid's rounding must not be redone in 8 mantissa bits), the conv after it in
    // whatever autocast picks.
    const torch::Tensor x = reduced.is_cuda() && core::cuda_autocast_enabled() &&
                                    reduced.scalar_type() != torch::kFloat32
                                ? reduced.to(torch::kFloat32)
                                : reduced;
    if (frozen()) return frozen_forward(x);
    if (keep_float_) return apply(x, folded_weight(), folded_bias());
    return quantized_forward(x);
  };
  if (capture_ == DiscrepancyCapture::kIsolated) {
    // Both outputs from the same float input; the network continues in float, so each layer's
    // discrepancy is its own (docs/architecture.md: "each layer fed the float input").
    torch::NoGradGuard no_grad;
    torch::Tensor reference = float_forward(input);
    discrepancy_.add(quantized(input), reference);
    return reference;
  }
  torch::Tensor output = quantized(input);
  if (capture_ == DiscrepancyCapture::kCompareReference) {
    PTQAT_CHECK(next_reference_ < references_.size(), Error,
                "discrepancy: the layer ran more often in the quantized pass than the {} times of "
                "the float pass; the model's forward must not depend on the mode",
                references_.size());
    torch::Tensor& reference = references_[next_reference_++];
    discrepancy_.add(output, reference);
    reference = torch::Tensor();  // compared: release it before the rest of the pass
  }
  return output;
}

torch::Tensor QuantizableLayer::quantized_forward(const torch::Tensor& x) {
  return apply(input_quantizer_->forward(x), weight_quantizer_->forward(folded_weight()),
               folded_bias());
}

torch::Tensor QuantizableLayer::frozen_forward(const torch::Tensor& x) {
  const torch::Tensor input = keep_float_ ? x : input_quantizer_->forward_fixed(x);
  return apply_frozen(input, frozen_weight_,
                      frozen_bias_.numel() > 0 ? frozen_bias_ : torch::Tensor());
}

}  // namespace ptqat::quant
