#pragma once
// Registering a program's own task with `ptqat` (docs/library.md): the task registry
// (tasks/task_registry.h) plus the run config's rule that a task's section must not shadow one
// of its own keys or sections. Register before running the CLI (runner/main_entry.h).

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "tasks/task_registry.h"

namespace ptqat::runner {

/// Registers a task. ConfigError naming the task for a malformed or taken name, or a name that a
/// run config key or section has.
void register_task(tasks::TaskRegistration registration);

/// Registers a task with an options struct `Options` read from the section [<name>]
/// (tasks::registration_with_options).
template <class Options>
void register_task(
    std::string name,
    std::function<std::unique_ptr<tasks::Task>(const tasks::TaskInputs&, const Options&)> make) {
  runner::register_task(
      tasks::registration_with_options<Options>(std::move(name), std::move(make)));
}

}  // namespace ptqat::runner
