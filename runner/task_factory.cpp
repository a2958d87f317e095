#include "runner/task_factory.h"

#include "core/error.h"
#include "tasks/detection/detection_task.h"
#include "tasks/occupancy/occupancy_task.h"
#include "tasks/segmentation/segmentation_task.h"

namespace ptqat::runner {

std::unique_ptr<tasks::Task> make_task(const RunConfig& config,
                                       std::shared_ptr<const datasets::NuScenes> index) {
  if (config.task == "detection") {
    return std::make_unique<tasks::detection::DetectionTask>(
        config.model, config.pillars, std::move(index), config.data.eval_split);
  }
  if (config.task == "segmentation") {
    return std::make_unique<tasks::segmentation::SegmentationTask>(
        config.model.bev, config.segmentation, config.pillars, std::move(index),
        config.data.train_split, config.data.eval_split);
  }
  if (config.task == "occupancy") {
    PTQAT_CHECK(config.data.frame == "ego", ConfigError,
                "data.frame: expected \"ego\" for the occupancy task (Occ3D grids live in the "
                "ego frame), got \"{}\"",
                config.data.frame);
    return std::make_unique<tasks::occupancy::OccupancyTask>(
        config.model.bev, config.occupancy, config.pillars, std::move(index),
        config.data.occupancy_root(), config.data.train_split, config.data.eval_split);
  }
  PTQAT_FAIL(ConfigError,
             "task: expected one of [detection, segmentation, occupancy], got \"{}\"",
             config.task);
}

}  // namespace ptqat::runner
