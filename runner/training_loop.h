#pragma once
// The training loop every training stage shares (float training, QAT / PTQAT fine-tuning):
// AdamW over the parameters that require grad, an lr schedule, gradient clipping, evaluation
// every N epochs with best-checkpoint selection, and resume from the last checkpoint.

#include <torch/torch.h>

#include <map>
#include <ostream>
#include <string>

#include "results/results_store.h"
#include "runner/lr_schedule.h"
#include "runner/stage_context.h"
#include "runner/stage_keys.h"

namespace ptqat::runner {

struct TrainingStage {
  std::string name;  ///< "train", "finetune": names the progress bars and errors
  const OptimizerConfig* optimizer = nullptr;
  /// Seeds the training data's order and augmentation: the run's seed for the float model,
  /// quant.seed for a fine-tune.
  int64_t seed = 0;
  StagePaths paths;
  /// Written into every checkpoint (see runner/stage_context.h, namespace metadata).
  std::map<std::string, std::string> metadata;
  /// Continue from paths.last_checkpoint when it exists; false starts afresh (a forced rerun of
  /// a finished stage, whose last checkpoint is its end).
  bool resume = true;
};

/// What a training stage gives its record.
struct TrainingOutcome {
  tasks::TaskMetrics kept;  ///< the kept checkpoint's metrics on the reported split
  /// Seconds in training steps (loading, forward, backward, optimizer) over every attempt,
  /// without evaluation and checkpoint writes: the fine-tuning cost the method compares.
  double train_time_s = 0;
  /// Wall seconds of the attempts before this one (up to their last checkpoint), and the
  /// attempts including this one.
  double earlier_wall_time_s = 0;
  int64_t attempts = 1;
};

/// Trains the parameters of `model` that require grad on the training split (augmented as
/// configured) for optimizer->epochs epochs, data-parallel over context.group() (rank 0's
/// weights broadcast first, one shard per rank, gradients averaged in buckets; the "loss" history
/// is rank 0's), resuming from paths.last_checkpoint when it exists.
/// Keeps one model in paths.checkpoint, as optimizer->select says: the last epoch's, or the best
/// by the task's primary metric of the evaluations every eval_every_epochs epochs on
/// data.select_split (a held-out split, never the reported one). Then `model` holds the kept
/// checkpoint's weights, reloaded from the file, and the outcome's metrics are that model's on
/// data.eval_split, computed by StageContext::evaluate as `ptqat eval` does: one number per
/// model. Appends "loss" and "val_<primary>" (or "select_<primary>") to `history` and prints one
/// line per evaluation to `out`.
TrainingOutcome train_stage(const StageContext& context, torch::nn::Module& model,
                            const TrainingStage& stage,
                            std::map<std::string, results::MetricHistory>& history,
                            std::ostream& out);

}  // namespace ptqat::runner
