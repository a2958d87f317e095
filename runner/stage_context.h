#pragma once
// What the stages of one run config share: the dataset and task, the ranks and device, the
// calibration batches and one evaluation pass. Their keys and paths: runner/stage_keys.h; the
// record they publish: runner/stage_record.h.

#include <torch/torch.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/collective.h"
#include "core/resources.h"
#include "datasets/batch.h"
#include "datasets/nuscenes/nuscenes.h"
#include "datasets/nuscenes_dataset.h"
#include "runner/run_config.h"
#include "tasks/task.h"

namespace ptqat::runner {

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

  /// The first `count` batches (on device()) of an epoch-0 pass over the training split without
  /// augmentation (shuffled when loader.shuffle is set): the calibration data. Fewer when the split
  /// is smaller.
  std::vector<datasets::Batch> calibration_batches(int64_t count) const;
  /// The first batch of the evaluation split, on device() (for passes that need any real input).
  datasets::Batch first_eval_batch() const;

  /// One pass over the evaluation split in eval mode without gradients (no augmentation, no
  /// shuffling), sharded over the group's ranks with the predictions gathered, so every rank
  /// gets the metrics of the whole split; rank 0 writes the predictions where `output` says.
  /// The model's training flag is restored.
  tasks::TaskMetrics evaluate(torch::nn::Module& model,
                              const tasks::PredictionExport& output) const;
  /// The same pass over data.select_split, the held-out split `select = "best"` chooses on
  /// (opened with the training split). InternalError when the config names none.
  tasks::TaskMetrics evaluate_for_selection(torch::nn::Module& model) const;

 private:
  tasks::TaskMetrics evaluate_on(const datasets::NuScenesDataset& set, const tasks::Task& task,
                                 torch::nn::Module& model,
                                 const tasks::PredictionExport& output) const;

  RunConfig config_;
  core::Collective& group_;
  torch::Device device_;  ///< before the data: a missing GPU is reported before any reading
  std::shared_ptr<const datasets::NuScenes> index_;
  std::optional<datasets::NuScenesDataset> train_set_;
  datasets::NuScenesDataset eval_set_;
  std::optional<datasets::NuScenesDataset> select_set_;
  std::unique_ptr<tasks::Task> task_;
  /// The task scoring select_set_: a task's evaluation knows the ground truth of its eval split.
  std::unique_ptr<tasks::Task> select_task_;
  mutable std::unique_ptr<core::Collective> nccl_group_;
};

}  // namespace ptqat::runner
