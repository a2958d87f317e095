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

/// The Python whose real PyTorch the build was configured with (CMake's PTQAT_TORCH_PYTHON, set
/// by PTQAT_TORCH=pip scripts/build.sh), "" without one.
std::string python_with_torch();

/// As read_torch_checkpoint, through the real torch.load(path, weights_only=True).
nlohmann::json read_with_real_torch(const std::string& path);

/// Loads `path` with the real torch.load and saves it with torch.save to `out`, nested in
/// mmdetection3d's layout (meta, state_dict, optimizer).
void resave_with_real_torch(const std::string& path, const std::string& out);

}  // namespace ptqat::testing
