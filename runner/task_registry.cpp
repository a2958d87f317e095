#include "runner/task_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "core/config_toml.h"
#include "core/error.h"
#include "tasks/detection/detection_task.h"
#include "tasks/occupancy/occupancy_task.h"
#include "tasks/segmentation/segmentation_task.h"

namespace ptqat::runner {
namespace {

std::vector<TaskRegistration> builtin_tasks() {
  std::vector<TaskRegistration> tasks(3);
  tasks[0].name = "detection";
  tasks[0].make = [](const RunConfig& config, std::shared_ptr<const datasets::NuScenes> index) {
    return std::make_unique<tasks::detection::DetectionTask>(config.model, config.pillars,
                                                             std::move(index), config.data.eval_split);
  };
  tasks[1].name = "segmentation";
  tasks[1].make = [](const RunConfig& config, std::shared_ptr<const datasets::NuScenes> index) {
    return std::make_unique<tasks::segmentation::SegmentationTask>(
        config.model.bev, config.segmentation, config.pillars, std::move(index),
        config.data.train_split, config.data.eval_split);
  };
  tasks[2].name = "occupancy";
  tasks[2].make = [](const RunConfig& config, std::shared_ptr<const datasets::NuScenes> index) {
    PTQAT_CHECK(config.data.frame == "ego", ConfigError,
                "data.frame: expected \"ego\" for the occupancy task (Occ3D grids live in the "
                "ego frame), got \"{}\"",
                config.data.frame);
    return std::make_unique<tasks::occupancy::OccupancyTask>(
        config.model.bev, config.occupancy, config.pillars, std::move(index),
        config.data.occupancy_root(), config.data.train_split, config.data.eval_split);
  };
  return tasks;
}

/// The registrations, guarded: registration happens at start-up, but a lock costs nothing there
/// and keeps a late registration from racing a loader thread that builds a config.
struct Registry {
  std::mutex mutex;
  std::vector<TaskRegistration> tasks = builtin_tasks();
};

Registry& registry() {
  static Registry instance;
  return instance;
}

bool valid_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

void register_task(TaskRegistration registration) {
  const std::string& name = registration.name;
  PTQAT_CHECK(valid_name(name), ConfigError,
              "register_task: task name '{}': expected lower-case letters, digits and '_'", name);
  PTQAT_CHECK(static_cast<bool>(registration.make), ConfigError,
              "register_task: task '{}' has no maker", name);
  const std::vector<std::string> names = task_names();
  PTQAT_CHECK(std::find(names.begin(), names.end(), name) == names.end(), ConfigError,
              "register_task: task '{}' is registered already", name);
  // The top-level keys and sections of a run config: a task's section must not shadow one.
  RunConfig defaults;
  for (const std::string& key : core::field_keys(core::fields_of(defaults))) {
    PTQAT_CHECK(key.substr(0, key.find('.')) != name, ConfigError,
                "register_task: task name '{}' is taken by the run config key '{}'", name, key);
  }
  Registry& all = registry();
  const std::lock_guard<std::mutex> lock(all.mutex);
  all.tasks.push_back(std::move(registration));
}

std::vector<std::string> task_names() {
  Registry& all = registry();
  const std::lock_guard<std::mutex> lock(all.mutex);
  std::vector<std::string> names;
  for (const TaskRegistration& task : all.tasks) names.push_back(task.name);
  return names;
}

std::map<std::string, std::unique_ptr<TaskSection>> registered_task_sections() {
  Registry& all = registry();
  const std::lock_guard<std::mutex> lock(all.mutex);
  std::map<std::string, std::unique_ptr<TaskSection>> sections;
  for (const TaskRegistration& task : all.tasks) {
    if (task.make_options) sections[task.name] = task.make_options();
  }
  return sections;
}

std::unique_ptr<tasks::Task> make_task(const RunConfig& config,
                                       std::shared_ptr<const datasets::NuScenes> index) {
  TaskMaker make;
  {
    Registry& all = registry();
    const std::lock_guard<std::mutex> lock(all.mutex);
    for (const TaskRegistration& task : all.tasks) {
      if (task.name == config.task) make = task.make;
    }
  }
  if (!make) {
    const std::vector<std::string> names = task_names();
    PTQAT_FAIL(ConfigError, "task: expected one of [{}], got \"{}\"", fmt::join(names, ", "),
               config.task);
  }
  return make(config, std::move(index));
}

}  // namespace ptqat::runner
