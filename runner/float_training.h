#pragma once
// `ptqat train`: the float baseline of a run config, with validation, best-checkpoint selection,
// resume from the last checkpoint, and a record in the results store.

#include <ostream>
#include <string>

#include "runner/run_config.h"
#include "tasks/task.h"

namespace ptqat::runner {

/// Where a stage's files live under output.dir.
struct StagePaths {
  std::string key;              ///< the stage key
  std::string checkpoint;       ///< <dir>/checkpoints/<key>.pt: the stage's result (best)
  std::string last_checkpoint;  ///< <dir>/checkpoints/<key>.last.pt: resume point
  std::string records;          ///< <dir> (the results store: records/, results.h5)
};

/// The float-training stage of `config`.
StagePaths float_training_paths(RunConfig& config);

/// Trains the float model of `config` (resuming from its last checkpoint when one exists),
/// evaluates every train.eval_every_epochs epochs (and after the last), keeps the best
/// checkpoint by the task's primary metric, records the stage and prints a summary to `out`.
/// Returns the best checkpoint's metrics (also what the record holds).
tasks::TaskMetrics run_float_training(RunConfig config, std::ostream& out);

}  // namespace ptqat::runner
