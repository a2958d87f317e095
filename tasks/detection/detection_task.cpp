#include "tasks/detection/detection_task.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
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

  std::string serialize() const override {
    std::string bytes;
    const auto put = [&bytes](const auto& value) {
      bytes.append(reinterpret_cast<const char*>(&value), sizeof(value));
    };
    put(static_cast<uint64_t>(results_.num_samples()));
    for (const auto& [sample, boxes] : results_.entries()) {
      put(sample.high);
      put(sample.low);
      put(static_cast<uint64_t>(boxes.size()));
      for (const DetectionBox& box : boxes) {
        put(box.translation);
        put(box.size);
        put(box.rotation);
        put(box.velocity);
        put(box.detection_class);
        put(box.score);
        put(box.attribute);
        put(box.num_pts);
        put(box.ego_dist);
      }
    }
    return bytes;
  }

  void merge(const std::string& bytes) override {
    size_t at = 0;
    const auto get = [&](auto& value) {
      PTQAT_CHECK(at + sizeof(value) <= bytes.size(), DataError,
                  "detection predictions: {} bytes end inside a record", bytes.size());
      std::memcpy(&value, bytes.data() + at, sizeof(value));
      at += sizeof(value);
    };
    uint64_t samples = 0;
    get(samples);
    for (uint64_t s = 0; s < samples; ++s) {
      datasets::Token sample;
      uint64_t count = 0;
      get(sample.high);
      get(sample.low);
      get(count);
      std::vector<DetectionBox> boxes(count);
      for (DetectionBox& box : boxes) {
        box.sample_token = sample;
        get(box.translation);
        get(box.size);
        get(box.rotation);
        get(box.velocity);
        get(box.detection_class);
        get(box.score);
        get(box.attribute);
        get(box.num_pts);
        get(box.ego_dist);
      }
      results_.add(sample, std::move(boxes));
    }
    merged_ = true;
  }

  TaskMetrics finish(const PredictionExport& output) override {
    // Equal scores are ranked by insertion order (DetectionResults): merged shards are put back
    // into the split's order, so the metric is the one a single process computes.
    if (merged_) results_ = in_split_order(std::move(results_));
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
  DetectionResults in_split_order(DetectionResults results) const {
    std::unordered_map<datasets::Row, size_t> position;
    const std::vector<datasets::Row> rows = index_->split_samples(split_);
    for (size_t i = 0; i < rows.size(); ++i) position.emplace(rows[i], i);
    std::vector<DetectionResults::Entry> entries = results.release();
    const auto rank = [&](const DetectionResults::Entry& entry) {
      const auto found = position.find(index_->sample_row(entry.first));
      return found == position.end() ? rows.size() : found->second;
    };
    std::stable_sort(entries.begin(), entries.end(),
                     [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
    DetectionResults ordered;
    for (auto& [sample, boxes] : entries) ordered.add(sample, std::move(boxes));
    return ordered;
  }

  DetectionModelConfig config_;
  std::shared_ptr<const datasets::NuScenes> index_;
  std::string split_;
  DetectionResults results_;
  bool merged_ = false;  ///< holds other ranks' predictions: restore the split's order
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
