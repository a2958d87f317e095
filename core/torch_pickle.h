#pragma once
// PyTorch checkpoint files (what `torch.save` writes) read and written from C++.
//
// Reading is hand-written: LibTorch's unpickler (torch::pickle_load) replaces every
// collections.OrderedDict with None, and an nn.Module.state_dict() is an OrderedDict, so it
// cannot read the state dict of any checkpoint saved from Python (LibTorch 1.13; checked in
// tests/core/torch_pickle_test.cpp). Here a small pickle-protocol-2..5 reader builds plain values, tensors from the
// archive's storages, and ignores objects it does not know (mmdetection3d's `meta` holds some)
// as long as no tensor is needed from them. Writing emits what torch.save(OrderedDict) does,
// through LibTorch's zip writer: torch::pickle_save's dicts carry a global that
// torch.load(weights_only=True), PyTorch's default since 2.6, refuses.

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace ptqat::core {

/// Named tensors in file order: a state dict.
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

/// The state dict of a PyTorch checkpoint file: the top-level dict of tensors, or the one under
/// the key "state_dict" (mmdetection3d, mmcv and Lightning nest it there with `meta` and the
/// optimizer state) or "model". IoError when the file cannot be read; DataError naming the file
/// when it is no PyTorch zip checkpoint (the legacy pre-1.6 format included), uses a pickle
/// feature outside what torch.save writes, or holds no state dict.
StateDict read_torch_state_dict(const std::string& path);

/// Writes `state` as a checkpoint `torch.load(weights_only=True)` reads into an OrderedDict
/// {name: tensor} (tensors moved to the CPU), crash-safely. IoError naming `path` when it cannot be written.
void write_torch_state_dict(const std::string& path, const StateDict& state);

}  // namespace ptqat::core
