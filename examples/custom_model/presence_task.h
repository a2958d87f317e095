#pragma once
// An example of a task of one's own, registered with ptqat's runner: "which object classes are
// near the car?" (multi-label classification of the 10 nuScenes detection classes within a
// radius of the sensor), from a small network of ptqat's quantizable layers. The runner then
// trains, calibrates, ranks, PTQAT-fine-tunes, evaluates and reports it like a built-in task.

#include <cstdint>
#include <memory>

#include "tasks/task.h"
#include "tasks/task_registry.h"

namespace presence {

/// The task's options: section [presence] of a run config.
struct PresenceOptions {
  int64_t channels = 32;   ///< width of the pillar net and the convolutions
  double radius = 20.0;    ///< a class is present when one of its boxes is this close (m)
  double threshold = 0.5;  ///< probability above which a class counts as present

  void visit(ptqat::core::ConfigVisitor& v);
};

/// The task: registered under "presence" by register_presence_task().
std::unique_ptr<ptqat::tasks::Task> make_presence_task(const ptqat::tasks::TaskInputs& inputs,
                                                       const PresenceOptions& options);

/// Registers the task with the runner (call before run_main()).
void register_presence_task();

}  // namespace presence
