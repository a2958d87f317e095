#pragma once
// PyTorch checkpoint files written and read by tests/support/torch_checkpoint.py, a stand-in for
// torch.save / torch.load on machines without PyTorch (it emits the same pickle and zip records).

#include <nlohmann/json.hpp>

#include <string>

namespace ptqat::testing {

/// Debian's python3 (numpy comes with python3-h5py, scripts/install_deps.sh), else python3 on
/// PATH; "" when neither imports numpy.
std::string python_with_numpy();

/// Writes a checkpoint as torch.save would: `spec` is {"nest": "state_dict" | null, "tensors":
/// {name: {"shape": [...], "dtype": "float32" | "int64" | ..., "seed": n}}}. Fails the test
/// (ADD_FAILURE) when the script fails.
void write_torch_checkpoint(const nlohmann::json& spec, const std::string& path);

/// What torch.load would read from `path`: {name: {"shape", "dtype", "sum", "values"}}.
nlohmann::json read_torch_checkpoint(const std::string& path);

}  // namespace ptqat::testing
