#include "tasks/detection/detection_task.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/categories.h"
#include "tasks/detection/centerpoint_decode.h"
#include "tasks/detection/centerpoint_loss.h"
#include "tasks/detection/centerpoint_model.h"
#include "tasks/detection/centerpoint_targets.h"
#include "tasks/detection/detection_eval.h"
#include "tasks/detection/submission_json.h"

namespace ptqat::tasks::detection {

namespace {

CenterPointModelImpl& as_centerpoint(torch::nn::Module& model) {
  auto* centerpoint = dynamic_cast<CenterPointModelImpl*>(&model);
  PTQAT_ASSERT(centerpoint != nullptr, "the detection task got a model it did not build");
  return *centerpoint;
}

/// The metrics JSON of `ptqat eval --metrics-json`: ptqat's flat names first, then the devkit's
/// own metrics_summary.json under "devkit" (so the official tools' readers find their keys).
nlohmann::ordered_json metrics_json(const DetectionMetrics& metrics) {
  nlohmann::ordered_json json;
  json["mAP"] = metrics.mean_ap;
  json["NDS"] = metrics.nd_score;
  for (int m = 0; m < kNumTpMetrics; ++m) {
    const double error = metrics.tp_errors[static_cast<size_t>(m)];
    json[std::string(kTpMetricShortNames[static_cast<size_t>(m)])] =
        std::isnan(error) ? nlohmann::ordered_json() : nlohmann::ordered_json(error);
  }
  nlohmann::ordered_json per_class;
  for (size_t c = 0; c < datasets::kDetectionNames.size(); ++c) {
    per_class[std::string(datasets::kDetectionNames[c])] = metrics.mean_dist_aps[c];
  }
  json["per_class_AP"] = per_class;
  json["devkit"] = metrics.to_json();
  return json;
}

class DetectionEvaluation final : public Evaluation {
 public:
  DetectionEvaluation(const DetectionModelConfig& config,
                      std::shared_ptr<const datasets::NuScenes> index, std::string split)
      : config_(config), index_(std::move(index)), split_(std::move(split)) {}

  void add(torch::nn::Module& model, const datasets::Batch& batch) override {
    CenterPointModelImpl& centerpoint = as_centerpoint(model);
    const CenterPointOutput output = centerpoint.forward(batch);
    const std::vector<DecodedBoxes> decoded =
        decode(output, centerpoint.class_groups(), centerpoint.grid(), config_.decode);
    add_predictions(*index_, batch, decoded, results_);
  }

  TaskMetrics finish(const PredictionExport& output) override {
    if (!output.submission_json.empty()) {
      Submission submission;
      submission.meta.use_lidar = true;
      submission.results = results_;
      write_submission(output.submission_json, submission);
    }
    TaskMetrics metrics;
    metrics.primary = "NDS";
    metrics.has_ground_truth = has_detection_ground_truth(*index_, split_);
    if (!metrics.has_ground_truth) return metrics;
    const DetectionMetrics official = evaluate_detection(*index_, split_, std::move(results_));
    metrics.scalars["mAP"] = official.mean_ap;
    metrics.scalars["NDS"] = official.nd_score;
    for (int m = 0; m < kNumTpMetrics; ++m) {
      metrics.scalars[std::string(kTpMetricShortNames[static_cast<size_t>(m)])] =
          official.tp_errors[static_cast<size_t>(m)];
    }
    std::vector<double> ap;
    for (size_t c = 0; c < datasets::kDetectionNames.size(); ++c) {
      metrics.class_names.emplace_back(datasets::kDetectionNames[c]);
      ap.push_back(official.mean_dist_aps[c]);
    }
    metrics.per_class["AP"] = std::move(ap);
    metrics.json = metrics_json(official).dump(2);
    return metrics;
  }

 private:
  DetectionModelConfig config_;
  std::shared_ptr<const datasets::NuScenes> index_;
  std::string split_;
  DetectionResults results_;
};

}  // namespace

DetectionTask::DetectionTask(DetectionModelConfig model, datasets::PillarConfig pillars,
                             std::shared_ptr<const datasets::NuScenes> index,
                             std::string eval_split)
    : model_(std::move(model)),
      pillars_(std::move(pillars)),
      index_(std::move(index)),
      eval_split_(std::move(eval_split)) {
  validate(model_, pillars_);
}

std::shared_ptr<torch::nn::Module> DetectionTask::build_model() const {
  return CenterPointModel(model_, pillars_).ptr();
}

void DetectionTask::forward(torch::nn::Module& model, const datasets::Batch& batch) const {
  as_centerpoint(model).forward(batch);
}

StepLoss DetectionTask::loss(torch::nn::Module& model, const datasets::Batch& batch) const {
  CenterPointModelImpl& centerpoint = as_centerpoint(model);
  const CenterPointOutput output = centerpoint.forward(batch);
  const std::vector<GroupTargets> targets = build_targets(
      batch.boxes, batch.box_labels, centerpoint.class_groups(), centerpoint.grid(), model_.target);
  return centerpoint_loss(output, targets, model_.loss);
}

std::unique_ptr<Evaluation> DetectionTask::begin_evaluation() const {
  return std::make_unique<DetectionEvaluation>(model_, index_, eval_split_);
}

}  // namespace ptqat::tasks::detection
