#pragma once
// `ptqat import` and `ptqat export`: float weights from and to PyTorch checkpoint files, so a
// paper reproduction starts from a float model trained elsewhere (mmdetection3d's published
// CenterPoint checkpoint) and fine-tuned weights go back to PyTorch (docs/library.md).

#include <ostream>
#include <string>
#include <vector>

#include "quant/state_dict_mapping.h"
#include "runner/run_config.h"
#include "tasks/task.h"

namespace ptqat::runner {

/// The mapping a command line names: "none" (ptqat's own names), "mmdet3d" (the detection
/// task's mmdetection3d CenterPoint names for `config`) or a JSON file ({"ptqat": "theirs"}).
quant::NameMapping named_mapping(const std::string& name, const RunConfig& config);

struct TorchImportOptions {
  std::string config_file;
  std::vector<std::string> overrides;
  std::string torch_file;         ///< the PyTorch checkpoint
  std::string mapping = "none";   ///< see named_mapping()
};

/// Builds the float model of the config, loads the checkpoint's state dict into it through the
/// mapping (DataError listing missing, unexpected and mis-shaped keys), evaluates it and records
/// it as the config's float stage: checkpoint <output.dir>/checkpoints/<float key>.pt and a
/// float_train record, so `ptqat quantize`, `eval` and sweeps start from it as from a model
/// `ptqat train` wrote. Returns its metrics.
tasks::TaskMetrics run_torch_import(const TorchImportOptions& options, std::ostream& out);

struct TorchExportOptions {
  std::string checkpoint;         ///< a stage's .pt
  std::vector<std::string> overrides;
  std::string torch_file;         ///< the float weights as a PyTorch state dict, or empty
  std::string mapping = "none";   ///< see named_mapping()
  std::string quantized_file;     ///< integer weights, scales and zero points (HDF5), or empty
};

/// Writes a checkpoint's float weights (every stage: the latent weights its fine-tune trained)
/// as a PyTorch file through the mapping, and for a quantized stage its quantized layers in the
/// HDF5 layout of quant/quantized_export.h.
void run_torch_export(const TorchExportOptions& options, std::ostream& out);

}  // namespace ptqat::runner
