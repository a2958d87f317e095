#include "presence_task.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "datasets/nuscenes/categories.h"
#include "quant/qlinear.h"
#include "quant/with_batch_norm.h"
#include "runner/task_plugins.h"
#include "tasks/bev/pillar_feature_net.h"

namespace presence {
namespace {

using ptqat::datasets::kNumDetectionClasses;

/// Pillar net -> BEV pseudo-image -> two strided conv3x3 -> global max -> one logit per class.
class PresenceNetImpl : public torch::nn::Module {
 public:
  PresenceNetImpl(const ptqat::datasets::PillarConfig& pillars, int64_t channels)
      : grid_x_(pillars.grid_x()), grid_y_(pillars.grid_y()) {
    namespace nn = torch::nn;
    pfn_ = register_module(
        "pfn", ptqat::tasks::bev::PillarFeatureNet(ptqat::tasks::bev::kPillarPointFeatures,
                                                   std::vector<int64_t>{channels}, 1e-3, 0.01));
    const auto conv = [&](int64_t in, int64_t out) {
      return ptqat::quant::QConvBn2d(nn::Conv2dOptions(in, out, 3).stride(2).padding(1).bias(false),
                                     nn::BatchNorm2dOptions(out).eps(1e-3).momentum(0.01));
    };
    conv1_ = register_module("conv1", conv(channels, channels));
    conv2_ = register_module("conv2", conv(channels, 2 * channels));
    classifier_ = register_module(
        "classifier", ptqat::quant::QLinear(nn::LinearOptions(2 * channels, kNumDetectionClasses)));
  }

  /// Logits [B, 10].
  torch::Tensor forward(const ptqat::datasets::Batch& batch) {
    const torch::Tensor pillars = pfn_(batch.pillar_features, batch.pillar_num_points);
    torch::Tensor x = ptqat::tasks::bev::scatter_to_bev(pillars, batch.pillar_coords, batch.size(),
                                                        grid_y_, grid_x_);
    x = torch::relu(conv2_(torch::relu(conv1_(x))));
    return classifier_(std::get<0>(x.flatten(2).max(2)));
  }

 private:
  int64_t grid_x_, grid_y_;
  ptqat::tasks::bev::PillarFeatureNet pfn_{nullptr};
  ptqat::quant::QConvBn2d conv1_{nullptr}, conv2_{nullptr};
  ptqat::quant::QLinear classifier_{nullptr};
};
TORCH_MODULE(PresenceNet);

PresenceNetImpl& as_presence(torch::nn::Module& model) {
  auto* net = dynamic_cast<PresenceNetImpl*>(&model);
  PTQAT_ASSERT(net != nullptr, "the presence task got a model it did not build");
  return *net;
}

/// [B, 10] float: 1 where the sample has a box of the class within `radius` metres of the
/// sensor (in x and y).
torch::Tensor present_classes(const ptqat::datasets::Batch& batch, double radius) {
  const torch::Tensor near = batch.boxes.slice(2, 0, 2).norm(2, 2) <= radius;  // [B, M]
  const torch::Tensor labels =
      torch::where(near, batch.box_labels, torch::full_like(batch.box_labels, -1));
  torch::Tensor present = torch::zeros({batch.size(), kNumDetectionClasses + 1}, torch::kFloat32);
  present.scatter_(1, (labels + 1).clamp_min(0), 1.0);  // column 0 collects the padding
  return present.slice(1, 1);
}

/// Confusion counts per class, summed over the split: a count-based metric merges by addition.
class PresenceEvaluation final : public ptqat::tasks::Evaluation {
 public:
  explicit PresenceEvaluation(const PresenceOptions& options) : options_(options) {}

  void add(torch::nn::Module& model, const ptqat::datasets::Batch& batch) override {
    const torch::Tensor predicted =
        (torch::sigmoid(as_presence(model).forward(batch)) > options_.threshold).cpu();
    const torch::Tensor truth = present_classes(batch, options_.radius) > 0.5;
    for (int64_t i = 0; i < batch.size(); ++i) {
      if (batch.padding[static_cast<size_t>(i)]) continue;
      for (int64_t c = 0; c < kNumDetectionClasses; ++c) {
        const bool p = predicted[i][c].item<bool>(), t = truth[i][c].item<bool>();
        ++counts_[static_cast<size_t>(c)][(t ? 2 : 0) + (p ? 1 : 0)];  // TN, FP, FN, TP
      }
    }
  }

  ptqat::tasks::TaskMetrics finish(const ptqat::tasks::PredictionExport&) override {
    ptqat::tasks::TaskMetrics metrics;
    metrics.primary = "mBA";
    std::vector<double> balanced;
    nlohmann::ordered_json per_class;
    double correct = 0, total = 0, sum = 0;
    for (int c = 0; c < kNumDetectionClasses; ++c) {
      const auto& [tn, fp, fn, tp] = counts_[static_cast<size_t>(c)];
      // Balanced accuracy: the mean of the recalls of "present" and "absent", so a class seen
      // in every scene (or none) is not solved by a constant answer.
      const double recall_present = tp + fn > 0 ? static_cast<double>(tp) / (tp + fn) : 1.0;
      const double recall_absent = tn + fp > 0 ? static_cast<double>(tn) / (tn + fp) : 1.0;
      balanced.push_back((recall_present + recall_absent) / 2);
      sum += balanced.back();
      correct += static_cast<double>(tp + tn);
      total += static_cast<double>(tp + tn + fp + fn);
      metrics.class_names.emplace_back(ptqat::datasets::kDetectionNames[static_cast<size_t>(c)]);
      per_class[metrics.class_names.back()] = balanced.back();
    }
    metrics.scalars["mBA"] = sum / kNumDetectionClasses;
    metrics.scalars["accuracy"] = total > 0 ? correct / total : 0.0;
    metrics.per_class["BA"] = balanced;
    metrics.json = nlohmann::ordered_json{
        {"mBA", metrics.scalars["mBA"]},
        {"accuracy", metrics.scalars["accuracy"]},
        {"per_class_BA",
         per_class}}.dump(2);
    return metrics;
  }

  std::string serialize() const override {
    return std::string(reinterpret_cast<const char*>(counts_.data()), sizeof(counts_));
  }

  void merge(const std::string& bytes) override {
    PTQAT_CHECK(bytes.size() == sizeof(counts_), ptqat::DataError,
                "presence evaluation: expected {} bytes of counts, got {}", sizeof(counts_),
                bytes.size());
    Counts other;
    std::memcpy(other.data(), bytes.data(), sizeof(other));
    for (size_t c = 0; c < counts_.size(); ++c) {
      for (size_t k = 0; k < 4; ++k) counts_[c][k] += other[c][k];
    }
  }

 private:
  using Counts = std::array<std::array<int64_t, 4>, kNumDetectionClasses>;
  PresenceOptions options_;
  Counts counts_{};
};

class PresenceTask final : public ptqat::tasks::Task {
 public:
  PresenceTask(ptqat::datasets::PillarConfig pillars, PresenceOptions options)
      : pillars_(std::move(pillars)), options_(options) {}

  std::shared_ptr<torch::nn::Module> build_model() const override {
    return PresenceNet(pillars_, options_.channels).ptr();
  }

  void forward(torch::nn::Module& model, const ptqat::datasets::Batch& batch) const override {
    as_presence(model).forward(batch);
  }

  ptqat::tasks::StepLoss loss(torch::nn::Module& model,
                              const ptqat::datasets::Batch& batch) const override {
    const torch::Tensor logits = as_presence(model).forward(batch);
    ptqat::tasks::StepLoss loss;
    loss.total = torch::binary_cross_entropy_with_logits(
        logits, present_classes(batch, options_.radius).to(logits.device()));
    loss.parts["bce"] = loss.total.detach();
    return loss;
  }

  std::unique_ptr<ptqat::tasks::Evaluation> begin_evaluation() const override {
    return std::make_unique<PresenceEvaluation>(options_);
  }

 private:
  ptqat::datasets::PillarConfig pillars_;
  PresenceOptions options_;
};

}  // namespace

void PresenceOptions::visit(ptqat::core::ConfigVisitor& v) {
  using ptqat::core::Stage;
  v.field({"channels", "width of the pillar net and the convolutions", Stage::kFloatTrain},
          channels, ptqat::core::IntRange{4, 512});
  v.field(
      {"radius", "a class is present when one of its boxes is this close (m)", Stage::kFloatTrain},
      radius, ptqat::core::RealRange{0.0, 200.0, true});
  v.field({"threshold", "probability above which a class counts as present", Stage::kEvaluate},
          threshold, ptqat::core::RealRange{0.0, 1.0});
}

std::unique_ptr<ptqat::tasks::Task> make_presence_task(const ptqat::tasks::TaskInputs& inputs,
                                                       const PresenceOptions& options) {
  return std::make_unique<PresenceTask>(inputs.pillars, options);
}

void register_presence_task() {
  ptqat::runner::register_task<PresenceOptions>("presence", make_presence_task);
}

}  // namespace presence
