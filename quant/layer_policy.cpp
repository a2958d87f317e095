#include "quant/layer_policy.h"

#include <fnmatch.h>

#include <algorithm>

namespace ptqat::quant {

namespace {
constexpr int64_t kEdgeLayerBits = 8;
}  // namespace

LayerPrecision layer_precision(const std::string& name, int64_t index, int64_t count,
                               const QuantConfig& config) {
  LayerPrecision precision;
  precision.weight_bits = config.weight.bits;
  precision.input_bits = config.activation.bits;

  const bool edge = index == 0 || index == count - 1;
  if (edge && config.first_last == EdgeLayerPolicy::kInt8) {
    // The first layer sees raw sensor features and the last one writes the task outputs: both are
    // sensitive, so low-bit runs keep them at int8. A run configured above 8 bits keeps its bits.
    precision.weight_bits = std::max(precision.weight_bits, kEdgeLayerBits);
    precision.input_bits = std::max(precision.input_bits, kEdgeLayerBits);
  } else if (edge && config.first_last == EdgeLayerPolicy::kFloat) {
    precision.keep_float = true;
  }

  for (const std::string& text : config.overrides) {
    const LayerOverride entry = parse_layer_override(text);
    // No FNM_PATHNAME: layer names are dotted, and '*' matches across dots
    // ("backbone.*" covers "backbone.blocks.0.conv").
    if (fnmatch(entry.pattern.c_str(), name.c_str(), 0) != 0) continue;
    if (entry.keep_float) {
      precision.keep_float = true;
    } else {
      precision.keep_float = false;
      precision.weight_bits = entry.bits;
      precision.input_bits = entry.bits;
    }
  }
  return precision;
}

void configure_layers(const std::vector<NamedLayer>& layers_in_forward_order,
                      const QuantConfig& config) {
  config.validate();
  const auto count = static_cast<int64_t>(layers_in_forward_order.size());
  for (int64_t index = 0; index < count; ++index) {
    const NamedLayer& named = layers_in_forward_order[static_cast<size_t>(index)];
    const LayerPrecision precision = layer_precision(named.name, index, count, config);
    QuantSpec weight = config.weight;
    weight.bits = precision.weight_bits;
    QuantSpec input = config.activation;
    input.bits = precision.input_bits;
    named.layer->configure_quantizers(weight, config.weight_observer, input,
                                      config.activation_observer, config.observer);
    named.layer->set_keep_float(precision.keep_float);
  }
}

}  // namespace ptqat::quant
