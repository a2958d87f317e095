#pragma once
// CenterPoint's training loss (mmdet3d CenterHead.loss): per task group, CenterNet's focal loss
// on the heatmap and a code-weighted L1 loss on the box regression at the target centres.

#include <torch/torch.h>

#include <vector>

#include "tasks/detection/centerpoint_model.h"
#include "tasks/detection/centerpoint_targets.h"
#include "tasks/detection/detection_model_config.h"
#include "tasks/task.h"

namespace ptqat::tasks::detection {

/// sigmoid(logits) clamped to [1e-4, 1 - 1e-4] (CenterPoint's clip_sigmoid), so the focal
/// loss's logarithms stay finite.
torch::Tensor clamped_sigmoid(const torch::Tensor& logits);

/// CenterNet's penalty-reduced focal loss (Zhou et al. 2019, eq. 1) on probabilities `pred` and
/// a Gaussian `target` of the same shape: positives (target == 1) add -(1 - p)^alpha log(p),
/// every other cell -(1 - t)^beta p^alpha log(1 - p); the sum is divided by max(1, positives).
/// Logarithms take p + 1e-12 and 1 - p + 1e-12 as mmdet3d's gaussian_focal_loss.
torch::Tensor gaussian_focal_loss(const torch::Tensor& pred, const torch::Tensor& target,
                                  double alpha = 2.0, double beta = 4.0);

/// The values of `maps` ([B, C, H, W]) at flat cells `indices` ([B, K], iy * W + ix):
/// [B, K, C].
torch::Tensor gather_cells(const torch::Tensor& maps, const torch::Tensor& indices);

/// sum over rows k with mask[b, k] and channels c of code_weights[c] * |pred - target|, divided
/// by (number of masked rows + 1e-4) (mmdet3d's L1Loss with avg_factor). `pred`, `target`
/// [B, K, C], `mask` [B, K] bool, `code_weights` C values. NaN targets count as 0 weight.
torch::Tensor weighted_l1_loss(const torch::Tensor& pred, const torch::Tensor& target,
                               const torch::Tensor& mask, const std::vector<double>& code_weights);

/// The loss of a batch: `total` = sum over groups of heatmap_weight * focal + bbox_weight * L1.
/// Parts: "heatmap" and "bbox" (weighted, summed over groups) and per group g
/// "group{g}.heatmap", "group{g}.bbox" (weighted).
StepLoss centerpoint_loss(const CenterPointOutput& output, const std::vector<GroupTargets>& targets,
                          const CenterPointLossConfig& config);

}  // namespace ptqat::tasks::detection
