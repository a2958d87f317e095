#include "quant/layer_discovery.h"

#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace ptqat::quant {

std::vector<NamedLayer> find_quantizable_layers(torch::nn::Module& model) {
  std::vector<NamedLayer> layers;
  // A module registered under two parents appears twice in named_modules(): keep its first
  // name, or a pass would calibrate and count it twice. include_self = false: the walk then needs
  // no shared_ptr to `model` (it may live on the stack).
  std::unordered_set<const QuantizableLayer*> seen;
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    auto layer = std::dynamic_pointer_cast<QuantizableLayer>(item.value());
    if (layer && seen.insert(layer.get()).second) layers.push_back({item.key(), layer});
  }
  return layers;
}

std::vector<NamedLayer> in_forward_order(const std::vector<NamedLayer>& layers,
                                         const std::function<void()>& forward) {
  ForwardOrder order;
  {
    // Detach the recorder however forward() ends: a layer must never keep a pointer to it.
    struct Detach {
      const std::vector<NamedLayer>& layers;
      ~Detach() {
        for (const NamedLayer& entry : layers) entry.layer->set_forward_order(nullptr);
      }
    } detach{layers};
    for (const NamedLayer& entry : layers) entry.layer->set_forward_order(&order);
    torch::NoGradGuard no_grad;  // only the call order matters
    forward();
  }

  std::unordered_map<const QuantizableLayer*, const NamedLayer*> by_layer;
  for (const NamedLayer& entry : layers) by_layer.emplace(entry.layer.get(), &entry);
  std::vector<NamedLayer> ordered;
  ordered.reserve(layers.size());
  for (const QuantizableLayer* layer : order.layers()) ordered.push_back(*by_layer.at(layer));

  if (ordered.size() != layers.size()) {
    std::unordered_set<const QuantizableLayer*> called(order.layers().begin(),
                                                       order.layers().end());
    std::vector<std::string> uncalled;
    for (const NamedLayer& entry : layers) {
      if (called.count(entry.layer.get()) == 0) uncalled.push_back(entry.name);
    }
    PTQAT_FAIL(Error,
               "forward order: the model's forward never called {} quantizable layer(s): {}; they "
               "could be neither calibrated nor ranked",
               uncalled.size(), fmt::join(uncalled, ", "));
  }
  return ordered;
}

void set_mode(const std::vector<NamedLayer>& layers, LayerMode mode) {
  for (const NamedLayer& entry : layers) entry.layer->set_mode(mode);
}

}  // namespace ptqat::quant
