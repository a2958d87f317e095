#pragma once
// Finding the quantizable layers of any model, and their forward order.

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "quant/quantizable_layer.h"

namespace ptqat::quant {

/// A quantizable layer and its dotted name in the model (as named_modules() gives it).
struct NamedLayer {
  std::string name;
  std::shared_ptr<QuantizableLayer> layer;
};

/// Every quantizable layer of `model` (walking named_modules()), in registration order.
std::vector<NamedLayer> find_quantizable_layers(torch::nn::Module& model);

/// `layers` reordered by their first call during `forward` (one recording pass; whatever mode
/// the layers are in). Throws Error naming the layers that `forward` never called: they could be
/// neither calibrated nor ranked.
std::vector<NamedLayer> in_forward_order(const std::vector<NamedLayer>& layers,
                                         const std::function<void()>& forward);

/// Sets every layer's mode.
void set_mode(const std::vector<NamedLayer>& layers, LayerMode mode);

}  // namespace ptqat::quant
