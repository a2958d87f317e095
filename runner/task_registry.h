#pragma once
// The registry of perception tasks, the one place that maps a config's `task` to its tasks::Task
// (ARCHITECTURE.md: the rest of the runner never branches on task names). The built-in tasks
// (detection, segmentation, occupancy) are always there; a program that links ptqat registers
// its own before it runs the CLI (runner/main_entry.h), and `train`, `quantize`, `eval`,
// `sweep` and `report` then take `task = "<name>"` like a built-in one (docs/library.md).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "datasets/nuscenes.h"
#include "runner/run_config.h"
#include "runner/task_sections.h"
#include "tasks/task.h"

namespace ptqat::runner {

/// Builds the task of a config; `index` is the dataset of config.data (null when the caller
/// only builds models, e.g. `ptqat config` checks).
using TaskMaker = std::function<std::unique_ptr<tasks::Task>(
    const RunConfig& config, std::shared_ptr<const datasets::NuScenes> index)>;

struct TaskRegistration {
  /// The config's `task` value, and the name of the task's config section: lower-case letters,
  /// digits and '_', not a built-in task or section name.
  std::string name;
  TaskMaker make;
  /// Makes the task's options section at its defaults; empty for a task without options.
  std::function<std::unique_ptr<TaskSection>()> make_options;
};

/// Registers a task. ConfigError naming the task for a malformed or taken name. Register before
/// any RunConfig is built: a config built earlier lacks the task's section.
void register_task(TaskRegistration registration);

/// Registers a task with an options struct `Options` (see OptionsSection) read from the section
/// [<name>]; `make` receives the resolved options.
template <class Options>
void register_task(std::string name,
                   std::function<std::unique_ptr<tasks::Task>(
                       const RunConfig&, const Options&, std::shared_ptr<const datasets::NuScenes>)>
                       make) {
  TaskRegistration registration;
  registration.make = [name, make = std::move(make)](
                          const RunConfig& config, std::shared_ptr<const datasets::NuScenes> index) {
    return make(config, config.task_options.get<Options>(name), std::move(index));
  };
  registration.make_options = [] { return std::make_unique<OptionsSection<Options>>(); };
  registration.name = std::move(name);
  register_task(std::move(registration));
}

/// The registered task names, built-in ones first, then in registration order.
std::vector<std::string> task_names();

/// The sections of the registered tasks that have options, at their defaults.
std::map<std::string, std::unique_ptr<TaskSection>> registered_task_sections();

/// The task of `config`, evaluating config.data.eval_split of `index`. ConfigError for an
/// unregistered task.
std::unique_ptr<tasks::Task> make_task(const RunConfig& config,
                                       std::shared_ptr<const datasets::NuScenes> index);

}  // namespace ptqat::runner
