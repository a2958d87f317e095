#pragma once
// The LiDAR segmentation task: the per-point model of segmentation_model.h trained with a
// class-weighted cross-entropy on lidarseg labels (challenge classes, ignore index 0), evaluated
// with the devkit's lidarseg metric; predictions export in the challenge's folder layout.

#include <memory>
#include <mutex>
#include <string>

#include "datasets/nuscenes/nuscenes.h"
#include "datasets/pillars.h"
#include "tasks/bev/bev_net_config.h"
#include "tasks/segmentation/segmentation_config.h"
#include "tasks/task.h"

namespace ptqat::tasks::segmentation {

class SegmentationTask final : public Task {
 public:
  /// `index` holds `train_split` (class weights) and `eval_split`.
  SegmentationTask(bev::BevNetConfig bev, SegmentationConfig head,
                   datasets::PillarConfig pillars, std::shared_ptr<const datasets::NuScenes> index,
                   std::string train_split, std::string eval_split);

  std::shared_ptr<torch::nn::Module> build_model() const override;
  void forward(torch::nn::Module& model, const datasets::Batch& batch) const override;
  /// Cross-entropy over the keyframe points with a label in 1..16 (Batch.point_labels; the
  /// run's data.lidarseg must be true), weighted per SegmentationConfig::class_weights.
  StepLoss loss(torch::nn::Module& model, const datasets::Batch& batch) const override;
  /// Metrics: "mIoU", "fwIoU"; per class "IoU" over the 16 challenge classes; primary "mIoU".
  /// Export: `<dir>/lidarseg/<split>/<lidar_sd_token>_lidarseg.bin` (uint8 1..16 per keyframe
  /// point) and `<dir>/<split>/submission.json`.
  std::unique_ptr<Evaluation> begin_evaluation() const override;

 private:
  /// [16] weights of classes 1..16, counted over the train split on first use.
  const torch::Tensor& class_weights() const;

  bev::BevNetConfig bev_;
  SegmentationConfig head_;
  datasets::PillarConfig pillars_;
  std::shared_ptr<const datasets::NuScenes> index_;
  std::string train_split_;
  std::string eval_split_;
  mutable std::once_flag weights_once_;
  mutable torch::Tensor weights_;
};

}  // namespace ptqat::tasks::segmentation
