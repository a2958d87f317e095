#include "tasks/occupancy/occupancy_task.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include "core/error.h"
#include "datasets/nuscenes/npz.h"
#include "datasets/nuscenes_dataset.h"
#include "datasets/nuscenes/occ3d.h"
#include "tasks/class_weights.h"
#include "tasks/occupancy/occ3d_metric.h"
#include "tasks/occupancy/occupancy_model.h"
#include "tasks/occupancy/run_length.h"

namespace ptqat::tasks::occupancy {

namespace {

/// Train samples whose labels the class weights count: enough for stable frequencies, few
/// enough that reading them (a deflated .npz each) stays seconds at trainval scale.
constexpr size_t kWeightSamples = 256;

OccupancyModelImpl& as_occupancy(torch::nn::Module& model) {
  auto* occupancy = dynamic_cast<OccupancyModelImpl*>(&model);
  PTQAT_ASSERT(occupancy != nullptr, "the occupancy task got a model it did not build");
  return *occupancy;
}

/// The voxels the loss counts, [B, 200, 200, 16] bool, or undefined for every voxel.
/// The voxels OccupancyConfig::mask counts: the camera or LiDAR visibility mask, or undefined
/// for every voxel.
torch::Tensor counted_voxels(const std::string& mask, const torch::Tensor& camera,
                             const torch::Tensor& lidar) {
  if (mask == "camera") return camera;
  if (mask == "lidar") return lidar;
  return {};
}

/// A prediction's [x, y, z] grid from its runs, which are coded in [z, x, y] order.
torch::Tensor grid_of(const RunLength& runs) { return runs.decode().permute({1, 2, 0}).contiguous(); }

class OccupancyEvaluation final : public Evaluation {
 public:
  OccupancyEvaluation(std::shared_ptr<const datasets::NuScenes> index, std::string occupancy_root,
                      std::string split)
      : index_(std::move(index)),
        occupancy_root_(std::move(occupancy_root)),
        split_(std::move(split)) {}

  void add(torch::nn::Module& model, const datasets::Batch& batch) override {
    const torch::Tensor classes =
        as_occupancy(model).forward(batch).argmax(1).to(torch::kCPU, torch::kUInt8);
    for (int64_t i = 0; i < batch.size(); ++i) {
      if (batch.padding[static_cast<size_t>(i)]) continue;
      const std::optional<datasets::Token> token =
          datasets::Token::parse(batch.tokens[static_cast<size_t>(i)]);
      PTQAT_ASSERT(token.has_value(), "batch token '{}'", batch.tokens[static_cast<size_t>(i)]);
      // Coded slice by slice in z: a horizontal slice is large areas of one class, while a
      // column changes class at the ground and at every object.
      predictions_[index_->sample_row(*token)] = encode_runs(classes[i].permute({2, 0, 1}));
    }
  }

  std::string serialize() const override {
    std::string bytes;
    const auto put = [&bytes](const void* data, size_t size) {
      bytes.append(static_cast<const char*>(data), size);
    };
    for (const auto& [row, runs] : predictions_) {
      const std::array<uint64_t, 2> header = {static_cast<uint64_t>(row), runs.counts.size()};
      put(header.data(), sizeof(header));
      put(runs.values.data(), runs.values.size());
      put(runs.counts.data(), runs.counts.size() * sizeof(uint32_t));
    }
    return bytes;
  }

  void merge(const std::string& bytes) override {
    size_t at = 0;
    const auto take = [&](void* data, size_t size) {
      PTQAT_CHECK(at + size <= bytes.size(), DataError,
                  "occupancy predictions: {} bytes end inside a record", bytes.size());
      std::memcpy(data, bytes.data() + at, size);
      at += size;
    };
    while (at < bytes.size()) {
      std::array<uint64_t, 2> header{};
      take(header.data(), sizeof(header));
      PTQAT_CHECK(header[0] < index_->tables().sample.size() && header[1] <= bytes.size(),
                  DataError, "occupancy predictions: malformed record at byte {}", at);
      RunLength runs;
      runs.shape = {datasets::kOccGridZ, datasets::kOccGridX, datasets::kOccGridY};
      runs.values.resize(header[1]);
      runs.counts.resize(header[1]);
      take(runs.values.data(), header[1]);
      take(runs.counts.data(), header[1] * sizeof(uint32_t));
      predictions_[static_cast<datasets::Row>(header[0])] = std::move(runs);
    }
  }

  TaskMetrics finish(const PredictionExport& output) override {
    const auto& tables = index_->tables();
    if (!output.directory.empty()) {
      for (const auto& [row, runs] : predictions_) {
        // np.savez_compressed(path, pred) names the array arr_0.
        datasets::write_npz((std::filesystem::path(output.directory) / "occupancy" /
                             (tables.sample[row].token.hex() + ".npz"))
                                .string(),
                            {{"arr_0", grid_of(runs)}}, true);
      }
    }
    TaskMetrics metrics;
    metrics.primary = "mIoU";
    metrics.has_ground_truth = has_ground_truth();
    if (!metrics.has_ground_truth) return metrics;
    Occ3dConfusion confusion;
    int64_t samples = 0;
    for (const datasets::Row sample : index_->split_samples(split_)) {
      const auto found = predictions_.find(sample);
      PTQAT_CHECK(found != predictions_.end(), Error,
                  "occupancy evaluation: no prediction for sample {} of split {}",
                  tables.sample[sample].token.hex(), split_);
      const datasets::Occ3dLabels truth = datasets::read_occ3d_labels(
          datasets::occupancy_labels_path(*index_, occupancy_root_, sample));
      confusion.add(truth.semantics, grid_of(found->second), truth.mask_camera);
      ++samples;
    }
    const std::array<double, kNumOccClasses> iou = confusion.iou();
    metrics.scalars["mIoU"] = confusion.mean_iou();
    nlohmann::ordered_json json;
    json["mIoU"] = confusion.mean_iou();
    nlohmann::ordered_json per_class;
    std::vector<double> values;
    for (int c = 0; c < kNumOccClasses; ++c) {
      metrics.class_names.emplace_back(kOccClassNames[static_cast<size_t>(c)]);
      values.push_back(iou[static_cast<size_t>(c)]);
      per_class[kOccClassNames[static_cast<size_t>(c)]] =
          std::isnan(values.back()) ? nlohmann::ordered_json() : nlohmann::ordered_json(values.back());
    }
    metrics.per_class["IoU"] = std::move(values);
    json["per_class_IoU"] = per_class;
    json["mask"] = "camera";
    json["num_samples"] = samples;
    metrics.json = json.dump(2);
    return metrics;
  }

 private:
  bool has_ground_truth() const {
    for (const datasets::Row sample : index_->split_samples(split_)) {
      if (std::filesystem::is_regular_file(
              datasets::occupancy_labels_path(*index_, occupancy_root_, sample))) {
        return true;
      }
    }
    return false;
  }

  std::shared_ptr<const datasets::NuScenes> index_;
  std::string occupancy_root_;
  std::string split_;
  std::map<datasets::Row, RunLength> predictions_;
};

}  // namespace

OccupancyTask::OccupancyTask(bev::BevNetConfig bev, OccupancyConfig head,
                             datasets::PillarConfig pillars,
                             std::shared_ptr<const datasets::NuScenes> index,
                             std::string occupancy_root, std::string train_split,
                             std::string eval_split)
    : bev_(std::move(bev)),
      head_(std::move(head)),
      pillars_(std::move(pillars)),
      index_(std::move(index)),
      occupancy_root_(std::move(occupancy_root)),
      train_split_(std::move(train_split)),
      eval_split_(std::move(eval_split)) {
  bev::validate(bev_, pillars_);
  validate_occupancy_grid(pillars_);
}

std::shared_ptr<torch::nn::Module> OccupancyTask::build_model() const {
  return OccupancyModel(bev_, head_, pillars_).ptr();
}

void OccupancyTask::forward(torch::nn::Module& model, const datasets::Batch& batch) const {
  as_occupancy(model).forward(batch);
}

const torch::Tensor& OccupancyTask::class_weights() const {
  std::call_once(weights_once_, [&] {
    if (head_.class_weights == "none") {
      weights_ = torch::ones({kNumOccClasses});
      return;
    }
    const std::vector<datasets::Row> rows = index_->split_samples(train_split_);
    const size_t step = std::max<size_t>(1, rows.size() / kWeightSamples);
    torch::Tensor counts = torch::zeros({kNumOccClasses}, torch::kInt64);
    for (size_t i = 0; i < rows.size(); i += step) {
      const datasets::Occ3dLabels labels = datasets::read_occ3d_labels(
          datasets::occupancy_labels_path(*index_, occupancy_root_, rows[i]));
      const torch::Tensor mask = counted_voxels(head_.mask, labels.mask_camera, labels.mask_lidar);
      const torch::Tensor counted = mask.defined() ? labels.semantics.index({mask}) : labels.semantics.reshape({-1});
      counts += torch::bincount(counted.to(torch::kInt64), {}, kNumOccClasses);
    }
    weights_ = inverse_log_weights(counts);
    spdlog::info("occupancy class weights from {} voxels of {}: [{}]",
                 counts.sum().item<int64_t>(), train_split_, weights_text(weights_));
  });
  return weights_;
}

StepLoss OccupancyTask::loss(torch::nn::Module& model, const datasets::Batch& batch) const {
  PTQAT_CHECK(batch.occ_semantics.defined(), ConfigError,
              "data.occupancy: expected true for the occupancy task (training needs Occ3D "
              "labels)");
  const torch::Tensor logits = as_occupancy(model).forward(batch);
  torch::Tensor target = batch.occ_semantics.to(logits.device(), torch::kInt64);
  const torch::Tensor mask = counted_voxels(head_.mask, batch.occ_mask_camera, batch.occ_mask_lidar);
  constexpr int64_t kIgnored = -100;
  if (mask.defined()) target = target.masked_fill(mask.to(target.device()).logical_not(), kIgnored);
  StepLoss loss;
  loss.total = torch::nn::functional::cross_entropy(
      logits, target,
      torch::nn::functional::CrossEntropyFuncOptions()
          .weight(class_weights().to(logits.device()))
          .ignore_index(kIgnored));
  loss.parts["cross_entropy"] = loss.total.detach();
  return loss;
}

std::unique_ptr<Evaluation> OccupancyTask::begin_evaluation() const {
  return std::make_unique<OccupancyEvaluation>(index_, occupancy_root_, eval_split_);
}

}  // namespace ptqat::tasks::occupancy
