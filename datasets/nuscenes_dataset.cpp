#include "datasets/nuscenes_dataset.h"

#include <filesystem>

#include "core/error.h"
#include "datasets/geometry.h"
#include "datasets/nuscenes/lidar_sweeps.h"
#include "datasets/nuscenes/lidarseg_file.h"
#include "datasets/nuscenes/occ3d.h"

namespace ptqat::datasets {

NuScenesDataset::NuScenesDataset(std::shared_ptr<const NuScenes> nusc, const std::string& split,
                                 DataConfig config)
    : nusc_(std::move(nusc)), split_(split), config_(std::move(config)) {
  PTQAT_CHECK(!config_.lidarseg || nusc_->tables().has_lidarseg, DataError,
              "{}/{}: data.lidarseg is true but the version has no lidarseg.json",
              nusc_->dataroot(), nusc_->version());
  rows_ = nusc_->split_samples(split_);
}

NuScenesDataset::NuScenesDataset(std::shared_ptr<const NuScenes> nusc, const std::string& split,
                                 DataConfig config, std::vector<Row> rows)
    : NuScenesDataset(std::move(nusc), split, std::move(config)) {
  rows_ = std::move(rows);
}

std::string occupancy_labels_path(const NuScenes& nusc, const std::string& occupancy_root,
                                  Row sample) {
  const auto& tables = nusc.tables();
  const auto& record = tables.sample[sample];
  return occupancy_root + "/" + tables.scene[record.scene].name + "/" + record.token.hex() +
         "/labels.npz";
}

std::string NuScenesDataset::occupancy_path(Row sample) const {
  return occupancy_labels_path(*nusc_, config_.occupancy_root(), sample);
}

Sample NuScenesDataset::get(int64_t index) const {
  PTQAT_ASSERT(index >= 0 && index < size(), "sample index {} outside [0, {})", index, size());
  const auto& tables = nusc_->tables();
  const Row row = rows_[index];
  const SampleRecord& record = tables.sample[row];

  Sample sample;
  sample.token = record.token.hex();
  sample.scene_name = tables.scene[record.scene].name;
  sample.timestamp_us = record.timestamp;
  AggregatedSweeps sweeps = aggregate_sweeps(*nusc_, row, config_.nsweeps);
  sample.points = std::move(sweeps.points);
  sample.keyframe_points = sweeps.keyframe_points;
  if (config_.frame == "ego") {
    // Points aggregate in the keyframe's LiDAR frame; one more rigid move takes them to its ego
    // frame (columns after x, y, z unchanged).
    sample.points = sample.points.clone();
    sample.points.slice(1, 0, 3).copy_(
        transform_points(sample.points, nusc_->sensor_to_ego(record.lidar_top)));
    sample.boxes = nusc_->ego_boxes(row);
  } else {
    sample.boxes = nusc_->lidar_boxes(row);
  }

  if (config_.lidarseg) {
    const Row lidarseg = nusc_->lidarseg_of(record.lidar_top);
    PTQAT_CHECK(lidarseg != kNoRow, DataError,
                "{}/{}/lidarseg.json: no record for sample {}'s LIDAR_TOP keyframe {}",
                nusc_->dataroot(), nusc_->version(), sample.token,
                tables.sample_data[record.lidar_top].token.hex());
    const torch::Tensor fine = read_lidarseg_labels(
        nusc_->path_of(tables.lidarseg[lidarseg].filename), sample.keyframe_points);
    sample.point_labels = nusc_->to_challenge_labels(fine);
  }
  if (config_.occupancy) {
    const std::string path = occupancy_path(row);
    PTQAT_CHECK(std::filesystem::is_regular_file(path), DataError,
                "{}: missing Occ3D labels of sample {} (data.occupancy = true)", path,
                sample.token);
    Occ3dLabels occupancy = read_occ3d_labels(path);
    sample.occ_semantics = std::move(occupancy.semantics);
    sample.occ_mask_lidar = std::move(occupancy.mask_lidar);
    sample.occ_mask_camera = std::move(occupancy.mask_camera);
  }
  return sample;
}

}  // namespace ptqat::datasets
