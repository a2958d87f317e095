#pragma once
// The registry of perception tasks, the one place that maps a config's `task` to its tasks::Task
// (docs/architecture.md: the runner and the sweeps never name a task). The built-in tasks
// (detection, segmentation, occupancy) register here like any other; a program that links ptqat
// registers its own before it runs the CLI (runner/task_plugins.h, docs/library.md), and every
// command then takes `task = "<name>"` like a built-in one.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/data_config.h"
#include "datasets/nuscenes/nuscenes.h"
#include "datasets/pillars.h"
#include "quant/state_dict_mapping.h"
#include "tasks/bev/bev_net_config.h"
#include "tasks/task.h"
#include "tasks/task_sections.h"

namespace ptqat::tasks {

/// The task of a run config that names none.
inline constexpr const char* kDefaultTask = "detection";

/// What a task is built from: the sections of the run config every task shares, and the task
/// options sections. References into the run config; valid while the maker runs.
struct TaskInputs {
  const bev::BevNetConfig& model;  ///< section [model]: the BEV network every task shares
  const datasets::PillarConfig& pillars;
  const datasets::DataConfig& data;
  const TaskSections& options;  ///< sections [<task name>] of the tasks that have options
  /// The dataset of `data` (null when the caller only builds models, e.g. config checks).
  std::shared_ptr<const datasets::NuScenes> index;
};

using TaskMaker = std::function<std::unique_ptr<Task>(const TaskInputs& inputs)>;

struct TaskRegistration {
  /// The config's `task` value, and the name of the task's config section: lower-case letters,
  /// digits and '_'.
  std::string name;
  TaskMaker make;
  /// Makes the task's options section at its defaults; empty for a task without options.
  std::function<std::unique_ptr<TaskSection>()> make_options;
  /// Checks the inputs when a config of this task is loaded (ConfigError naming the key);
  /// optional: make() checks what is left.
  std::function<void(const TaskInputs&)> validate;
  /// The checkpoint names of another code base's model of this task (`ptqat import|export
  /// --mapping <convention>`), or nullopt for a convention the task does not know. Optional.
  std::function<std::optional<quant::NameMapping>(const std::string& convention, const TaskInputs&)>
      checkpoint_names;
};

/// The registration of a task with an options struct `Options` (default-constructible, with
/// `void visit(core::ConfigVisitor&)` declaring its fields like the built-in config structs),
/// read from the section [<name>]; `make` receives the resolved options.
template <class Options>
TaskRegistration registration_with_options(
    std::string name,
    std::function<std::unique_ptr<Task>(const TaskInputs&, const Options&)> make) {
  TaskRegistration registration;
  registration.make = [name, make = std::move(make)](const TaskInputs& inputs) {
    return make(inputs, inputs.options.get<Options>(name));
  };
  registration.make_options = [] { return std::make_unique<OptionsSection<Options>>(); };
  registration.name = std::move(name);
  return registration;
}

/// Registers a task. ConfigError naming the task for a malformed or taken name. Register before
/// any run config is built: a config built earlier lacks the task's section.
void register_task(TaskRegistration registration);

/// The registered task names, built-in ones first, then in registration order.
std::vector<std::string> task_names();

/// The sections of the registered tasks that have options, at their defaults.
std::map<std::string, std::unique_ptr<TaskSection>> registered_task_sections();

/// Task `name` built from `inputs`. ConfigError for an unregistered task.
std::unique_ptr<Task> make_task(const std::string& name, const TaskInputs& inputs);

/// Runs task `name`'s validate (if it has one). ConfigError for an unregistered task.
void validate_task(const std::string& name, const TaskInputs& inputs);

/// Task `name`'s checkpoint names under `convention`, or nullopt when it knows none such.
std::optional<quant::NameMapping> task_checkpoint_names(const std::string& name,
                                                        const std::string& convention,
                                                        const TaskInputs& inputs);

}  // namespace ptqat::tasks
