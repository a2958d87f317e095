#pragma once
// The nuScenes index: every table of one version folder read once, foreign keys resolved, and
// the devkit's reverse indices built (sample.data['LIDAR_TOP'], sample.anns). It never asks
// whether the data is real or synthetic: it follows the devkit's rules for both.

#include <torch/torch.h>

#include <array>
#include <string>
#include <unordered_map>
#include <vector>

#include "datasets/geometry.h"
#include "datasets/nuscenes/nuscenes_tables.h"
#include "datasets/sample.h"

namespace ptqat::datasets {

/// An indexed nuScenes version. Immutable after construction, so safe to share across threads.
class NuScenes {
 public:
  /// Reads and indexes `<dataroot>/<version>/`. Missing tables, malformed JSON and dangling
  /// tokens are DataErrors naming the table file and the record's token.
  NuScenes(std::string dataroot, std::string version);

  const std::string& dataroot() const { return dataroot_; }
  const std::string& version() const { return version_; }
  const Tables& tables() const { return tables_; }
  /// Wall-clock seconds spent reading and indexing the tables.
  double index_seconds() const { return index_seconds_; }
  /// `<dataroot>/<relative>`.
  std::string path_of(const std::string& relative) const;

  /// Scene names of a split by the devkit's rule: an official name (train, val, test,
  /// mini_train, mini_val, train_detect, train_track) means the official list, restricted to the
  /// scenes this version holds; any other name is looked up in `<version>/splits.json`.
  std::vector<std::string> split_scene_names(const std::string& split) const;
  /// Sample rows of a split: scenes in split order, samples in each scene's linked-list order.
  std::vector<Row> split_samples(const std::string& split) const;

  /// sensor -> ego (calibrated_sensor) and ego -> global (ego_pose) of a sample_data row.
  RigidTransform sensor_to_ego(Row sample_data) const;
  RigidTransform ego_to_global(Row sample_data) const;

  /// The devkit's NuScenes.box_velocity: global 3D velocity (m/s) from the neighbouring
  /// annotations of the same instance and the *sample* timestamps; NaN when undefined.
  Eigen::Vector3d box_velocity(Row annotation) const;

  /// The sample's annotations of the 10 detection classes as boxes in its LIDAR_TOP keyframe
  /// frame (centre, wlh, yaw, velocity rotated into the frame), in sample.anns order.
  SampleBoxes lidar_boxes(Row sample) const;
  /// As lidar_boxes(), in the ego frame of the LIDAR_TOP keyframe (Occ3D's frame).
  SampleBoxes ego_boxes(Row sample) const;

  /// General category name of an annotation (category of its instance).
  const std::string& category_name(Row annotation) const;

  /// The lidarseg record of a LIDAR_TOP keyframe sample_data, or kNoRow.
  Row lidarseg_of(Row sample_data) const;
  /// Lookup table from a lidarseg label value (category.json 'index') to the 16-class challenge
  /// label (0 = ignore). Built from category names; requires the lidarseg category table.
  const std::array<uint8_t, 256>& lidarseg_lut() const { return lidarseg_lut_; }
  /// lidarseg label values (uint8, category.json 'index') mapped through lidarseg_lut(): int64
  /// challenge labels 0..16.
  torch::Tensor to_challenge_labels(const torch::Tensor& fine) const;

  /// Row of a sample token, or kNoRow.
  Row sample_row(const Token& token) const;

 private:
  void resolve();
  void build_lidarseg_lut();
  /// The sample's detection-class boxes moved by `global_to_frame`.
  SampleBoxes boxes_in_frame(Row sample, const RigidTransform& global_to_frame) const;

  std::string dataroot_, version_, version_dir_;
  Tables tables_;
  double index_seconds_ = 0;
  std::unordered_map<Token, Row, TokenHash> sample_rows_;
  std::vector<Row> lidarseg_by_sample_data_;
  std::array<uint8_t, 256> lidarseg_lut_{};
};

/// The official split names mapped to scene names (shipped copy of the devkit's splits.py).
const std::unordered_map<std::string, std::vector<std::string>>& official_splits();

}  // namespace ptqat::datasets
