#pragma once
// Layer policies: which bits each layer gets (first/last layer at 8 bits or float, per-layer
// overrides by name pattern), applied to the layers' quantizers.

#include <cstdint>
#include <string>
#include <vector>

#include "quant/layer_discovery.h"
#include "quant/quant_config.h"

namespace ptqat::quant {

/// The precision a policy gives one layer.
struct LayerPrecision {
  bool keep_float = false;
  int64_t weight_bits = 8;
  int64_t input_bits = 8;
};

/// The precision of the layer `name` at position `index` of `count` layers in forward order:
/// config.weight.bits / config.activation.bits, then first_last for index 0 and count - 1
/// (kInt8 raises bits below 8 to 8, never lowers them), then each matching override in order.
LayerPrecision layer_precision(const std::string& name, int64_t index, int64_t count,
                               const QuantConfig& config);

/// Configures every layer's quantizers and keep-float flag from `config` (layers in forward
/// order; see in_forward_order()). Drops any calibration.
void configure_layers(const std::vector<NamedLayer>& layers_in_forward_order,
                      const QuantConfig& config);

}  // namespace ptqat::quant
