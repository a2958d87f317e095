#include "tasks/task_registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "core/error.h"
#include "tasks/detection/detection_task.h"
#include "tasks/detection/mmdet3d_names.h"
#include "tasks/occupancy/occupancy_task.h"
#include "tasks/segmentation/segmentation_task.h"

namespace ptqat::tasks {
namespace {

// The built-in tasks' options sections are their heads' configs.
using DetectionOptions = detection::DetectionHeadConfig;
using SegmentationOptions = segmentation::SegmentationConfig;
using OccupancyOptions = occupancy::OccupancyConfig;

detection::DetectionModelConfig detection_model(const TaskInputs& inputs,
                                                const DetectionOptions& options) {
  detection::DetectionModelConfig model;
  static_cast<detection::DetectionHeadConfig&>(model) = options;
  model.bev = inputs.model;
  return model;
}

TaskRegistration detection_task() {
  TaskRegistration task = registration_with_options<DetectionOptions>(
      "detection", [](const TaskInputs& inputs, const DetectionOptions& options) {
        return std::make_unique<detection::DetectionTask>(
            detection_model(inputs, options), inputs.pillars, inputs.index, inputs.data.eval_split);
      });
  task.validate = [](const TaskInputs& inputs) {
    detection::validate(detection_model(inputs, inputs.options.get<DetectionOptions>("detection")),
                        inputs.pillars);
  };
  task.checkpoint_names = [](const std::string& convention,
                             const TaskInputs& inputs) -> std::optional<quant::NameMapping> {
    if (convention != "mmdet3d") return std::nullopt;
    return detection::mmdet3d_centerpoint_names(
        detection_model(inputs, inputs.options.get<DetectionOptions>("detection")));
  };
  return task;
}

TaskRegistration segmentation_task() {
  return registration_with_options<SegmentationOptions>(
      "segmentation", [](const TaskInputs& inputs, const SegmentationOptions& options) {
        return std::make_unique<segmentation::SegmentationTask>(
            inputs.model, options, inputs.pillars, inputs.index, inputs.data.train_split,
            inputs.data.eval_split);
      });
}

TaskRegistration occupancy_task() {
  return registration_with_options<OccupancyOptions>(
      "occupancy", [](const TaskInputs& inputs, const OccupancyOptions& options) {
        PTQAT_CHECK(inputs.data.frame == "ego", ConfigError,
                    "data.frame: expected \"ego\" for the occupancy task (Occ3D grids live in the "
                    "ego frame), got \"{}\"",
                    inputs.data.frame);
        return std::make_unique<occupancy::OccupancyTask>(
            inputs.model, options, inputs.pillars, inputs.index, inputs.data.occupancy_root(),
            inputs.data.train_split, inputs.data.eval_split);
      });
}

/// The registrations, guarded: registration happens at start-up, but a lock costs nothing there
/// and keeps a late registration from racing a loader thread that builds a config.
struct Registry {
  std::mutex mutex;
  std::vector<TaskRegistration> tasks = {detection_task(), segmentation_task(), occupancy_task()};
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

/// A copy of task `name`'s registration (the lock is not held while it runs).
TaskRegistration registration_of(const std::string& name) {
  {
    Registry& all = registry();
    const std::lock_guard<std::mutex> lock(all.mutex);
    for (const TaskRegistration& task : all.tasks) {
      if (task.name == name) return task;
    }
  }
  PTQAT_FAIL(ConfigError, "task: expected one of [{}], got \"{}\"", fmt::join(task_names(), ", "),
             name);
}

}  // namespace

void register_task(TaskRegistration registration) {
  const std::string& name = registration.name;
  PTQAT_CHECK(valid_name(name), ConfigError,
              "register_task: task name '{}': expected lower-case letters, digits and '_'", name);
  PTQAT_CHECK(static_cast<bool>(registration.make), ConfigError,
              "register_task: task '{}' has no maker", name);
  Registry& all = registry();
  const std::lock_guard<std::mutex> lock(all.mutex);
  for (const TaskRegistration& task : all.tasks) {
    PTQAT_CHECK(task.name != name, ConfigError, "register_task: task '{}' is registered already",
                name);
  }
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

std::unique_ptr<Task> make_task(const std::string& name, const TaskInputs& inputs) {
  return registration_of(name).make(inputs);
}

void validate_task(const std::string& name, const TaskInputs& inputs) {
  const TaskRegistration task = registration_of(name);
  if (task.validate) task.validate(inputs);
}

std::optional<quant::NameMapping> task_checkpoint_names(const std::string& name,
                                                        const std::string& convention,
                                                        const TaskInputs& inputs) {
  const TaskRegistration task = registration_of(name);
  if (!task.checkpoint_names) return std::nullopt;
  return task.checkpoint_names(convention, inputs);
}

}  // namespace ptqat::tasks
