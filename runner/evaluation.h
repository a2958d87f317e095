#pragma once
// `ptqat eval`: evaluates a checkpoint of any stage (float, calibrated PTQ, fine-tuned) on the
// config's evaluation split, prints the metrics as a table, optionally writes the submission
// and the metrics JSON, and records the evaluation.

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "quant/layer_discovery.h"
#include "runner/stage_context.h"
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

/// A stage's model rebuilt from its checkpoint, with what it was.
struct CheckpointModel {
  RunConfig config;
  std::string path;
  std::string stage;  ///< core::stage_name() of the stage that wrote it
  std::string key;
  std::string method;  ///< "float", "ptq", "qat", "ptqat" as records name it
  std::unique_ptr<StageContext> context;  ///< on the job's ranks, evaluation split only
  std::shared_ptr<torch::nn::Module> model;
  /// Its quantizable layers in forward order, configured as its stage left them (empty for a
  /// float model).
  std::vector<quant::NamedLayer> layers;
};

/// Rebuilds the model of `checkpoint` (or, without one, the float checkpoint of `config_file`
/// under output.dir): the stored config unless `config_file` is given, `overrides` last;
/// quantizers configured and frozen layers frozen as its stage left them, then the weights
/// loaded. Errors name the checkpoint.
CheckpointModel load_checkpoint_model(const std::string& checkpoint, const std::string& config_file,
                                      const std::vector<std::string>& overrides);

/// Rebuilds the checkpoint's model (quantizers configured and frozen layers frozen as its stage
/// left them), loads its weights, evaluates data.eval_split and records an "evaluate" stage
/// whose parent is the checkpoint's stage. Returns the metrics.
tasks::TaskMetrics run_evaluation(const EvaluationOptions& options, std::ostream& out);

}  // namespace ptqat::runner
