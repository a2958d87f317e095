#include "tasks/segmentation/segmentation_task.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstring>
#include <optional>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/durable_file.h"
#include "core/error.h"
#include "core/logging.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "tasks/class_weights.h"
#include "tasks/segmentation/lidarseg_metric.h"
#include "tasks/segmentation/segmentation_model.h"

namespace ptqat::tasks::segmentation {

namespace {

SegmentationModelImpl& as_segmentation(torch::nn::Module& model) {
  auto* segmentation = dynamic_cast<SegmentationModelImpl*>(&model);
  PTQAT_ASSERT(segmentation != nullptr, "the segmentation task got a model it did not build");
  return *segmentation;
}

/// Labelled points (1..16) of the keyframes: what the loss sees.
torch::Tensor labelled_points(const datasets::Batch& batch) {
  PTQAT_CHECK(batch.point_labels.defined(), ConfigError,
              "data.lidarseg: expected true for the segmentation task (training needs lidarseg "
              "labels)");
  return batch.point_labels > 0;
}

/// Challenge-class counts of the split's lidarseg labels, [17] int64.
torch::Tensor label_counts(const datasets::NuScenes& index, const std::string& split) {
  const auto& tables = index.tables();
  torch::Tensor counts = torch::zeros({kNumClasses}, torch::kInt64);
  for (const datasets::Row sample : index.split_samples(split)) {
    const datasets::Row record = index.lidarseg_of(tables.sample[sample].lidar_top);
    if (record == datasets::kNoRow) continue;
    const torch::Tensor labels = index.to_challenge_labels(
        datasets::read_lidarseg_labels(index.path_of(tables.lidarseg[record].filename), -1));
    counts += torch::bincount(labels, {}, kNumClasses);
  }
  return counts;
}

class SegmentationEvaluation final : public Evaluation {
 public:
  SegmentationEvaluation(std::shared_ptr<const datasets::NuScenes> index, std::string split)
      : index_(std::move(index)), split_(std::move(split)) {}

  void add(torch::nn::Module& model, const datasets::Batch& batch) override {
    const torch::Tensor logits = as_segmentation(model).forward(batch, batch.point_keyframe);
    const torch::Tensor labels = (logits.argmax(1) + 1).to(torch::kCPU, torch::kUInt8);
    const torch::Tensor owner = batch.point_batch.index({batch.point_keyframe}).to(torch::kCPU);
    for (int64_t i = 0; i < batch.size(); ++i) {
      if (batch.padding[static_cast<size_t>(i)]) continue;
      predictions_[sample_row(batch.tokens[static_cast<size_t>(i)])] =
          labels.index({owner == i}).contiguous();
    }
  }

  std::string serialize() const override {
    std::string bytes;
    for (const auto& [row, labels] : predictions_) {
      const auto header = std::array<uint64_t, 2>{static_cast<uint64_t>(row),
                                                  static_cast<uint64_t>(labels.numel())};
      bytes.append(reinterpret_cast<const char*>(header.data()), sizeof(header));
      bytes.append(static_cast<const char*>(labels.data_ptr()),
                   static_cast<size_t>(labels.numel()));
    }
    return bytes;
  }

  void merge(const std::string& bytes) override {
    size_t at = 0;
    while (at < bytes.size()) {
      std::array<uint64_t, 2> header{};
      PTQAT_CHECK(at + sizeof(header) <= bytes.size(), DataError,
                  "segmentation predictions: {} bytes end inside a header", bytes.size());
      std::memcpy(header.data(), bytes.data() + at, sizeof(header));
      at += sizeof(header);
      PTQAT_CHECK(at + header[1] <= bytes.size() && header[0] < index_->tables().sample.size(),
                  DataError, "segmentation predictions: malformed record at byte {}", at);
      torch::Tensor labels = torch::empty({static_cast<int64_t>(header[1])}, torch::kUInt8);
      std::memcpy(labels.data_ptr(), bytes.data() + at, header[1]);
      at += header[1];
      predictions_[static_cast<datasets::Row>(header[0])] = labels;
    }
  }

  TaskMetrics finish(const PredictionExport& output) override {
    const auto& tables = index_->tables();
    if (!output.directory.empty()) write_challenge_folder(output.directory);
    TaskMetrics metrics;
    metrics.primary = "mIoU";
    metrics.has_ground_truth = has_ground_truth();
    if (!metrics.has_ground_truth) return metrics;
    const LidarsegMetrics official =
        evaluate_lidarseg(*index_, split_, [&](datasets::Row sample, int64_t) {
          const auto found = predictions_.find(sample);
          PTQAT_CHECK(found != predictions_.end(), Error,
                      "segmentation evaluation: no prediction for sample {} of split {}",
                      tables.sample[sample].token.hex(), split_);
          return found->second;
        });
    metrics.scalars["mIoU"] = official.mean_iou;
    metrics.scalars["fwIoU"] = official.frequency_weighted_iou;
    nlohmann::ordered_json json;
    json["mIoU"] = official.mean_iou;
    json["fwIoU"] = official.frequency_weighted_iou;
    nlohmann::ordered_json per_class;
    std::vector<double> iou;
    for (int c = 1; c < kNumClasses; ++c) {
      const std::string name(datasets::kLidarsegClassNames[static_cast<size_t>(c)]);
      metrics.class_names.push_back(name);
      iou.push_back(official.iou[static_cast<size_t>(c)]);
      per_class[name] = std::isnan(iou.back()) ? nlohmann::ordered_json() : nlohmann::ordered_json(iou.back());
    }
    metrics.per_class["IoU"] = std::move(iou);
    json["per_class_IoU"] = per_class;
    json["num_samples"] = official.samples;
    metrics.json = json.dump(2);
    return metrics;
  }

 private:
  datasets::Row sample_row(const std::string& token) const {
    const std::optional<datasets::Token> parsed = datasets::Token::parse(token);
    PTQAT_ASSERT(parsed.has_value(), "batch token '{}' is not a token", token);
    return index_->sample_row(*parsed);
  }

  bool has_ground_truth() const {
    const auto& tables = index_->tables();
    if (!tables.has_lidarseg) return false;
    for (const datasets::Row sample : index_->split_samples(split_)) {
      if (index_->lidarseg_of(tables.sample[sample].lidar_top) != datasets::kNoRow) return true;
    }
    return false;
  }

  void write_challenge_folder(const std::string& directory) const {
    const auto& tables = index_->tables();
    for (const auto& [row, labels] : predictions_) {
      datasets::write_lidarseg_labels(
          lidarseg_prediction_path(directory, split_,
                                   tables.sample_data[tables.sample[row].lidar_top].token.hex()),
          labels);
    }
    // The meta file the challenge's validator reads: a LiDAR-only method.
    const nlohmann::json meta = {{"meta",
                                  {{"use_camera", false},
                                   {"use_lidar", true},
                                   {"use_radar", false},
                                   {"use_map", false},
                                   {"use_external", false}}}};
    const std::filesystem::path folder = std::filesystem::path(directory) / split_;
    std::filesystem::create_directories(folder);
    core::write_file_durably((folder / "submission.json").string(), meta.dump());
  }

  std::shared_ptr<const datasets::NuScenes> index_;
  std::string split_;
  std::map<datasets::Row, torch::Tensor> predictions_;  ///< [keyframe points] uint8 1..16
};

}  // namespace

SegmentationTask::SegmentationTask(bev::BevNetConfig bev, SegmentationConfig head,
                                   datasets::PillarConfig pillars,
                                   std::shared_ptr<const datasets::NuScenes> index,
                                   std::string train_split, std::string eval_split)
    : bev_(std::move(bev)),
      head_(std::move(head)),
      pillars_(std::move(pillars)),
      index_(std::move(index)),
      train_split_(std::move(train_split)),
      eval_split_(std::move(eval_split)) {
  bev::validate(bev_, pillars_);
}

std::shared_ptr<torch::nn::Module> SegmentationTask::build_model() const {
  return SegmentationModel(bev_, head_, pillars_).ptr();
}

void SegmentationTask::forward(torch::nn::Module& model, const datasets::Batch& batch) const {
  as_segmentation(model).forward(batch, batch.point_keyframe);
}

const torch::Tensor& SegmentationTask::class_weights() const {
  std::call_once(weights_once_, [&] {
    if (head_.class_weights == "none") {
      weights_ = torch::ones({kNumClasses - 1});
      return;
    }
    const torch::Tensor counts = label_counts(*index_, train_split_);
    weights_ = inverse_log_weights(counts.slice(0, 1));
    spdlog::info("segmentation class weights from {} labelled points of {}: [{}]",
                 counts.slice(0, 1).sum().item<int64_t>(), train_split_, weights_text(weights_));
  });
  return weights_;
}

StepLoss SegmentationTask::loss(torch::nn::Module& model, const datasets::Batch& batch) const {
  const torch::Tensor points = labelled_points(batch);
  const torch::Tensor logits = as_segmentation(model).forward(batch, points);
  const torch::Tensor target = batch.point_labels.index({points}) - 1;
  const torch::Tensor weights = class_weights().to(logits.device());
  StepLoss loss;
  loss.total = torch::nn::functional::cross_entropy(
      logits, target, torch::nn::functional::CrossEntropyFuncOptions().weight(weights));
  loss.parts["cross_entropy"] = loss.total.detach();
  return loss;
}

std::unique_ptr<Evaluation> SegmentationTask::begin_evaluation() const {
  return std::make_unique<SegmentationEvaluation>(index_, eval_split_);
}

}  // namespace ptqat::tasks::segmentation
