#pragma once
// `ptqat eval`: evaluates a checkpoint of any stage (float, calibrated PTQ, fine-tuned) on the
// config's evaluation split, prints the metrics as a table, optionally writes the submission
// and the metrics JSON, and records the evaluation.

#include <ostream>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace ptqat::runner {

struct EvaluationOptions {
  /// TOML run config. With a checkpoint it replaces the config the checkpoint stores; without
  /// one it is required and the float checkpoint of that config under output.dir is evaluated.
  std::string config_file;
  std::vector<std::string> overrides;  ///< --set, applied last
  std::string checkpoint;              ///< a stage's *.pt
  std::string export_json;             ///< the nuScenes submission file to write, or empty
  /// The challenge folder for segmentation / occupancy predictions, or empty.
  std::string export_dir;
  std::string metrics_json;            ///< the metrics JSON to write, or empty
};

/// Rebuilds the checkpoint's model (quantizers configured and frozen layers frozen as its stage
/// left them), loads its weights, evaluates data.eval_split and records an "evaluate" stage
/// whose parent is the checkpoint's stage. Returns the metrics.
tasks::TaskMetrics run_evaluation(const EvaluationOptions& options, std::ostream& out);

}  // namespace ptqat::runner
