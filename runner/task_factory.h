#pragma once
// The one place that maps a config's `task` to its tasks::Task (ARCHITECTURE.md: the rest of the
// runner never branches on task names).

#include <memory>

#include "datasets/nuscenes.h"
#include "runner/run_config.h"
#include "tasks/task.h"

namespace ptqat::runner {

/// The task of `config`, evaluating config.data.eval_split of `index`.
std::unique_ptr<tasks::Task> make_task(const RunConfig& config,
                                       std::shared_ptr<const datasets::NuScenes> index);

}  // namespace ptqat::runner
