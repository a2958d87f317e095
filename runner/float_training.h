#pragma once
// `ptqat train`: the float baseline of a run config, with validation, best-checkpoint selection,
// resume from the last checkpoint, and a record in the results store.

#include <ostream>

#include "core/collective.h"
#include "runner/run_config.h"
#include "tasks/task.h"

namespace ptqat::runner {

/// Trains the float model of `config` data-parallel over `group` (resuming from its last checkpoint when one exists),
/// evaluates every train.eval_every_epochs epochs (and after the last), keeps the best
/// checkpoint by the task's primary metric, records the stage and prints a summary to `out`.
/// Returns the best checkpoint's metrics (also what the record holds).
tasks::TaskMetrics run_float_training(const RunConfig& config, core::Collective& group,
                                      std::ostream& out);

}  // namespace ptqat::runner
