#pragma once
// Moving float weights between a ptqat model and a state dict of another framework's naming
// (mmdetection3d's, a user's PyTorch model's) through a declared name mapping.
//
// A ptqat model's float tensors are its parameters and buffers outside quantizer state: conv and
// linear weights and biases, BatchNorm affine parameters and running statistics, LayerNorms,
// attention biases. Quantizer scales and zero points and the frozen integer-grid weights are
// ptqat's own; export_quantized (quant/quantized_export.h) writes those.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/torch_pickle.h"

namespace ptqat::quant {

using core::StateDict;

/// ptqat tensor name -> the other framework's name, one pair per float tensor. Empty: the same
/// names on both sides.
struct NameMapping {
  std::vector<std::pair<std::string, std::string>> names;
};

/// The model's float tensors (see above), in registration order.
StateDict float_state(torch::nn::Module& model);

/// Copies `state` into the model's float tensors through `mapping`. Every float tensor must get
/// a source of the same shape and every source tensor must be used; otherwise DataError naming
/// `source` and listing every missing, unused and shape-mismatched key (then nothing is copied).
/// Sources are cast to the target's dtype (a float64 checkpoint loads into a float32 model).
void load_float_state(torch::nn::Module& model, const StateDict& state, const NameMapping& mapping,
                      const std::string& source);

/// The model's float tensors under the mapping's names (ptqat's names without a mapping): what
/// another framework's load_state_dict takes.
StateDict mapped_float_state(torch::nn::Module& model, const NameMapping& mapping);

/// A mapping from a JSON file {"<ptqat name>": "<other name>", ...}. IoError / DataError naming
/// the file.
NameMapping read_name_mapping(const std::string& path);

}  // namespace ptqat::quant
