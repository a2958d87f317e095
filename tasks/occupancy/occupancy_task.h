#pragma once
// The occupancy task (Occ3D-nuScenes): the channel-to-height model of occupancy_model.h on
// ego-frame points, trained with a class-weighted cross-entropy over the configured visibility
// mask, evaluated with the challenge's mIoU; predictions export as the challenge's .npz files.

#include <memory>
#include <mutex>
#include <string>

#include "datasets/nuscenes/nuscenes.h"
#include "datasets/pillars.h"
#include "tasks/bev/bev_net_config.h"
#include "tasks/occupancy/occupancy_config.h"
#include "tasks/task.h"

namespace ptqat::tasks::occupancy {

class OccupancyTask final : public Task {
 public:
  /// `occupancy_root`: the Occ3D gts folder (DataConfig::occupancy_root()). ConfigError when the
  /// pillar range is not Occ3D's grid.
  OccupancyTask(bev::BevNetConfig bev, OccupancyConfig head, datasets::PillarConfig pillars,
                std::shared_ptr<const datasets::NuScenes> index, std::string occupancy_root,
                std::string train_split, std::string eval_split);

  std::shared_ptr<torch::nn::Module> build_model() const override;
  void forward(torch::nn::Module& model, const datasets::Batch& batch) const override;
  /// Cross-entropy per voxel over OccupancyConfig::mask (the run's data.occupancy must be true
  /// and data.frame "ego").
  StepLoss loss(torch::nn::Module& model, const datasets::Batch& batch) const override;
  /// Metrics: "mIoU" (Occ3D, camera mask, classes 0..16); per class "IoU" over the 18 classes
  /// (free last, not in the mean); primary "mIoU". Export: `<dir>/occupancy/<sample_token>.npz`
  /// with `arr_0` uint8 [200, 200, 16].
  std::unique_ptr<Evaluation> begin_evaluation() const override;

 private:
  /// [18] class weights, counted over train samples on first use.
  const torch::Tensor& class_weights() const;

  bev::BevNetConfig bev_;
  OccupancyConfig head_;
  datasets::PillarConfig pillars_;
  std::shared_ptr<const datasets::NuScenes> index_;
  std::string occupancy_root_;
  std::string train_split_;
  std::string eval_split_;
  mutable std::once_flag weights_once_;
  mutable torch::Tensor weights_;
};

}  // namespace ptqat::tasks::occupancy
