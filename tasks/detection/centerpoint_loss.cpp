#include "tasks/detection/centerpoint_loss.h"

#include <fmt/format.h>

#include "core/error.h"

namespace ptqat::tasks::detection {

namespace {

/// mmdet3d's gaussian_focal_loss epsilon inside the logarithms.
constexpr double kLogEps = 1e-12;

}  // namespace

torch::Tensor clamped_sigmoid(const torch::Tensor& logits) {
  return torch::clamp(torch::sigmoid(logits), 1e-4, 1.0 - 1e-4);
}

torch::Tensor gaussian_focal_loss(const torch::Tensor& pred, const torch::Tensor& target,
                                  double alpha, double beta) {
  PTQAT_ASSERT(pred.sizes() == target.sizes(), "focal loss: pred {} and target {} differ",
               fmt::join(pred.sizes(), "x"), fmt::join(target.sizes(), "x"));
  const torch::Tensor positive = target.eq(1.0);
  const torch::Tensor positive_loss =
      -torch::log(pred + kLogEps) * torch::pow(1.0 - pred, alpha) * positive;
  const torch::Tensor negative_weight = torch::pow(1.0 - target, beta);
  const torch::Tensor negative_loss =
      -torch::log(1.0 - pred + kLogEps) * torch::pow(pred, alpha) * negative_weight;
  // A tensor divisor: no host sync on a GPU.
  const torch::Tensor positives = positive.sum().to(pred.scalar_type()).clamp_min(1.0);
  return (positive_loss.sum() + negative_loss.sum()) / positives;
}

torch::Tensor gather_cells(const torch::Tensor& maps, const torch::Tensor& indices) {
  PTQAT_ASSERT(maps.dim() == 4 && indices.dim() == 2 && indices.size(0) == maps.size(0),
               "gather_cells: maps {} and indices {} do not match", fmt::join(maps.sizes(), "x"),
               fmt::join(indices.sizes(), "x"));
  const int64_t batch = maps.size(0), channels = maps.size(1);
  const torch::Tensor flat = maps.reshape({batch, channels, -1});
  const torch::Tensor index = indices.unsqueeze(1).expand({batch, channels, indices.size(1)});
  return flat.gather(2, index).permute({0, 2, 1});
}

torch::Tensor weighted_l1_loss(const torch::Tensor& pred, const torch::Tensor& target,
                               const torch::Tensor& mask, const std::vector<double>& code_weights) {
  PTQAT_ASSERT(pred.sizes() == target.sizes() && pred.dim() == 3 &&
                   static_cast<int64_t>(code_weights.size()) == pred.size(2),
               "L1 loss: pred {}, target {}, {} code weights do not match",
               fmt::join(pred.sizes(), "x"), fmt::join(target.sizes(), "x"), code_weights.size());
  const torch::Tensor codes =
      torch::tensor(code_weights, torch::TensorOptions().dtype(torch::kFloat64)).to(pred.options());
  const torch::Tensor valid = target.isnan().logical_not();
  const torch::Tensor weights = mask.unsqueeze(2).to(pred.scalar_type()) * codes * valid;
  const torch::Tensor difference = torch::abs(pred - torch::nan_to_num(target, 0.0));
  const torch::Tensor rows = mask.sum().to(pred.scalar_type());
  return (difference * weights).sum() / (rows + 1e-4);
}

StepLoss centerpoint_loss(const CenterPointOutput& output, const std::vector<GroupTargets>& targets,
                          const CenterPointLossConfig& config) {
  PTQAT_ASSERT(output.size() == targets.size(), "{} head outputs for {} target groups",
               output.size(), targets.size());
  StepLoss loss;
  torch::Tensor heatmap_sum, bbox_sum;
  for (size_t g = 0; g < output.size(); ++g) {
    const CenterPointHeadOutput& head = output[g];
    const GroupTargets& target = targets[g];
    const torch::Tensor heatmap =
        config.heatmap_weight * gaussian_focal_loss(clamped_sigmoid(head.heatmap), target.heatmap);
    const torch::Tensor bbox =
        config.bbox_weight * weighted_l1_loss(gather_cells(head.regression(), target.indices),
                                              target.boxes, target.mask, config.code_weights);
    loss.parts[fmt::format("group{}.heatmap", g)] = heatmap.detach();
    loss.parts[fmt::format("group{}.bbox", g)] = bbox.detach();
    heatmap_sum = heatmap_sum.defined() ? heatmap_sum + heatmap : heatmap;
    bbox_sum = bbox_sum.defined() ? bbox_sum + bbox : bbox;
  }
  PTQAT_ASSERT(heatmap_sum.defined(), "CenterPoint loss without task groups");
  loss.total = heatmap_sum + bbox_sum;
  loss.parts["heatmap"] = heatmap_sum.detach();
  loss.parts["bbox"] = bbox_sum.detach();
  return loss;
}

}  // namespace ptqat::tasks::detection
