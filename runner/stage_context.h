#pragma once
// What the stages of one run config share (ARCHITECTURE.md "Stage keys"): the keys that name
// the float, calibration and fine-tune stages, where their files live under output.dir, the
// dataset and task, one evaluation pass, and the record every stage publishes.

#include <torch/torch.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/collective.h"
#include "core/resources.h"
#include "datasets/batch.h"
#include "datasets/nuscenes.h"
#include "datasets/nuscenes_dataset.h"
#include "runner/results_store.h"
#include "runner/run_config.h"
#include "tasks/task.h"

namespace ptqat::runner {

/// The stage keys of a run config. Fields a method ignores do not enter its key (QAT's key
/// does not depend on freeze_ratio or rule), so equivalent runs share their stages.
struct StageKeys {
  std::string float_train;
  std::string calibrate;  ///< parent: float_train
  std::string fine_tune;  ///< parent: calibrate; QAT and PTQAT only
};
StageKeys stage_keys(const RunConfig& config);

/// Whether quant.method ignores the selection fields (freeze_ratio, rule, freeze_by; all but
/// PTQAT do), and select_seed (all but PTQAT with rule random). stage_keys() leaves what is
/// ignored out of the keys; a sweep's plan does not show it.
bool method_ignores_selection(const quant::QuantConfig& quant);
bool method_ignores_select_seed(const quant::QuantConfig& quant);

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
inline constexpr const char* kStage = "stage";  ///< core::stage_name()
inline constexpr const char* kConfig = "config";  ///< the resolved config as TOML
/// Fine-tune: the frozen layers' names, one per line.
inline constexpr const char* kFrozenLayers = "frozen_layers";
}  // namespace metadata

/// The metadata of a checkpoint of stage `stage` under `key`: key, stage name, resolved config.
std::map<std::string, std::string> stage_metadata(const RunConfig& config, const std::string& key,
                                                  core::Stage stage);

/// The dataset, task and ranks of a run config; applies its runtime settings (threads,
/// determinism, seed) on construction.
class StageContext {
 public:
  /// `with_train_split` false: only the evaluation split is opened (evaluation of v1.0-test,
  /// whose version has no training split). `group`: the ranks that run the stage together
  /// (the whole job, or one group of a sweep); it must outlive the context.
  StageContext(RunConfig config, bool with_train_split, core::Collective& group);

  const RunConfig& config() const { return config_; }
  /// The ranks running this stage. Training and evaluation are data-parallel over them; their
  /// rank 0 alone writes checkpoints and records.
  core::Collective& group() const { return group_; }
  bool writes() const { return group_.rank() == 0; }
  const tasks::Task& task() const { return *task_; }
  /// Where models and batches live: runtime.device for this process (a GPU: the job's local
  /// rank modulo the visible GPUs).
  const torch::Device& device() const { return device_; }
  /// The task's freshly built model, on device().
  std::shared_ptr<torch::nn::Module> build_model() const;
  /// The group for collectives over the model's tensors (gradients, BatchNorm statistics,
  /// weight broadcasts): group() on the CPU; for CUDA tensors on several ranks, NCCL over the
  /// same ranks (created on first use, collectively). DistError when this build has no NCCL.
  core::Collective& tensor_group() const;
  const datasets::NuScenesDataset& train_set() const;
  const datasets::NuScenesDataset& eval_set() const { return eval_set_; }

  /// The first `count` batches (on device()) of an epoch-0 pass over the training split without augmentation
  /// (shuffled when loader.shuffle is set): the calibration data. Fewer when the split is
  /// smaller.
  std::vector<datasets::Batch> calibration_batches(int64_t count) const;
  /// The first batch of the evaluation split, on device() (for passes that need any real input).
  datasets::Batch first_eval_batch() const;

  /// One pass over the evaluation split in eval mode without gradients (no augmentation, no
  /// shuffling), sharded over the group's ranks with the predictions gathered, so every rank
  /// gets the metrics of the whole split; rank 0 writes the predictions where `output` says.
  /// The model's training flag is restored.
  tasks::TaskMetrics evaluate(torch::nn::Module& model, const tasks::PredictionExport& output) const;

 private:
  RunConfig config_;
  core::Collective& group_;
  torch::Device device_;  ///< before the data: a missing GPU is reported before any reading
  std::shared_ptr<const datasets::NuScenes> index_;
  std::optional<datasets::NuScenesDataset> train_set_;
  datasets::NuScenesDataset eval_set_;
  std::unique_ptr<tasks::Task> task_;
  mutable std::unique_ptr<core::Collective> nccl_group_;
};

/// The record of a finished stage: identity, resolved config, `metrics`, wall time since
/// `stopwatch` started, the peak RSS since the last core::reset_peak_rss() (each stage resets it
/// when it starts; the peak includes what the process already held then), and the parameters
/// of `model` that require grad. Callers add the layer table and histories.
RunRecord stage_record(const RunConfig& config, const std::string& key,
                       const std::string& parent_key, core::Stage stage, const std::string& method,
                       const std::string& started_at, const core::Stopwatch& stopwatch,
                       torch::nn::Module& model, const tasks::TaskMetrics& metrics);

/// Rank 0 writes `record` to the store under output.dir and rebuilds its results.h5; the other
/// ranks wait for it (a later stage on any rank may read the record).
void publish(const StageContext& context, const RunRecord& record);

/// "mAP 0.1234  NDS 0.2345 ...", or a note when the split had no ground truth.
std::string summary_line(const tasks::TaskMetrics& metrics);

/// The metrics as an aligned two-column table, then the per-class values as one more table.
std::string metrics_table(const tasks::TaskMetrics& metrics);

}  // namespace ptqat::runner
