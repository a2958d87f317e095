#pragma once
// The detection task: CenterPoint on PointPillars (tasks/detection/centerpoint_model.h) trained
// with CenterPoint's targets and loss, evaluated with the official nuScenes detection metric.

#include <memory>
#include <string>

#include "datasets/nuscenes/nuscenes.h"
#include "datasets/pillars.h"
#include "tasks/detection/detection_model_config.h"
#include "tasks/task.h"

namespace ptqat::tasks::detection {

class DetectionTask final : public Task {
 public:
  /// `index` indexes the evaluation split `eval_split` (and is shared with the loaders).
  DetectionTask(DetectionModelConfig model, datasets::PillarConfig pillars,
                std::shared_ptr<const datasets::NuScenes> index, std::string eval_split);

  std::shared_ptr<torch::nn::Module> build_model() const override;
  void forward(torch::nn::Module& model, const datasets::Batch& batch) const override;
  StepLoss loss(torch::nn::Module& model, const datasets::Batch& batch) const override;
  /// Predictions in the global frame; finish() writes the submission JSON when asked and, when
  /// the split has ground truth, runs the official metric. Metrics: "mAP", "NDS", "mATE",
  /// "mASE", "mAOE", "mAVE", "mAAE"; per class "AP" (mean over thresholds); primary "NDS".
  std::unique_ptr<Evaluation> begin_evaluation() const override;

 private:
  DetectionModelConfig model_;
  datasets::PillarConfig pillars_;
  std::shared_ptr<const datasets::NuScenes> index_;
  std::string eval_split_;
};

}  // namespace ptqat::tasks::detection
