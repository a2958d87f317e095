#pragma once
// The stage keys of a run config and where each stage's files live (docs/architecture.md
// "Stage keys"): which fields a method ignores is decided here, once, for the keys, the sweep
// plan and the report labels.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/stage_key.h"
#include "runner/run_config.h"

namespace ptqat::runner {

/// The stage keys of a run config. Fields a method ignores do not enter its key (QAT's key
/// does not depend on freeze_ratio or rule), so equivalent runs share their stages.
struct StageKeys {
  std::string float_train;
  std::string calibrate;  ///< parent: float_train
  std::string fine_tune;  ///< parent: calibrate; QAT and PTQAT only
};
StageKeys stage_keys(const RunConfig& config);

/// The stages' names for people, the readable twins of the keys:
/// "detection-cnn/float", "detection-cnn/w4a8/ptq", "detection-cnn/w4a8/ptqat-0.50-smallest/seed1"
/// (a float seed other than 0 adds "/float-seed<n>" after the model; a discrepancy measure other
/// than the default adds "-<metric>" or "-<mode>" to the method). Logs, `results ls`, reports and
/// plots show them; two configs that differ in a field the name leaves out (a learning rate)
/// share a name, never a key.
struct StageNames {
  std::string float_train, calibrate, fine_tune;  ///< fine_tune: QAT and PTQAT only
};
StageNames stage_names(const RunConfig& config);

/// A config field that quant.method ignores: its key, and how stage_keys() fixes its value.
struct IgnoredField {
  const char* key;
  std::function<void(quant::QuantConfig&)> reset;
};

/// The fields `quant`'s method ignores: PTQ and QAT ignore the selection (freeze_ratio, rule,
/// freeze_by), and only PTQAT with rule random reads select_seed. The one place this rule is
/// written: stage_keys() leaves these fields out of the keys, a sweep's plan does not show them.
std::vector<IgnoredField> ignored_fields(const quant::QuantConfig& quant);

/// Where a stage's files live under output.dir.
struct StagePaths {
  std::string key;              ///< the stage key
  std::string checkpoint;       ///< <dir>/checkpoints/<key>.pt: the stage's result (best)
  std::string last_checkpoint;  ///< <dir>/checkpoints/<key>.last.pt: resume point
  std::string records;          ///< <dir> (the results store: records/, results.h5)
};
StagePaths stage_paths(const RunConfig& config, const std::string& key);

/// Checkpoint metadata keys (runner/checkpoint.h TrainingState::metadata) every stage writes,
/// so `ptqat eval --checkpoint` can rebuild the model a checkpoint belongs to.
namespace metadata {
inline constexpr const char* kStageKey = "stage_key";
inline constexpr const char* kStage = "stage";    ///< core::stage_name()
inline constexpr const char* kConfig = "config";  ///< the resolved config as TOML
/// Fine-tune: the frozen layers' names, one per line.
inline constexpr const char* kFrozenLayers = "frozen_layers";
}  // namespace metadata

/// The metadata of a checkpoint of stage `stage` under `key`: key, stage name, resolved config.
std::map<std::string, std::string> stage_metadata(const RunConfig& config, const std::string& key,
                                                  core::Stage stage);

}  // namespace ptqat::runner
