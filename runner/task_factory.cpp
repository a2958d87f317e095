#include "runner/task_factory.h"

#include "core/error.h"
#include "tasks/detection/detection_task.h"
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
  PTQAT_FAIL(ConfigError, "task: expected one of [detection, segmentation], got \"{}\"",
             config.task);
}

}  // namespace ptqat::runner
